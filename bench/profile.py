"""`python -m bench.profile`: the end-to-end phase alone, once, to find and weigh the daemon's
per-payment costs (issue 16 item 2). Not part of `make bench`.

It prepares a chain like `make bench` does (without the scoring and gas figures), or reuses the
last prepared state with `--reuse`, then runs one burst through `verdict run` and prints the
daemon's CPU per payment, split by stage (the stop line's `cpu_ms_*`: CPU time of the loop's
thread in the reader, the scoring stage and the outbox; `reasons`, TreeSHAP's share of the scoring
stage, also apart, and the totals without it). `--profile` runs the daemon under cProfile
(`VERDICT_PROFILE`) and prints its top functions by own time: cProfile roughly doubles the cost of
Python calls, so take the shares from it and the milliseconds from a run without it. CPU per
payment, unlike wall rates, holds up on a shared machine.
"""

from __future__ import annotations

import json
import os
import pstats
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from bench import phases
from bench.anvil import GAS_LIMIT
from bench.run import ROOT, _prepare


@click.command()
@click.option("--burst", default=15_000, show_default=True, help="Payments in the burst.")
@click.option("--block-time", default=0.1, show_default=True, help="Interval-mining block time.")
@click.option("--poll", default="0.005", show_default=True, help="The daemon's VERDICT_POLL_INTERVAL.")
@click.option("--reuse", is_flag=True, help="Reuse the state the last run prepared (var/bench).")
@click.option(
    "--profile", "profile_top", default=0, show_default=True, help="cProfile: print this many functions."
)
@click.option("--tag", default="profile", show_default=True, help="Names the run's files in var/bench.")
def main(burst: int, block_time: float, poll: str, reuse: bool, profile_top: int, tag: str) -> None:
    """One end-to-end burst with one daemon; its CPU per payment by stage."""
    console = Console()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    if not (reuse and (work / "setup.json").exists() and (work / "state.json").exists()):
        for stale in work.glob("signed-*.json"):
            stale.unlink()
        _prepare(work, GAS_LIMIT, True, console)
    setup = phases.Setup.load(work)
    dump = work / f"daemon-{tag}.prof"
    dump.unlink(missing_ok=True)
    if profile_top:
        os.environ["VERDICT_PROFILE"] = str(dump)
    try:
        out = phases.e2e(setup, block_time, GAS_LIMIT, burst, tag, poll)  # type: ignore[arg-type]
    finally:
        os.environ.pop("VERDICT_PROFILE", None)
    log_path = work / f"daemon-e2e-{tag}.log"
    daemon = {**_stop_line(log_path), **out["daemon"]}
    commits, batches = daemon.get("store_write_commits"), _verdict_txs(log_path)
    decided = max(out["decided"], 1)
    stages = {
        k[len("cpu_ms_") :]: round(v / decided, 4) for k, v in daemon.items() if k.startswith("cpu_ms_")
    }
    # `reasons` (TreeSHAP) is part of `score`: the figures without it say what the daemon's own work
    # costs whatever share of a burst reaches the review threshold (issue 16 item 3's rule).
    reasons = round(float(daemon.get("reasons_cpu_ms") or 0.0) / decided, 4)
    stages["score_reasons"] = reasons
    summary = {
        "burst": burst,
        "decided": out["decided"],
        "undecided": out["undecided"],
        "decided_per_s": out["decided_per_s"],
        "daemon_cpu_ms_per_payment": out["daemon_cpu_ms_per_payment"],
        "daemon_cpu_ms_per_payment_without_reasons": round(out["daemon_cpu_ms_per_payment"] - reasons, 4),
        "stage_cpu_ms_per_payment": stages,
        "score_cpu_ms_per_payment_without_reasons": round(stages.get("score", 0.0) - reasons, 4),
        # the store's side (issue 16 item 2): what the daemon process wrote to disk over the burst
        # (/proc/PID/io), and its SQLite write transactions per verdict transaction mined
        "daemon_write_kb_per_payment": out.get("daemon_write_kb_per_payment"),
        "store_write_commits": commits,
        "verdict_txs": batches,
        "commits_per_verdict_tx": round(commits / batches, 2) if commits and batches else None,
        "turn_ms_p99": daemon.get("turn_ms_p99"),
        "turn_ms_max": daemon.get("turn_ms_max"),
        "turn_cpu_ms_p99": daemon.get("turn_cpu_ms_p99"),
        "busy_turns": daemon.get("busy_turns"),
        "gc_cpu_ms": daemon.get("gc_cpu_ms"),
        "head_reads": daemon.get("head_reads"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    console.print_json(json.dumps(summary))
    (work / f"profile-{tag}.json").write_text(json.dumps({"summary": summary, "e2e": out}, indent=2) + "\n")
    if profile_top and dump.exists():
        stats = pstats.Stats(str(dump), stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(profile_top)
        stats.sort_stats("cumulative").print_stats(profile_top)


def _verdict_txs(log: Path) -> int:
    """Verdict transactions the daemon settled (its "verdicts mined" lines)."""
    return sum(1 for line in log.read_text().splitlines() if "verdicts mined" in line) if log.exists() else 0


def _stop_line(log: Path) -> dict[str, Any]:
    """The daemon's stop line (turn CPU times, GC, head reads: what `bench.phases` does not keep)."""
    for line in reversed(log.read_text().splitlines() if log.exists() else []):
        if "oracle node stopped" in line:
            try:
                return dict(json.loads(line))
            except json.JSONDecodeError:
                continue
    return {}


if __name__ == "__main__":
    main(sys.argv[1:])
