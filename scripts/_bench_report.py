"""The benchmark's report: the machine it ran on, each headline figure beside its target (issue 7),
and `docs/benchmarks.md` written from `bench/results.json`."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

# figure -> (comparison, target); None: reported without a target.
TARGETS: dict[str, tuple[str, float] | None] = {
    "raw_transfer_tps": None,
    "e2e_payments_per_s": None,
    "ratio_e2e_to_raw": (">=", 0.5),
    "latency_ms_p50": ("<=", 25),
    "latency_ms_p99": ("<=", 100),
    "ratio_erc20_payment_to_transfer": ("<=", 2.5),
    "scoring_single_us_p50": ("<=", 200),
    "scoring_single_us_p99": None,
    "scoring_batch_rows_per_s": (">=", 200_000),
    "daemon_rss_mb": ("<=", 300),
}


def machine_info() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        anvil = subprocess.run(
            ["anvil", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.split("\n")[0]
    except (OSError, subprocess.TimeoutExpired):
        anvil = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "anvil": anvil.strip(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def headline(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's figures, each with its target and whether this run meets it."""
    raw = results["raw"]["raw_transfer_tps"]
    e2e = results["e2e"]["e2e_payments_per_s"]
    single = results["scoring"]["single"]["total_us"]
    values: dict[str, Any] = {
        "raw_transfer_tps": raw,
        "e2e_payments_per_s": e2e,
        "ratio_e2e_to_raw": round(e2e / raw, 2),
        "latency_ms_p50": results["latency"]["latency_ms_p50"],
        "latency_ms_p99": results["latency"]["latency_ms_p99"],
        "ratio_erc20_payment_to_transfer": results["gas"]["ratio_erc20_payment_to_transfer"],
        "scoring_single_us_p50": single["p50"],
        "scoring_single_us_p99": single["p99"],
        "scoring_batch_rows_per_s": results["scoring"]["batch"]["score_many_rows_per_s"],
        "daemon_rss_mb": max(results["memory"]["rss_mb_peak_sampled"], results["memory"]["rss_mb_hwm"]),
    }
    rows = []
    for figure, value in values.items():
        target = TARGETS[figure]
        met = None
        if target is not None:
            op, bound = target
            met = value >= bound if op == ">=" else value <= bound
        rows.append(
            {
                "figure": figure,
                "value": value,
                "target": None if target is None else f"{target[0]} {target[1]:,}",
                "met": met,
            }
        )
    return rows


def _n(value: Any) -> str:
    if isinstance(value, float):
        return (
            f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
        )
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_markdown(results: dict[str, Any], path: Path) -> None:
    m = results["machine"]
    s, g, lat, e2e = results["scoring"], results["gas"], results["latency"], results["e2e"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`scripts/bench.py`) from `bench/results.json`; every figure below",
        "comes from one run on one machine, so the ratios hold even where the absolute numbers are noisy.",
        "",
        f"- date: {results['date']}, whole run {results['seconds']:.0f} s",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']}, {m['anvil']}",
        f"- load average (1/5/15 min) at the start: {m['load_average_start']}, at the end: {m.get('load_average_end')}",
        "  (other work shares these cores: a load above 2 means the benchmark had less than the whole machine)",
        "",
        "## Figures against targets",
        "",
        "| figure | value | target | |",
        "| --- | ---: | --- | --- |",
    ]
    for row in results["headline"]:
        verdict = {True: "meets", False: "**misses**", None: ""}[row["met"]]
        lines.append(f"| `{row['figure']}` | {_n(row['value'])} | {row['target'] or ''} | {verdict} |")
    lines += [
        "",
        "## Throughput",
        "",
        f"- chain ceiling: {results['raw']['count']:,} plain ETH transfers from {results['raw']['senders']} senders,",
        f"  pre-signed, sent in JSON-RPC batches of {results['raw']['batch']} through the daemon's web3 client:",
        f"  {_n(results['raw']['raw_transfer_tps'])} tx/s to the last receipt.",
        f"- end to end: {e2e['count']:,} payments (ETH and mUSD alternating) from {e2e['payers']} payers, sent the same",
        "  way by a separate load-generator process while one `verdict run` node scored and posted them:",
        f"  pay transactions mined at {_n(e2e['pay_tx_per_s'])}/s; {e2e['decided']:,} decided",
        f"  ({', '.join(f'{k} {v:,}' for k, v in sorted(e2e['outcomes'].items()))}) in",
        f"  {e2e['seconds_to_last_outcome']:.1f} s from the first send to the last outcome event:",
        f"  {_n(e2e['e2e_payments_per_s'])} payments decided/s.",
        "",
        "## Latency",
        "",
        f"{lat['count']:,} payments offered at {lat['offered_per_s']:.0f}/s (achieved {lat['achieved_per_s']}/s, "
        f"{lat['sent_late']} sent late), each timed from its `PaymentRequested` receipt in the load generator to "
        f"the outcome event seen by a watcher polling every 2 ms; daemon poll interval "
        f"{results['daemon']['poll_interval_s']} s.",
        "",
        "| p50 | p90 | p99 | max | undecided |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {lat['latency_ms_p50']} ms | {lat['latency_ms_p90']} ms | {lat['latency_ms_p99']} ms "
        f"| {lat['latency_ms_max']} ms | {lat['undecided']} |",
        "",
        "## Gas",
        "",
        f"Each payment to a payee that never held the asset, verdicts in one `submitVerdicts` batch of "
        f"{g['verdict_batch']} posted by the node's own client.",
        "",
        "| operation | gas |",
        "| --- | ---: |",
        f"| ERC-20 (OpenZeppelin) transfer to a new holder: the baseline | {g['erc20_transfer_to_new_holder']:,} |",
        f"| `pay`, ETH | {g['pay_eth']:,} |",
        f"| verdict batch of {g['verdict_batch']}, ETH: whole / per payment | {g['verdict_batch_eth']:,} / {g['verdict_share_eth']:,} |",
        f"| **ETH payment, pay through settlement** | {g['payment_eth_pay_to_settlement']:,} |",
        f"| `pay`, ERC-20 | {g['pay_erc20']:,} |",
        f"| verdict batch of {g['verdict_batch']}, ERC-20: whole / per payment | {g['verdict_batch_erc20']:,} / {g['verdict_share_erc20']:,} |",
        f"| **ERC-20 payment, pay through settlement** | {g['payment_erc20_pay_to_settlement']:,} |",
        f"| ratio ERC-20 payment / baseline transfer | {g['ratio_erc20_payment_to_transfer']} |",
        f"| `castVote`, simple proposal | {g['cast_vote_simple']:,} |",
        f"| `castVote`, quadratic proposal (member) | {g['cast_vote_quadratic']:,} |",
        f"| escrow milestone: `requestRelease` | {g['escrow']['request_release']:,} |",
        f"| escrow milestone: `confirmRelease` (opens the risk gate) | {g['escrow']['confirm_release']:,} |",
        f"| escrow milestone: verdict (batch of 1, releases the funds) | {g['escrow']['verdict_batch_of_1']:,} |",
        f"| **escrow milestone release, all three** | {g['escrow']['milestone_release_total']:,} |",
        "",
        "## Scoring",
        "",
        "Single-threaded LightGBM, as in the daemon.",
        "",
        "| measurement | p50 | p99 |",
        "| --- | ---: | ---: |",
        f"| one payment: features (store read + write) and score with reasons | {s['single']['total_us']['p50']:,} µs | {s['single']['total_us']['p99']:,} µs |",
        f"| of which features, store write included | {s['single']['features_us']['p50']:,} µs | {s['single']['features_us']['p99']:,} µs |",
        f"| of which score + contributions + reasons + hash | {s['single']['score_us']['p50']:,} µs | {s['single']['score_us']['p99']:,} µs |",
        f"| one payment without the store write | {s['single']['total_without_store_write_us']['p50']:,} µs | {s['single']['total_without_store_write_us']['p99']:,} µs |",
        f"| `Booster.predict`, one row, probability only | {s['compiled']['booster_single_us']['p50']:,} µs | {s['compiled']['booster_single_us']['p99']:,} µs |",
        f"| lleaves, one row, probability only | {s['compiled']['compiled_single_us']['p50']:,} µs | {s['compiled']['compiled_single_us']['p99']:,} µs |",
        "",
        "| batch | rows/s |",
        "| --- | ---: |",
        f"| `Scorer.score_many` (the daemon's path: contributions, top-3 reasons, hash) | {s['batch']['score_many_rows_per_s']:,} |",
        f"| `Booster.predict(pred_contrib=True)` alone | {s['batch']['pred_contrib_rows_per_s']:,} |",
        f"| `Booster.predict`, probability only | {s['batch']['booster_predict_rows_per_s']:,} |",
        f"| lleaves ({s['compiled']['trees']} trees compiled in {s['compiled']['compile_s']} s), probability only | {s['compiled']['compiled_predict_rows_per_s']:,} |",
        "",
        f"lleaves against `Booster.predict` on {s['batch']['rows']:,} rows: largest difference "
        f"{s['compiled']['max_abs_difference']:.1e}.",
        "",
        "## Memory",
        "",
        f"The daemon's resident memory through the burst and the latency run: peak sampled every 50 ms "
        f"{results['memory']['rss_mb_peak_sampled']} MB; the kernel's high-water mark (`VmHWM`, the whole "
        f"life of the process) {results['memory']['rss_mb_hwm']} MB.",
        "",
    ]
    notes = Path(__file__).with_name("_bench_notes.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
