"""The benchmark's report: the machine it ran on, the figures issue 16 asks for (medians and ranges
over the repetitions) beside their targets, and `docs/benchmarks.md` written from
`bench/results.json`."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.anvil import ANVIL

PRIMARY_BLOCK_TIME = 0.1  # the mode whose figures go to the top level of results.json


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
            [str(ANVIL), "--version"], capture_output=True, text=True, timeout=10
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


def median_range(values: Iterable[float | None]) -> dict[str, float] | None:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    return {
        "median": round(statistics.median(vals), 3),
        "min": round(min(vals), 3),
        "max": round(max(vals), 3),
    }


def _find(tree: Any, key: str) -> Any:
    """The first value of `key` anywhere in a nest of dicts (bench/scoring.py's layout is its own)."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def mode_figures(mode: dict[str, Any]) -> dict[str, Any]:
    """Medians and ranges of one block time's repetitions, and its latency rows by offered rate."""
    runs = mode["runs"]
    pairs = list(zip(runs["transfers"], runs["pays"], runs["e2e"], strict=True))
    block_ms = mode["block_time_s"] * 1000
    e2e_gas = median_range(e["gas_per_decided_payment"] for e in runs["e2e"])
    figures: dict[str, Any] = {
        "block_time_s": mode["block_time_s"],
        "gas_limit": mode["gas_limit"],
        "repetitions": len(pairs),
        "raw_transfer_tps": median_range(t["per_s"] for t in runs["transfers"]),
        "raw_transfer_gas_per_s": median_range(t["gas_per_s"] for t in runs["transfers"]),
        "pay_only_per_s": median_range(p["per_s"] for p in runs["pays"]),
        "pay_only_gas_per_s": median_range(p["gas_per_s"] for p in runs["pays"]),
        "decided_per_s": median_range(e["decided_per_s"] for e in runs["e2e"]),
        # The traffic mix the decided/s was measured at: (held + refunded) / decided.
        "share_reaching_review": median_range(e.get("share_reaching_review") for e in runs["e2e"]),
        "e2e_gas_per_s": median_range(e["gas_per_s"] for e in runs["e2e"]),
        "ratio_e2e_to_raw": median_range(e["decided_per_s"] / t["per_s"] for t, _, e in pairs),
        "efficiency_vs_pay_ceiling": median_range(e["decided_per_s"] / p["per_s"] for _, p, e in pairs),
        "undecided": sum(e["undecided"] for e in runs["e2e"]),
        "gas_per_decided_payment": e2e_gas,
        "analytic_gas_ceiling_payments_per_s": (
            round(mode["gas_limit"] / mode["block_time_s"] / e2e_gas["median"]) if e2e_gas else None
        ),
        "cpu_ms_per_payment": {
            "anvil": median_range(e["anvil_cpu_ms_per_payment"] for e in runs["e2e"]),
            "daemon": median_range(e["daemon_cpu_ms_per_payment"] for e in runs["e2e"]),
            "loadgen": median_range(e["loadgen_cpu_ms_per_payment"] for e in runs["e2e"]),
            # the bench process meanwhile (its event clock, samplers): on the same two cores
            "bench": median_range(e.get("bench_cpu_ms_per_payment") for e in runs["e2e"]),
            # anvil's CPU over its idle rate just before the burst (bench.phases._idle_rate)
            "anvil_over_idle": median_range(e.get("anvil_cpu_ms_per_payment_over_idle") for e in runs["e2e"]),
            "anvil_idle_per_block": median_range(e.get("anvil_idle_cpu_ms_per_block") for e in runs["e2e"]),
        },
        "anvil_cpu_ms_per_transfer": median_range(t["anvil_cpu_ms_per_tx"] for t in runs["transfers"]),
        "anvil_cpu_ms_per_pay_alone": median_range(p["anvil_cpu_ms_per_tx"] for p in runs["pays"]),
        # The load generator runs the same code in every phase (bench.loadgen), so its cost weighs
        # on both sides of a ratio alike: shown per phase to let a reader check that it does.
        "loadgen_cpu_ms_per_transfer": median_range(
            t.get("loadgen_cpu_ms_per_tx") for t in runs["transfers"]
        ),
        "loadgen_cpu_ms_per_pay_alone": median_range(p.get("loadgen_cpu_ms_per_tx") for p in runs["pays"]),
        # Seconds per burst the load generator waited at the round barriers (bench.loadgen._batched).
        "round_barrier_s_pay_only": median_range(sum(p.get("round_drain_s") or [0]) for p in runs["pays"]),
        "round_barrier_s_e2e": median_range(sum(e.get("round_drain_s") or [0]) for e in runs["e2e"]),
        "daemon_turn_ms_p99": median_range(e["daemon"].get("turn_ms_p99") for e in runs["e2e"]),
        "daemon_turn_ms_p99_below_block_time": all(
            e["daemon"].get("turn_ms_p99", float("inf")) < block_ms for e in runs["e2e"]
        ),
        "latency": {f"{row['offered_per_s']:g}": row for row in mode["latency"]},
    }
    fresh = mode.get("fresh_accounts")
    if fresh:  # `--fresh-accounts`: one burst on an empty store, the attack-burst mix
        figures["fresh_accounts"] = {
            k: fresh.get(k)
            for k in (
                "decided_per_s",
                "share_reaching_review",
                "daemon_cpu_ms_per_payment",
                "anvil_cpu_ms_per_payment",
            )
        }
    return figures


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The top-level figures of results.json (the 0.1 s mode's, or the first mode's) and the headline."""
    by_mode = [mode_figures(m) for m in results["modes"]]
    primary = next((f for f in by_mode if f["block_time_s"] == PRIMARY_BLOCK_TIME), by_mode[0])
    lat = primary["latency"]

    def at(rate: str, key: str) -> Any:
        return lat.get(rate, {}).get(key)

    med = lambda d: None if d is None else d["median"]  # noqa: E731
    gas = results.get("gas") or {}
    scoring = results.get("scoring") or {}
    with_reasons = _find(scoring, "scoring_rows_per_s_with_reasons")
    top = {
        "chain_mode": "interval",
        "block_time_s": primary["block_time_s"],
        "gas_limit": primary["gas_limit"],
        "decided_per_s": med(primary["decided_per_s"]),
        "share_reaching_review": med(primary["share_reaching_review"]),
        "ratio_e2e_to_raw": med(primary["ratio_e2e_to_raw"]),
        "raw_transfer_tps": med(primary["raw_transfer_tps"]),
        "pay_only_per_s": med(primary["pay_only_per_s"]),
        "efficiency_vs_pay_ceiling": med(primary["efficiency_vs_pay_ceiling"]),
        "analytic_gas_ceiling_payments_per_s": primary["analytic_gas_ceiling_payments_per_s"],
        "latency_ms_p50_at_10": at("10", "latency_ms_50"),
        "latency_ms_p99_at_10": at("10", "latency_ms_99"),
        "latency_ms_p50_at_100": at("100", "latency_ms_50"),
        "latency_ms_p99_at_100": at("100", "latency_ms_99"),
        "latency_ms_p50_at_500": at("500", "latency_ms_50"),
        "latency_ms_p99_at_500": at("500", "latency_ms_99"),
        "latency_blocks_p99_at_10": at("10", "latency_blocks_99"),
        "latency_blocks_p99_at_100": at("100", "latency_blocks_99"),
        "latency_blocks_p99_at_500": at("500", "latency_blocks_99"),
        "daemon_cpu_ms_per_payment": med(primary["cpu_ms_per_payment"]["daemon"]),
        "anvil_cpu_ms_per_payment": med(primary["cpu_ms_per_payment"]["anvil"]),
        "loadgen_cpu_ms_per_payment": med(primary["cpu_ms_per_payment"]["loadgen"]),
        "daemon_turn_ms_p99": med(primary["daemon_turn_ms_p99"]),
        "scoring_rows_per_s_with_reasons": with_reasons,
        "ratio_erc20_payment_to_transfer": gas.get("ratio_erc20_payment_to_transfer"),
        "ratio_network_report_to_three_submissions": gas.get("ratio_network_report_to_three_submissions"),
        "ratio_cross_border_1_hop_v3_to_uniswap_v3_swap": gas.get(
            "ratio_cross_border_1_hop_v3_to_uniswap_v3_swap"
        ),
        "service_time_ms_p50_no_load": (results.get("service_time_no_load") or {}).get("latency_ms_50"),
    }
    block_ms = primary["block_time_s"] * 1000
    targets: dict[str, tuple[str, float]] = {
        "decided_per_s": (">=", 2500),
        "ratio_e2e_to_raw": (">=", 0.45),
        "latency_ms_p99_at_500": ("<=", block_ms + 10),
        "daemon_cpu_ms_per_payment": ("<=", 0.25),
        "daemon_turn_ms_p99": ("<", block_ms),
        "scoring_rows_per_s_with_reasons": (">=", 20_000),
        "ratio_erc20_payment_to_transfer": ("<=", 2.5),
        "ratio_network_report_to_three_submissions": ("<=", 0.40),
    }
    headline = []
    for figure, value in top.items():
        target = targets.get(figure)
        met = None
        if target is not None and value is not None:
            op, bound = target
            met = value >= bound if op == ">=" else value < bound if op == "<" else value <= bound
        headline.append(
            {
                "figure": figure,
                "value": value,
                "target": None if target is None else f"{target[0]} {target[1]:,}",
                "met": met,
            }
        )
    return {**top, "by_mode": by_mode, "headline": headline}


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


def _r(d: dict[str, float] | None, unit: str = "") -> str:
    """median (min-max)"""
    if d is None:
        return "-"
    return f"{_n(d['median'])}{unit} ({_n(d['min'])}-{_n(d['max'])})"


def write_markdown(results: dict[str, Any], path: Path) -> None:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`) together with `bench/results.json`; the method is",
        "below the figures. Medians over the repetitions, with the range (min-max) in brackets.",
        "",
        f"- date: {results['date']}; the whole run took {results['seconds']:.0f} s",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']},",
        f"  {m['anvil']}",
        f"- load average (1, 5, 15 min) at the start {m['load_average_start']}, at the end",
        f"  {m.get('load_average_end')}: a load above the core count means other work shared the cores",
        "",
        "## Figures against targets",
        "",
        f"Chain mode: interval mining, {results['block_time_s']} s blocks,"
        f" {results['gas_limit']:,} gas per block",
        "(the top-level figures of results.json); the service time is the automine figure.",
        "",
        *_table(
            ["figure", "value", "target", ""],
            [
                [
                    f"`{r['figure']}`",
                    r["value"] if r["value"] is not None else "-",
                    r["target"] or "",
                    {True: "meets", False: "**misses**"}.get(r["met"], ""),
                ]
                for r in results["headline"]
            ],
            "lrll",
        ),
        "",
    ]
    for f in results["by_mode"]:
        cpu = f["cpu_ms_per_payment"]
        lines += [
            f"## {f['block_time_s']:g} s blocks, {f['gas_limit']:,} gas per block"
            f" ({f['repetitions']} repetitions)",
            "",
            *_table(
                ["figure", "median (range)"],
                [
                    ["plain transfers/s (raw ceiling)", _r(f["raw_transfer_tps"])],
                    ["  gas/s mined", _r(f["raw_transfer_gas_per_s"])],
                    ["pays/s with no daemon (pay-only ceiling)", _r(f["pay_only_per_s"])],
                    ["  gas/s mined", _r(f["pay_only_gas_per_s"])],
                    ["**payments decided/s, end to end**", _r(f["decided_per_s"])],
                    ["  share reaching review ((held + refunded) / decided)", _r(f["share_reaching_review"])],
                    ["  gas/s mined (pays and verdicts)", _r(f["e2e_gas_per_s"])],
                    ["e2e / raw", _r(f["ratio_e2e_to_raw"])],
                    ["e2e / pay-only ceiling (the daemon's efficiency)", _r(f["efficiency_vs_pay_ceiling"])],
                    ["gas per decided payment (pay + verdict share)", _r(f["gas_per_decided_payment"])],
                    [
                        "analytic gas ceiling, payments/s (gas limit / block time / gas per payment)",
                        f["analytic_gas_ceiling_payments_per_s"],
                    ],
                    *(
                        [
                            [
                                "all-fresh burst (the same payments on an empty store, once): decided/s,"
                                " share reaching review, daemon and anvil CPU ms per payment",
                                ", ".join(
                                    str(f["fresh_accounts"][k])
                                    for k in (
                                        "decided_per_s",
                                        "share_reaching_review",
                                        "daemon_cpu_ms_per_payment",
                                        "anvil_cpu_ms_per_payment",
                                    )
                                ),
                            ]
                        ]
                        if f.get("fresh_accounts")
                        else []
                    ),
                    ["undecided at the end (all repetitions)", f["undecided"]],
                    ["CPU ms per payment: anvil", _r(cpu["anvil"])],
                    ["  anvil over its idle rate (the payments' own cost)", _r(cpu.get("anvil_over_idle"))],
                    [
                        "  anvil idle, ms per block (state trie rehash, pollers)",
                        _r(cpu.get("anvil_idle_per_block")),
                    ],
                    ["CPU ms per payment: the daemon", _r(cpu["daemon"])],
                    ["CPU ms per payment: the load generator (sending)", _r(cpu["loadgen"])],
                    ["CPU ms per payment: the bench's event clock and samplers", _r(cpu.get("bench"))],
                    [
                        "anvil CPU ms per plain transfer / per pay alone",
                        f"{_r(f['anvil_cpu_ms_per_transfer'])} / {_r(f['anvil_cpu_ms_per_pay_alone'])}",
                    ],
                    [
                        "load generator CPU ms per plain transfer / per pay alone",
                        f"{_r(f.get('loadgen_cpu_ms_per_transfer'))}"
                        f" / {_r(f.get('loadgen_cpu_ms_per_pay_alone'))}",
                    ],
                    [
                        "round barriers, s per burst: pay-only / end to end",
                        f"{_r(f.get('round_barrier_s_pay_only'))} / {_r(f.get('round_barrier_s_e2e'))}",
                    ],
                    [
                        "daemon busy-turn p99, ms (below the block time?)",
                        f"{_r(f['daemon_turn_ms_p99'])}"
                        f" ({'yes' if f['daemon_turn_ms_p99_below_block_time'] else 'no'})",
                    ],
                ],
                "lr",
            ),
            "",
            *_table(
                [
                    "offered/s",
                    "achieved/s",
                    "p50 ms",
                    "p90 ms",
                    "p99 ms",
                    "max ms",
                    "p50 blocks",
                    "p99 blocks",
                    "daemon CPU ms/payment",
                    "undecided",
                ],
                [
                    [
                        r["offered_per_s"],
                        r["achieved_per_s"],
                        r["latency_ms_50"],
                        r["latency_ms_90"],
                        r["latency_ms_99"],
                        r["latency_ms_max"],
                        r["latency_blocks_50"],
                        r["latency_blocks_99"],
                        r["daemon_cpu_ms_per_payment"],
                        r["undecided"],
                    ]
                    for r in f["latency"].values()
                ],
                "rrrrrrrrrr",
            ),
            "",
        ]
    service = results.get("service_time_no_load")
    if service:
        lines += [
            "## Service time at no load (automine)",
            "",
            "One block per transaction, 10 payments/s: what one payment costs the whole path when nothing",
            f"queues. p50 {service['latency_ms_50']} ms, p99 {service['latency_ms_99']} ms"
            f" ({service['count']} payments).",
            "",
        ]
    gas = results.get("gas") or {}
    if gas:
        lines += [
            "## Gas",
            "",
            *_table(
                ["operation", "gas"],
                [[f"`{k}`", v] for k, v in gas.items() if isinstance(v, int | float)],
                "lr",
            ),
            "",
        ]
    scoring = results.get("scoring") or {}
    if scoring:
        flat = [
            [f"`{part}.{k}`", v]
            for part, figures in scoring.items()
            if isinstance(figures, dict)
            for k, v in figures.items()
            if isinstance(v, int | float)
        ]
        lines += ["## Scoring", "", *_table(["figure", "value"], flat, "lr"), ""]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
