"""The demo's terminal screen at 80 columns (rich `Console(width=80, record=True)`): one line per
payment, scores with their unit and the thresholds, "legit" for a payment without a fraud typology,
no red flags for a clean payment, the escrow's outcome and the next steps, all within 80 columns.

The rows are real: a LightGBM model trained here scores real generated payments, and the verdicts go
through a real SQLite store, as the demo's daemon writes them."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from oracle.datagen import generate
from oracle.features import FEATURES, batch_features
from oracle.gate import ROUTER, key_of
from oracle.scoring import Scorer, reason_text
from oracle.store import Store
from oracle.train import train
from verdict_demo.screen import (
    FEED_ROWS,
    SUMMARY_FIELDS,
    decision_feed,
    feed_rows,
    next_steps,
    print_escrow,
    print_next_steps,
    print_summary,
    short_reason,
)

WIDTH, HEIGHT = 80, 24
THRESHOLDS = (9_900, 9_990)


def console(height: int = HEIGHT) -> Console:
    return Console(width=WIDTH, height=height, record=True, file=io.StringIO(), color_system=None)


def lines_of(screen: Console) -> list[str]:
    return [line.rstrip() for line in screen.export_text().splitlines()]


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> tuple[list[tuple[int, object]], dict[int, tuple[str, float]], Store]:
    """Twelve payments of a generated day, frauds among them, scored by a freshly trained model and
    logged in a store: (sent, outcomes, store) as the demo's feed reads them."""
    work = tmp_path_factory.mktemp("screen")
    frame = generate(rows=10_000, seed=11, fraud_rate=0.05)
    artifact, _ = train(frame, label="is_fraud", time_col="timestamp", seed=11, out=work / "model")
    features = batch_features(frame)
    scorer = Scorer(artifact)
    frauds = np.flatnonzero(frame["is_fraud"].to_numpy() == 1)[:6]
    legit = np.flatnonzero(frame["is_fraud"].to_numpy() == 0)[:6]
    picked = sorted([*frauds, *legit])
    results = scorer.score_many(features.iloc[picked][list(FEATURES)].to_numpy(dtype=np.float64))
    store = Store(f"sqlite:///{work / 'verdict.sqlite'}")
    sent, outcomes = [], {}
    review, reject = THRESHOLDS
    for n, (i, result) in enumerate(zip(picked, results, strict=True), start=1):
        row = frame.iloc[i]
        store.record_scored(
            key_of(ROUTER, n),
            "0x" + "11" * 20,
            n,
            result.score_bps,
            scorer.decide(result.score_bps),
            artifact.model_id,
            result.reasons_dicts(),
            result.reasons_hash,
            {},
            result.probability,
        )
        sent.append(
            (
                n,
                SimpleNamespace(
                    amount_usd=float(row["amount_usd"]), token=row["token"], typology=row["typology"]
                ),
            )
        )
        score = result.score_bps
        outcomes[n] = ("refunded" if score >= reject else "held" if score >= review else "settled", 0.0)
    yield sent, outcomes, store
    store.close()


def test_the_feed_fits_an_80_by_24_terminal_one_line_per_payment(scored):
    sent, outcomes, store = scored
    screen = console()
    rows = feed_rows(screen)
    assert rows == FEED_ROWS  # 24 lines hold the whole feed, not three rows
    progress = Progress(TextColumn("[bold]payments"), BarColumn(), MofNCompleteColumn(), console=screen)
    progress.add_task("payments", total=300, completed=120)
    screen.print(Group(progress, decision_feed(sent, outcomes, store, THRESHOLDS, rows)))
    lines = lines_of(screen)
    assert len(lines) <= HEIGHT - 1, "\n".join(lines)
    assert all(len(line) <= WIDTH for line in lines)
    shown = sent[-rows:]
    for payment_id, row in shown:
        mine = [line for line in lines if line.split() and line.split()[0] == str(payment_id)]
        assert len(mine) == 1, f"payment {payment_id} takes {len(mine)} lines:\n" + "\n".join(lines)
        line = mine[0]
        assert ("legit" in line) == (row.typology == "none")
        outcome = outcomes[payment_id][0]
        assert outcome in line
        if outcome == "settled":
            assert "no risk flag" in line
    text = "\n".join(lines)
    # the score's unit and the thresholds beside it
    assert "review at score ≥ 9,900 bps" in text and "reject at ≥ 9,990 bps" in text
    assert "in bps" in text and "legit or a fraud typology" in text
    # the test data holds stopped payments, and they show reasons, not "no risk flag"
    stopped = [pid for pid, _ in shown if outcomes[pid][0] != "settled"]
    assert stopped, "the model stopped none of the picked frauds"
    for pid in stopped:
        line = next(line for line in lines if line.split() and line.split()[0] == str(pid))
        assert "no risk flag" not in line


def test_a_short_terminal_still_shows_three_payments(scored):
    sent, outcomes, store = scored
    screen = console(height=10)
    assert feed_rows(screen) == 3
    screen.print(decision_feed(sent, outcomes, store, THRESHOLDS, feed_rows(screen)))
    assert sum(1 for line in lines_of(screen) if line.split() and line.split()[0].isdigit()) == 3


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_has_a_short_reason(feature):
    values = (0.0, 1.0, 3.5, 12.0) if feature == "log_amount" else (0.0, 1.0, 3.5, 90_000.0)
    for value in values:
        short = short_reason({"feature": feature, "value": value, "text": "the long sentence"})
        assert short != "the long sentence" and short != reason_text(feature, value, None)
        assert 0 < len(short) <= 28, short


def test_summary_escrow_and_next_steps_fit_80_columns_and_keep_commands_whole():
    screen = console(height=60)
    result = {key: 1 for key in SUMMARY_FIELDS} | {
        "legit_review_rate": 0.0166,
        "model_id": "0x" + "ab" * 32,
        "escrow": {},
        "governance": {},
    }
    print_summary(screen, result, "demo-summary.json")
    escrow = {
        "agreement_id": 1,
        "decimals": 6,
        "funded": 5_000 * 10**6,
        "milestones": [
            {"index": 0, "amount": 1_000 * 10**6, "status": "Released", "score": 4_210},
            {"index": 1, "amount": 2_500 * 10**6, "status": "Released", "score": 5_002},
            {"index": 2, "amount": 1_500 * 10**6, "status": "Released", "score": None},
        ],
        "dispute": {"milestone": 1, "opened_by": "buyer", "supplier_bps": 7_000},
        "supplier_received": 4_225 * 10**6,
        "buyer_refunded": 725 * 10**6,
        "arbiter_paid": 50 * 10**6,
        "still_escrowed": 0,
    }
    print_escrow(screen, escrow, "mUSD")
    env = {
        "VERDICT_RPC_URL": "http://127.0.0.1:8545",
        "VERDICT_DEPLOYMENT": "/work/verdict/var/demo/deployments/local.json",
        "VERDICT_STORE_URL": "sqlite:////work/verdict/var/demo/verdict.sqlite",
        "VERDICT_MODEL_DIR": "/work/verdict/var/demo/model",
    }
    steps = next_steps(env, 17, ("2026-12-01", "2026-12-02"), live=False)
    print_next_steps(screen, steps)
    text = screen.export_text()
    assert "legit_review_rate" in text and "1.7%" in text
    assert "milestone 1: 2,500.00 mUSD released, score 5,002 bps" in text
    assert "disputed by the buyer; the arbiter ruled 70% of it to the supplier" in text
    assert "supplier received 4,225.00 mUSD" in text
    assert "make demo-dashboard" in text and "DASHBOARD_PORT=8060" in text
    # Commands are never cut: each one is on the screen whole, ready to copy.
    for step in steps:
        assert step in text
    # The stopped chain's address is not offered; the dashboard run prints its own chain's.
    assert env["VERDICT_RPC_URL"] not in text
    live = next_steps(env, 17, ("2026-12-01", "2026-12-02"), live=True)
    assert live[1] == "  export " + " ".join(f"{k}={v}" for k, v in env.items())
    assert ".venv/bin/verdict explain 17" in text
    assert "--from 2026-12-01 --to 2026-12-02" in text
    prose = [line for line in text.splitlines() if not line.strip().startswith((".venv", "export"))]
    assert all(len(line.rstrip()) <= WIDTH for line in prose), "\n".join(prose)


def test_next_steps_while_the_chain_is_up_skip_the_rerun():
    steps = next_steps(
        {"VERDICT_RPC_URL": "http://127.0.0.1:8545"}, None, ("2026-12-01", "2026-12-01"), live=True
    )
    assert not any("make demo-dashboard" in s for s in steps)
    assert not any("explain" in s for s in steps)
    assert any("report suspicious" in s for s in steps)


def test_print_summary_lists_every_field_in_order():
    screen = console(height=60)
    print_summary(screen, {key: 0 for key in SUMMARY_FIELDS}, Path("x.json").name)
    text = screen.export_text()
    positions = [text.index(f" {key} ") for key in SUMMARY_FIELDS if key not in ("escrow", "governance")]
    assert positions == sorted(positions)
