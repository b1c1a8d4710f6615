"""The budgeted search: time-ordered folds, a budget it keeps, defaults as the baseline, a refit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oracle.datagen import generate
from oracle.search import make_folds
from oracle.train import train


def test_time_folds_are_expanding_windows_that_never_look_ahead():
    y = np.zeros(1_000, dtype=int)
    folds = make_folds(1_000, y, time_ordered=True, seed=0)
    assert len(folds) == 3
    sizes = [len(tr) for tr, _ in folds]
    assert sizes == sorted(sizes) and sizes[0] > 0
    for tr, va in folds:
        assert tr.max() < va.min()  # every training row is older than every validation row
        assert np.array_equal(tr, np.arange(len(tr)))  # expanding: always from the start
    assert folds[-1][1][-1] == 999


def test_random_folds_keep_both_classes():
    y = np.r_[np.zeros(950, dtype=int), np.ones(50, dtype=int)]
    for tr, va in make_folds(1_000, y, time_ordered=False, seed=0):
        assert y[va].sum() > 0 and y[tr].sum() > 0
        assert not set(tr) & set(va)


@pytest.fixture(scope="module")
def table():
    return generate(12_000, seed=15, fraud_rate=0.01)


def test_search_respects_its_budget_and_reports_its_gain(table, tmp_path):
    art, m = train(table, "is_fraud", time_col="timestamp", seed=2, time_budget=3.0, out=tmp_path / "m")
    s = m["search"]
    assert s["trials"] >= 2 and s["history"][0]["overrides"] == {}  # trial 0 is the defaults
    assert s["seconds"] < 3.0 + 3 * max(t["seconds"] for t in s["history"])
    assert s["best_cv_auprc"] >= s["default_cv_auprc"]
    assert s["cv_auprc_gain"] == pytest.approx(s["best_cv_auprc"] - s["default_cv_auprc"], abs=1e-6)
    assert "expanding-window" in s["folds"]
    assert {"auprc", "recall_at_1pct_fpr"} <= set(m["defaults_test"])
    # the refit: train + validation rows, the chosen number of rounds, nothing early-stopped away
    assert art.booster.current_iteration() == s["rounds"] == m["best_iteration"]
    assert art.metadata["search"]["best_overrides"] == s["best_overrides"]
    on_disk = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert on_disk["search"]["trials"] == s["trials"]


def test_a_trial_cap_makes_the_search_reproducible(table):
    a, ma = train(table, "is_fraud", time_col="timestamp", seed=4, time_budget=600, max_trials=3)
    b, mb = train(table, "is_fraud", time_col="timestamp", seed=4, time_budget=600, max_trials=3)
    assert ma["search"]["trials"] == 3
    assert a.model_id == b.model_id
