"""Signs and sends transactions from one local key: nonces kept locally, EIP-1559 fees from the
node's gas price, the gas limit from the node's estimate with a margin. The estimate carries the
same fee fields (type 2) as the transaction: a contract that looks at `tx.gasprice` runs the same
way in both (issue 13, attack 7: estimated at gas price 0, a batch came out too low and reverted).
The oracle node's verdict batches and the dashboard's reviews both go through it, so the formulas
live in one place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import coincurve
import requests
import rlp
import sha3  # safe-pysha3: keccak256 in C (see oracle.evidence)
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from oracle.errors import ChainError
from oracle.rpc import RawRpc

_ALLOWANCE = re.compile(r"exceeds allowance\D{0,4}(\d+)")
FUNDS_FLOOR = 1_000_000  # gas: a balance that pays for less cannot send even one verdict with a push
FEE_REFRESH = 3.0  # seconds a gas price reading is reused
GAS_MARGIN = 1.2  # gas limit = the node's estimate x this + GAS_HEADROOM (state may move before mining)
GAS_HEADROOM = 20_000
SEND_ATTEMPTS = 3  # a nonce taken by another sender is resynced and retried this often


class EstimateRefused(ChainError):
    """The node would not estimate the transaction: it reverts, or needs more gas than a block
    holds. `error` is the JSON-RPC error object (its `data` holds the revert data, if any)."""

    def __init__(self, message: str, error: dict[str, Any]) -> None:
        super().__init__(message)
        self.error = error


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


def _hex_bytes(value: str | bytes) -> bytes:
    return (
        bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
        if isinstance(value, str)
        else bytes(value)
    )


class TxSigner:
    """Signs transactions with one private key as eth_account's `sign_transaction` does, byte for
    byte (tests/oracle/test_tx_signing.py), from the same primitives (libsecp256k1 through coincurve,
    RLP, keccak): eth_account's validation, formatting and typed-transaction classes cost about
    0.8 ms of CPU per verdict transaction, three times the signing itself (issue 16). Legacy
    transactions (with `gasPrice`, EIP-155 when they carry a `chainId`) and EIP-1559 ones (type 2,
    without an access list) only: anything else is a ValueError."""

    def __init__(self, private_key: bytes) -> None:
        self._key = coincurve.PrivateKey(bytes(private_key))

    def _sign(self, payload: bytes) -> tuple[int, int, int]:
        """(recovery id, r, s) of keccak256(payload); libsecp256k1 signs deterministically (RFC
        6979) with a low s, as eth_keys does."""
        sig = self._key.sign_recoverable(sha3.keccak_256(payload).digest(), hasher=None)
        return sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")

    def sign(self, tx: Mapping[str, Any]) -> bytes:
        """The raw signed transaction, ready for `eth_sendRawTransaction`."""
        to = _hex_bytes(tx["to"]) if tx.get("to") else b""
        if len(to) not in (0, 20):
            raise ValueError(f"not an address: {tx['to']!r}")
        data = _hex_bytes(tx.get("data", b""))
        numbers = [tx[k] for k in ("nonce", "gas")] + [tx.get("value", 0)]
        if any(not isinstance(n, int) or n < 0 for n in numbers):
            raise ValueError("nonce, gas and value must be non-negative integers")
        nonce, gas, value = numbers
        if "gasPrice" in tx:
            if tx.get("type", 0) not in (0, "0x0") or "maxFeePerGas" in tx:
                raise ValueError("a legacy transaction has a gasPrice and no EIP-1559 fees")
            fields = [nonce, tx["gasPrice"], gas, to, value, data]
            chain_id = tx.get("chainId")
            if chain_id is None:
                recovery, r, s = self._sign(rlp.encode(fields))
                return rlp.encode([*fields, 27 + recovery, r, s])
            recovery, r, s = self._sign(rlp.encode([*fields, chain_id, 0, 0]))
            return rlp.encode([*fields, 35 + 2 * chain_id + recovery, r, s])
        if tx.get("type") not in (2, "0x2") or tx.get("accessList"):
            raise ValueError("only legacy and EIP-1559 transactions without an access list are signed here")
        fields = [
            tx["chainId"],
            nonce,
            tx["maxPriorityFeePerGas"],
            tx["maxFeePerGas"],
            gas,
            to,
            value,
            data,
            [],
        ]
        recovery, r, s = self._sign(b"\x02" + rlp.encode(fields))
        return b"\x02" + rlp.encode([*fields, recovery, r, s])


class TxSender:
    """Sends transactions signed by `account`; several may be in flight at once (local nonces)."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        chain_id: Callable[[], int],
        rpc: Callable[[Callable[[], Any]], Any],
        role: str = "oracle node",
        raw: RawRpc | None = None,
    ) -> None:
        """chain_id: returns the chain id; rpc: runs one read, turning transport failures into
        ChainError (`ChainClient.rpc`); role names the account in errors ("oracle node", "reviewer");
        raw: the lean transport (oracle.rpc) to broadcast through, if the caller has one."""
        self.w3 = w3
        self._raw = raw
        self.account = account
        self._signer = TxSigner(account.key)
        self._chain_id = chain_id
        self._rpc = rpc
        self._role = role
        self._nonce: int | None = None
        self._fee_cache: tuple[dict[str, int], float] | None = None

    def estimate(self, to: str, data: str, value: int = 0) -> int:
        """The node's gas estimate for the transaction as it will be sent: from our account, with
        the EIP-1559 fee fields it will carry. EstimateRefused when it would revert (or cannot fit
        a block); ChainError when the node is unreachable or our account cannot pay for gas."""
        answer = self._ask("eth_estimateGas", [self._call_object(to, data, value)])
        try:
            return int(answer["result"], 16)
        except (KeyError, TypeError, ValueError):
            raise ChainError("the node sent a malformed eth_estimateGas answer") from None

    def call(self, to: str, data: str, gas: int, value: int = 0) -> None:
        """Runs the transaction as it would be sent with gas limit `gas` (`eth_call` on the latest
        block, same account and fee fields), without sending it: EstimateRefused if it reverts or
        runs out of that gas. About a twentieth of an `eth_estimateGas`, which searches for the
        gas by running the transaction again and again."""
        call = self._call_object(to, data, value)
        call["gas"] = hex(gas)
        self._ask("eth_call", [call, "latest"])

    def _call_object(self, to: str, data: str, value: int) -> dict[str, Any]:
        fees = self._fees()
        return {
            "from": self.account.address,
            "to": to,
            "data": data,
            "value": hex(value),
            "type": "0x2",
            "maxFeePerGas": hex(fees["maxFeePerGas"]),
            "maxPriorityFeePerGas": hex(fees["maxPriorityFeePerGas"]),
        }

    def _ask(self, method: str, params: list[Any]) -> dict[str, Any]:
        """One estimate or call; its answer, or EstimateRefused / ChainError (see `estimate`)."""
        answer = self._rpc(lambda: self.w3.provider.make_request(method, params))  # type: ignore[arg-type]
        if not isinstance(answer, dict):
            raise ChainError(f"the node sent a malformed {method} answer")
        error = answer.get("error")
        if error is not None:
            error = dict(error) if isinstance(error, dict) else {"message": str(error)}
            message = str(error.get("message", ""))
            if "insufficient funds" in message.lower() or self._short_of_funds(message):
                raise ChainError(
                    f"{self._role} {self.account.address} has no funds to pay for gas; top it up"
                )
            raise EstimateRefused(f"{method} refused: {message}", error)
        return answer

    def send(
        self,
        to: str,
        data: str,
        what: str,
        value: int = 0,
        estimate: int | None = None,
        gas: int | None = None,
    ) -> SentTx:
        """Signs and sends one transaction without waiting for it to be mined; `what` names it in
        errors ("submitVerdicts"). `gas`: the gas limit, when the caller knows it (the oracle's
        verdict batches, from their items' budgets); else `estimate`: the node's gas estimate if the
        caller already has it, else it is asked for here. If another sender took our nonce, or a
        restart left us behind, the node tells us and we resync and retry."""
        for attempt in range(SEND_ATTEMPTS):
            nonce = self._next_nonce()
            try:
                if gas is None:
                    if estimate is None:
                        try:
                            estimate = self.estimate(to, data, value)
                        except EstimateRefused as exc:
                            raise ChainError(f"{what} reverted: {exc}") from None
                    gas = gas_limit(estimate)
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
                tx_hash = self._broadcast(self._signer.sign(tx))
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
            return SentTx(tx_hash, nonce, gas)
        raise ChainError(f"could not find a free nonce for {what}")

    def _broadcast(self, raw_tx: bytes) -> str:
        """`eth_sendRawTransaction`; the hash as 0x hex. Through the lean transport when there is
        one: web3's request path cost about a millisecond of CPU per verdict transaction (issue 16).
        A node's refusal is a ValueError carrying its error object, as web3's Web3RPCError does."""
        if self._raw is None:
            return Web3.to_hex(self.w3.eth.send_raw_transaction(raw_tx))
        try:
            answer = self._raw.call("eth_sendRawTransaction", ["0x" + raw_tx.hex()])
        except ChainError as exc:  # the transport failed: whether the node took it is unknown
            self._nonce = None
            raise ChainError(f"RPC unreachable while sending: {exc}") from None
        if not isinstance(answer, dict):
            raise ValueError("malformed eth_sendRawTransaction answer")
        if answer.get("error") is not None:
            raise ValueError(str(answer["error"]))
        result = answer.get("result")
        if not isinstance(result, str) or not result.startswith("0x"):
            raise ValueError(f"malformed eth_sendRawTransaction result: {result!r}")
        return result.lower()

    def _short_of_funds(self, message: str) -> bool:
        """Whether an estimate failed for want of gas money rather than for what it runs: with fee
        fields the node caps the gas at what our balance pays for ("gas required exceeds allowance:
        0"). Below FUNDS_FLOOR gas not even a one-verdict transaction could be paid for: that is no
        reason to split or park anything. (Above it, the batch is split to what the balance pays.)"""
        found = _ALLOWANCE.search(message)
        return found is not None and int(found.group(1)) < FUNDS_FLOOR

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
