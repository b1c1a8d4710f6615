"""`python -m bench.latency_probe`: where a payment's second block of latency comes from (issue 16).

Not part of `make bench`. It runs `make bench`'s latency phase (one fresh interval-mined chain, one
`verdict run` node, paced payments from four sending threads, `bench.chain.EventClock` timing each
from its request event to its outcome event) with three more clocks:
- a head watcher polling `eth_blockNumber` every millisecond: when each block appeared;
- the daemon's turn trace (`VERDICT_TURN_TRACE`, `oracle.turn_trace`): when it read each head and
  each block's logs, scored them, and sent each verdict transaction, and how long its receipt
  polls took, all on CLOCK_MONOTONIC like the probe's own clocks;
- the outcome events' transaction hashes: which verdict transaction decided which payment.

Anvil seals a block on a fixed tick (`--block-time`) with whatever is in its pool then; the tick is
estimated as the lower envelope of the times blocks appeared less their index times the block time
(appearing = tick + building + a poll), so the estimate is later than the seal by the quickest
block's building (about 10 ms of state root on the bench's state): the report prints where the
real cut-off lay, from the latest send that made the next block and the earliest that missed it.
Per payment in block B it reports, in ms after B's tick:
when the daemon first saw head B, when its logs were fetched, when they were scored, when the
verdict transaction was sent, against B+1's tick (the cut-off for one block of latency), and puts
each payment decided two or more blocks later in one cause:
- `seen late`: the logs were fetched after B+1's tick (the head read, or the turn that reads it,
  came late);
- `scored late`: fetched in time, scored after the tick;
- `sent late`: scored in time, sent after the tick (receipts and settling before the send, or a
  verdict waiting behind the in-flight window for a later turn);
- `sent in time`: sent before B+1's tick and still not in B+1 (anvil took it after the cut-off).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from web3 import Web3

from bench import phases
from bench.anvil import GAS_LIMIT
from bench.chain import EventClock, PollThread, cpu_seconds
from bench.run import ROOT, _prepare
from oracle.chain import ChainClient
from oracle.traffic import percentile

ENVELOPE = 20  # blocks either side whose earliest appearance fixes a block's tick


class HeadClock(PollThread):
    """When each block first appeared, from `eth_blockNumber` every `poll` seconds (a kept-alive
    connection, a few bytes a call)."""

    def __init__(self, url: str, poll: float = 0.001) -> None:
        host = url.split("://", 1)[1]
        self._conn = http.client.HTTPConnection(host, timeout=5)
        self._poll = poll
        self.seen: dict[int, float] = {}
        super().__init__("head-clock")

    def _loop(self) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})
        while not self._stop.is_set():
            try:
                self._conn.request("POST", "/", body, {"Content-Type": "application/json"})
                head = int(json.loads(self._conn.getresponse().read())["result"], 16)
                self.seen.setdefault(head, time.perf_counter())
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                self._conn.close()
            self._stop.wait(self._poll)


def ticks(seen: dict[int, float], block_time: float) -> dict[int, float]:
    """Each block's estimated tick: the lower envelope of `seen - number * block_time` over the
    blocks around it (the quickest appearances carry the least building and polling delay)."""
    numbers = sorted(seen)
    offsets = [seen[n] - n * block_time for n in numbers]
    out = {}
    for i, n in enumerate(numbers):
        near = offsets[max(0, i - ENVELOPE) : i + ENVELOPE + 1]
        out[n] = min(near) + n * block_time
    return out


@dataclass
class Turn:
    t0: float
    t1: float
    scored: float | None
    flushed: float | None
    calls: list[list[Any]]
    ids: list[int]
    cpu_ms: float


def read_trace(path: Path) -> list[Turn]:
    turns = []
    for line in path.read_text().splitlines() if path.exists() else []:
        raw = json.loads(line)
        turns.append(
            Turn(
                raw["t0"],
                raw["t1"],
                raw.get("scored"),
                raw.get("flushed"),
                raw["calls"],
                raw.get("ids", []),
                raw.get("cpu_ms", 0.0),
            )
        )
    return turns


def outcome_txs(client: ChainClient, from_block: int) -> dict[int, tuple[str, int]]:
    """payment id -> (the transaction of its first outcome event, its block)."""
    router = client.router
    topics = [ChainClient.topic(router, e) for e in ("PaymentSettled", "PaymentHeld", "PaymentRefunded")]
    out: dict[int, tuple[str, int]] = {}
    for entry in client.logs(router.address, topics, from_block):
        pid = int.from_bytes(bytes(entry["topics"][1]), "big")
        out.setdefault(pid, (Web3.to_hex(entry["transactionHash"]), int(entry["blockNumber"])))
    return out


def per_payment(
    turns: list[Turn],
    tick: dict[int, float],
    appeared: dict[int, float],
    outcomes: dict[int, tuple[str, int]],
    request_block: dict[int, int],
) -> dict[int, dict[str, Any]]:
    """For each payment: ms after its block's tick at which the daemon saw the head, fetched the
    logs, scored them and sent the verdict; the next tick; the blocks it took; and its cause."""
    head_seen: dict[int, float] = {}  # block -> when the daemon first read a head at or past it
    fetched: dict[int, float] = {}  # id -> when its logs were fetched
    scored: dict[int, tuple[float, float]] = {}  # id -> (when scored, that turn's start)
    sent: dict[str, tuple[float, float, float]] = {}  # tx -> (send began, ended, its turn's start)
    last = None
    for turn in turns:
        if turn.scored is not None:
            for pid in turn.ids:
                scored.setdefault(pid, (turn.scored, turn.t0))
        for name, began, ended, detail in turn.calls:
            if name == "head":
                for b in range(detail["head"] if last is None else last + 1, detail["head"] + 1):
                    head_seen.setdefault(b, ended)
                last = max(detail["head"], last or 0)
            elif name == "logs":
                for ids in detail["ids"].values():
                    for pid in ids:
                        fetched.setdefault(pid, ended)
            elif name == "send":
                sent[detail["tx"]] = (began, ended, turn.t0)
    rows: dict[int, dict[str, Any]] = {}
    for pid, block in request_block.items():
        if pid not in outcomes or block not in tick or block + 1 not in tick:
            continue
        tx, landed = outcomes[pid]
        t0 = tick[block]

        def ms(t: float | None, t0: float = t0) -> float | None:
            return None if t is None else round((t - t0) * 1000, 1)

        logs_at = fetched.get(pid)
        scored_at, turn_at = scored.get(pid, (None, None))
        send_at = sent.get(tx, (None, None, None))
        row = {
            "block": block,
            "appeared": ms(appeared.get(block)),
            "blocks": landed - block,
            "next_tick": ms(tick[block + 1]),
            "head_seen": ms(head_seen.get(block)),
            "turn": ms(turn_at),
            "logs": ms(logs_at),
            "scored": ms(scored_at),
            "send_began": ms(send_at[0]),
            "sent": ms(send_at[1]),
            "same_turn": send_at[2] is not None and send_at[2] == turn_at,
        }
        row["cause"] = cause(row) if row["blocks"] >= 2 else None
        rows[pid] = row
    return rows


def cause(row: dict[str, Any]) -> str:
    cutoff = row["next_tick"]
    if row["sent"] is None:
        return "unknown (not in the trace)"
    if row["logs"] is None or row["logs"] > cutoff:
        return (
            "seen late (head read after the next tick)"
            if (row["head_seen"] or 1e9) > cutoff
            else "seen late (logs)"
        )
    if row["scored"] is not None and row["scored"] > cutoff:
        return "scored late"
    if row["sent"] > cutoff:
        return "sent late (same turn)" if row["same_turn"] else "sent late (a later turn)"
    return "sent in time"


def stats(values: list[float]) -> str:
    vs = sorted(v for v in values if v is not None)
    if not vs:
        return "-"
    return " / ".join(f"{percentile(vs, q):.1f}" for q in (50, 90, 99))


def report(
    console: Console, rate: float, rows: dict[int, dict[str, Any]], turns: list[Turn]
) -> dict[str, Any]:
    blocks = Counter(r["blocks"] for r in rows.values())
    causes = Counter(r["cause"] for r in rows.values() if r["cause"])
    console.print(f"[bold]{rate:g}/s[/]: {len(rows)} payments, blocks {dict(sorted(blocks.items()))}")
    for key in ("appeared", "head_seen", "turn", "logs", "scored", "send_began", "sent", "next_tick"):
        console.print(
            f"  {key:<11} ms after the block's tick, p50 / p90 / p99:"
            f" {stats([r[key] for r in rows.values()])}"
        )
    late = [r for r in rows.values() if r["blocks"] >= 2]
    for key in ("head_seen", "logs", "scored", "sent"):
        console.print(f"  two blocks+: {key:<10} p50 / p90 / p99: {stats([r[key] for r in late])}")
    # Where anvil's real cut-off lies against the estimated tick (which is the earliest appearance,
    # so later than the seal by at least an empty block's building): between these two.
    made = [r["sent"] - r["next_tick"] for r in rows.values() if r["blocks"] == 1 and r["sent"] is not None]
    missed = [
        r["sent"] - r["next_tick"]
        for r in rows.values()
        if r["blocks"] == 2 and r["sent"] is not None and r["same_turn"]
    ]
    console.print(
        f"  cut-off vs the estimated tick: latest send that made it {max(made, default=float('nan')):.1f} ms,"
        f" earliest that missed {min(missed, default=float('nan')):.1f} ms"
    )
    for name, count in causes.most_common():
        console.print(f"  {count:>5}  {name}")
    durations = [(t.t1 - t.t0) * 1000 for t in turns]
    before_send = [
        (next(c[1] for c in t.calls if c[0] == "send") - t.scored) * 1000
        for t in turns
        if t.scored is not None and any(c[0] == "send" for c in t.calls)
    ]
    receipts = [(c[2] - c[1]) * 1000 for t in turns for c in t.calls if c[0] == "receipts"]
    # The turn's own CPU up to its last send (load-independent): what a quiet host's wall time
    # from reading the head to the verdicts' send would be; and per request scored.
    to_send = [
        ([c[3]["cpu_ms"] for c in t.calls if c[0] == "send"][-1], len(t.ids))
        for t in turns
        if t.ids and any(c[0] == "send" for c in t.calls)
    ]
    console.print(
        f"  turn CPU ms to its last send p50/p90/p99 {stats([c for c, _ in to_send])};"
        f" per request {stats([c / n for c, n in to_send])};"
        f" turn CPU ms in all {stats([t.cpu_ms for t in turns])}"
    )
    console.print(
        f"  turns {len(turns)}: wall ms p50/p90/p99 {stats(durations)};"
        f" scored -> first send {stats(before_send)};"
        f" receipt polls {stats(receipts)}"
    )
    return {"rate": rate, "blocks": dict(blocks), "causes": dict(causes)}


@click.command()
@click.option("--rates", default="100,500", show_default=True, help="Offered payments/s, in turn.")
@click.option("--seconds", default=6.0, show_default=True, help="Length of each rate's run.")
@click.option("--block-time", default=0.1, show_default=True)
@click.option("--poll", default="0.005", show_default=True, help="The daemon's VERDICT_POLL_INTERVAL.")
@click.option("--reuse", is_flag=True, help="Reuse the state the last run prepared (var/bench).")
@click.option("--tag", default="probe", show_default=True, help="Names the run's files in var/bench.")
def main(rates: str, seconds: float, block_time: float, poll: str, reuse: bool, tag: str) -> None:
    """Paced payments through one daemon with its turn trace on; where each payment's time went."""
    console = Console(record=True, width=120)
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    if not (reuse and (work / "setup.json").exists() and (work / "state.json").exists()):
        _prepare(work, GAS_LIMIT, True, console)
    setup = phases.Setup.load(work)
    trace = work / f"trace-{tag}.jsonl"
    trace.unlink(missing_ok=True)
    offered = [float(r) for r in rates.split(",")]
    runs: list[tuple[float, range]] = []
    with setup.chain(block_time, GAS_LIMIT, tag) as anvil:
        bench = setup.bench(anvil)
        os.environ["VERDICT_TURN_TRACE"] = str(trace)
        try:
            daemon = phases._daemon(setup, anvil, tag, poll, primed=True)
        finally:
            os.environ.pop("VERDICT_TURN_TRACE", None)
        start_block = bench.client.block_number()
        heads = HeadClock(anvil.url).start()
        watcher = EventClock.of_router(bench.client, from_block=start_block).start()
        cpu = {}
        try:
            for k, rate in enumerate(offered):
                count = int(rate * seconds)
                first = bench.payment_count() + 1
                spec = phases.paced_spec(bench, rate, count, k)
                before = cpu_seconds(daemon.proc.pid)
                bench.loadgen(spec, f"{tag}-{rate:g}")
                ids = range(first, first + count)
                missing = phases._wait_outcomes(watcher, ids, 120)
                cpu[rate] = (cpu_seconds(daemon.proc.pid) - before) * 1000 / count
                runs.append((rate, ids))
                if missing:
                    console.print(f"[red]{rate:g}/s: {missing} undecided[/]")
        finally:
            watcher.stop()
            heads.stop()
            daemon.stop()
        outcomes = outcome_txs(bench.client, start_block)
    turns = read_trace(trace)
    tick = ticks(heads.seen, block_time)
    appear = [round((heads.seen[n] - tick[n]) * 1000, 1) for n in tick]
    console.print(f"blocks appear after their tick, ms p50 / p90 / p99: {stats(appear)}")
    summary = []
    for rate, ids in runs:
        request_block = {i: watcher.blocks[i][0] for i in ids if i in watcher.blocks}
        rows = per_payment(turns, tick, heads.seen, outcomes, request_block)
        lo, hi = min(ids), max(ids)
        window = [t for t in turns if any(lo <= pid <= hi for pid in t.ids)]
        out = report(console, rate, rows, window)
        ms = watcher.latencies_ms(ids)
        out["watcher_ms_p50_p99"] = [percentile(ms, 50), percentile(ms, 99)]
        out["watcher_blocks_p99"] = percentile(watcher.latencies_blocks(ids), 99)
        out["daemon_cpu_ms_per_payment"] = round(cpu[rate], 3)
        console.print(
            f"  watcher: p50 {out['watcher_ms_p50_p99'][0]:.1f} ms,"
            f" p99 {out['watcher_ms_p50_p99'][1]:.1f} ms,"
            f" {out['watcher_blocks_p99']} blocks p99; daemon {cpu[rate]:.3f} ms CPU/payment"
        )
        summary.append(out)
        (work / f"{tag}-{rate:g}-payments.json").write_text(json.dumps(rows))
    console.print(f"load average {[round(x, 2) for x in os.getloadavg()]}")
    (work / f"{tag}.json").write_text(json.dumps(summary, indent=2) + "\n")
    console.save_text(str(work / f"{tag}.txt"))


if __name__ == "__main__":
    main(sys.argv[1:])
