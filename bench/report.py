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
    "scoring_batch_booster_predict_rows_per_s": (">=", 200_000),
    "scoring_batch_lleaves_rows_per_s": (">=", 200_000),
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
        "scoring_batch_booster_predict_rows_per_s": results["scoring"]["batch"]["booster_predict_rows_per_s"],
        "scoring_batch_lleaves_rows_per_s": results["scoring"]["compiled"]["compiled_predict_rows_per_s"],
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


def _table(header: list[str], rows: list[list[Any]], align: str) -> list[str]:
    """A Markdown table; `align` has one letter per column, l or r."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(rule) + " |",
        *("| " + " | ".join(_n(c) for c in row) + " |" for row in rows),
    ]


def _pq(d: dict[str, float]) -> list[str]:
    return [f"{d['p50']:,} µs", f"{d['p99']:,} µs"]


def _latency_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for key in ("latency", "latency_light"):
        lat = results.get(key)
        if lat:
            rows.append(
                [
                    f"{lat['offered_per_s']:.0f}/s for {lat['count'] / lat['offered_per_s']:.0f} s",
                    f"{lat['achieved_per_s']}/s",
                    *(f"{lat[f'latency_ms_{q}']} ms" for q in ("p50", "p90", "p99", "max")),
                    lat["undecided"],
                ]
            )
    return rows


def write_markdown(results: dict[str, Any], path: Path) -> None:
    m, raw, e2e = results["machine"], results["raw"], results["e2e"]
    s, g, esc = results["scoring"], results["gas"], results["gas"]["escrow"]
    single, batch, comp = s["single"], s["batch"], s["compiled"]
    outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(e2e["outcomes"].items()))
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`) together with `bench/results.json`. Every figure",
        "comes from one run on one machine, so the ratios hold even where the absolute numbers are noisy.",
        "",
        f"- date: {results['date']}; the whole run took {results['seconds']:.0f} s",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']},",
        f"  {m['anvil']} (automine)",
        f"- load average (1, 5, 15 min) at the start {m['load_average_start']}, at the end",
        f"  {m.get('load_average_end')}: other work shares these cores, and a load above 2 means the",
        "  benchmark had less than the whole machine",
        "",
        "## Figures against targets",
        "",
        *_table(
            ["figure", "value", "target", ""],
            [
                [
                    f"`{r['figure']}`",
                    r["value"],
                    r["target"] or "",
                    {True: "meets", False: "**misses**"}.get(r["met"], ""),
                ]
                for r in results["headline"]
            ],
            "lrll",
        ),
        "",
        "## Throughput",
        "",
        f"- Chain ceiling: {raw['count']:,} plain ETH transfers from {raw['senders']} senders, signed",
        f"  beforehand, sent in JSON-RPC batches of {raw['batch']} through the daemon's web3 client:",
        f"  {_n(raw['raw_transfer_tps'])} transactions/s to the last receipt.",
        f"- End to end: {e2e['count']:,} payments (ETH and mUSD in turn) from {e2e['payers']} payers, sent",
        "  the same way by a separate load-generator process while one `verdict run` node scored and",
        f"  posted them. The pay transactions were mined at {_n(e2e['pay_tx_per_s'])}/s; {e2e['decided']:,}",
        f"  were decided ({outcomes}) {e2e['seconds_to_last_outcome']:.1f} s after the first was sent:",
        f"  {_n(e2e['e2e_payments_per_s'])} payments decided/s.",
        "",
        "## Latency",
        "",
        "Payments offered at a fixed rate by the load generator (four sending threads, none waiting for",
        "a receipt); each is timed from its `PaymentRequested` event to its outcome event, both seen by",
        "one `eth_getLogs` watcher polling every 4 ms. The daemon's poll interval:",
        f"{results['daemon']['poll_interval_s']} s.",
        "",
        *_table(
            ["offered", "achieved", "p50", "p90", "p99", "max", "undecided"],
            _latency_rows(results),
            "lrrrrrr",
        ),
        "",
        "## Gas",
        "",
        "Each payment goes to a payee that never held the asset (as in the baseline, a transfer to a new",
        f"holder); the verdicts are posted in one `submitVerdicts` batch of {g['verdict_batch']} by the",
        "node's own client, and a payment's share of that transaction is its gas divided by the batch size.",
        "",
        *_table(
            ["operation", "gas"],
            [
                [
                    "OpenZeppelin ERC-20 `transfer` to a new holder (the baseline)",
                    g["erc20_transfer_to_new_holder"],
                ],
                ["`pay`, ETH", g["pay_eth"]],
                [f"verdict batch of {g['verdict_batch']}, ETH (whole)", g["verdict_batch_eth"]],
                ["verdict share per ETH payment", g["verdict_share_eth"]],
                ["**ETH payment, pay through settlement**", g["payment_eth_pay_to_settlement"]],
                ["`pay`, ERC-20", g["pay_erc20"]],
                [f"verdict batch of {g['verdict_batch']}, ERC-20 (whole)", g["verdict_batch_erc20"]],
                ["verdict share per ERC-20 payment", g["verdict_share_erc20"]],
                ["**ERC-20 payment, pay through settlement**", g["payment_erc20_pay_to_settlement"]],
                ["ratio: ERC-20 payment / baseline transfer", g["ratio_erc20_payment_to_transfer"]],
                ["`castVote`, simple proposal", g["cast_vote_simple"]],
                ["`castVote`, quadratic proposal (a member)", g["cast_vote_quadratic"]],
                ["escrow milestone: `requestRelease` (supplier)", esc["request_release"]],
                ["escrow milestone: `confirmRelease` (buyer; opens the risk gate)", esc["confirm_release"]],
                ["escrow milestone: verdict, batch of 1 (releases the funds)", esc["verdict_batch_of_1"]],
                ["**escrow milestone release, the three together**", esc["milestone_release_total"]],
            ],
            "lr",
        ),
        "",
        "## Scoring",
        "",
        "Single-threaded LightGBM, as in the daemon; a SQLite store primed with 6,000 payments among",
        "300 accounts.",
        "",
        *_table(
            ["one payment", "p50", "p99"],
            [
                [
                    "features (store read and write) + score, contributions, reasons, hash",
                    *_pq(single["total_us"]),
                ],
                ["of which features, store write included", *_pq(single["features_us"])],
                ["of which score, contributions, reasons and hash", *_pq(single["score_us"])],
                [
                    "the same without recording the payment in the store",
                    *_pq(single["total_without_store_write_us"]),
                ],
                ["`Booster.predict`, probability only", *_pq(comp["booster_single_us"])],
                ["lleaves, probability only", *_pq(comp["compiled_single_us"])],
            ],
            "lrr",
        ),
        "",
        *_table(
            ["batch", "rows/s"],
            [
                [
                    "`Scorer.score_many`: the daemon's path (contributions, top-3 reasons, hash)",
                    batch["score_many_rows_per_s"],
                ],
                ["`Booster.predict(pred_contrib=True)` alone", batch["pred_contrib_rows_per_s"]],
                ["`Booster.predict`, probability only", batch["booster_predict_rows_per_s"]],
                [
                    f"lleaves, probability only ({comp['trees']} trees, compiled in {comp['compile_s']} s)",
                    comp["compiled_predict_rows_per_s"],
                ],
            ],
            "lr",
        ),
        "",
        f"lleaves and `Booster.predict` on the same {batch['rows']:,} rows differ by at most",
        f"{comp['max_abs_difference']:.1e} (floating-point summation order), so they are not bit-identical.",
        "",
        "## Memory",
        "",
        "The daemon's resident memory through the burst and both latency runs: the peak of samples taken",
        f"every 50 ms, {results['memory']['rss_mb_peak_sampled']} MB; the kernel's high-water mark (`VmHWM`,",
        f"the whole life of the process), {results['memory']['rss_mb_hwm']} MB.",
        "",
    ]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
