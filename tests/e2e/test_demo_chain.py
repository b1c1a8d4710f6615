"""The demo never deploys onto a chain it did not start, nor writes the long-lived chain's record
(issue 14.2): with APE_FOUNDRY_HOST pointing at a running chain, `ape run demo` refuses before
touching it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from second_anvil import SecondAnvil

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_refuses_a_chain_it_did_not_start(tmp_path):
    long_lived = SecondAnvil()
    record = ROOT / "deployments" / "local.json"
    before = record.read_bytes() if record.exists() else None
    try:
        env = {**os.environ, "APE_FOUNDRY_HOST": long_lived.url}
        result = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "ape"),
                "run",
                "demo",
                "--network",
                "ethereum:local:foundry",
                "--workdir",
                str(tmp_path / "demo"),
                "--summary",
                str(tmp_path / "summary.json"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode != 0
        assert "chain of its own" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert long_lived.w3.eth.block_number == 0  # nothing was deployed there
    finally:
        long_lived.stop()
    assert (record.read_bytes() if record.exists() else None) == before
    assert not (tmp_path / "demo" / "deployment.json").exists()
