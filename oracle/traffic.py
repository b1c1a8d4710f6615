"""Payment traffic for the demo, the end-to-end tests and the benchmark.

Signs locally and sends raw transactions over plain JSON-RPC, the way a wallet backend would, and
watches the router's outcome events to time each payment from its `PaymentRequested` receipt to
its settlement event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from oracle.chain import ChainClient
from oracle.gate import OUTCOME_EVENTS, ROUTER

ERC20_ABI = [
    {
        "name": "approve",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"type": "bool"}],
    },
    {
        "name": "mint",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [],
    },
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"type": "uint256"}],
    },
]


def wallets(count: int, seed: str = "verdict-demo") -> list[LocalAccount]:
    """Deterministic throwaway accounts (never use such keys on a real network)."""
    return [Account.from_key(keccak(text=f"{seed}:{i}")) for i in range(count)]


@dataclass
class Sender:
    """Signs and sends transactions for a set of accounts with locally tracked nonces."""

    w3: Web3
    chain_id: int
    gas_price: int = 0
    _nonces: dict[str, int] = field(default_factory=dict)

    def send(self, account: LocalAccount, tx: dict[str, Any]) -> str:
        address = account.address
        if address not in self._nonces:
            self._nonces[address] = self.w3.eth.get_transaction_count(address, "pending")
        tx = {"chainId": self.chain_id, "nonce": self._nonces[address], "gasPrice": self.gas_price, **tx}
        if "gas" not in tx:
            tx["gas"] = 400_000
        signed = account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        self._nonces[address] += 1
        return Web3.to_hex(tx_hash)

    def wait(self, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
        return dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.002))


def fund(
    chain: ChainClient,
    accounts: Sequence[LocalAccount],
    *,
    eth_wei: int,
    token: str | None,
    token_units: int,
    sender: Sender,
) -> None:
    """Gives each account ETH (anvil_setBalance) and, if `token` is an open-mint test token, tokens
    plus an unlimited router allowance. Local chains only."""
    w3 = chain.w3
    for account in accounts:
        w3.provider.make_request("anvil_setBalance", [account.address, hex(eth_wei)])
    if token is None:
        return
    erc20 = w3.eth.contract(to_checksum_address(token), abi=ERC20_ABI)
    hashes = []
    for account in accounts:
        for call in (
            erc20.functions.mint(account.address, token_units),
            erc20.functions.approve(chain.router.address, 2**256 - 1),
        ):
            hashes.append(sender.send(account, call_tx(call, gas=120_000)))
    for h in hashes:
        sender.wait(h)


def call_tx(call: Any, *, gas: int, value: int = 0) -> dict[str, Any]:
    """A contract call as bare `to`/`data`; the Sender fills nonce, gas price and chain id."""
    return {"to": call.address, "data": call._encode_transaction_data(), "gas": gas, "value": value}


def pay_tx(chain: ChainClient, payee: str, token: str, amount: int, ref: bytes) -> dict[str, Any]:
    call = chain.router.functions.pay(payee, token, amount, ref)
    return call_tx(call, gas=250_000, value=amount if int(token, 16) == 0 else 0)


class OutcomeWatcher:
    """Follows the router's outcome events in a background thread and times each payment."""

    def __init__(self, chain: ChainClient, from_block: int, poll: float = 0.002) -> None:
        self.chain = chain
        self._next = from_block
        self._poll = poll
        self.outcomes: dict[int, tuple[str, float]] = {}  # payment id -> (outcome, wall time seen)
        self.requested_at: dict[int, float] = {}  # payment id -> wall time of its pay receipt
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="outcome-watcher", daemon=True)
        router = chain.router
        self._topics = {
            ChainClient.topic(router, event): outcome for event, outcome in OUTCOME_EVENTS[ROUTER].items()
        }

    def start(self) -> OutcomeWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def requested(self, payment_id: int) -> None:
        with self._lock:
            self.requested_at[payment_id] = time.perf_counter()

    def _loop(self) -> None:
        w3 = self.chain.w3
        while not self._stop.is_set():
            try:
                head = w3.eth.block_number
                if head >= self._next:
                    logs = w3.eth.get_logs(
                        {
                            "fromBlock": self._next,
                            "toBlock": head,
                            "address": self.chain.router.address,
                            "topics": [[Web3.to_hex(t) for t in self._topics]],
                        }
                    )
                    now = time.perf_counter()
                    with self._lock:
                        for log in logs:
                            outcome = self._topics[bytes(log["topics"][0])]
                            pid = int.from_bytes(bytes(log["topics"][1]), "big")
                            # A held payment may settle later on review: keep the first outcome.
                            self.outcomes.setdefault(pid, (outcome, now))
                    self._next = head + 1
            except Exception:  # noqa: BLE001 - a watcher must outlive RPC hiccups
                pass
            self._stop.wait(self._poll)

    def latencies_ms(self) -> list[float]:
        with self._lock:
            return sorted(
                (self.outcomes[pid][1] - t0) * 1000
                for pid, t0 in self.requested_at.items()
                if pid in self.outcomes and self.outcomes[pid][1] >= t0
            )


def payment_id_from_receipt(chain: ChainClient, receipt: dict[str, Any]) -> int:
    topic = ChainClient.topic(chain.router, "PaymentRequested")
    for log in receipt["logs"]:
        if log["topics"] and bytes(log["topics"][0]) == topic:
            return int.from_bytes(bytes(log["topics"][1]), "big")
    raise ValueError("no PaymentRequested in receipt")


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return float(sorted_values[index])
