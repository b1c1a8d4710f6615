"""The risk scale: legitimate-traffic quantiles that mean the same under every model, frozen in the id."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from oracle.calibration import DEFAULT_REJECT_BPS, DEFAULT_REVIEW_BPS, Calibration, QuantileMap
from oracle.datagen import START_TS, generate
from oracle.errors import ModelError
from oracle.features import batch_features
from oracle.model import CALIBRATION_FILE, ModelArtifact, load, save
from oracle.train import threshold_report, train


@pytest.fixture(scope="module")
def two_models():
    """Two models on different generated data: different seeds and sizes."""
    out = []
    for rows, seed in ((20_000, 5), (30_000, 23)):
        df = generate(rows, seed=seed, fraud_rate=0.01)
        art, m = train(df, "is_fraud", time_col="timestamp", seed=1)
        out.append((df, art, m))
    return out


def test_each_model_reviews_about_one_percent_of_held_out_legitimate_payments(two_models):
    ids = set()
    for _, art, m in two_models:
        assert (art.review_threshold_bps, art.reject_threshold_bps) == (
            DEFAULT_REVIEW_BPS,
            DEFAULT_REJECT_BPS,
        )
        # the test split is newer than anything the model or its calibration saw
        assert 0.005 <= m["test_legit_review_rate"] <= 0.02, m["test_legit_review_rate"]
        assert m["test_legit_refund_rate"] <= 0.003, m["test_legit_refund_rate"]
        assert m["test_recall_at_review"] > 0.5
        ids.add(art.model_id)
    assert len(ids) == 2


def test_ordinary_first_payments_of_new_legitimate_accounts_look_ordinary(two_models):
    """Cold start: an ordinary first payment of a legitimate new account (usual amount, daytime) is
    settled and held at the rates of legitimate traffic at large, give or take a factor of three
    (payments from a fresh generator run; night-time, micro and rent-sized first payments of brand-new
    accounts do resemble the new-account fraud typologies and are held more often)."""
    fresh = generate(30_000, seed=105, fraud_rate=0.01)
    legit = fresh["is_fraud"].to_numpy() == 0
    first = ~fresh.duplicated("payer", keep="first").to_numpy()
    new = fresh["payer_created_at"].to_numpy() > START_TS
    amount = fresh["amount_usd"].to_numpy()
    lo, hi = np.quantile(amount[legit], [0.05, 0.95])
    hour = (fresh["timestamp"].to_numpy() // 3600) % 24
    cold = legit & first & new & (amount >= lo) & (amount <= hi) & (hour >= 6)
    assert cold.sum() >= 50
    for _, art, _ in two_models:
        X = batch_features(fresh)[art.feature_names].to_numpy()
        bps = art.calibration.score_bps(art.booster.predict(X, raw_score=True))
        held_all = (bps[legit] >= art.review_threshold_bps).mean()
        held_cold = (bps[cold] >= art.review_threshold_bps).mean()
        assert held_cold <= 3 * max(held_all, 0.01), (held_cold, held_all)
        assert (1 - held_all) / 3 <= 1 - held_cold <= 3 * (1 - held_all)
        assert (bps[cold] >= art.reject_threshold_bps).mean() <= 0.003
        assert np.median(bps[cold]) < art.review_threshold_bps


def test_quantile_map_is_monotone_and_spans_the_scale(two_models):
    rng = np.random.default_rng(0)
    qm = QuantileMap.fit(np.r_[rng.normal(size=5_000), np.zeros(300)])  # ties too
    grid = np.linspace(-12, 12, 20_001)
    f = qm(grid)
    assert np.all(np.diff(f) >= 0) and f[0] >= 0 and f[-1] <= 1
    assert np.all(np.diff(qm.raw) > 0) and np.all(np.diff(qm.cdf) >= 0)
    assert qm.bps(np.array([-50.0]))[0] == 0 and qm.bps(np.array([50.0]))[0] == 10_000
    assert abs(qm(np.array([0.0]))[0] - 0.5) < 0.02
    for _, art, _ in two_models:
        m = art.calibration.quantiles
        assert np.all(np.diff(m.raw) > 0) and np.all(np.diff(m.cdf) >= 0)
        assert np.all(np.diff(art.calibration.score_bps(np.linspace(-20, 20, 4001))) >= 0)


def test_model_id_covers_the_calibration(two_models, tmp_path):
    _, art, _ = two_models[0]
    raw = np.random.default_rng(1).normal(size=2_000)
    other = Calibration.fit(raw, (raw > 2.5).astype(int), {"split": "elsewhere"})
    moved = ModelArtifact.from_booster(
        art.booster, other, art.metadata, art.review_threshold_bps, art.reject_threshold_bps
    )
    assert moved.booster.model_to_string() == art.booster.model_to_string()
    assert moved.model_id != art.model_id
    # an edited calibration.json is refused like an edited model.txt
    d = save(art, tmp_path / "m")
    cal = json.loads((d / CALIBRATION_FILE).read_text())
    cal["quantile_map"]["cdf"][-1] = 0.5
    (d / CALIBRATION_FILE).write_text(json.dumps(cal))
    with pytest.raises(ModelError, match="tampered"):
        load(d)


def test_an_artifact_from_before_the_scale_is_refused_with_one_clear_error(two_models, tmp_path):
    _, art, _ = two_models[0]
    d = save(art, tmp_path / "new")
    old = tmp_path / "old"
    shutil.copytree(d, old)
    (old / CALIBRATION_FILE).unlink()
    meta = json.loads((old / "metadata.json").read_text())
    meta["format_version"] = 1
    (old / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="predates the calibrated risk scale.*Retrain"):
        load(old)


def test_calibrated_probability_tracks_the_fraud_rate(two_models):
    for _, _, m in two_models:
        # Platt on the calibration split: the mean probability on the test split is near the rate
        assert m["test_mean_calibrated_probability"] == pytest.approx(
            m["test_fraud_rate"], rel=0.6, abs=0.004
        )


def test_threshold_report_says_what_given_thresholds_would_do(two_models):
    df, art, _ = two_models[1]
    newest = df.iloc[-6_000:]
    at_defaults = threshold_report(art, newest, "is_fraud")
    looser = threshold_report(art, newest, "is_fraud", review=9_800, reject=9_950)
    assert looser["legit_review_rate"] >= at_defaults["legit_review_rate"]
    assert looser["recall_at_review"] >= at_defaults["recall_at_review"]
    assert 0 < at_defaults["legit_review_rate"] < 0.05 and at_defaults["recall_at_review"] > 0.5
