#!/usr/bin/env python3
"""Print a Slither JSON report for `make slither`: High/Medium findings in full, the rest as a summary.

Slither itself decides pass or fail on findings (``--fail-medium``). This adds one check of its
own: a function Slither could not turn into IR ("Impossible to generate IR for C.f") is a function
no detector looked at, and a contract with one is left without SSA, which makes data-dependency
detectors report false positives and miss real findings while the run still "succeeds". So any
such line in the log fails the gate (the security audit of issue 13 found the clean result rested
on it). When Slither did not produce a report, or the report says it failed, the tail of its log is
printed instead.

Usage: tools/slither_summary.py REPORT.json [--log SLITHER.log]
Exit status: 0 when a successful report was printed and every function had IR, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

FULL = ("High", "Medium")
SUMMARY = ("Low", "Informational", "Optimization")
LOG_TAIL_LINES = 40
NO_IR = re.compile(r"Impossible to generate IR for ([\w$]+)\.([\w$]+)")


def functions_without_ir(log: Path | None) -> list[str]:
    """`Contract.function` for every function Slither logged it could not generate IR for."""
    if not log or not log.is_file():
        return []
    text = log.read_text(encoding="utf8", errors="replace")
    return sorted({f"{m.group(1)}.{m.group(2)}" for m in NO_IR.finditer(text)})


def first_line(finding: dict) -> str:
    return finding.get("description", "").strip().splitlines()[0] if finding.get("description") else ""


def print_log_tail(log: Path | None) -> None:
    if log and log.is_file():
        lines = log.read_text(encoding="utf8", errors="replace").splitlines()
        print(f"--- last {LOG_TAIL_LINES} lines of {log} ---")
        print("\n".join(lines[-LOG_TAIL_LINES:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args(argv)

    try:
        report = json.loads(args.report.read_text(encoding="utf8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"slither: no usable report at {args.report} ({exc})")
        print_log_tail(args.log)
        return 1
    if not report.get("success"):
        print(f"slither: analysis failed: {report.get('error')}")
        print_log_tail(args.log)
        return 1

    findings = report.get("results", {}).get("detectors", [])
    by_impact: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        by_impact[finding.get("impact", "?")].append(finding)

    for impact in FULL:
        for finding in by_impact.get(impact, []):
            print(f"[{impact}/{finding.get('confidence')}] {finding.get('check')}")
            print("    " + finding.get("description", "").strip().replace("\n", "\n    "))
    for impact in SUMMARY:
        group = by_impact.get(impact, [])
        if not group:
            continue
        per_check: dict[str, list[dict]] = defaultdict(list)
        for finding in group:
            per_check[finding.get("check", "?")].append(finding)
        print(f"{impact}: {len(group)} finding(s), triaged in docs/security.md")
        for check, items in sorted(per_check.items()):
            print(f"  {check} ({len(items)})")
            for finding in items:
                print(f"    - {first_line(finding)[:160]}")

    counts = ", ".join(f"{impact} {len(by_impact.get(impact, []))}" for impact in FULL + SUMMARY)
    blocking = sum(len(by_impact.get(impact, [])) for impact in FULL)
    verdict = f"FAIL: {blocking} High/Medium finding(s)" if blocking else "ok: no High/Medium finding"
    print(f"slither: {counts} -> {verdict} (full report: {args.report})")
    unread = functions_without_ir(args.log)
    if unread:
        names = ", ".join(unread)
        print(f"slither: FAIL: no IR for {len(unread)} function(s), so no detector read them: {names}")
        print("  (a Slither parser failure; see tools/slither_run.py for the one known cause and its fix)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
