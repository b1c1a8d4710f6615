"""The chain half of `make bench`: the chain's own ceiling, the whole path under a burst, latency at a
fixed offered load, and the daemon's memory meanwhile.

The load always comes from `bench/loadgen.py` in a process of its own; the oracle daemon is a
real `verdict run` process; this process only watches the router's outcome events.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from oracle.chain import ChainClient
from oracle.traffic import Sender, fund, percentile, wallets

LOADGEN = "bench.loadgen"  # run as `python -m bench.loadgen SPEC.json`


@dataclass
class ChainBench:
    """Where the load goes: the RPC, the deployment, the tokens, and a scratch directory."""

    client: ChainClient
    deployment: Path
    manifest: Path
    work: Path
    tokens: dict[str, str]  # symbol -> address, ETH = zero address
    batch: int = 100

    def spec(self, mode: str, count: int, payers: int, **extra: Any) -> dict[str, Any]:
        return {
            "mode": mode,
            "rpc_url": self.client.rpc_url,
            "deployment": str(self.deployment),
            "manifest": str(self.manifest),
            "chain_id": self.client.chain_id(),
            "seed": f"verdict-bench-{mode}",
            "payers": payers,
            "payees": 40,
            "count": count,
            "batch": self.batch,
            "tokens": self.tokens,
            **extra,
        }

    def loadgen(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Runs the load generator in its own process and returns what it measured."""
        path = self.work / f"loadgen-{spec['mode']}.json"
        path.write_text(json.dumps(spec))
        done = subprocess.run(
            [sys.executable, "-m", LOADGEN, str(path)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"load generator ({spec['mode']}) failed:\n{done.stderr[-2000:]}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def fund_payers(self, spec: dict[str, Any], with_token: bool) -> None:
        payers = wallets(int(spec["payers"]), seed=f"{spec['seed']}:payer")
        sender = Sender(self.client.w3, self.client.chain_id())
        fund(
            self.client,
            payers,
            eth_wei=10**24,
            token=self.tokens["mUSD"] if with_token else None,
            token_units=10**15,
            sender=sender,
        )

    def payment_count(self) -> int:
        return int(self.client.router.functions.paymentCount().call())


class EventClock:
    """Times the router's events as they appear on chain, in a background thread.

    One `eth_getLogs` poll for the request and the outcome events together: a payment's latency is
    the time its outcome event was first seen minus the time its `PaymentRequested` event (the pay
    receipt's log) was first seen. Both ends carry the same polling delay, so it cancels out.
    """

    def __init__(self, client: ChainClient, from_block: int, poll: float = 0.004) -> None:
        router = client.router
        self._w3 = client.w3
        self._address = router.address
        self._next = from_block
        self._poll = poll
        self._request = ChainClient.topic(router, "PaymentRequested")
        self._outcome = {
            ChainClient.topic(router, "PaymentSettled"): "settled",
            ChainClient.topic(router, "PaymentHeld"): "held",
            ChainClient.topic(router, "PaymentRefunded"): "refunded",
        }
        self._topics = [Web3.to_hex(t) for t in (self._request, *self._outcome)]
        self.requested: dict[int, float] = {}  # payment id -> perf_counter when first seen
        self.outcomes: dict[int, tuple[str, float]] = {}  # payment id -> (outcome, first seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="event-clock", daemon=True)

    def start(self) -> EventClock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                logs = self._w3.eth.get_logs(
                    {
                        "fromBlock": self._next,
                        "toBlock": "latest",
                        "address": self._address,
                        "topics": [self._topics],
                    }
                )
                now = time.perf_counter()
                for log in logs:
                    topic = bytes(log["topics"][0])
                    pid = int.from_bytes(bytes(log["topics"][1]), "big")
                    if topic == self._request:
                        self.requested.setdefault(pid, now)
                    else:
                        self.outcomes.setdefault(
                            pid, (self._outcome[topic], now)
                        )  # a held one may settle later
                    self._next = max(self._next, int(log["blockNumber"]) + 1)
            except Exception:  # noqa: BLE001 - a watcher must outlive RPC hiccups
                pass
            self._stop.wait(self._poll)

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


def raw_transfers(bench: ChainBench, count: int = 3000, payers: int = 30) -> dict[str, Any]:
    """Plain ETH transfers, pre-signed, sent in JSON-RPC batches: what the chain alone sustains."""
    spec = bench.spec("transfer", count, payers)
    bench.fund_payers(spec, with_token=False)
    out = bench.loadgen(spec)
    seconds = out["mined"] - out["start"]
    return {
        "count": count,
        "senders": payers,
        "batch": bench.batch,
        "seconds": round(seconds, 3),
        "raw_transfer_tps": round(count / seconds, 1),
    }


def _wait_outcomes(watcher: EventClock, ids: range, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = sum(1 for i in ids if i not in watcher.outcomes)
        if missing == 0:
            return 0
        time.sleep(0.05)
    return sum(1 for i in ids if i not in watcher.outcomes)


def e2e_burst(bench: ChainBench, watcher: EventClock, count: int = 3000, payers: int = 60) -> dict[str, Any]:
    """Payments sent as fast as the load generator can while the daemon scores and posts."""
    spec = bench.spec("burst", count, payers)
    bench.fund_payers(spec, with_token=True)
    first = bench.payment_count() + 1
    out = bench.loadgen(spec)
    ids = range(first, first + count)
    missing = _wait_outcomes(watcher, ids, timeout=300)
    seen = [watcher.outcomes[i] for i in ids if i in watcher.outcomes]
    last = max(t for _, t in seen)
    outcomes: dict[str, int] = {}
    for outcome, _ in seen:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    seconds = last - out["start"]
    return {
        "count": count,
        "payers": payers,
        "batch": bench.batch,
        "pay_tx_per_s": round(count / (out["mined"] - out["start"]), 1),
        "seconds_to_last_outcome": round(seconds, 3),
        "decided": len(seen),
        "undecided": missing,
        "outcomes": outcomes,
        "e2e_payments_per_s": round(len(seen) / seconds, 1),
    }


def latency(
    bench: ChainBench, watcher: EventClock, rate: float = 100.0, seconds: float = 10.0
) -> dict[str, Any]:
    """A steady `rate` of payments, each timed from its PaymentRequested event to its outcome event."""
    count = int(rate * seconds)
    spec = bench.spec("paced", count, 48, rate=rate)
    spec["seed"] = f"verdict-bench-paced-{rate:g}"
    bench.fund_payers(spec, with_token=True)
    first = bench.payment_count() + 1
    out = bench.loadgen(spec)
    ids = range(first, first + count)
    missing = _wait_outcomes(watcher, ids, timeout=180)
    latencies = watcher.latencies_ms(ids)
    return {
        "offered_per_s": rate,
        "achieved_per_s": out["offered_per_s"],
        "sent_late": out["late"],
        "count": count,
        "undecided": missing,
        "latency_ms_p50": round(percentile(latencies, 50) or 0.0, 1),
        "latency_ms_p90": round(percentile(latencies, 90) or 0.0, 1),
        "latency_ms_p99": round(percentile(latencies, 99) or 0.0, 1),
        "latency_ms_max": round(latencies[-1], 1) if latencies else None,
    }
