"""Signs and sends transactions from one local key: nonces kept locally, EIP-1559 fees from the
node's gas price, the gas limit from the node's estimate with a margin. The oracle node's verdict
batches and the dashboard's reviews both go through it, so the formulas live in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from oracle.errors import ChainError

FEE_REFRESH = 3.0  # seconds a gas price reading is reused
GAS_MARGIN = 1.2  # gas limit = the node's estimate x this + GAS_HEADROOM (state may move before mining)
GAS_HEADROOM = 20_000
SEND_ATTEMPTS = 3  # a nonce taken by another sender is resynced and retried this often


@dataclass(frozen=True, slots=True)
class SentTx:
    """A signed and sent transaction: its hash, nonce and gas limit."""

    tx_hash: str
    nonce: int
    gas: int


def gas_limit(estimate: int) -> int:
    """The gas limit for a transaction the node estimated at `estimate`."""
    return int(estimate * GAS_MARGIN) + GAS_HEADROOM


def eip1559_fees(gas_price: int) -> dict[str, int]:
    """Pay what the node asks, with room for the base fee to rise while we wait."""
    return {"maxFeePerGas": 2 * gas_price + 1, "maxPriorityFeePerGas": min(gas_price, 1_000_000_000) + 1}


class TxSender:
    """Sends transactions signed by `account`; several may be in flight at once (local nonces)."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        chain_id: Callable[[], int],
        rpc: Callable[[Callable[[], Any]], Any],
        role: str = "oracle node",
    ) -> None:
        """chain_id: returns the chain id; rpc: runs one read, turning transport failures into
        ChainError (`ChainClient.rpc`); role names the account in errors ("oracle node", "reviewer")."""
        self.w3 = w3
        self.account = account
        self._chain_id = chain_id
        self._rpc = rpc
        self._role = role
        self._nonce: int | None = None
        self._fee_cache: tuple[dict[str, int], float] | None = None

    def send(self, to: str, data: str, what: str, value: int = 0) -> SentTx:
        """Signs and sends one transaction without waiting for it to be mined; `what` names it in
        errors ("submitVerdicts"). If another sender took our nonce, or a restart left us behind,
        the node tells us and we resync and retry."""
        call = {"from": self.account.address, "to": to, "data": data, "value": value}
        for attempt in range(SEND_ATTEMPTS):
            nonce = self._next_nonce()
            try:
                gas = gas_limit(self.w3.eth.estimate_gas(call))  # type: ignore[arg-type]
                tx = {
                    "type": 2,
                    "chainId": self._chain_id(),
                    "nonce": nonce,
                    "to": to,
                    "data": data,
                    "value": value,
                    "gas": gas,
                    **self._fees(),
                }
                signed = self.account.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except (Web3RPCError, ValueError) as exc:
                message = str(exc).lower()
                if "nonce" in message or "already known" in message or "underpriced" in message:
                    self._nonce = None  # someone else used it, or we are behind: resync
                    if attempt < SEND_ATTEMPTS - 1:
                        continue
                if "insufficient funds" in message:
                    raise ChainError(
                        f"{self._role} {self.account.address} has no funds to pay for gas; top it up"
                    ) from None
                raise ChainError(f"{what} failed: {exc}") from None
            except ContractLogicError as exc:
                raise ChainError(f"{what} reverted: {exc}") from None
            except requests.RequestException as exc:
                self._nonce = None
                raise ChainError(f"RPC unreachable while sending: {exc}") from None
            self._nonce = nonce + 1
            return SentTx(Web3.to_hex(tx_hash), nonce, gas)
        raise ChainError(f"could not find a free nonce for {what}")

    def resync_nonce(self) -> None:
        """Forget the local nonce; the next send reads it from the node ("pending")."""
        self._nonce = None

    def _next_nonce(self) -> int:
        if self._nonce is None:
            address = self.account.address
            self._nonce = int(self._rpc(lambda: self.w3.eth.get_transaction_count(address, "pending")))
        return self._nonce

    def _fees(self) -> dict[str, int]:
        """EIP-1559 fees from the node's gas price, re-read at most every FEE_REFRESH seconds."""
        now = time.monotonic()
        if self._fee_cache is None or now - self._fee_cache[1] > FEE_REFRESH:
            self._fee_cache = (eip1559_fees(int(self._rpc(lambda: self.w3.eth.gas_price))), now)
        return self._fee_cache[0]
