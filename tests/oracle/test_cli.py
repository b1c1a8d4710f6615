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


# --- verdict recalibrate -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recent_traffic():
    """A node's recent traffic: another population (four payments a consumer a day), 1% fraud."""
    from oracle.datagen import generate

    df = generate(3_000, seed=41, fraud_rate=0.01, payments_per_consumer_day=4.0)
    return df, int(np.quantile(df["timestamp"], 0.4))


def test_recalibrate_from_a_table_is_a_new_model_and_safe_to_run_twice(tmp_path, model_dir, recent_traffic):
    from oracle.model import load

    df, since = recent_traffic
    df.to_csv(tmp_path / "recent.csv", index=False)
    out = tmp_path / "recalibrated"
    args = ("recalibrate", "--model", str(model_dir), "--data", str(tmp_path / "recent.csv"))
    args += ("--since", str(since), "--label", "is_fraud", "--out", str(out))
    first = run(*args)
    assert first.exit_code == 0, first.output
    moved, original = load(out), load(model_dir)
    assert moved.model_id != original.model_id and moved.model_id in first.output.replace("\n", "")
    assert moved.booster.model_to_string() == original.booster.model_to_string()
    legit = int(((df["timestamp"] >= since) & (df["is_fraud"] == 0)).sum())
    assert moved.calibration.info["legitimate_rows"] == legit
    assert moved.metadata["recalibrated"]["since"] == since
    again = run(*args)
    assert again.exit_code == 0, again.output
    assert load(out).model_id == moved.model_id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recalibrated", "recent.csv"]  # no staging left


def test_recalibrate_from_the_nodes_store(tmp_path, model_dir, recent_traffic, monkeypatch):
    """The store's payments with their accounts' KYC profile: the same table, so the same scale."""
    from oracle.model import load
    from oracle.records import PaymentRecord
    from oracle.store import Store

    df, since = recent_traffic
    legit = df[df["is_fraud"] == 0]
    url = f"sqlite:///{tmp_path / 'verdict.sqlite'}"
    store = Store(url)
    store.record_payments(
        [
            (
                PaymentRecord(
                    f"router:{r.payment_id}",
                    r.payer,
                    r.payee,
                    r.token,
                    r.amount_usd,
                    r.timestamp,
                    r.token_out,
                ),
                None,
            )
            for r in legit.itertuples()
        ],
        [],
        [],
    )
    profiles = {}
    for side in ("payer", "payee"):
        for addr, cc, created in zip(
            legit[side], legit[f"{side}_country"], legit[f"{side}_created_at"], strict=True
        ):
            profiles[addr] = (addr, cc, int(created))
    store.upsert_accounts(profiles.values())
    store.close()
    monkeypatch.setenv("VERDICT_STORE_URL", url)
    from_store = run(
        "recalibrate",
        "--model",
        str(model_dir),
        "--store",
        "--since",
        str(since),
        "--out",
        str(tmp_path / "s"),
    )
    assert from_store.exit_code == 0, from_store.output
    legit.to_csv(tmp_path / "legit.csv", index=False)
    from_table = run(
        "recalibrate",
        "--model",
        str(model_dir),
        "--data",
        str(tmp_path / "legit.csv"),
        "--since",
        str(since),
        "--out",
        str(tmp_path / "t"),
    )
    assert from_table.exit_code == 0, from_table.output
    a, b = load(tmp_path / "s"), load(tmp_path / "t")
    assert a.calibration.info["legitimate_rows"] == int((legit["timestamp"] >= since).sum())
    assert a.calibration.quantiles.to_dict() == b.calibration.quantiles.to_dict()


def test_bad_recalibrate_inputs(tmp_path, model_dir, recent_traffic, monkeypatch):
    df, since = recent_traffic
    table = tmp_path / "recent.csv"
    df.to_csv(table, index=False)
    base = ("recalibrate", "--model", str(model_dir))
    out = ("--out", str(tmp_path / "new"))
    assert_one_line_error(run(*base, *out), "exactly one of --data TABLE or --store")
    assert_one_line_error(run(*base, *out, "--data", str(table), "--store"), "exactly one of")
    assert_one_line_error(
        run(*base, "--data", str(table), "--out", str(model_dir)), "the model directory itself"
    )
    assert_one_line_error(
        run(*base, "--data", str(table), "--out", str(tmp_path / "no" / "m")), "does not exist"
    )
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert_one_line_error(run(*base, "--data", str(table), "--out", str(tmp_path / "busy")), "other files")
    assert_one_line_error(run(*base, *out, "--data", str(table), "--since", "last tuesday"), "--since")
    late = str(int(df["timestamp"].max()) + 1)
    assert_one_line_error(run(*base, *out, "--data", str(table), "--since", late), "give an earlier --since")
    assert_one_line_error(run(*base, *out, "--data", str(table), "--label", "nope"), "nope")
    assert_one_line_error(
        run("recalibrate", "--model", str(tmp_path / "none"), "--data", str(table), *out), "model"
    )
    monkeypatch.setenv("VERDICT_STORE_URL", f"sqlite:///{tmp_path / 'missing.sqlite'}")
    assert_one_line_error(run(*base, *out, "--store"), "no such database file")
    assert_one_line_error(run(*base, *out, "--store", "--label", "is_fraud"), "--label needs --data")
    assert not (tmp_path / "new").exists()
