"""Drift: PSI of the score and of each feature against the reference saved in the artifact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oracle.drift import WARN_PSI, build_reference, drift_report, psi
from oracle.features import batch_features


def test_psi_follows_its_definition():
    assert psi([50, 50], [50, 50]) == pytest.approx(0.0)
    e, a = np.array([0.5, 0.5]), np.array([0.8, 0.2])
    assert psi(e, a) == pytest.approx(np.sum((a - e) * np.log(a / e)))
    assert np.isfinite(psi([10, 0], [0, 10]))  # empty bins are floored, not infinite
    with pytest.raises(ValueError):
        psi([1, 2], [1, 2, 3])


def test_same_traffic_is_stable_and_a_shift_warns():
    rng = np.random.default_rng(0)
    ref_x = pd.DataFrame({"amount": rng.lognormal(3, 1, 20_000), "token": rng.integers(0, 3, 20_000)})
    ref = build_reference(ref_x, rng.integers(0, 10_001, 20_000), categorical=["token"])
    same = pd.DataFrame({"amount": rng.lognormal(3, 1, 5_000), "token": rng.integers(0, 3, 5_000)})
    rep = drift_report(ref, same, rng.integers(0, 10_001, 5_000))
    assert rep["score"] < 0.02 and max(rep["features"].values()) < 0.02 and rep["warnings"] == []
    shifted = pd.DataFrame({"amount": rng.lognormal(4, 1, 5_000), "token": np.full(5_000, 7)})
    rep = drift_report(ref, shifted, rng.integers(9_000, 10_001, 5_000))
    assert rep["features"]["amount"] > WARN_PSI and rep["features"]["token"] > WARN_PSI
    assert rep["score"] > WARN_PSI
    assert set(rep["warnings"]) == {"score", "amount", "token"}
    assert np.isfinite(drift_report(ref, shifted.assign(amount=np.nan))["features"]["amount"])


def test_the_artifact_carries_a_reference_that_its_own_traffic_matches(artifact, payments):
    ref = artifact.metadata["drift_reference"]
    assert set(ref["features"]) == set(artifact.feature_names)
    sub = payments.iloc[-2_000:]
    X = batch_features(payments)[artifact.feature_names].iloc[-2_000:]
    bps = artifact.calibration.score_bps(artifact.booster.predict(X.to_numpy(), raw_score=True))
    rep = drift_report(ref, X, bps)
    assert rep["rows"] == len(sub)
    assert rep["score"] < WARN_PSI
    assert np.median(list(rep["features"].values())) < WARN_PSI
