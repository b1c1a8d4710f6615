"""The measured phases of `make bench`, each on a fresh anvil started from the saved state
(`bench.anvil`): plain transfers and pays alone (what the chain sustains), the whole path under a
burst with the daemon, and latency at fixed offered loads.

Every phase reports the CPU seconds each process spent on it (anvil and the daemon from
/proc/PID/stat, the load generator from its own getrusage, sending only), the gas mined per second
and the block range, so that a figure can be checked against the chain's own record.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.anvil import Anvil
from bench.chain import ChainBench, EventClock, RssSampler, cpu_seconds
from bench.history import ROUND_GAP_S, copy_template, drop_store
from oracle.chain import ChainClient, Deployment, load_abis
from oracle.launch import DaemonProcess
from oracle.traffic import percentile

DRAIN_TIMEOUT = 300.0  # seconds the burst's last outcomes are waited for
POOL_WINDOW = 2_000
"""Transactions the load generator lets be sent and not yet included on an interval-mined chain:
more than a block takes at 0.1 s, so every block is full of work; the automine window
(bench.loadgen.WINDOW) is for a chain that mines one transaction per block."""


@dataclass
class Setup:
    """What `bench.prepare` left in setup.json, and where phases write."""

    work: Path
    state: Path
    deployment: Path
    manifest: Path
    model_dir: Path
    node_key: str
    tokens: dict[str, str]

    @classmethod
    def load(cls, work: Path) -> Setup:
        raw = json.loads((work / "setup.json").read_text())
        return cls(
            work,
            work / "state.json",
            Path(raw["deployment"]),
            Path(raw["manifest"]),
            Path(raw["model_dir"]),
            raw["node_key"],
            dict(raw["tokens"]),
        )

    def bench(self, anvil: Anvil) -> ChainBench:
        client = ChainClient(anvil.url, Deployment.load(self.deployment), load_abis(self.manifest))
        return ChainBench(client, self.deployment, self.manifest, self.work, self.tokens)

    def daemon_env(self, anvil: Anvil, store: Path, poll: str) -> dict[str, str]:
        return {
            "VERDICT_RPC_URL": anvil.url,
            "VERDICT_DEPLOYMENT": str(self.deployment),
            "VERDICT_BUILD_MANIFEST": str(self.manifest),
            "VERDICT_STORE_URL": f"sqlite:///{store}",
            "VERDICT_MODEL_DIR": str(self.model_dir),
            "VERDICT_NODE_KEY": self.node_key,
            "VERDICT_POLL_INTERVAL": poll,
            "VERDICT_METRICS_PORT": "0",
            # Batches of up to 500 verdicts under a 100M-gas cap: a tenth of a 1G-gas block.
            "VERDICT_VERDICT_BATCH_MAX": "500",
            "VERDICT_VERDICT_GAS_CAP": "100000000",
        }

    def chain(self, block_time: float | None, gas_limit: int, name: str) -> Anvil:
        return Anvil(block_time, gas_limit, load_state=self.state, log=self.work / f"anvil-{name}.log")


def _gas_mined(bench: ChainBench, first: int, last: int) -> int:
    """Gas used by blocks first+1..last, in one JSON-RPC batch."""
    if last <= first:
        return 0
    blocks = bench.client._batch(
        [("eth_getBlockByNumber", [hex(n), False]) for n in range(first + 1, last + 1)]
    )
    return sum(int(b["result"]["gasUsed"], 16) for b in blocks if b.get("result"))


IDLE_SAMPLE_S = 1.0


def _idle_rate(anvil: Anvil, bench: ChainBench, seconds: float = IDLE_SAMPLE_S) -> dict[str, float]:
    """Anvil's CPU with nothing to mine, just before a phase's clock: its block building on this
    state (it rehashes the whole state trie every block, bench/NOTES.md) and whatever polls it.
    On a loaded host a slow phase spreads these per-second costs over the same payments, so a
    phase also reports its CPU per transaction over this idle rate: the cost of the load itself."""
    b0, c0, t0 = bench.client.block_number(), cpu_seconds(anvil.node_pid), time.perf_counter()
    time.sleep(seconds)
    b1, c1, t1 = bench.client.block_number(), cpu_seconds(anvil.node_pid), time.perf_counter()
    return {
        "ms_per_s": (c1 - c0) * 1000 / (t1 - t0),
        "ms_per_block": round((c1 - c0) * 1000 / max(b1 - b0, 1), 2),
    }


def _over_idle(cpu_s: float, idle: dict[str, float], seconds: float, count: int) -> float:
    return round(max(cpu_s * 1000 - idle["ms_per_s"] * seconds, 0.0) / count, 3)


def _load_phase(
    setup: Setup, anvil: Anvil, mode: str, count: int, payer_set: str, name: str
) -> dict[str, Any]:
    bench = setup.bench(anvil)
    spec = bench.spec(mode, count, payer_set, window=POOL_WINDOW if anvil.block_time else None)
    spec["cache"] = str(setup.work / f"signed-{payer_set}-{count}.json")
    if spec["window"] is None:
        spec.pop("window")
    assert anvil.proc is not None
    idle = _idle_rate(anvil, bench)
    cpu0, t0 = cpu_seconds(anvil.node_pid), time.perf_counter()
    out = bench.loadgen(spec, name)
    cpu_s, elapsed = cpu_seconds(anvil.node_pid) - cpu0, time.perf_counter() - t0
    seconds = out["mined"] - out["start"]
    gas = _gas_mined(bench, out["first_block"], out["last_block"])
    return {
        "count": count,
        "seconds": round(seconds, 3),
        "per_s": round(count / seconds, 1),
        "gas_per_s": round(gas / seconds),
        "blocks": out["last_block"] - out["first_block"],
        "anvil_cpu_ms_per_tx": round(cpu_s * 1000 / count, 3),
        "anvil_idle_cpu_ms_per_block": idle["ms_per_block"],
        "anvil_cpu_ms_per_tx_over_idle": _over_idle(cpu_s, idle, elapsed, count),
        "loadgen_cpu_ms_per_tx": round(out["cpu_s"] * 1000 / count, 3),
        "round_drain_s": out.get("drain_s", []),  # the burst's clock jumps (bench.loadgen._batched)
        # blocks from the phase's start to the last of its transactions, and those holding any:
        # the rest are the chain waiting for the load generator (round barriers, refills)
        "blocks_to_last": out.get("last_included_block", out["last_block"]) - out["first_block"],
        "blocks_with_ours": out.get("blocks_with_ours"),
        "round_gap_blocks": out.get("barrier_gap_blocks", []),
    }


def transfers(setup: Setup, block_time: float | None, gas_limit: int, count: int, rep: int) -> dict[str, Any]:
    """Plain ETH transfers, pre-signed, sent in JSON-RPC batches: the chain's raw ceiling."""
    with setup.chain(block_time, gas_limit, f"transfer-{rep}") as anvil:
        return _load_phase(setup, anvil, "transfer", count, "transfer", f"transfer-{rep}")


def pays(setup: Setup, block_time: float | None, gas_limit: int, count: int, rep: int) -> dict[str, Any]:
    """The burst's `pay` transactions with no daemon: the chain's pay-only ceiling."""
    with setup.chain(block_time, gas_limit, f"pays-{rep}") as anvil:
        return _load_phase(setup, anvil, "burst", count, "burst", f"pays-{rep}")


def _daemon(setup: Setup, anvil: Anvil, name: str, poll: str, primed: bool = False) -> DaemonProcess:
    """A `verdict run` node on its own store; `primed`: the store starts as the burst's history
    (bench.history, made by bench.prepare), copied before the clock starts."""
    store = setup.work / f"daemon-{name}.sqlite"
    for stale in setup.work.glob(f"daemon-{name}.sqlite*"):
        stale.unlink()
    if primed:
        copy_template(setup.work, store)
    log_path = setup.work / f"daemon-{name}.log"
    log_path.unlink(missing_ok=True)
    daemon = DaemonProcess.start(setup.daemon_env(anvil, store, poll), log_path)
    daemon.wait_ready()
    return daemon


def _turns(daemon: DaemonProcess) -> dict[str, Any]:
    """The daemon's own turn times, from its stop line (`oracle.daemon.turn_times`)."""
    for line in reversed(daemon.log_text().splitlines()):
        if "oracle node stopped" in line:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            keys = ("busy_turns", "turn_ms_p50", "turn_ms_p99", "turn_ms_max")
            return {k: v for k, v in entry.items() if k in keys or k.startswith("cpu_ms_")}
    return {}


def _write_bytes(pid: int) -> int:
    """Bytes a process has caused to be written to storage so far (/proc/PID/io `write_bytes`)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _wait_outcomes(watcher: EventClock, ids: range, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(i in watcher.outcomes for i in ids):
            return 0
        time.sleep(0.05)
    return sum(1 for i in ids if i not in watcher.outcomes)


def e2e(
    setup: Setup,
    block_time: float | None,
    gas_limit: int,
    count: int,
    rep: int | str,
    poll: str,
    fresh: bool = False,
) -> dict[str, Any]:
    """The same burst with `verdict run` deciding it: decided payments per second, CPU per payment,
    and the share that reached review. `fresh`: the node's store starts empty (no history: every
    payer and payee unknown), the attack-burst figure."""
    name = f"e2e-{rep}" + ("-fresh" if fresh else "")
    with setup.chain(block_time, gas_limit, name) as anvil:
        assert anvil.proc is not None
        bench = setup.bench(anvil)
        daemon = _daemon(setup, anvil, name, poll, primed=not fresh)
        first = bench.payment_count() + 1
        watcher = EventClock.of_router(bench.client, from_block=bench.client.block_number()).start()
        rss = RssSampler(daemon.proc.pid).start()
        idle = _idle_rate(anvil, bench)  # the daemon and the watcher polling an idle chain
        cpu_anvil, cpu_daemon = cpu_seconds(anvil.node_pid), cpu_seconds(daemon.proc.pid)
        cpu_bench = time.process_time()
        written = _write_bytes(daemon.proc.pid)
        t0 = time.perf_counter()
        try:
            spec = bench.spec("burst", count, "burst", window=POOL_WINDOW if block_time else None)
            spec["cache"] = str(setup.work / f"signed-burst-{count}.json")
            if spec["window"] is None:
                spec.pop("window")
            out = bench.loadgen(spec, name)
            ids = range(first, first + count)
            missing = _wait_outcomes(watcher, ids, DRAIN_TIMEOUT)
            cpu_anvil = cpu_seconds(anvil.node_pid) - cpu_anvil
            elapsed = time.perf_counter() - t0
            cpu_daemon = cpu_seconds(daemon.proc.pid) - cpu_daemon
            cpu_bench = time.process_time() - cpu_bench
            written = _write_bytes(daemon.proc.pid) - written
            last_block = bench.client.block_number()
            memory = rss.stop()
        finally:
            watcher.stop()
            daemon.stop()
            if not fresh:
                drop_store(setup.work / f"daemon-{name}.sqlite")
        seen = [watcher.outcomes[i] for i in ids if i in watcher.outcomes]
        outcomes: dict[str, int] = {}
        for outcome, _ in seen:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        seconds = max(t for _, t in seen) - out["start"]
        gas = _gas_mined(bench, out["first_block"], last_block)
        return {
            "count": count,
            "pay_tx_per_s": round(count / (out["mined"] - out["start"]), 1),
            "seconds_to_last_outcome": round(seconds, 3),
            "decided": len(seen),
            "undecided": missing,
            "outcomes": outcomes,
            "history": "none (fresh accounts)" if fresh else "primed (bench.history)",
            "share_reaching_review": round(
                (outcomes.get("held", 0) + outcomes.get("refunded", 0)) / max(len(seen), 1), 4
            ),
            "decided_per_s": round(len(seen) / seconds, 1),
            "gas_per_s": round(gas / seconds),
            "gas_per_decided_payment": round(gas / max(len(seen), 1)),
            "anvil_cpu_ms_per_payment": round(cpu_anvil * 1000 / count, 3),
            "anvil_idle_cpu_ms_per_block": idle["ms_per_block"],
            "anvil_cpu_ms_per_payment_over_idle": _over_idle(cpu_anvil, idle, elapsed, count),
            "daemon_cpu_ms_per_payment": round(cpu_daemon * 1000 / count, 3),
            "daemon_write_kb_per_payment": round(written / 1024 / count, 2),
            "loadgen_cpu_ms_per_payment": round(out["cpu_s"] * 1000 / count, 3),
            # this process meanwhile: the event clock and the samplers, on the same two cores
            "bench_cpu_ms_per_payment": round(cpu_bench * 1000 / count, 3),
            "round_drain_s": out.get("drain_s", []),
            "blocks_to_last_pay": out.get("last_included_block", out["last_block"]) - out["first_block"],
            "blocks_with_pays": out.get("blocks_with_ours"),
            "round_gap_blocks": out.get("barrier_gap_blocks", []),
            "daemon": _turns(daemon),
            "memory": memory,
        }


def latency(
    setup: Setup,
    block_time: float | None,
    gas_limit: int,
    rates: list[float],
    seconds: float,
    poll: str,
    name: str,
) -> list[dict[str, Any]]:
    """Steady offered loads on one fresh chain with the daemon, lightest first; each payment timed
    from its PaymentRequested event to its outcome event as first seen, in ms and in blocks."""
    rows = []
    with setup.chain(block_time, gas_limit, name) as anvil:
        assert anvil.proc is not None
        bench = setup.bench(anvil)
        daemon = _daemon(setup, anvil, name, poll, primed=True)
        watcher = EventClock.of_router(bench.client, from_block=bench.client.block_number()).start()
        try:
            for k, rate in enumerate(rates):
                count = int(rate * seconds)
                first = bench.payment_count() + 1
                spec = paced_spec(bench, rate, count, k)
                cpu_daemon = cpu_seconds(daemon.proc.pid)
                out = bench.loadgen(spec, f"{name}-{rate:g}")
                ids = range(first, first + count)
                missing = _wait_outcomes(watcher, ids, 120)
                cpu_daemon = cpu_seconds(daemon.proc.pid) - cpu_daemon
                ms = watcher.latencies_ms(ids)
                blocks = watcher.latencies_blocks(ids)
                rows.append(
                    {
                        "offered_per_s": rate,
                        "achieved_per_s": out["offered_per_s"],
                        "sent_late": out["late"],
                        "count": count,
                        "undecided": missing,
                        **{f"latency_ms_{q}": round(percentile(ms, q) or 0.0, 1) for q in (50, 90, 99)},
                        "latency_ms_max": round(ms[-1], 1) if ms else None,
                        **{f"latency_blocks_{q}": percentile(blocks, q) for q in (50, 99)},
                        "daemon_cpu_ms_per_payment": round(cpu_daemon * 1000 / count, 3),
                    }
                )
        finally:
            watcher.stop()
            daemon.stop()
            drop_store(setup.work / f"daemon-{name}.sqlite")
        rows[-1]["daemon"] = _turns(daemon) if rows else {}
    return rows


def paced_spec(bench: ChainBench, rate: float, count: int, step: int) -> dict[str, Any]:
    """The load generator's spec for step `step` of the latency phase: the burst's payers, whose
    history the node's store is primed with (bench.history), each paying a payee and an amount
    drawn like that history's, and each step an hour of block time after the one before (the
    chain's clock is moved on here, as between the burst's rounds). Not 300 fresh payers paying
    a dozen times in seconds: 79% of those reached review, so the phase timed TreeSHAP and the
    review path rather than settlement (bench/latency_probe.py)."""
    if step > 0:
        bench.client.request("evm_increaseTime", [ROUND_GAP_S])
    return bench.spec("paced", count, "burst", rate=rate, traffic_seed=step + 1, like_history=True)
