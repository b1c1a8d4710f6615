"""The `verdict` command line: datagen, train, score (and run, explain, demo from the daemon side).

User mistakes end as one red `error:` line on stderr and exit code 1, never a traceback: commands are
wrapped in `user_errors`, and `main()` is the last line of defence for anything raised outside them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from oracle.errors import ConfigError, DataError, VerdictError, unreachable_node

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="verdict",
    help="Verdict: AI-gated payment settlement. Off-chain risk oracle tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _out_console() -> Console:
    return Console(highlight=False)


def fail(message: str) -> None:
    """Print one red error line to stderr."""
    _err_console().print(f"[bold red]error:[/] {escape(message)}")


def user_errors(fn: F) -> F:
    """Decorator for commands: VerdictError -> one red line, exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            # A chain node that cannot be reached is the operator's to fix, whichever code met it
            # (web3 raising requests' error, or a ChainError made from it): say so the same way.
            unreachable = unreachable_node(err)
            if unreachable is None and not isinstance(err, VerdictError):
                raise
            fail(str(unreachable or err))
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def settings_help(fields: tuple[str, ...]) -> str:
    """The `--help` epilog listing the VERDICT_* settings a command reads, from Settings itself."""
    from oracle.config import describe_settings

    lines = ["Settings (environment variables, or a .env file):", ""]
    for env, default, doc in describe_settings(fields):
        shown = f" \\[default: {escape(default)}]" if default else ""
        lines.append(f"  {env}{shown}: {escape(doc)}" if doc else f"  {env}{shown}")
    return "\n".join(lines)


def existing_folder(out: Path) -> None:
    """Refuses an output file whose folder does not exist, before any work: a mistyped folder is
    an error, never created (the file lands where it was asked for, or nowhere)."""
    if not out.parent.is_dir():
        raise DataError(f"--out {out}: folder {out.parent} does not exist; create it first")


def existing_store(settings: Any) -> None:
    """Refuses a VERDICT_STORE_URL that names no existing store (only `verdict run` creates one)."""
    from oracle.store import Store

    Store(settings.store_url, create=False).close()


CHAIN_SETTINGS = ("rpc_url", "deployment", "build_manifest")
REPORT_SETTINGS = (
    "usd_prices",
    "report_threshold_usd",
    "structuring_band",
    "structuring_window_hours",
    "structuring_min_count",
)
LOG_SETTINGS = ("log_format", "log_level")
RUN_SETTINGS = (
    *CHAIN_SETTINGS,
    "node_key",
    "keystore",
    "keystore_password",
    "store_url",
    "store_rebind",
    "store_cache_mb",
    "model_dir",
    "shadow_model_dir",
    "poll_interval",
    "log_batch_blocks",
    "verdict_batch_size",
    "verdict_batch_max",
    "verdict_gas_cap",
    "turn_budget",
    "turn_budget_behind",
    "confirmations",
    "max_backoff",
    "metrics_port",
    *LOG_SETTINGS,
    "usd_prices",
    # one node of a k-of-n network (issue 17)
    "network_listen",
    "network_peers",
    "network_round_blocks",
    "network_transmit_timeout",
    # cross-border payments (issue 18), with a CrossBorderRouter in the deployment
    "fx_slippage_bps",
    "fx_quote_ttl",
    "fx_feed_check",
    "fx_feed_deviation_bps",
    "fx_rate_day",
)
FX_QUOTE_SETTINGS = (
    *CHAIN_SETTINGS,
    "node_key",
    "keystore",
    "keystore_password",
    "fx_slippage_bps",
    "fx_quote_ttl",
)
EXPLAIN_SETTINGS = (*CHAIN_SETTINGS, "store_url")
DASHBOARD_SETTINGS = (
    *EXPLAIN_SETTINGS,
    "model_dir",
    "dashboard_port",
    "reviewer_key",
    "relay_url",
    *REPORT_SETTINGS,
    *LOG_SETTINGS,
)
SUSPICIOUS_SETTINGS = (*EXPLAIN_SETTINGS, *REPORT_SETTINGS)
RELAY_SETTINGS = (
    *CHAIN_SETTINGS,
    "relay_key",
    "relay_port",
    "relay_batch_size",
    "relay_batch_interval",
    "relay_rate_limit",
    "relay_rate_window",
    "relay_metrics_port",
    "store_url",  # the relayer's queue (oracle.relay.queue)
    *LOG_SETTINGS,
)
SIGN_VOTE_SETTINGS = (*CHAIN_SETTINGS, "member_key", "relay_url")


def load_settings() -> Any:
    """The one Settings object; invalid VERDICT_* values become a ConfigError."""
    from oracle.config import Settings

    try:
        return Settings()
    except SettingsError as err:
        # A VERDICT_* value that should be JSON (e.g. VERDICT_USD_PRICES) and does not parse.
        match = re.search(r'field "(\w+)"', str(err))
        name = f"VERDICT_{match.group(1).upper()}" if match else "a VERDICT_* variable"
        raise ConfigError(f"invalid setting {name}: not valid JSON") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting VERDICT_{where.upper()}: {msg}") from err


@app.callback()
def _root() -> None:
    """Verdict's off-chain risk oracle."""


# --------------------------------------------------------------------------------------------
# data, training, scoring
# --------------------------------------------------------------------------------------------


@app.command()
@user_errors
def datagen(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")],
    rows: Annotated[int, typer.Option("--rows", min=1, help="Number of payments")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same table)")] = 0,
    fraud_rate: Annotated[float, typer.Option("--fraud-rate", help="Share of fraudulent payments")] = 0.005,
) -> None:
    """Generate synthetic labelled payments with named fraud typologies."""
    from oracle.datagen import generate, write_table

    t0 = time.perf_counter()
    df = generate(rows, seed, fraud_rate)
    path = write_table(df, out)
    counts = df.loc[df["is_fraud"] == 1, "typology"].value_counts().sort_index()
    con = _out_console()
    con.print(
        f"wrote [bold]{len(df):,}[/] payments ({int(df['is_fraud'].sum()):,} fraudulent) "
        f"to {escape(str(path))} in {time.perf_counter() - t0:.1f}s"
    )
    if len(counts):
        con.print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))


def _parse_features(features: str | None) -> list[str] | None:
    if features is None:
        return None
    names = [f.strip() for f in features.split(",") if f.strip()]
    if not names:
        raise DataError("--features is empty; give column names separated by commas")
    if len(set(names)) != len(names):
        raise DataError("--features lists a column twice")
    return names


@app.command("train")
@user_errors
def train_cmd(
    data: Annotated[Path, typer.Option("--data", help="Labelled table: .csv or .parquet")],
    label: Annotated[str, typer.Option("--label", help="Binary label column (1 = fraud)")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the model artifact")],
    time_col: Annotated[str | None, typer.Option("--time", help="Time column: time-ordered split")] = None,
    features: Annotated[
        str | None, typer.Option("--features", help="Comma-separated feature columns")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    fp_budget_review: Annotated[
        float,
        typer.Option("--fp-budget-review", help="Legit share to review: proposes 10,000 x (1 - it) bps"),
    ] = 0.01,
    fp_budget_reject: Annotated[
        float,
        typer.Option("--fp-budget-reject", help="Legit share to refund: proposes 10,000 x (1 - it) bps"),
    ] = 0.001,
    time_budget: Annotated[
        float,
        typer.Option(
            "--time-budget", help="Seconds for the hyper-parameter search (0: defaults only)", min=0
        ),
    ] = 120.0,
    trials: Annotated[
        int | None, typer.Option("--trials", help="At most this many search configurations", min=1)
    ] = None,
) -> None:
    """Train a LightGBM fraud model on any labelled table; write the artifact, metrics and a PR curve."""
    from oracle.datagen import read_table
    from oracle.train import train

    df = read_table(data)
    t0 = time.perf_counter()
    artifact, m = train(
        df,
        label,
        time_col=time_col,
        features=_parse_features(features),
        seed=seed,
        fp_budget_review=fp_budget_review,
        fp_budget_reject=fp_budget_reject,
        out=out,
        time_budget=time_budget,
        max_trials=trials,
    )
    table = Table(
        title=f"model {artifact.model_id[:18]}… ({artifact.feature_set} features)", show_header=False
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in ("auprc", "roc_auc", "recall_at_1pct_fpr"):
        table.add_row(name, f"{m[name]:.4f}")
    for name in ("n_train", "n_test", "positives_test"):
        table.add_row(name, f"{m[name]:,}")
    sr, d = m["search"], m["defaults_test"]
    table.add_row(
        "search",
        f"{sr['trials']} configurations in {sr['seconds']:.0f}s; validation AUPRC "
        f"{sr['default_cv_auprc']:.4f} (defaults) -> {sr['best_cv_auprc']:.4f}",
    )
    table.add_row(
        "test AUPRC / recall@1%FPR with defaults", f"{d['auprc']:.4f} / {d['recall_at_1pct_fpr']:.4f}"
    )
    table.add_row("review threshold (proposed)", f"{artifact.review_threshold_bps} bps")
    table.add_row("reject threshold (proposed)", f"{artifact.reject_threshold_bps} bps")
    table.add_row("score scale", "legitimate-traffic quantile (bps)")
    table.add_row("test: legitimate sent to review", f"{m['test_legit_review_rate']:.2%}")
    table.add_row("test: legitimate refunded", f"{m['test_legit_refund_rate']:.2%}")
    table.add_row(
        "test: recall / precision at review",
        f"{m['test_recall_at_review']:.3f} / {m['test_precision_at_review']:.3f}",
    )
    table.add_row(
        "test: recall / precision at reject",
        f"{m['test_recall_at_reject']:.3f} / {m['test_precision_at_reject']:.3f}",
    )
    con = _out_console()
    con.print(table)
    con.print(
        f"wrote {escape(str(out))}/ (model.txt, calibration.json, metadata.json, metrics.json, pr_curve.png) "
        f"in {time.perf_counter() - t0:.1f}s"
    )


@app.command()
@user_errors
def score(
    model: Annotated[Path, typer.Option("--model", help="Model artifact directory")],
    data: Annotated[Path, typer.Option("--data", help="Table to score: .csv or .parquet")],
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")],
) -> None:
    """Score a table in batch: score_bps, decision and the top three reasons for every row."""
    existing_folder(out)
    import numpy as np
    import pandas as pd

    from oracle.datagen import read_table, write_table
    from oracle.features import batch_features
    from oracle.model import load
    from oracle.scoring import Scorer
    from oracle.train import is_payments_table

    artifact = load(model)
    scorer = Scorer(artifact)
    df = read_table(data)
    t0 = time.perf_counter()
    if artifact.feature_set == "verdict":
        if not is_payments_table(df):
            raise DataError(
                "this model scores payments: the table needs payer, payee, token, amount_usd, timestamp"
            )
        X = batch_features(df)[artifact.feature_names].to_numpy(dtype=np.float64)
    else:
        cols = list(artifact.metadata.get("source_columns", artifact.feature_names))
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise DataError(f"table lacks the model's feature column(s): {', '.join(missing)}")
        try:
            X = df[cols].astype(np.float64).to_numpy()
        except (TypeError, ValueError) as err:
            raise DataError(f"feature columns must be numeric ({err})") from err
        if np.isinf(X).any():
            raise DataError("the table has infinite values in feature columns")
    results = []
    for i in range(0, len(X), 20_000):
        results.extend(scorer.score_many(X[i : i + 20_000]))
    elapsed = time.perf_counter() - t0
    res = df.copy()
    res["score_bps"] = [r.score_bps for r in results]
    res["probability"] = [r.probability for r in results]
    res["decision"] = [scorer.decide(r.score_bps) for r in results]
    for k in range(3):
        res[f"reason_{k + 1}"] = [r.reasons[k].text if len(r.reasons) > k else "" for r in results]
    res["reasons_hash"] = [r.reasons_hash for r in results]
    write_table(res, out)
    counts = pd.Series(res["decision"]).value_counts()
    _out_console().print(
        f"scored [bold]{len(res):,}[/] rows in {elapsed:.2f}s ({len(res) / max(elapsed, 1e-9):,.0f} rows/s): "
        + ", ".join(f"{d} {int(counts.get(d, 0)):,}" for d in ("settle", "review", "reject"))
        + f" -> {escape(str(out))}"
    )


# --------------------------------------------------------------------------------------------
# daemon & operations (lead): `run`, `explain`, `demo` are added below this line.
# Decorate them with @app.command() and @user_errors; raise oracle.errors.* for user mistakes.
# --------------------------------------------------------------------------------------------


@app.command(epilog=settings_help(RUN_SETTINGS))
@user_errors
def run(
    shadow: Annotated[
        Path | None,
        typer.Option(
            "--shadow",
            file_okay=False,
            help="A challenger model scored beside the approved one, never posted [VERDICT_SHADOW_MODEL_DIR]",
        ),
    ] = None,
    rebind_store: Annotated[
        bool,
        typer.Option(
            "--rebind-store",
            help="Bind the store to this deployment record though another one made it [VERDICT_STORE_REBIND]",
        ),
    ] = False,
) -> None:
    """Run the oracle node: read payment requests, score them, post verdicts (until Ctrl-C)."""
    from oracle.daemon import run_daemon
    from oracle.logging import configure_logging

    settings = load_settings()
    if shadow is not None:
        settings = settings.model_copy(update={"shadow_model_dir": shadow})
    if rebind_store:
        settings = settings.model_copy(update={"store_rebind": True})
    if settings.shadow_model_dir is not None:
        from oracle.shadow import load_challenger

        load_challenger(settings.shadow_model_dir)  # a broken challenger: one line, before any start
    configure_logging(settings.log_format, settings.log_level)
    run_daemon(settings)


@app.command(epilog=settings_help(EXPLAIN_SETTINGS))
@user_errors
def explain(
    payment_id: Annotated[int, typer.Argument(help="The payment id (PaymentRouter), or a release gate id.")],
    escrow: Annotated[bool, typer.Option("--escrow", help="Explain an Escrow release instead.")] = False,
    cross_border: Annotated[
        bool,
        typer.Option("--cross-border", help="Explain a CrossBorderRouter payment (and verify its quote)."),
    ] = False,
) -> None:
    """A payment's score, decision, model and reasons in plain sentences, checked against the chain."""
    from oracle.explain import explain_payment

    settings = load_settings()
    existing_store(settings)
    if escrow and cross_border:
        raise VerdictError("choose one of --escrow and --cross-border")
    source = "escrow" if escrow else "xborder" if cross_border else "router"
    _out_console().print(explain_payment(settings, source, payment_id))


@app.command(epilog=settings_help(DASHBOARD_SETTINGS))
@user_errors
def dashboard(
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1 [VERDICT_DASHBOARD_PORT]"),
    ] = None,
) -> None:
    """The operator dashboard on 127.0.0.1: payments, review queue, governance, model, oracle health."""
    from oracle.dashboard import serve
    from oracle.logging import configure_logging

    settings = load_settings()
    existing_store(settings)
    configure_logging(settings.log_format, settings.log_level)
    serve(settings, port or settings.dashboard_port)


# The period options of `report suspicious` and `compare` (oracle.report.report_period reads them).
PeriodStart = Annotated[
    str | None,
    typer.Option("--from", help="First day (YYYY-MM-DD, UTC) or date-time [30 days before --to]"),
]
PeriodEnd = Annotated[
    str | None, typer.Option("--to", help="Last day (inclusive) or date-time [chain time now]")
]

report_app = typer.Typer(help="Compliance reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("suspicious", epilog=settings_help(SUSPICIOUS_SETTINGS))
@user_errors
def report_suspicious(
    start: PeriodStart = None,
    end: PeriodEnd = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout")] = None,
) -> None:
    """Flagged payments (held, refunded, structuring) in the shape of a suspicious-activity report.

    Reads this node's store and the chain; payments the chain held or refunded that the store
    lacks are listed as chain-only. Default dates follow chain time (the latest block), not the
    wall clock. Which sources were read goes to stderr (and into the JSON header).
    """
    from oracle.chain import ChainClient
    from oracle.report import build_report, report_period
    from oracle.store import Store

    if fmt not in ("csv", "json"):
        raise DataError(f"--format {fmt!r}: use csv or json")
    if out is not None:
        existing_folder(out)
    settings = load_settings()
    store = Store(settings.store_url, create=False)
    try:
        chain = ChainClient.from_settings(settings, with_key=False)
        period = report_period(start, end, chain=chain, store=store)
        report = build_report(
            settings, period.start, period.end, store=store, chain=chain, clock=period.clock
        )
    finally:
        store.close()
    text = report.render(fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text)
        except OSError as err:
            raise DataError(f"cannot write {out}: {err.strerror or err}") from None
    err_console = _err_console()
    err_console.print(escape(report.describe_sources()))
    if not report.activities:
        err_console.print("Nothing to report in this period.")
    if out is not None:
        err_console.print(f"wrote {escape(str(out))}")


COMPARE_SETTINGS = EXPLAIN_SETTINGS


@app.command(epilog=settings_help(COMPARE_SETTINGS))
@user_errors
def compare(
    start: PeriodStart = None,
    end: PeriodEnd = None,
    challenger: Annotated[
        str | None, typer.Option("--challenger", help="The shadow model id to compare [the latest one]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the comparison (JSON) here")] = None,
) -> None:
    """The approved model against the shadow model (`verdict run --shadow`) over the same live
    payments: agreement, would-be review and refund rates, frauds caught, scoring time, and the
    comparison's sha256 for a model-approval proposal (`ape run propose approve-model --comparison`).

    Reads this node's store and the chain (read-only); periods as `verdict report suspicious`.
    """
    from oracle.chain import ChainClient
    from oracle.compare import EMPTY, build_comparison, seal, summary_lines, table_rows
    from oracle.report import report_period
    from oracle.shadow import ShadowLog
    from oracle.store import Store

    if out is not None:
        existing_folder(out)
    settings = load_settings()
    store = Store(settings.store_url, create=False)
    shadow_log = ShadowLog(settings.store_url, create=False)
    try:
        if shadow_log.count() == 0:  # said before any chain read: nothing could be compared
            _err_console().print(EMPTY.format(where=""))
            return
        chain = ChainClient.from_settings(settings, with_key=False)
        period = report_period(start, end, chain=chain, store=store)
        comparison = seal(build_comparison(store, shadow_log, chain, period, challenger))
    finally:
        shadow_log.close()
        store.close()
    if comparison["payments_compared"] == 0:
        _err_console().print(EMPTY.format(where=" for payments in this period"))
        return
    text = json.dumps(comparison, indent=2, sort_keys=True) + "\n"
    if out is not None:
        try:
            out.write_text(text)
        except OSError as err:
            raise DataError(f"cannot write {out}: {err.strerror or err}") from None
    lines = summary_lines(comparison)
    if as_json:
        sys.stdout.write(text)
        _err_console().print(escape(lines[-1]))
    else:
        table = Table(title="champion (approved) vs challenger (shadow)")
        for name, justify in (("metric", "left"), ("champion", "right"), ("challenger", "right")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for row in table_rows(comparison):
            table.add_row(*(escape(cell) for cell in row))
        con = _out_console()
        con.print(table)
        for line in lines:
            con.print(escape(line), soft_wrap=True)  # the hash stays on one line, whole
    if out is not None:
        _err_console().print(f"wrote {escape(str(out))}")


@app.command(epilog=settings_help(RELAY_SETTINGS))
@user_errors
def relay(
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1 [VERDICT_RELAY_PORT]"),
    ] = None,
) -> None:
    """The vote relayer on 127.0.0.1: members' signed votes and delegations, checked, batched and
    submitted through the DAO's VoteRelay (which reimburses the gas) until Ctrl-C."""
    from oracle.logging import configure_logging
    from oracle.relay.app import serve
    from oracle.relay.service import Relayer

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    serve(Relayer.from_settings(settings), port or settings.relay_port)


def _member_dao(settings: Any) -> tuple[Any, str]:
    """The DAO's contracts on the settings' chain and the member's key (VERDICT_MEMBER_KEY)."""
    from web3 import Web3

    from oracle.deployment import Deployment, load_abis
    from oracle.relay.signing import DaoContracts

    if settings.member_key is None:
        raise ConfigError("no member key: set VERDICT_MEMBER_KEY to the member's private key")
    deployment = Deployment.load(settings.deployment)
    w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 30}))
    deployment.verify(w3, settings.rpc_url)
    dao = DaoContracts.from_record(w3, deployment, load_abis(settings.build_manifest))
    return dao, settings.member_key.get_secret_value()


def _send_or_print(settings: Any, kind: str, payload: dict[str, Any], print_only: bool) -> None:
    import json

    from oracle.relay.signing import post_signed

    if print_only:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    answer = post_signed(settings.relay_url, kind, payload)
    _out_console().print(
        f"relayer accepted it: item {answer.get('id')} {escape(str(answer.get('status')))}"
        f" (GET {escape(settings.relay_url.rstrip('/'))}/items/{answer.get('id')})"
    )


@app.command("sign-vote", epilog=settings_help(SIGN_VOTE_SETTINGS))
@user_errors
def sign_vote_cmd(
    proposal_id: Annotated[str, typer.Argument(help="The proposal id (decimal).")],
    support: Annotated[str, typer.Argument(help="for, against or abstain.")],
    reason: Annotated[str | None, typer.Option("--reason", help="A reason, recorded on-chain.")] = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the signed JSON instead of sending it to the relayer.")
    ] = False,
) -> None:
    """Sign a vote with the member's key (no ETH needed) and send it to the relayer."""
    from oracle.relay.signing import sign_vote, support_value

    try:
        pid = int(proposal_id, 0)
    except ValueError:
        raise DataError(f"proposal id {proposal_id!r} is not a number") from None
    value = support_value(support)
    settings = load_settings()
    dao, key = _member_dao(settings)
    _send_or_print(settings, "votes", sign_vote(dao, key, pid, value, reason), print_only)


@app.command("sign-delegation", epilog=settings_help(SIGN_VOTE_SETTINGS))
@user_errors
def sign_delegation_cmd(
    delegatee: Annotated[
        str, typer.Argument(help="Who receives the member's votes (their own address to vote).")
    ],
    valid_for: Annotated[
        int, typer.Option("--valid-for", min=60, help="Seconds the signature stays valid.")
    ] = 3600,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the signed JSON instead of sending it to the relayer.")
    ] = False,
) -> None:
    """Sign a delegation of the member's votes (no ETH needed) and send it to the relayer."""
    from eth_utils import is_address

    from oracle.relay.signing import sign_delegation

    if not is_address(delegatee):
        raise DataError(f"delegatee {delegatee!r} is not a 0x address")
    settings = load_settings()
    dao, key = _member_dao(settings)
    expiry = int(dao.w3.eth.get_block("latest")["timestamp"]) + valid_for
    _send_or_print(settings, "delegations", sign_delegation(dao, key, delegatee, expiry), print_only)


@app.command(epilog=settings_help(("store_url",)))
@user_errors
def recalibrate(
    model: Annotated[Path, typer.Option("--model", help="The model artifact directory to recalibrate")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the recalibrated model (a new id)")],
    data: Annotated[
        Path | None, typer.Option("--data", help="Recent traffic: a payments table, .csv or .parquet")
    ] = None,
    from_store: Annotated[
        bool, typer.Option("--store", help="Recent traffic: the node's store [VERDICT_STORE_URL]")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Calibrate on payments from then on (YYYY-MM-DD, ISO date-time or unix seconds); "
            "earlier rows only give them their history [all rows]",
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="With --data: a 0/1 fraud column; frauds are left out")
    ] = None,
) -> None:
    """Refit a model's risk scale (quantile map and drift reference) on a node's recent legitimate
    traffic: the same trees, a new model id to approve before a node posts under it."""
    from oracle.recalibration import StoreTraffic, check_paths, parse_since, recalibrate_dir

    if (data is None) == (not from_store):
        raise DataError("give the traffic as exactly one of --data TABLE or --store")
    if from_store and label is not None:
        raise DataError("--label needs --data: the store holds no fraud labels")
    check_paths(model, out)
    start = parse_since(since)
    if data is not None:
        from oracle.datagen import read_table

        traffic, source = read_table(data), f"the table {data.name}"
    else:
        reader = StoreTraffic(_store_for_reading(load_settings()))
        try:
            traffic, source = reader.table(), f"the node's store ({reader.label})"
        finally:
            reader.close()
    t0 = time.perf_counter()
    done = recalibrate_dir(model, out, traffic, since=start, label=label, source=source)
    _out_console().print(
        f"recalibrated {done.previous_id[:18]}… on {done.legitimate_rows:,} legitimate payments of "
        f"{escape(source)}: new model [bold]{done.artifact.model_id}[/] in {escape(str(out))}/ "
        f"({time.perf_counter() - t0:.1f}s); approve it before a node posts under it "
        f"(ape run propose approve-model --model-dir {escape(str(out))})",
        soft_wrap=True,
    )


def _store_for_reading(settings: Any) -> Any:
    """The settings' store opened read-only: a URL naming no Verdict store is a StoreError."""
    from oracle.db import Database

    return Database(settings.store_url, create=False)


@app.command("fx-quote", epilog=settings_help(FX_QUOTE_SETTINGS))
@user_errors
def fx_quote(
    payment_id: Annotated[int, typer.Argument(help="A held CrossBorderRouter payment's id.")],
) -> None:
    """Post a fresh quote for a held cross-border payment, signed with the node's key: approve it
    within the quote's life (VERDICT_FX_QUOTE_TTL), or the approval refunds the payer."""
    from oracle.chain import ChainClient
    from oracle.fx_daemon import FxNode

    settings = load_settings()
    fx = FxNode.for_daemon(settings, ChainClient.from_settings(settings))
    if fx is None:
        raise ConfigError("the deployment has no CrossBorderRouter (deploy with `ape run deploy --fx`)")
    prepared = fx.requote(payment_id)
    reasons = prepared.reasons
    _out_console().print(
        f"quote {reasons['quote_hash']} for payment {payment_id}: {' > '.join(reasons['route'])}, "
        f"{reasons['amount_out']} out (at least {reasons['min_out']}), valid until {reasons['expiry']}"
    )


@app.command("fx-lock", epilog=settings_help((*FX_QUOTE_SETTINGS, "fx_rate_day")))
@user_errors
def fx_lock(
    target: Annotated[
        str, typer.Argument(help="A pending CrossBorderRouter payment's id, or a pair (EUR/USD).")
    ],
    tenor: Annotated[str, typer.Option("--tenor", help="How long the rate is locked: 5m, 1h or 24h.")] = "1h",
    amount: Annotated[
        float | None, typer.Option("--amount", help="For a pair: the amount paid, in its currency.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the signed offer (JSON) here.")
    ] = None,
) -> None:
    """A rate-lock offer priced from the pair's EWMA volatility in the ECB history: for a payment id,
    signed with the node's key for its payer to `buyLock` within 2 minutes; for a pair, the price alone."""
    from oracle.fx_locks import parse_pair, price_lock, tenor_seconds

    seconds = tenor_seconds(tenor)
    if not target.strip().isdigit():
        base, quote = parse_pair(target)
        if amount is None:
            raise ConfigError("a pair needs --amount (the amount paid); a payment id carries its own")
        settings = load_settings()
        _out_console().print(escape(price_lock(base, quote, seconds, amount, settings.fx_rate_day).line()))
        return
    if amount is not None:
        raise ConfigError("--amount is for a pair: a lock for a payment binds the payment's own amount")
    from oracle.chain import ChainClient
    from oracle.fx_daemon import FxNode

    settings = load_settings()
    fx = FxNode.for_daemon(settings, ChainClient.from_settings(settings))
    if fx is None:
        raise ConfigError("the deployment has no CrossBorderRouter (deploy with `ape run deploy --fx`)")
    offer = fx.offer_lock(int(target), seconds)
    lock = offer["lock"]
    if out is not None:
        out.write_text(json.dumps(offer, indent=2) + "\n", encoding="utf-8")
    _out_console().print(
        escape(
            f"lock {offer['lock_hash']} for payment {lock['paymentId']} ({offer['pair']}): "
            f"{lock['lockedOut']} out at least, premium {lock['premium']} ({offer['premium_bps']} bps, sigma "
            f"{offer['sigma_daily']:.4%} a day to {offer['sigma_as_of']}), tenor until {lock['expiry']}; "
            f"the payer approves the premium and sends buyLock within 2 minutes"
            + (f"; written to {out}" if out is not None else "")
        )
    )


@app.command(epilog=settings_help(("store_url",)))
@user_errors
def suggest(address: Annotated[str, typer.Argument(help="The payer's 0x address.")]) -> None:
    """A payer's cheapest token and route per currency and its hours with the fewest holds, from its
    own history only, beside what most payers do."""
    from oracle.store import Store
    from oracle.suggest import check_address, lines, suggest_from_store

    check_address(address)  # bad input fails before any settings or store are read
    settings = load_settings()
    existing_store(settings)
    store = Store(settings.store_url, create=False)
    try:
        text = lines(suggest_from_store(store, address))
    finally:
        store.close()
    for line in text:
        _out_console().print(line, highlight=False, markup=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: VerdictError -> one red line + exit 1, never a traceback."""
    try:
        # standalone mode: typer prints usage errors itself and exits with click's codes (2)
        app(args=argv, prog_name="verdict")
    except VerdictError as err:
        fail(str(err))
        sys.exit(1)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)
    except Exception as err:  # a bug, not a user mistake: still one line unless asked for more
        unreachable = unreachable_node(err)
        if unreachable is not None:
            fail(str(unreachable))
            sys.exit(1)
        if os.environ.get("VERDICT_DEBUG"):
            raise
        fail(f"unexpected {type(err).__name__}: {err} (set VERDICT_DEBUG=1 for the traceback)")
        sys.exit(1)


if __name__ == "__main__":
    main()
