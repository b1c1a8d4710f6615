"""Artifacts round-trip and refuse tampering; scores come with three worded reasons and a stable
evidence hash."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from oracle.errors import ModelError
from oracle.evidence import evidence_hash
from oracle.features import FEATURES, batch_features
from oracle.model import CALIBRATION_FILE, calibration_text, load, model_id_of, save
from oracle.scoring import Scorer, decide, reason_text


def test_round_trip_keeps_id_thresholds_and_predictions(artifact, payments, tmp_path):
    save(artifact, tmp_path / "copy")
    again = load(tmp_path / "copy")
    on_disk = model_id_of(
        (tmp_path / "copy" / "model.txt").read_text(),
        (tmp_path / "copy" / CALIBRATION_FILE).read_text().removesuffix("\n"),
    )
    assert again.model_id == artifact.model_id == on_disk
    assert calibration_text(again.calibration) == calibration_text(artifact.calibration)
    assert len(bytes.fromhex(again.model_id[2:])) == 32
    assert (again.review_threshold_bps, again.reject_threshold_bps) == (
        artifact.review_threshold_bps,
        artifact.reject_threshold_bps,
    )
    X = batch_features(payments.iloc[:200]).to_numpy()
    np.testing.assert_array_equal(again.booster.predict(X), artifact.booster.predict(X))


def test_tampered_missing_or_corrupt_models_are_refused(model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(model_dir, d)
    text = (d / "model.txt").read_text()
    (d / "model.txt").write_text(text.replace("leaf_value=", "leaf_value=1", 1))
    with pytest.raises(ModelError, match="tampered"):
        load(d)
    (d / "model.txt").write_text("garbage")
    meta = json.loads((d / "metadata.json").read_text())
    meta["model_id"] = model_id_of("garbage", (d / CALIBRATION_FILE).read_text().removesuffix("\n"))
    (d / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="not a valid LightGBM"):
        load(d)
    (d / "metadata.json").write_text("{")
    with pytest.raises(ModelError, match="not valid JSON"):
        load(d)
    (d / "model.txt").unlink()
    with pytest.raises(ModelError, match="missing"):
        load(d)
    with pytest.raises(ModelError, match="no model directory"):
        load(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def scored(artifact, payments):
    """Features and scores of the last 3,000 generated payments (pred_contrib is the slow part)."""
    sub = payments.iloc[-3_000:]
    X = batch_features(sub).to_numpy()
    return sub, X, Scorer(artifact).score_many(X)


def test_scores_have_three_reasons_and_match_lightgbm(artifact, scored):
    _, X, results = scored
    raw = artifact.booster.predict(X, raw_score=True)
    cal = artifact.calibration
    np.testing.assert_allclose([r.probability for r in results], cal.probability(raw), rtol=1e-9)
    assert [r.score_bps for r in results] == list(cal.score_bps(raw))
    for r in results[:50]:
        assert len(r.reasons) == 3
        contribs = [x.contribution for x in r.reasons]
        assert contribs == sorted(contribs, reverse=True)
        assert all(x.feature in FEATURES and x.text and x.text[0].islower() for x in r.reasons)


def test_frauds_score_higher_and_reasons_say_why(artifact, scored):
    sub, X, results = scored
    scorer = Scorer(artifact)
    scores = np.array([r.score_bps for r in results])
    fraud = sub["is_fraud"].to_numpy() == 1
    # the score is the legitimate-traffic quantile: legitimate payments sit around the middle
    assert 3_000 < np.median(scores[~fraud]) < 7_000
    assert np.median(scores[fraud]) >= artifact.review_threshold_bps
    probs = np.array([r.probability for r in results])
    assert np.median(probs[fraud]) > 10 * np.median(probs[~fraud])
    caught = fraud & (scores >= artifact.review_threshold_bps)
    assert caught.sum() >= 0.6 * fraud.sum()
    burst = int(np.flatnonzero(caught)[-1])
    one = scorer.score_one(dict(zip(FEATURES, X[burst], strict=True)))
    assert one.score_bps >= artifact.review_threshold_bps
    assert one == scorer.score_many(X[burst : burst + 1])[0]


def test_evidence_hash_is_stable_and_recomputable_from_stored_features(artifact, payments):
    scorer = Scorer(artifact)
    X = batch_features(payments.iloc[:5]).to_numpy()
    r = scorer.score_one(X[3])
    assert r.evidence_hash == scorer.score_one(X[3]).evidence_hash == r.reasons_hash
    stored = json.loads(
        json.dumps(dict(zip(scorer.feature_names, scorer.model_matrix(X[3])[0].tolist(), strict=True)))
    )
    assert r.evidence_hash == evidence_hash(artifact.model_id, [stored[f] for f in scorer.feature_names])
    assert r.evidence_hash.startswith("0x") and len(r.evidence_hash) == 66


def test_reason_sentences():
    assert reason_text("payer_count_1h", 14, 1) == "payer made 14 payments in the last hour (usual: 1)"
    assert reason_text("pair_is_new", 1, 0) == "first payment from this payer to this payee"
    assert "different countries" in reason_text("cross_border", 1, 0)
    assert reason_text("x7", 2.5, 1.0) == "x7 is 2.5 (usual: 1)"


def test_decisions_follow_thresholds():
    assert [decide(s, 100, 900) for s in (0, 99, 100, 899, 900, 10_000)] == [
        "settle",
        "settle",
        "review",
        "review",
        "reject",
        "reject",
    ]
