"""The figures of docs/model-card.md (the FX features' effect) and docs/cross-border.md
("Suggestions": per-payer suggestion against the popularity baseline), from generated data.

    .venv/bin/python -m oracle.fx_eval            # both tables, about a minute

FX effect: two models on the same generated table, with and without FX_FEATURES, scored on a second
table from another seed; AUPRC and recall at the review threshold on its cross-border rows.

Suggestions: the second table scored by the full model is the replayed history (a payment is held
when its score reaches the review threshold). The history is cut in time at two thirds: each
payer's suggestion (`suggest_for`, its own payments before the cut) and the popularity baseline
(`popular`, every payer's payments before the cut) are then costed on the payer's payments after
the cut: expected cost in USD (fee + conversion + hold chance x hold cost, hold chance from the
payer's later payments with that option), and the holds of the payer's later payments in the
suggested hours against the baseline's hours.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oracle.datagen import generate
from oracle.features import FEATURES, batch_features
from oracle.fx_features import FX_FEATURES, currency_of
from oracle.suggest import CostModel, PaymentFact, popular, suggest_for

TRAIN_ROWS, TEST_ROWS = 40_000, 40_000
TRAIN_SEED, TEST_SEED = 7, 8
FRAUD_RATE = 0.02


@dataclass(frozen=True)
class Effect:
    rows: str
    n: int
    positives: int
    auprc_with: float
    auprc_without: float
    recall_with: float
    recall_without: float


def _scores(
    train_df: pd.DataFrame, test_df: pd.DataFrame, features: list[str], out: Path
) -> tuple[np.ndarray, int]:
    from oracle.scoring import Scorer
    from oracle.train import train

    artifact, _ = train(train_df, "is_fraud", time_col="timestamp", features=features, seed=3, out=out)
    scorer = Scorer(artifact)
    X = batch_features(test_df)[artifact.feature_names].to_numpy(dtype=np.float64)
    scores = np.array([r.score_bps for r in scorer.score_many(X)])
    return scores, int(artifact.review_threshold_bps)


def fx_effect(
    train_rows: int = TRAIN_ROWS, test_rows: int = TEST_ROWS
) -> tuple[list[Effect], pd.DataFrame, np.ndarray, int]:
    """The effect table, and the test table with the full model's scores and review threshold."""
    from oracle.train import average_precision

    train_df = generate(train_rows, seed=TRAIN_SEED, fraud_rate=FRAUD_RATE)
    test_df = generate(test_rows, seed=TEST_SEED, fraud_rate=FRAUD_RATE)
    without = [f for f in FEATURES if f not in FX_FEATURES]
    with tempfile.TemporaryDirectory() as tmp:
        s_with, review = _scores(train_df, test_df, list(FEATURES), Path(tmp) / "with")
        s_without, review_wo = _scores(train_df, test_df, without, Path(tmp) / "without")
    y = test_df["is_fraud"].to_numpy()
    converts = test_df["token_out"].notna().to_numpy()
    abroad = (test_df["payer_country"] != test_df["payee_country"]).to_numpy()
    effects = []
    for name, mask in (
        ("converting (token out differs)", converts),
        ("cross-border (countries differ)", abroad),
        ("domestic, no conversion", ~abroad & ~converts),
        ("all", np.ones(len(y), dtype=bool)),
    ):
        yy = y[mask]
        pos = yy == 1
        effects.append(
            Effect(
                name,
                int(mask.sum()),
                int(pos.sum()),
                average_precision(yy, s_with[mask]),
                average_precision(yy, s_without[mask]),
                float((s_with[mask][pos] >= review).mean()) if pos.any() else float("nan"),
                float((s_without[mask][pos] >= review_wo).mean()) if pos.any() else float("nan"),
            )
        )
    return effects, test_df, s_with, review


def facts_of(table: pd.DataFrame, scores: np.ndarray, review_bps: int) -> list[PaymentFact]:
    outs = table["token_out"].to_numpy(dtype=object)
    return [
        PaymentFact(
            f"p{i}",
            str(r.payer),
            str(r.token),
            currency_of(o) if isinstance(o, str) else currency_of(str(r.token)),
            float(r.amount_usd),
            int(r.timestamp),
            bool(s >= review_bps),
        )
        for i, (r, o, s) in enumerate(zip(table.itertuples(), outs, scores, strict=True))
    ]


@dataclass(frozen=True)
class Comparison:
    payers: int
    later_payments: int
    cost_personal_usd: float
    cost_baseline_usd: float
    conversion_personal_usd: float
    conversion_baseline_usd: float
    holds_in_personal_hours: int
    payments_in_personal_hours: int
    holds_in_baseline_hours: int
    payments_in_baseline_hours: int


def compare(facts: list[PaymentFact], cost: CostModel | None = None, min_before: int = 5) -> Comparison:
    """Walk-forward comparison of the per-payer suggestion against the popularity baseline."""
    cost = cost or CostModel()
    cut = float(np.quantile([f.timestamp for f in facts], 2 / 3))
    before = [f for f in facts if f.timestamp < cut]
    after: dict[str, list[PaymentFact]] = defaultdict(list)
    for f in facts:
        if f.timestamp >= cut:
            after[f.payer].append(f)
    own: dict[str, list[PaymentFact]] = defaultdict(list)
    for f in before:
        own[f.payer].append(f)
    base_options, base_hours = popular(before)
    payers = n_later = 0
    c_p = c_b = conv_p = conv_b = 0.0
    hp = np_ = hb = nb = 0
    for payer, later in after.items():
        if len(own[payer]) < min_before:
            continue
        personal = suggest_for(payer, own[payer], cost)
        payers += 1
        n_later += len(later)
        rate = sum(g.held for g in later) / len(later)
        for f in later:
            ccy = f.currency_out
            token_b = base_options.get(ccy, (f.token, ccy))[0]
            mine = personal.best.get(ccy)
            token_p = mine.token if mine else token_b  # no own history for this currency: the baseline
            for token, acc in ((token_p, "p"), (token_b, "b")):
                used = [g for g in later if g.option == (token, ccy)]
                # the option's later hold rate, shrunk towards the payer's own later rate (an option
                # the payer no longer used is taken at that rate, neither better nor worse)
                chance = (sum(g.held for g in used) + rate * cost.prior_payments) / (
                    len(used) + cost.prior_payments
                )
                usd = f.amount_usd * cost.cost_bps(token, ccy, chance) / 10_000
                conv = f.amount_usd * cost.hops(token, ccy) * cost.hop_bps / 10_000
                if acc == "p":
                    c_p, conv_p = c_p + usd, conv_p + conv
                else:
                    c_b, conv_b = c_b + usd, conv_b + conv
            if f.hour in personal.hours.hours:
                np_, hp = np_ + 1, hp + int(f.held)
            if f.hour in base_hours:
                nb, hb = nb + 1, hb + int(f.held)
    return Comparison(payers, n_later, c_p, c_b, conv_p, conv_b, hp, np_, hb, nb)


def _held(holds: int, payments: int) -> str:
    return f"{holds} of {payments:,} ({holds / max(payments, 1):.2%})"


def main(what: str = "both") -> None:
    if what == "suggest":  # the replayed history only: one model
        test_df = generate(TEST_ROWS, seed=TEST_SEED, fraud_rate=FRAUD_RATE)
        with tempfile.TemporaryDirectory() as tmp:
            train_df = generate(TRAIN_ROWS, seed=TRAIN_SEED, fraud_rate=FRAUD_RATE)
            scores, review = _scores(train_df, test_df, list(FEATURES), Path(tmp) / "with")
        return _suggestions(test_df, scores, review)
    effects, test_df, scores, review = fx_effect()
    head = (
        "rows of the test table",
        "rows",
        "fraud",
        "AUPRC with FX",
        "AUPRC without",
        "recall with",
        "without",
    )
    print("| " + " | ".join(head) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for e in effects:
        print(
            f"| {e.rows} | {e.n:,} | {e.positives:,} | {e.auprc_with:.3f} | {e.auprc_without:.3f} "
            f"| {e.recall_with:.1%} | {e.recall_without:.1%} |"
        )
    _suggestions(test_df, scores, review)


def _suggestions(test_df: pd.DataFrame, scores: np.ndarray, review: int) -> None:
    c = compare(facts_of(test_df, scores, review))
    print()
    print(f"payers compared: {c.payers:,}; their later payments: {c.later_payments:,}; review at {review}")
    print("| | per-payer suggestion | popularity baseline |")
    print("| --- | ---: | ---: |")
    print(f"| expected cost, USD | {c.cost_personal_usd:,.0f} | {c.cost_baseline_usd:,.0f} |")
    print(
        f"| of which conversion, USD | {c.conversion_personal_usd:,.0f} | {c.conversion_baseline_usd:,.0f} |"
    )
    personal = _held(c.holds_in_personal_hours, c.payments_in_personal_hours)
    baseline = _held(c.holds_in_baseline_hours, c.payments_in_baseline_hours)
    print(f"| held in the hours | {personal} | {baseline} |")


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "both")
