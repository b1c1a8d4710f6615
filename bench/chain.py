"""The chain half of `make bench`: the chain's own ceiling, the whole path under a burst, latency at a
fixed offered load, and the daemon's memory meanwhile.

The load always comes from `bench/loadgen.py` in a process of its own; the oracle daemon is a
real `verdict run` process; this process only watches the router's outcome events.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from eth_utils import keccak
from web3 import Web3

from bench.history import BURST_PAYERS, ROUND_GAP_S
from oracle.chain import ChainClient
from oracle.rpc import RawRpc
from oracle.traffic import Sender, fund, wallets

LOADGEN = "bench.loadgen"  # run as `python -m bench.loadgen SPEC.json`
BURST_PAYEES = 400
_ERC20_READS = [
    {
        "name": n,
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": f"a{i}", "type": "address"} for i in range(k)],
        "outputs": [{"name": "", "type": "uint256"}],
    }
    for n, k in (("totalSupply", 0), ("balanceOf", 1), ("allowance", 2))
]


PAYER_SETS: dict[str, tuple[int, bool]] = {
    # name -> (accounts, with the stablecoin); funded once in the saved state (bench.prepare)
    "transfer": (30, False),
    # The pay-only and the end-to-end phases send the same transactions: BURST_PAYERS payers with a
    # month of history each (bench.history), taken in turn, each round an hour of block time after
    # the one before. The model rightly flags a wallet that pays every few ms: 500 fresh payers
    # paying 30 times in seconds (the old burst, 86-93% reaching review) measured the review path.
    # Not one payer per payment: anvil's cost per block grows with the accounts in its state.
    "burst": (BURST_PAYERS, True),  # the latency phase's payers too (bench.phases.paced_spec)
}


@dataclass
class ChainBench:
    """Where the load goes: the RPC, the deployment, the tokens, and a scratch directory."""

    client: ChainClient
    deployment: Path
    manifest: Path
    work: Path
    tokens: dict[str, str]  # symbol -> address, ETH = zero address
    batch: int = 100

    def spec(self, mode: str, count: int, payer_set: str, **extra: Any) -> dict[str, Any]:
        rounds = {"round_gap_s": ROUND_GAP_S} if mode == "burst" else {}
        return {
            **rounds,
            "mode": mode,
            "rpc_url": self.client.rpc_url,
            "deployment": str(self.deployment),
            "manifest": str(self.manifest),
            "chain_id": self.client.chain_id(),
            "seed": f"verdict-bench-{payer_set}",
            "payers": PAYER_SETS[payer_set][0],
            "payees": BURST_PAYEES,
            "count": count,
            "batch": self.batch,
            "tokens": self.tokens,
            **extra,
        }

    def loadgen(self, spec: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Runs the load generator in its own process and returns what it measured."""
        path = self.work / f"loadgen-{name or spec['mode']}.json"
        path.write_text(json.dumps(spec))
        done = subprocess.run(
            [sys.executable, "-m", LOADGEN, str(path)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"load generator ({spec['mode']}) failed:\n{done.stderr[-2000:]}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def fund_payers(self, payer_set: str, payers: int, with_token: bool) -> None:
        accounts = wallets(payers, seed=f"verdict-bench-{payer_set}:payer")
        if payers > 1_000:
            self._fund_batched(accounts, with_token)
            return
        sender = Sender(self.client.w3, self.client.chain_id())
        fund(
            self.client,
            accounts,
            eth_wei=10**24,
            token=self.tokens["mUSD"] if with_token else None,
            token_units=10**15,
            sender=sender,
        )

    def _fund_batched(self, accounts: list[Any], with_token: bool, chunk: int = 500) -> None:
        """`oracle.traffic.fund` for thousands of accounts in JSON-RPC batches of anvil cheat calls:
        a mint and an approve per account on an automining anvil took about 70 ms each (15,000
        payers: 20 minutes). The stablecoin is OpenZeppelin 5's ERC20 (`MintableMock`): balances
        in slot 0, allowances in slot 1, total supply in slot 2; checked on the first holder.
        Payers pay ETH and the stablecoin in turn (bench.loadgen), so only the odd ones need it."""
        w3 = self.client.w3
        for i in range(0, len(accounts), chunk):
            w3.provider.make_batch_request(  # type: ignore[misc]
                [("anvil_setBalance", [a.address, hex(10**24)]) for a in accounts[i : i + chunk]]
            )
        if not with_token:
            return
        token = Web3.to_checksum_address(self.tokens["mUSD"])
        router = self.client.router.address
        units, unlimited = 10**15, 2**256 - 1

        def word(x: int) -> bytes:
            return x.to_bytes(32, "big")

        def addr(a: str) -> bytes:
            return word(int(a, 16))

        holders = accounts[1::2]
        for i in range(0, len(holders), chunk):
            calls = []
            for a in holders[i : i + chunk]:
                balance_slot = keccak(addr(a.address) + word(0))
                allowance_slot = keccak(addr(router) + keccak(addr(a.address) + word(1)))
                calls.append(
                    ("anvil_setStorageAt", [token, Web3.to_hex(balance_slot), Web3.to_hex(word(units))])
                )
                calls.append(
                    ("anvil_setStorageAt", [token, Web3.to_hex(allowance_slot), Web3.to_hex(word(unlimited))])
                )
            w3.provider.make_batch_request(calls)  # type: ignore[misc]
        erc20 = w3.eth.contract(token, abi=_ERC20_READS)
        supply = int(erc20.functions.totalSupply().call()) + units * len(holders)
        w3.provider.make_request(
            "anvil_setStorageAt", [token, Web3.to_hex(word(2)), Web3.to_hex(word(supply))]
        )  # type: ignore[arg-type]
        first = holders[0].address
        if (
            erc20.functions.balanceOf(first).call() < units
            or erc20.functions.allowance(first, router).call() != unlimited
        ):
            raise RuntimeError(
                "the stablecoin's storage layout is not OpenZeppelin 5's ERC20: cannot fund the burst"
            )

    def payment_count(self) -> int:
        return int(self.client.router.functions.paymentCount().call())


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PollThread:
    """A background thread running `_loop` until `stop()`: the bench's clocks that watch the chain."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        raise NotImplementedError


class EventClock(PollThread):
    """Times the router's events as they appear on chain, in a background thread, at little cost to
    the two cores it shares with the chain and the daemon it measures.

    It asks for the head (`eth_blockNumber`) every `poll` seconds and notes when each block was
    first seen; every `fetch_every` seconds it reads the request and outcome logs up to that head,
    as raw JSON (topics and block numbers only). A payment's latency is when its outcome's block
    was first seen minus when its request's block was: what first seeing each log measured, since a
    block's logs are served as soon as its number is, and both ends carry the same polling delay.

    The watcher this replaced ran `eth_getLogs` through web3 every 4 ms and made web3 objects of
    every log: 0.47 ms of this process's CPU per payment during the burst, more than the daemon
    it was timing, plus anvil's work answering it (issue 16). Now the head is a few bytes a poll
    and each log is fetched and parsed once.
    """

    def __init__(
        self,
        rpc_url: str,
        address: str,
        request_topic: str,
        outcome_topics: dict[str, str],
        from_block: int,
        poll: float = 0.004,
        fetch_every: float = 0.2,
    ) -> None:
        """`outcome_topics`: each outcome event's topic (0x hex, lower case) and its name."""
        self._rpc = RawRpc(rpc_url)
        self._address = address
        self._next = from_block  # the first block whose logs are not read yet
        self._head = from_block - 1  # the highest block seen
        self._poll = poll
        self._fetch_every = fetch_every
        self._request = request_topic
        self._outcome = dict(outcome_topics)
        self._topics = [request_topic, *outcome_topics]
        self.seen: dict[int, float] = {}  # block -> perf_counter when its number was first seen
        self.requested: dict[int, float] = {}  # payment id -> when its request's block was seen
        self.outcomes: dict[int, tuple[str, float]] = {}  # payment id -> (outcome, its block seen)
        self.blocks: dict[int, tuple[int, int]] = {}  # payment id -> (request block, outcome block)
        super().__init__("event-clock")

    @classmethod
    def of_router(cls, client: ChainClient, from_block: int) -> EventClock:
        """The clock of the deployment's PaymentRouter: PaymentRequested, then settled, held or
        refunded."""
        router = client.router

        def topic(event: str) -> str:
            return Web3.to_hex(ChainClient.topic(router, event))

        outcomes = {topic("PaymentSettled"): "settled", topic("PaymentHeld"): "held"}
        outcomes[topic("PaymentRefunded")] = "refunded"
        return cls(client.rpc_url, router.address, topic("PaymentRequested"), outcomes, from_block)

    def _loop(self) -> None:
        fetched = 0.0
        while not self._stop.is_set():
            try:
                now = self._read_head()
                if now - fetched >= self._fetch_every and self._head >= self._next:
                    fetched = now
                    self._read_logs(self._head)
            except Exception:  # noqa: BLE001 - a watcher must outlive RPC hiccups
                pass
            self._stop.wait(self._poll)
        with contextlib.suppress(Exception):  # the last logs, so a stop right after an outcome has it
            self._read_logs(self._head)

    def _read_head(self) -> float:
        answer = self._rpc.call("eth_blockNumber", [])
        now = time.perf_counter()
        head = int(answer["result"], 16)
        for block in range(self._head + 1, head + 1):
            self.seen[block] = now
        self._head = max(self._head, head)
        return now

    def _read_logs(self, to_block: int) -> None:
        if to_block < self._next:
            return
        query = {
            "fromBlock": hex(self._next),
            "toBlock": hex(to_block),
            "address": self._address,
            "topics": [self._topics],
        }
        answer = self._rpc.call("eth_getLogs", [query])
        logs = answer["result"]  # KeyError on an RPC error: read the same range again next time
        for log in logs:
            topic, pid = log["topics"][0], int(log["topics"][1], 16)
            block = int(log["blockNumber"], 16)
            at = self.seen.get(block, time.perf_counter())
            if topic == self._request:
                self.requested.setdefault(pid, at)
                self.blocks.setdefault(pid, (block, -1))
            elif topic in self._outcome and pid not in self.outcomes:  # a held one may settle later
                self.outcomes[pid] = (self._outcome[topic], at)
                self.blocks[pid] = (self.blocks.get(pid, (-1, -1))[0], block)
        self._next = to_block + 1

    def latencies_blocks(self, ids: range) -> list[int]:
        """Blocks from each payment's request to its outcome (1: decided in the next block)."""
        return sorted(b - a for a, b in (self.blocks.get(i, (-1, -1)) for i in ids) if a >= 0 and b >= 0)

    def latencies_ms(self, ids: range) -> list[float]:
        return sorted(
            (self.outcomes[i][1] - self.requested[i]) * 1000
            for i in ids
            if i in self.outcomes and i in self.requested
        )


class RssSampler:
    """Samples a process's resident memory (from /proc) in a background thread."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _status(self, field_name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
        return 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, self._status("VmRSS"))
                self.samples += 1
            except (OSError, ValueError):
                return
            self._stop.wait(self.every)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """Peak RSS sampled, and the kernel's own high-water mark (VmHWM, the whole lifetime)."""
        hwm = self._status("VmHWM")
        self._stop.set()
        self._thread.join(timeout=2)
        return {
            "rss_mb_peak_sampled": round(self.peak_kb / 1024, 1),
            "rss_mb_hwm": round(hwm / 1024, 1),
            "samples": self.samples,
        }
