"""The whole benchmark run behind `ape run bench` (`make bench`): throughput, latency, gas and scoring speed.

Everything is measured in the same run on the same machine, so that the ratios hold even when the
machine is noisy: the chain's own ceiling (plain transfers), the whole path under a burst, latency
at a fixed offered load, the daemon's memory, gas of every user-facing step, and scoring speed.
Writes `bench/results.json` and `docs/benchmarks.md`. A benchmark, not a test: nothing here fails
on a missed target; the report says which figures miss.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ape import chain, networks
from eth_account import Account
from rich.console import Console

from bench.chain import ChainBench, EventClock, RssSampler, e2e_burst, latency, raw_transfers
from bench.gas import governance_and_escrow_gas, payment_gas
from bench.report import headline, machine_info, write_markdown
from bench.scoring import batch_scoring, compiled_predictor, single_payment
from oracle.chain import ETH, ChainClient, Deployment, load_abis
from oracle.datagen import generate
from oracle.launch import DaemonProcess
from oracle.model import load, save
from oracle.train import train
from verdict_deploy import MANIFEST, Roles, deploy_world, verdict_settings

ROOT = Path(__file__).resolve().parents[1]
LIGHT_RATE, LIGHT_SECONDS = 10.0, 6.0


def start_daemon(env: dict[str, str], log_path: Path, profile: Path | None) -> DaemonProcess:
    """`verdict run` as its own process; under cProfile when `profile` is given (it stops on SIGTERM
    by returning, so the profile is written)."""
    if profile is None:
        return DaemonProcess.start(env, log_path)
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "oracle.cli", "run"],
            env={**os.environ, "VERDICT_LOG_FORMAT": "json", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return DaemonProcess(proc, log_path)


def run_bench(
    burst: int,
    transfers: int,
    rate: float,
    seconds: float,
    poll: str,
    profile: str | None,
    out: str,
    doc: str,
) -> None:
    """Runs every benchmark against the connected local chain and writes the results."""
    console = Console()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine_info()}

    # --- the model (the demo's recipe) -------------------------------------------------------
    with console.status("training the model..."):
        frame = generate(rows=40_000, seed=7, fraud_rate=0.01)
        artifact, _ = train(frame, label="is_fraud", time_col="timestamp", seed=7)
        save(artifact, work / "model")
        artifact = load(work / "model")

    # --- scoring, no chain --------------------------------------------------------------------
    with console.status("scoring: single payments, batches, Booster.predict against lleaves..."):
        results["scoring"] = {
            "single": single_payment(artifact, work / "scoring.sqlite"),
            "batch": batch_scoring(artifact),
            "compiled": compiled_predictor(artifact, work / "model", work / "model-lleaves.so"),
        }
    console.print(f"scoring done ({time.perf_counter() - started:.0f} s)")

    # --- the suite ----------------------------------------------------------------------------
    roles = Roles.local()
    node = roles.node
    world = deploy_world(roles, models=[artifact.model_id], with_stablecoin=True, root=work)
    deployment = world.deployment
    abis = load_abis(MANIFEST)
    client = ChainClient(networks.provider.uri, Deployment.load(deployment), abis)
    tokens = {"ETH": ETH, "mUSD": str(world.stablecoin.address)}
    bench = ChainBench(client, deployment, MANIFEST, work, tokens)

    with console.status(f"chain ceiling: {transfers} plain transfers..."):
        results["raw"] = raw_transfers(bench, count=transfers)
    console.print(f"raw transfers: {results['raw']['raw_transfer_tps']} tx/s")

    # --- the daemon under load ----------------------------------------------------------------
    store = work / "daemon.sqlite"
    for stale in work.glob("daemon.sqlite*"):
        stale.unlink()
    log_path = work / "daemon.log"
    log_path.unlink(missing_ok=True)
    env = verdict_settings(
        deployment,
        store_url=f"sqlite:///{store}",
        model_dir=work / "model",
        node_key=node.private_key,
        poll_interval=poll,
        metrics_port="0",
    )
    daemon = start_daemon(env, log_path, Path(profile).resolve() if profile else None)
    watcher = EventClock(client, from_block=chain.blocks.height).start()
    try:
        daemon.wait_ready()
        rss = RssSampler(daemon.proc.pid).start()
        with console.status(f"end to end: a burst of {burst} payments..."):
            results["e2e"] = e2e_burst(bench, watcher, count=burst)
        console.print(f"end to end: {results['e2e']['e2e_payments_per_s']} payments decided/s")
        with console.status(f"latency: {rate:.0f} payments/s for {seconds:.0f} s..."):
            results["latency"] = latency(bench, watcher, rate=rate, seconds=seconds)
        lat = results["latency"]
        console.print(f"latency p50 {lat['latency_ms_p50']} ms, p99 {lat['latency_ms_p99']} ms")
        # The same measurement at a load the node can keep up with: latency without a queue.
        with console.status(f"latency: {LIGHT_RATE:.0f} payments/s for {LIGHT_SECONDS:.0f} s..."):
            results["latency_light"] = latency(bench, watcher, rate=LIGHT_RATE, seconds=LIGHT_SECONDS)
        results["memory"] = rss.stop()
    finally:
        watcher.stop()
        daemon.stop()
    results["daemon"] = {
        "poll_interval_s": float(poll),
        "verdict_batch_size": 100,
        "log": str(log_path.relative_to(ROOT)),
    }

    # --- gas (the daemon is stopped: the node's own client posts these verdicts) ------------------
    with console.status("gas: payments, votes, an escrow release..."):
        node_client = ChainClient(
            networks.provider.uri, Deployment.load(deployment), abis, Account.from_key(node.private_key)
        )
        gas = payment_gas(client, node_client, tokens["mUSD"], artifact.model_id, batch=100)
        gas.update(governance_and_escrow_gas(artifact.model_id, work / "gas"))
        results["gas"] = gas

    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_end"] = machine_info()["load_average_start"]
    results["headline"] = headline(results)
    out_path, doc_path = ROOT / out, ROOT / doc
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, doc_path)
    for row in results["headline"]:
        mark = {True: "[green]meets[/]", False: "[red]misses[/]", None: ""}[row["met"]]
        console.print(f"{row['figure']:<36} {row['value']!s:>12}  {row.get('target') or '':<10} {mark}")
    console.print(
        f"wrote {out_path.relative_to(ROOT)} and {doc_path.relative_to(ROOT)} in {results['seconds']:.0f} s"
    )
