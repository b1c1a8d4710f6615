"""Every command given bad input: one clear error line, a non-zero exit, no traceback.

tests/oracle/test_cli.py covers the common cases of train, score and datagen; this file goes
through every command (datagen, train, score, run, explain, report, dashboard) with missing and
unreadable files, wrong columns, non-binary labels, empty tables, NaN, inf and huge values, and
bad settings. Each case runs the command in-process (CliRunner) and fails if anything but a
VerdictError or a usage error escaped (`main()` would print such a bug as "unexpected ...").
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oracle.cli import app

runner = CliRunner()


def good_generic() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400), "y": [0, 1] * 200})


def payments_row(**overrides) -> pd.DataFrame:
    row = {"payer": "a", "payee": "b", "token": "ETH", "amount_usd": 10.0, "timestamp": 1_700_000_000}
    row.update(overrides)
    return pd.DataFrame([row])


def assert_clean_failure(result, *expected: str) -> None:
    """Non-zero exit, one error line (or click's usage box), no traceback, no escaped exception."""
    out = result.output.strip()
    assert result.exit_code not in (0, None), out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in out
    if result.exit_code == 1:  # a VerdictError: exactly the one red line
        assert out.startswith("error:"), out
        assert len(out.splitlines()) <= 3, out  # one logical line; a long path may wrap
    else:  # click's usage error (exit 2): the option is named
        assert result.exit_code == 2 and ("Invalid value" in out or "Missing" in out or "No such" in out), out
    for text in expected:
        assert text.lower() in out.lower(), out


@pytest.fixture
def write(tmp_path):
    def write(df: pd.DataFrame, name: str = "t.csv") -> str:
        path = tmp_path / name
        if name.endswith(".parquet"):
            df.to_parquet(path)
        else:
            df.to_csv(path, index=False)
        return str(path)

    return write


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


# --- datagen ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--rows", "0"], "rows"),
        (["--rows", "-5"], "rows"),
        (["--rows", "abc"], "rows"),
        (["--fraud-rate", "nan"], "fraud rate"),
        (["--fraud-rate", "-0.1"], "fraud rate"),
        (["--fraud-rate", "inf"], "fraud rate"),
    ],
)
def test_datagen_rejects_bad_options(tmp_path, args, expected):
    assert_clean_failure(invoke("datagen", "--out", str(tmp_path / "p.csv"), *args), expected)


def test_datagen_rejects_an_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_clean_failure(invoke("datagen", "--rows", "10", "--out", str(blocker / "p.csv")))
    assert_clean_failure(invoke("datagen", "--rows", "10", "--out", str(tmp_path)))


# --- train -----------------------------------------------------------------------------------


def train_args(tmp_path, data: str, *extra: str) -> list[str]:
    return ["train", "--data", data, "--label", "y", "--out", str(tmp_path / "m"), *extra]


@pytest.mark.parametrize(
    "frame, expected",
    [
        (good_generic().assign(y=["yes", "no"] * 200), "binary"),
        (good_generic().assign(y=0), "class"),
        (good_generic().assign(y=[0.5, 1.0] * 200), "binary"),
        (good_generic().assign(y=[np.nan, 1.0] * 200), ""),
        (good_generic().assign(a=-np.inf), "infinite"),
        (good_generic()[["a", "b"]], "not found"),
        (good_generic().iloc[:3], ""),
    ],
    ids=[
        "string-labels",
        "one-class",
        "fractional-labels",
        "nan-labels",
        "minus-inf",
        "no-label-column",
        "three-rows",
    ],
)
def test_train_rejects_bad_tables(tmp_path, write, frame, expected):
    assert_clean_failure(invoke(*train_args(tmp_path, write(frame))), expected)


def test_train_rejects_a_table_of_only_a_header_in_parquet(tmp_path, write):
    assert_clean_failure(invoke(*train_args(tmp_path, write(good_generic().iloc[:0], "e.parquet"))), "empty")


def test_train_rejects_unreadable_inputs(tmp_path, write):
    assert_clean_failure(invoke(*train_args(tmp_path, str(tmp_path))))  # a directory
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x00" * 64)
    assert_clean_failure(invoke(*train_args(tmp_path, str(tmp_path / "binary.csv"))))
    (tmp_path / "ragged.csv").write_text("a,b,y\n1,2\n1,2,3,4,5\n")
    assert_clean_failure(invoke(*train_args(tmp_path, str(tmp_path / "ragged.csv"))))


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--fp-budget-review", "-1"], "budget"),
        (["--fp-budget-reject", "2"], "budget"),
        (["--fp-budget-review", "nan"], "budget"),
        (["--features", ","], "empty"),
        (["--features", "a,a"], "twice"),
        (["--time", "nope"], "nope"),
        (["--features", "a,b"], ""),  # `a` holds text here
    ],
)
def test_train_rejects_bad_options(tmp_path, write, extra, expected):
    frame = good_generic().assign(a=["text"] * 400)
    assert_clean_failure(invoke(*train_args(tmp_path, write(frame), *extra)), expected)


def test_train_rejects_an_output_that_is_a_file(tmp_path, write):
    (tmp_path / "m").write_text("")
    assert_clean_failure(invoke(*train_args(tmp_path, write(good_generic()))))


# --- score -----------------------------------------------------------------------------------


def score_args(tmp_path, model, data: str) -> list[str]:
    return ["score", "--model", str(model), "--data", data, "--out", str(tmp_path / "s.csv")]


@pytest.mark.parametrize(
    "frame, expected",
    [
        (payments_row(amount_usd=float("inf")), ""),
        (payments_row(amount_usd=-5.0), ""),
        (payments_row(amount_usd=1e308), "between"),
        (payments_row(timestamp="yesterday"), ""),
        (payments_row(timestamp=float("nan")), ""),
        (payments_row().drop(columns=["payee"]), "payee"),
        (payments_row().iloc[:0], ""),
    ],
    ids=["inf-amount", "negative-amount", "huge-amount", "text-time", "nan-time", "no-payee", "empty"],
)
def test_score_rejects_bad_payment_tables(tmp_path, write, model_dir, frame, expected):
    assert_clean_failure(invoke(*score_args(tmp_path, model_dir, write(frame))), expected)


def test_score_rejects_a_broken_model_directory(tmp_path, write, model_dir):
    data = write(payments_row())
    for name, damage in [
        ("metadata.json", lambda p: p.write_text("{not json")),
        ("metadata.json", lambda p: p.write_text(json.dumps({"model_id": "0x00"}))),
        ("model.txt", lambda p: p.write_text("tree\n")),
        ("model.txt", lambda p: p.unlink()),
    ]:
        broken = tmp_path / "broken"
        shutil.rmtree(broken, ignore_errors=True)
        shutil.copytree(model_dir, broken)
        damage(broken / name)
        assert_clean_failure(invoke(*score_args(tmp_path, broken, data)))
    file_not_dir = tmp_path / "model-file"
    file_not_dir.write_text("")
    assert_clean_failure(invoke(*score_args(tmp_path, file_not_dir, data)))


def test_score_rejects_an_unwritable_output(tmp_path, write, model_dir):
    data = write(payments_row())
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = ["score", "--model", str(model_dir), "--data", data, "--out", str(blocker / "s.csv")]
    assert_clean_failure(invoke(*args))


# --- run, explain, report, dashboard: settings from VERDICT_* -------------------------------


@pytest.fixture
def chain_env(tmp_path):
    """Settings pointing at files that exist and an RPC nobody listens on."""
    deployment = tmp_path / "local.json"
    bound = {"chain_id": 31337, "block": 0, "block_hash": "0x" + "00" * 32, "contracts": {}}
    deployment.write_text(json.dumps(bound))
    return {
        "VERDICT_RPC_URL": "http://127.0.0.1:9",
        "VERDICT_DEPLOYMENT": str(deployment),
        "VERDICT_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite'}",
        "VERDICT_NODE_KEY": "0x" + "11" * 32,
        "VERDICT_METRICS_PORT": "0",
    }


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"VERDICT_POLL_INTERVAL": "-1"}, "VERDICT_POLL_INTERVAL"),
        ({"VERDICT_POLL_INTERVAL": "soon"}, "VERDICT_POLL_INTERVAL"),
        ({"VERDICT_VERDICT_BATCH_SIZE": "100000"}, "VERDICT_VERDICT_BATCH_SIZE"),
        ({"VERDICT_USD_PRICES": "not json"}, "VERDICT_USD_PRICES"),
        ({"VERDICT_LOG_FORMAT": "xml"}, "VERDICT_LOG_FORMAT"),
        ({"VERDICT_DEPLOYMENT": "/nonexistent/local.json"}, "local.json"),
        ({"VERDICT_BUILD_MANIFEST": "/nonexistent/manifest.json"}, "manifest"),
        ({"VERDICT_NODE_KEY": "0x1234"}, "key"),
        ({"VERDICT_NODE_KEY": ""}, "key"),
        ({"VERDICT_STORE_URL": "mysql://nope"}, "store"),
        ({"VERDICT_STORE_URL": "::::"}, "store"),
    ],
)
def test_run_rejects_bad_settings(chain_env, override, expected):
    assert_clean_failure(invoke("run", env={**chain_env, **override}), expected)


def test_run_rejects_an_unparseable_deployment_file(chain_env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert_clean_failure(invoke("run", env={**chain_env, "VERDICT_DEPLOYMENT": str(bad)}), "bad.json")


@pytest.mark.parametrize(
    "args, override",
    [
        (["explain", "1"], {"VERDICT_DEPLOYMENT": "/nonexistent/local.json"}),
        (["explain", "-1"], {}),
        (["explain", "abc"], {}),
        (["explain", "99999999999999999999999999999999999999999999999999999999999999999999999999999999"], {}),
        (["report", "suspicious", "--from", "last tuesday"], {}),
        (["report", "suspicious", "--from", "2026-02-30"], {}),
        (["report", "suspicious", "--from", "2026-03-01", "--to", "2026-01-01"], {}),
        (["dashboard", "--port", "0"], {}),
        (["dashboard", "--port", "70000"], {}),
    ],
)
def test_explain_report_and_dashboard_reject_bad_input(chain_env, args, override):
    assert_clean_failure(invoke(*args, env={**chain_env, **override}))


def test_the_console_script_never_prints_a_traceback_for_bad_input(tmp_path):
    """The real entry point in a subprocess: the one line goes to stderr, exit 1."""
    (tmp_path / "empty.csv").write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oracle.cli",
            "train",
            "--data",
            str(tmp_path / "empty.csv"),
            "--label",
            "y",
            "--out",
            str(tmp_path / "m"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) <= 2


# --- a store URL that names no store; a chain node that cannot be reached ---------------------

READERS = (["explain", "1"], ["report", "suspicious"], ["dashboard", "--port", "18050"])


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
@pytest.mark.parametrize(
    "where", ["/nonexistent/dir/x.sqlite", "{tmp}/typo/verdict.sqlite", "{tmp}/verdict.sqlte"]
)
def test_readers_refuse_a_store_url_that_names_no_database(chain_env, tmp_path, args, where):
    """Only `verdict run` creates a store: a mistyped VERDICT_STORE_URL is one line, exit 1, and
    no file or folder appears (it used to create an empty database and report nothing, exit 0)."""
    path = Path(where.format(tmp=tmp_path))
    before = sorted(tmp_path.rglob("*"))
    result = invoke(*args, env={**chain_env, "VERDICT_STORE_URL": f"sqlite:///{path}"})
    assert_clean_failure(result, "no such database file", "VERDICT_STORE_URL")
    assert not path.exists()
    assert path.parent == tmp_path or not path.parent.exists()
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_readers_refuse_a_database_that_holds_no_verdict_store(chain_env, tmp_path, args):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")  # what a mistyped URL used to leave behind
    result = invoke(*args, env={**chain_env, "VERDICT_STORE_URL": f"sqlite:///{empty}"})
    assert_clean_failure(result, "holds no Verdict store")
    assert empty.read_bytes() == b""


def test_readers_name_an_unreachable_postgresql_store_in_one_line(chain_env):
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://verdict:s3cret@127.0.0.1:9/verdict"
    result = invoke("report", "suspicious", env={**chain_env, "VERDICT_STORE_URL": url})
    assert_clean_failure(result, "127.0.0.1:9")
    assert "s3cret" not in result.output


@pytest.mark.parametrize("command", [["run"], *READERS], ids=lambda a: a[0])
@pytest.mark.parametrize("url", ["not-a-url", "127.0.0.1:8545", "ftp://127.0.0.1:8545", "http://"])
def test_every_command_refuses_an_rpc_url_that_is_not_http(chain_env, command, url):
    result = invoke(*command, env={**chain_env, "VERDICT_RPC_URL": url})
    assert_clean_failure(result, "VERDICT_RPC_URL", "http")


@pytest.fixture
def reachable_world(chain_env, tmp_path, manifest):
    """A store holding one scored payment, a deployment record with addresses, the real ABIs."""
    from oracle.store import Store

    deployment = tmp_path / "world.json"
    deployment.write_text(
        json.dumps(
            {
                "chain_id": 31337,
                "block": 0,
                "block_hash": "0x" + "00" * 32,  # bound, so the failure is the chain being down
                "contracts": {"RiskOracle": "0x" + "22" * 20, "PaymentRouter": "0x" + "33" * 20},
            }
        )
    )
    store = Store(chain_env["VERDICT_STORE_URL"])
    store.record_scored(
        "router:1", "0x" + "33" * 20, 1, 9000, "reject", "0x" + "ab" * 32,
        [{"feature": "amount", "value": 1.0, "contribution": 0.5, "text": "amount is high"}],
        "0x" + "cd" * 32, {"amount": 1.0},
    )  # fmt: skip
    store.close()
    return {**chain_env, "VERDICT_DEPLOYMENT": str(deployment), "VERDICT_BUILD_MANIFEST": str(manifest)}


@pytest.mark.parametrize("args", [["explain", "1"], ["report", "suspicious"]], ids=lambda a: a[0])
def test_an_unreachable_chain_node_is_one_line_naming_the_url_and_the_fix(reachable_world, args):
    """It used to be `error: unexpected ConnectionError: HTTPConnectionPool(...)`."""
    result = invoke(*args, env=reachable_world)
    assert_clean_failure(result, "http://127.0.0.1:9", "VERDICT_RPC_URL")
    assert "unexpected" not in result.output and "HTTPConnectionPool" not in result.output


def test_score_refuses_an_output_folder_that_does_not_exist(tmp_path, write, model_dir):
    data = write(payments_row())
    out = tmp_path / "nonexistent-dir" / "x.csv"
    result = invoke("score", "--model", str(model_dir), "--data", data, "--out", str(out))
    assert_clean_failure(result, "nonexistent-dir", "does not exist")
    assert not out.parent.exists()


def test_report_refuses_an_output_folder_that_does_not_exist(reachable_world, tmp_path):
    """Checked before the store or the chain is read (nothing listens on the RPC port here)."""
    out = tmp_path / "nonexistent-dir" / "sar.csv"
    result = invoke("report", "suspicious", "--out", str(out), env=reachable_world)
    assert_clean_failure(result, "nonexistent-dir", "does not exist")
    assert not out.parent.exists()
