"""Training: our payments, any other labelled table, splits, thresholds and the files written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from oracle.datagen import generate
from oracle.errors import DataError
from oracle.features import FEATURES, batch_features
from oracle.train import average_precision, recalibrate, recall_at_fpr, roc_auc, threshold_for_budget, train


def test_model_on_generated_payments_beats_chance_and_writes_everything(model_dir, artifact):
    m = json.loads((model_dir / "metrics.json").read_text())
    for k in ("auprc", "roc_auc", "recall_at_1pct_fpr", "n_train", "n_test", "positives_test"):
        assert k in m
    assert m["roc_auc"] > 0.9 and m["auprc"] > 0.3
    assert (model_dir / "pr_curve.png").stat().st_size > 1_000
    assert artifact.feature_names == list(FEATURES)
    assert artifact.feature_set == "verdict"
    meta = artifact.metadata
    assert meta["proposed_thresholds"]["review_threshold_bps"] == artifact.review_threshold_bps
    assert (artifact.review_threshold_bps, artifact.reject_threshold_bps) == (9_900, 9_990)
    for k in (
        "legit_review_rate",
        "legit_held_rate",
        "legit_refund_rate",
        "recall_at_review",
        "recall_at_reject",
        "precision_at_review",
        "precision_at_reject",
    ):
        assert 0.0 <= m[f"test_{k}"] <= 1.0
    assert m["score_scale"] == meta["score_scale"]["name"]
    assert meta["training_data"]["fingerprint"].startswith("sha256:")


def test_same_seed_same_model_id(payments):
    small = payments.iloc[-3_000:]
    a, _ = train(small, "is_fraud", seed=1)
    b, _ = train(small, "is_fraud", seed=1)
    c, _ = train(small, "is_fraud", seed=2)
    assert a.model_id == b.model_id != c.model_id


def test_recalibrate_places_the_scale_on_another_population_and_is_a_new_model(artifact):
    """The same trees on the scale of other traffic: about 1% of its legitimate payments from
    `since` on score 9,900 or more; the probability keeps its labelled fit; a new model id."""
    other = generate(6_000, seed=41, fraud_rate=0.01, payments_per_consumer_day=4.0)
    since = int(np.quantile(other["timestamp"], 0.5))
    moved = recalibrate(artifact, other, since=since, label="is_fraud", source="test traffic")
    assert moved.model_id != artifact.model_id
    assert moved.booster.model_to_string() == artifact.booster.model_to_string()
    assert moved.calibration.probability == artifact.calibration.probability
    assert moved.calibration.info["legitimate_rows"] == int(
        ((other["timestamp"] >= since) & (other["is_fraud"] == 0)).sum()
    )
    assert moved.metadata["drift_reference"]["rows"] == moved.calibration.info["legitimate_rows"]
    late = other[(other["timestamp"] >= since) & (other["is_fraud"] == 0)]
    x = batch_features(other).loc[late.index, moved.feature_names].to_numpy()
    bps = moved.calibration.score_bps(moved.booster.predict(x, raw_score=True))
    assert 0.005 <= (bps >= 9_900).mean() <= 0.015
    with pytest.raises(DataError, match="Verdict's features"):
        recalibrate(train(_generic(), "label")[0], other)


def _generic(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (x1 + 0.5 * x2 + rng.normal(scale=0.3, size=n) > 2.6).astype(int)
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "noise": rng.normal(size=n), "when": np.arange(n), "name": ["r"] * n, "label": y}
    )


def test_generic_table_uses_numeric_columns_except_label_and_time(tmp_path):
    df = _generic()
    art, m = train(df, "label", time_col="when", out=tmp_path / "g")
    assert art.feature_names == ["x1", "x2", "noise"]
    assert art.feature_set == "generic"
    assert m["roc_auc"] > 0.9
    art2, _ = train(df, "label", features=["x1"])
    assert art2.feature_names == ["x1"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(label=d["label"] * 2), "binary"),
        (lambda d: d.assign(label=np.nan), "missing"),
        (lambda d: d.assign(x1=np.inf), "infinite"),
        (lambda d: d.assign(x1=1e40), "rescale"),
        (lambda d: d.assign(label=0), "at least"),
        (lambda d: d.drop(columns=["label"]), "not found"),
        (lambda d: d.iloc[:0], "empty"),
    ],
)
def test_bad_tables_raise_data_errors(change, message):
    with pytest.raises(DataError, match=message):
        train(change(_generic()), "label")


def test_metrics_match_their_definitions():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    assert roc_auc(y, s) == pytest.approx(0.75)
    assert average_precision(y, s) == pytest.approx(0.8333333)
    assert recall_at_fpr(y, s, 0.0) == pytest.approx(0.5)
    neg = np.arange(1, 1001)
    t = threshold_for_budget(neg, 0.01)
    assert (neg >= t).mean() <= 0.01 and (neg >= t - 1).mean() > 0.01
