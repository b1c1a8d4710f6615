"""The command line: the happy path, and bad input ending in one clear line, exit 1, no traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oracle.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def assert_one_line_error(result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = result.output.strip()
    assert "Traceback" not in out
    assert out.startswith("error:") and text in out, out
    assert len(out.splitlines()) <= 2  # one logical line (a long path may wrap)


def test_datagen_train_score(tmp_path, model_dir):
    data = tmp_path / "p.csv"
    assert run("datagen", "--rows", "2000", "--seed", "3", "--out", str(data)).exit_code == 0
    out = tmp_path / "scored.csv"
    res = run("score", "--model", str(model_dir), "--data", str(data), "--out", str(out))
    assert res.exit_code == 0, res.output
    scored = pd.read_csv(out)
    assert {"score_bps", "decision", "reason_1", "reason_2", "reason_3", "reasons_hash"} <= set(
        scored.columns
    )
    assert scored["decision"].isin(["settle", "review", "reject"]).all()


def test_train_on_a_generic_table(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    df = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": (x[:, 0] > 1.8).astype(int)})
    df.to_csv(tmp_path / "g.csv", index=False)
    res = run(
        "train",
        "--data",
        str(tmp_path / "g.csv"),
        "--label",
        "y",
        "--out",
        str(tmp_path / "m"),
        "--time-budget",
        "1",
    )
    assert res.exit_code == 0, res.output
    assert "auprc" in res.output
    res = run(
        "score",
        "--model",
        str(tmp_path / "m"),
        "--data",
        str(tmp_path / "g.csv"),
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert res.exit_code == 0, res.output


@pytest.fixture
def table(tmp_path):
    def write(df: pd.DataFrame, name: str = "t.csv"):
        path = tmp_path / name
        df.to_csv(path, index=False)
        return str(path)

    return write


def _good() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"a": rng.normal(size=500), "y": [0, 1] * 250})


def test_bad_training_inputs(tmp_path, table):
    out = str(tmp_path / "m")
    assert_one_line_error(
        run("train", "--data", str(tmp_path / "none.csv"), "--label", "y", "--out", out), "no such file"
    )
    (tmp_path / "empty.csv").write_text("")
    assert_one_line_error(
        run("train", "--data", str(tmp_path / "empty.csv"), "--label", "y", "--out", out), "empty"
    )
    (tmp_path / "x.txt").write_text("a")
    assert_one_line_error(
        run("train", "--data", str(tmp_path / "x.txt"), "--label", "y", "--out", out), "unsupported"
    )
    (tmp_path / "bad.parquet").write_bytes(b"\x00\x01 not parquet")
    assert_one_line_error(
        run("train", "--data", str(tmp_path / "bad.parquet"), "--label", "y", "--out", out), "bad.parquet"
    )
    assert_one_line_error(
        run("train", "--data", table(_good()), "--label", "nope", "--out", out), "not found"
    )
    assert_one_line_error(
        run("train", "--data", table(_good().assign(y=[0, 1, 2, 3, 4] * 100)), "--label", "y", "--out", out),
        "binary",
    )
    assert_one_line_error(
        run("train", "--data", table(_good().assign(a=np.inf)), "--label", "y", "--out", out), "infinite"
    )
    assert_one_line_error(
        run("train", "--data", table(_good()), "--label", "y", "--features", "zz", "--out", out), "not found"
    )
    assert_one_line_error(
        run("train", "--data", table(_good().iloc[:0]), "--label", "y", "--out", out), "empty"
    )
    assert_one_line_error(
        run("train", "--data", table(_good().assign(t="x")), "--label", "y", "--time", "t", "--out", out),
        "time column",
    )


def test_bad_scoring_inputs(tmp_path, table, model_dir):
    out = str(tmp_path / "s.csv")
    assert_one_line_error(
        run("score", "--model", str(tmp_path / "nomodel"), "--data", table(_good()), "--out", out), "no model"
    )
    assert_one_line_error(
        run("score", "--model", str(model_dir), "--data", table(_good()), "--out", out), "payer"
    )
    pays = pd.DataFrame(
        {"payer": ["a"], "payee": ["b"], "token": ["ETH"], "amount_usd": [float("nan")], "timestamp": [1]}
    )
    assert_one_line_error(run("score", "--model", str(model_dir), "--data", table(pays), "--out", out), "NaN")
    pays["amount_usd"] = 1e300
    assert_one_line_error(
        run("score", "--model", str(model_dir), "--data", table(pays), "--out", out), "between"
    )


def test_bad_datagen_inputs(tmp_path):
    assert_one_line_error(run("datagen", "--rows", "10", "--out", str(tmp_path / "x.json")), "unsupported")
    assert_one_line_error(
        run("datagen", "--rows", "10", "--fraud-rate", "2", "--out", str(tmp_path / "x.csv")), "fraud rate"
    )


def test_console_script_main_prints_one_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from oracle.cli import main; main()",
            "score",
            "--model",
            str(tmp_path),
            "--data",
            "x.csv",
            "--out",
            "y.csv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr.strip().startswith("error:")


def test_help_lists_the_settings_each_command_reads_from_the_settings_object():
    """`--help` of run, explain, dashboard and report lists their VERDICT_* variables with the
    description written in oracle/config.py; every setting is listed by at least one command."""
    from oracle import cli as signed_votes_cli
    from oracle.cli import DASHBOARD_SETTINGS, EXPLAIN_SETTINGS, RUN_SETTINGS, SUSPICIOUS_SETTINGS
    from oracle.config import Settings, env_name

    listed: set[str] = set()
    for args, fields in (
        (["run"], RUN_SETTINGS),
        (["explain"], EXPLAIN_SETTINGS),
        (["dashboard"], DASHBOARD_SETTINGS),
        (["report", "suspicious"], SUSPICIOUS_SETTINGS),
        (["relay"], signed_votes_cli.RELAY_SETTINGS),
        (["sign-vote"], signed_votes_cli.SIGN_VOTE_SETTINGS),
    ):
        result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        help_text = " ".join(result.output.split())
        for name in fields:
            assert env_name(name) in help_text, (args, name)
        listed |= set(fields)
    assert listed == set(Settings.model_fields)
    run_help = " ".join(CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "JSON-RPC URL of the chain node" in run_help  # the field's docstring, not a copy
    assert "[default: http://127.0.0.1:8545]" in run_help
