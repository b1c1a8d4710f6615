"""The Slither gate fails when Slither could not read a function, not only on findings.

Issue 13's audit ran Slither without the project's parser fix and got two High findings that came
from missing IR; the gate's own run was clean only because the fix happened to apply. These tests
run `tools/slither_summary.py` as `make slither` does, on a report and log in Slither's format.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "tools" / "slither_summary.py"

CLEAN_REPORT = {"success": True, "error": None, "results": {"detectors": []}}
NO_IR_LINE = (
    "Impossible to generate IR for Escrow.constructor "
    "(node_modules/@openzeppelin/contracts/utils/cryptography/EIP712.sol#78-87):\n"
    " 'NoneType' object has no attribute 'parameters'\n"
)


def run_gate(tmp_path: Path, report: dict, log: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "slither.log").write_text(log)
    return subprocess.run(
        [sys.executable, str(SUMMARY), str(tmp_path / "report.json"), "--log", str(tmp_path / "slither.log")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_gate_fails_when_slither_could_not_generate_ir(tmp_path):
    result = run_gate(tmp_path, CLEAN_REPORT, "some detector output\n" + NO_IR_LINE)
    assert result.returncode == 1
    assert "no IR for 1 function(s)" in result.stdout
    assert "Escrow.constructor" in result.stdout


def test_gate_passes_a_clean_report_with_every_function_read(tmp_path):
    result = run_gate(tmp_path, CLEAN_REPORT, "RiskOracle.submitVerdicts has external calls inside a loop\n")
    assert result.returncode == 0
    assert "ok: no High/Medium finding" in result.stdout


def test_gate_fails_without_a_report(tmp_path):
    (tmp_path / "slither.log").write_text("Traceback: boom\n")
    missing = tmp_path / "missing.json"
    result = subprocess.run(
        [sys.executable, str(SUMMARY), str(missing), "--log", str(tmp_path / "slither.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no usable report" in result.stdout
