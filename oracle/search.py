"""A budgeted, seeded random search over LightGBM settings, scored by validation AUPRC.

Generic on purpose: it knows nothing about payments or about any one table. Validation is
time-ordered when the table has a time column (expanding-window folds: each fold trains on
everything before its validation slice), stratified otherwise. Every configuration is stopped
early on validation log loss (stabler than average precision over a few dozen positives), scored
by the mean AUPRC of its folds at that point, and the winner's rounds are the mean of its folds'
best iterations scaled up a little for the larger refit set. The library defaults are always
trial 0, so the report says what the search gained over them.
Random search rather than a sampler library: no extra dependency, a seed reproduces the sequence
of configurations, and with ~10 parameters and tens of trials it is as good as anything smarter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

N_FOLDS = 3
FOLD_FRACTION = 0.15
"""Each validation slice is this share of the development rows (train + validation)."""
MAX_ROUNDS = 600
EARLY_STOPPING = 40
REFIT_ROUNDS_FACTOR = 1.1
MAX_DEPTH_CAP = 6
"""TreeSHAP reasons cost ~ depth^2 per tree: the search never goes deeper than the defaults."""


@dataclass
class Trial:
    number: int
    overrides: dict[str, Any]  # parameters that differ from the base configuration
    cv_auprc: float
    fold_auprc: list[float]
    rounds: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class SearchResult:
    default: Trial
    best: Trial
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0
    time_budget_s: float = 0.0
    max_trials: int | None = None
    folds: str = ""

    def report(self) -> dict[str, Any]:
        return {
            "method": "seeded random search, selection by mean validation AUPRC",
            "folds": self.folds,
            "time_budget_s": self.time_budget_s,
            "max_trials": self.max_trials,
            "seconds": round(self.seconds, 2),
            "trials": len(self.trials),
            "default_cv_auprc": round(self.default.cv_auprc, 6),
            "best_cv_auprc": round(self.best.cv_auprc, 6),
            "cv_auprc_gain": round(self.best.cv_auprc - self.default.cv_auprc, 6),
            "best_trial": self.best.number,
            "best_overrides": self.best.overrides,
            "rounds": self.best.rounds,
            "history": [t.as_dict() for t in self.trials],
        }


def make_folds(
    n: int, y: np.ndarray, time_ordered: bool, seed: int, k: int = N_FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) index pairs over rows 0..n-1 (in time order when `time_ordered`)."""
    v = max(1, int(round(n * FOLD_FRACTION)))
    if time_ordered:
        out = []
        for j in range(k):
            end = n - (k - 1 - j) * v
            start = end - v
            if start <= 0:
                continue
            out.append((np.arange(0, start), np.arange(start, end)))
        return out
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        val = []
        for cls in (0, 1):
            idx = np.flatnonzero(y == cls)
            val.append(rng.choice(idx, size=max(1, int(round(len(idx) * FOLD_FRACTION))), replace=False))
        va = np.sort(np.concatenate(val))
        mask = np.ones(n, dtype=bool)
        mask[va] = False
        out.append((np.flatnonzero(mask), va))
    return out


def sample_overrides(rng: np.random.Generator, n_rows: int, class_ratio: float) -> dict[str, Any]:
    """One random configuration (log-uniform where the scale is multiplicative)."""

    def logu(lo: float, hi: float) -> float:
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    depth = int(rng.choice([3, 4, 5, 6]))
    return {
        "learning_rate": round(logu(0.03, 0.2), 4),
        "max_depth": depth,
        "num_leaves": int(rng.integers(4, 2**depth + 1)),
        "min_child_samples": int(max(2, round(logu(5, max(6.0, min(300.0, n_rows / 100)))))),
        "min_sum_hessian_in_leaf": round(logu(1e-3, 1.0), 5),
        "lambda_l1": round(logu(1e-3, 2.0), 5),
        "lambda_l2": round(logu(0.1, 50.0), 4),
        "feature_fraction": round(float(rng.uniform(0.5, 1.0)), 3),
        "bagging_fraction": round(float(rng.uniform(0.6, 1.0)), 3),
        # imbalance: from none to most of the class ratio; calibration happens afterwards anyway
        "scale_pos_weight": round(float(class_ratio ** float(rng.choice([0.0, 0.25, 0.5, 0.75]))), 4),
    }


def _average_precision(y: np.ndarray, s: np.ndarray) -> float:
    order = np.argsort(-s, kind="mergesort")
    ys = y[order]
    tps = np.cumsum(ys)
    if tps[-1] == 0:
        return float("nan")
    precision = tps / np.arange(1, len(ys) + 1)
    return float(np.sum(precision[ys == 1]) / tps[-1])


def evaluate(
    params: dict[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    dataset: Callable[[np.ndarray, np.ndarray], lgb.Dataset],
) -> tuple[float, list[float], int]:
    """Mean fold AUPRC at the early-stopped iteration, the fold scores and the refit rounds."""
    scores, iters = [], []
    p = {**params, "metric": ["binary_logloss"], "first_metric_only": True}
    for tr, va in folds:
        if y[tr].sum() == 0 or y[va].sum() == 0:
            continue
        dtr = dataset(X[tr], y[tr])
        dva = lgb.Dataset(X[va], label=y[va], reference=dtr)
        booster = lgb.train(
            p,
            dtr,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[dva],
            valid_names=["validation"],
            callbacks=[lgb.early_stopping(EARLY_STOPPING, first_metric_only=True, verbose=False)],
        )
        best = int(booster.best_iteration or booster.current_iteration())
        scores.append(_average_precision(y[va], booster.predict(X[va], num_iteration=best, raw_score=True)))
        iters.append(best)
    if not scores:
        return float("nan"), [], 0
    rounds = int(min(MAX_ROUNDS, max(1, round(float(np.mean(iters)) * REFIT_ROUNDS_FACTOR))))
    return float(np.mean(scores)), scores, rounds


def search(
    base: dict[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    dataset: Callable[[np.ndarray, np.ndarray], lgb.Dataset],
    time_budget_s: float,
    seed: int,
    max_trials: int | None = None,
    folds_label: str = "",
) -> SearchResult:
    """Trial 0 is `base`; then random configurations while the budget (and `max_trials`) allow.

    A trial is started only if the slowest trial so far would still finish within the budget, so
    the search overruns it by at most a little (the budget counts from the first trial's start).
    """
    t0 = time.perf_counter()
    trials: list[Trial] = []
    rng = np.random.default_rng([int(seed), 15])
    pos = max(int(y.sum()), 1)
    ratio = max((len(y) - pos) / pos, 1.0)
    slowest = 0.0
    number = 0
    while True:
        if number > 0:
            spent = time.perf_counter() - t0
            if max_trials is not None and number >= max_trials:
                break
            if spent + slowest > time_budget_s:
                break
        overrides = {} if number == 0 else sample_overrides(rng, len(y), ratio)
        ts = time.perf_counter()
        cv, fold_scores, rounds = evaluate({**base, **overrides}, X, y, folds, dataset)
        took = time.perf_counter() - ts
        slowest = max(slowest, took)
        trials.append(Trial(number, overrides, cv, fold_scores, rounds, took))
        number += 1
    default = trials[0]
    scored = [t for t in trials if math.isfinite(t.cv_auprc)]
    best = max(scored, key=lambda t: (t.cv_auprc, -t.number)) if scored else default
    return SearchResult(
        default=default,
        best=best,
        trials=trials,
        seconds=time.perf_counter() - t0,
        time_budget_s=float(time_budget_s),
        max_trials=max_trials,
        folds=folds_label,
    )
