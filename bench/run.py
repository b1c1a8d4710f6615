"""`make bench` (`python -m bench`): an honest benchmark of the whole path (issue 16).

1. An automining anvil of our own (`bench.anvil`: no `--steps-tracing`) is started, and
   `ape run bench` trains the model, measures scoring, deploys the suite, funds the load
   generator's accounts and measures gas (`bench.prepare`). Its state is saved on exit.
2. For each block time (interval mining; 0.1 s by default), `--reps` repetitions of three phases,
   each on a fresh chain loaded from that state (`bench.phases`): plain transfers (the raw
   ceiling), the burst's pays alone (the pay-only ceiling), and the same burst with `verdict run`
   deciding it (end to end). Then one fresh chain with the daemon at 10, 100 and 500 payments/s.
3. One automining chain at 10 payments/s: the service time at no load, labelled as such.

Writes `bench/results.json` and `docs/benchmarks.md`. A benchmark, not a test: a missed target is
reported, not failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from bench import phases
from bench.anvil import GAS_LIMIT, Anvil
from bench.report import machine_info, summarise, write_markdown

ROOT = Path(__file__).resolve().parents[1]
RATES = [10.0, 100.0, 500.0]


def _settled(path: Path, timeout: float = 60.0) -> bool:
    """Whether anvil's state dump exists and has stopped growing: npm's launcher can exit on SIGINT
    before the anvil binary under it has finished writing (seen on a loaded host)."""
    deadline = time.monotonic() + timeout
    size = -1
    while time.monotonic() < deadline:
        now = path.stat().st_size if path.exists() else -1
        if now > 0 and now == size:
            return True
        size = now
        time.sleep(0.5)
    return False


def _prepare(work: Path, gas_limit: int, quick: bool, console: Console) -> dict[str, Any]:
    """Step 1 on an automining chain whose state is saved when it stops."""
    state = work / "state.json"
    state.unlink(missing_ok=True)
    anvil = Anvil(None, gas_limit, dump_state=state, log=work / "anvil-setup.log")
    with anvil:
        args = [str(ROOT / ".venv" / "bin" / "ape"), "run", "bench", "--network", "ethereum:local:foundry"]
        if quick:
            args += ["--no-scoring", "--no-gas"]
        env = {**os.environ, "APE_FOUNDRY_HOST": anvil.url}
        console.print(
            f"setup on {anvil.url} ({anvil.mode}, no tracing): model, scoring, suite, accounts, gas"
        )
        done = subprocess.run(args, cwd=ROOT, env=env, check=False)
        if done.returncode != 0:
            raise click.ClickException("the setup step (`ape run bench`) failed; see its output above")
    if not _settled(state):
        raise click.ClickException(f"anvil did not save its state to {state}")
    return dict(json.loads((work / "setup.json").read_text()))


def run_mode(
    setup: phases.Setup,
    block_time: float,
    gas_limit: int,
    reps: int,
    counts: dict[str, int],
    seconds: float,
    poll: str,
    console: Console,
    fresh_accounts: bool = False,
) -> dict[str, Any]:
    """One block time: repetitions of raw / pays / e2e (alternating, each on a fresh chain), then
    latency at the offered loads; with `fresh_accounts`, one more e2e burst on an empty store."""
    runs: dict[str, list[dict[str, Any]]] = {"transfers": [], "pays": [], "e2e": []}
    for rep in range(reps):
        tag = f"{block_time:g}s-{rep}"
        runs["transfers"].append(phases.transfers(setup, block_time, gas_limit, counts["transfers"], tag))
        runs["pays"].append(phases.pays(setup, block_time, gas_limit, counts["burst"], tag))
        runs["e2e"].append(phases.e2e(setup, block_time, gas_limit, counts["burst"], tag, poll))
        t, p, e = runs["transfers"][-1], runs["pays"][-1], runs["e2e"][-1]
        console.print(
            f"  {block_time:g} s blocks, rep {rep + 1}/{reps}: transfers {t['per_s']:,.0f}/s, pays "
            f"{p['per_s']:,.0f}/s, decided {e['decided_per_s']:,.0f}/s (undecided {e['undecided']}), "
            f"daemon {e['daemon_cpu_ms_per_payment']} ms CPU/payment,"
            f" turn p99 {e['daemon'].get('turn_ms_p99')} ms, {e['share_reaching_review']:.1%} reached review"
        )
    fresh = None
    if fresh_accounts:
        fresh = phases.e2e(
            setup, block_time, gas_limit, counts["burst"], f"{block_time:g}s", poll, fresh=True
        )
        console.print(
            f"  all-fresh burst (no history): decided {fresh['decided_per_s']:,.0f}/s,"
            f" {fresh['share_reaching_review']:.1%} reached review"
        )
    console.print(f"  latency at {', '.join(f'{r:g}' for r in RATES)} payments/s for {seconds:g} s each...")
    lat = phases.latency(setup, block_time, gas_limit, RATES, seconds, poll, f"latency-{block_time:g}s")
    for row in lat:
        console.print(
            f"    {row['offered_per_s']:g}/s: p50 {row['latency_ms_50']} ms, p99 {row['latency_ms_99']} ms "
            f"({row['latency_blocks_99']} blocks), undecided {row['undecided']}"
        )
    out = {"block_time_s": block_time, "gas_limit": gas_limit, "runs": runs, "latency": lat}
    if fresh is not None:
        out["fresh_accounts"] = fresh
    return out


@click.command()
@click.option(
    "--block-times",
    default="0.1",
    show_default=True,
    help="Interval-mining block times, comma-separated (0.1,0.25,1).",
)
@click.option("--gas-limit", default=GAS_LIMIT, show_default=True, help="Block gas limit of every chain.")
@click.option("--reps", default=3, show_default=True, help="Repetitions of the throughput phases.")
@click.option("--transfers", default=30_000, show_default=True, help="Plain transfers per raw phase.")
@click.option(
    "--burst", default=15_000, show_default=True, help="Payments per pay-only and end-to-end phase."
)
@click.option("--seconds", default=6.0, show_default=True, help="Length of each latency run.")
@click.option("--poll", default="0.005", show_default=True, help="The daemon's VERDICT_POLL_INTERVAL.")
@click.option(
    "--fresh-accounts/--no-fresh-accounts",
    default=True,
    show_default=True,
    help="Also one end-to-end burst on an empty store (the same payments, every account unknown),"
    " reported as a labelled second figure.",
)
@click.option("--quick", is_flag=True, help="Smoke run: no scoring or gas figures (the machinery only).")
@click.option("--out", default="bench/results.json", show_default=True, type=click.Path(dir_okay=False))
@click.option("--doc", default="docs/benchmarks.md", show_default=True, type=click.Path(dir_okay=False))
def main(
    block_times: str,
    gas_limit: int,
    reps: int,
    transfers: int,
    burst: int,
    seconds: float,
    poll: str,
    fresh_accounts: bool,
    quick: bool,
    out: str,
    doc: str,
) -> None:
    """Run every benchmark on chains of its own and write the results."""
    console = Console()
    try:
        modes = [float(b) for b in block_times.split(",") if b.strip()]
    except ValueError:
        raise click.BadParameter("block times are seconds, comma-separated: 0.1,0.25,1") from None
    if not modes or any(b <= 0 for b in modes) or reps < 1:
        raise click.BadParameter("at least one block time above 0, and at least one repetition")
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("signed-*.json"):
        stale.unlink()  # signed against the previous run's state
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
    }
    prepared = _prepare(work, gas_limit, quick, console)
    results["scoring"] = prepared.get("scoring", {})
    results["gas"] = prepared.get("gas", {})
    setup = phases.Setup.load(work)
    counts = {"transfers": transfers, "burst": burst}
    results["modes"] = [
        run_mode(setup, b, gas_limit, reps, counts, seconds, poll, console, fresh_accounts) for b in modes
    ]
    console.print("service time at no load: automine, 10 payments/s...")
    results["service_time_no_load"] = phases.latency(
        setup, None, gas_limit, [10.0], min(seconds, 5.0), poll, "automine"
    )[0]
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results.update(summarise(results))
    out_path, doc_path = ROOT / out, ROOT / doc
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, doc_path)
    for row in results["headline"]:
        mark = {True: "[green]meets[/]", False: "[red]misses[/]", None: ""}[row["met"]]
        console.print(f"{row['figure']:<36} {row['value']!s:>16}  {row.get('target') or '':<12} {mark}")
    console.print(f"wrote {out} and {doc} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
