"""Training on any labelled table: LightGBM with imbalance handling, honest splits, FP-budget thresholds.

A payments table in Verdict's schema (payer, payee, token, amount_usd, timestamp) is turned into
`oracle.features.FEATURES` first, so the model sees exactly what live scoring computes; any other
table trains on its numeric columns directly ("generic" models, scored with `verdict score`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.stats import rankdata

import oracle
from oracle.calibration import MIN_CALIBRATION_LEGIT, MIN_PLATT_POSITIVES, SCALE, Calibration, QuantileMap
from oracle.drift import build_reference
from oracle.errors import DataError, ModelError
from oracle.features import CATEGORICAL, FEATURES, REQUIRED_COLUMNS, batch_features
from oracle.model import ModelArtifact, save
from oracle.search import FOLD_FRACTION, make_folds, search

NUM_THREADS = 1
"""Fixed so that a seed reproduces the same model (and model id) on any machine. One thread: on a
busy host OpenMP's spinning threads made training 30x slower, and the demo trains in seconds anyway."""
MAX_ABS_VALUE = 1e30
TEST_FRACTION = 0.2
CALIB_FRACTION = 0.2
"""Share of the non-test rows (the newest ones before the test, with --time) that place the risk scale."""
VALID_FRACTION = 0.15
MIN_CLASS_COUNT = 5


@dataclass(frozen=True)
class _Prepared:
    X: pd.DataFrame  # model feature names as columns
    y: np.ndarray
    time: np.ndarray | None
    feature_set: str
    source_columns: list[str]
    categorical: list[str]


def is_payments_table(df: pd.DataFrame) -> bool:
    """True when `df` has Verdict's payment columns, so FEATURES are derived from it."""
    return all(c in df.columns for c in REQUIRED_COLUMNS)


def _model_name(col: str) -> str:
    # LightGBM rejects JSON-special characters in feature names and rewrites spaces.
    return re.sub(r"[^0-9A-Za-z_.\-]", "_", str(col)) or "_"


def _labels(df: pd.DataFrame, label: str) -> np.ndarray:
    if label not in df.columns:
        raise DataError(f"label column {label!r} not found (columns: {', '.join(map(str, df.columns[:12]))})")
    col = df[label]
    if col.isna().any():
        raise DataError(f"label column {label!r} has {int(col.isna().sum())} missing value(s)")
    if col.dtype == bool:
        y = col.to_numpy(dtype=np.int64)
    else:
        num = pd.to_numeric(col, errors="coerce")
        if num.isna().any() or not num.isin([0, 1]).all():
            vals = ", ".join(map(str, pd.unique(col)[:5]))
            raise DataError(f"label column {label!r} must be binary 0/1 (found: {vals})")
        y = num.to_numpy(dtype=np.int64)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if pos < MIN_CLASS_COUNT or neg < MIN_CLASS_COUNT:
        raise DataError(
            f"label column {label!r} needs at least {MIN_CLASS_COUNT} rows of each class "
            f"(has {pos} positive, {neg} negative)"
        )
    return y


def _time(df: pd.DataFrame, time_col: str) -> np.ndarray:
    if time_col not in df.columns:
        raise DataError(f"time column {time_col!r} not found")
    col = df[time_col]
    if pd.api.types.is_numeric_dtype(col):
        t = col.to_numpy(dtype=np.float64)
    else:
        parsed = pd.to_datetime(col, errors="coerce", utc=True)
        if parsed.isna().any():
            raise DataError(f"time column {time_col!r} is neither numeric nor parseable as dates")
        t = parsed.astype("int64").to_numpy(dtype=np.float64) / 1e9
    if not np.isfinite(t).all():
        raise DataError(f"time column {time_col!r} has missing or infinite values")
    return t


def _prepare(df: pd.DataFrame, label: str, time_col: str | None, features: list[str] | None) -> _Prepared:
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise DataError("the training table is empty")
    y = _labels(df, label)
    t = _time(df, time_col) if time_col else None
    if is_payments_table(df) and (features is None or all(f in FEATURES for f in features)):
        derived = batch_features(df)
        names = list(features) if features else list(FEATURES)
        return _Prepared(derived[names], y, t, "verdict", names, [c for c in CATEGORICAL if c in names])
    if features is None:
        cols = [
            c
            for c in df.columns
            if c not in (label, time_col)
            and (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
        ]
        if not cols:
            raise DataError("no numeric feature columns besides the label; name them with --features")
    else:
        missing = [c for c in features if c not in df.columns]
        if missing:
            raise DataError(f"feature column(s) not found: {', '.join(missing)}")
        if label in features:
            raise DataError(f"the label {label!r} cannot also be a feature")
        cols = list(features)
        bad = [
            c for c in cols if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
        ]
        if bad:
            raise DataError(f"feature column(s) are not numeric: {', '.join(map(str, bad))}")
    X = df[cols].astype(np.float64)
    arr = X.to_numpy()
    if np.isinf(arr).any():
        where = [str(c) for c in cols if np.isinf(X[c].to_numpy()).any()]
        raise DataError(f"infinite values in column(s): {', '.join(where)}")
    if (np.abs(np.nan_to_num(arr)) > MAX_ABS_VALUE).any():
        raise DataError(
            f"values beyond ±{MAX_ABS_VALUE:.0e} in the features; rescale them (e.g. to whole tokens)"
        )
    if X.isna().all().any():
        raise DataError(
            f"feature column(s) entirely empty: {', '.join(str(c) for c in cols if X[c].isna().all())}"
        )
    names = [_model_name(c) for c in cols]
    if len(set(names)) != len(names):
        raise DataError("feature names collide after sanitising; rename the columns")
    X.columns = names
    return _Prepared(X, y, t, "generic", [str(c) for c in cols], [])


def _split(
    y: np.ndarray, t: np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train / validation / calibration / test (time-ordered when `t` is given)."""
    n = len(y)
    if t is not None:
        # Time-ordered: newest 20% test, the slice before it calibrates the risk scale, the slice
        # before that validates; each index list is in time order.
        order = np.argsort(t, kind="stable")
        n_test = max(1, int(round(n * TEST_FRACTION)))
        n_cal = max(1, int(round((n - n_test) * CALIB_FRACTION)))
        n_val = max(1, int(round((n - n_test - n_cal) * VALID_FRACTION)))
        a = n - n_test - n_cal - n_val
        b, c = a + n_val, a + n_val + n_cal
        return order[:a], order[a:b], order[b:c], order[c:]
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == cls))
        n_test = max(1, int(round(len(idx) * TEST_FRACTION)))
        n_cal = max(1, int(round((len(idx) - n_test) * CALIB_FRACTION)))
        n_val = max(1, int(round((len(idx) - n_test - n_cal) * VALID_FRACTION)))
        parts[3].append(idx[:n_test])
        parts[2].append(idx[n_test : n_test + n_cal])
        parts[1].append(idx[n_test + n_cal : n_test + n_cal + n_val])
        parts[0].append(idx[n_test + n_cal + n_val :])
    train, val, cal, test = (np.sort(np.concatenate(p)) for p in parts)
    return train, val, cal, test


# --- metrics (no scikit-learn in the environment; these follow its definitions) -----------------


def _curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative true/false positives at each distinct score threshold, highest first."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1]
    tps = np.cumsum(y_sorted)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    return tps, fps, s_sorted[last]


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    tps, fps, _ = _curve(y, s)
    if tps[-1] == 0:
        return float("nan")
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def recall_at_fpr(y: np.ndarray, s: np.ndarray, max_fpr: float) -> float:
    tps, fps, _ = _curve(y, s)
    pos, neg = tps[-1], fps[-1]
    if pos == 0 or neg == 0:
        return float("nan")
    ok = fps / neg <= max_fpr
    return float((tps[ok] / pos).max()) if ok.any() else 0.0


def threshold_for_budget(neg_bps: np.ndarray, budget: float) -> int:
    """Smallest score (bps) at which at most `budget` of these legitimate payments would be flagged."""
    if len(neg_bps) == 0:
        return 10_000
    d = np.sort(neg_bps)[::-1]
    allowed = int(math.floor(budget * len(d)))
    if allowed >= len(d):
        return 1
    return int(min(max(int(d[allowed]) + 1, 1), 10_000))


def _fingerprint(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in df.columns]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return "sha256:" + h.hexdigest()


def _pr_png(path: Path, y: np.ndarray, s: np.ndarray, auprc: float, review: int, reject: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tps, fps, thr = _curve(y, s)
    precision = tps / (tps + fps)
    recall = tps / max(tps[-1], 1)
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    try:
        ax.step(np.r_[0.0, recall], np.r_[1.0, precision], where="post", color="#1f5aa6", lw=1.6)
        for bps, name, colour in ((review, "review", "#d48a00"), (reject, "reject", "#b3261e")):
            i = np.flatnonzero(thr >= bps / 10_000)
            if i.size:
                j = i[-1]
                ax.plot(recall[j], precision[j], "o", color=colour, label=f"{name} ≥ {bps} bps")
        ax.set(
            xlabel="recall",
            ylabel="precision",
            xlim=(0, 1.01),
            ylim=(0, 1.02),
            title=f"Precision–recall on the test split (AUPRC {auprc:.3f})",
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left")
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def _threshold_effects(y: np.ndarray, score_bps: np.ndarray, review: int, reject: int) -> dict[str, float]:
    """What the thresholds would do to these rows: legitimate review/held/refund rates, recall, precision."""
    legit, fraud = y == 0, y == 1
    at_review, at_reject = score_bps >= review, score_bps >= reject

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return float(mask[of].mean()) if of.any() else float("nan")

    def precision(mask: np.ndarray) -> float:
        return float(y[mask].mean()) if mask.any() else float("nan")

    return {
        "legit_review_rate": share(at_review, legit),  # held or refunded: score >= review
        "legit_held_rate": share(at_review & ~at_reject, legit),
        "legit_refund_rate": share(at_reject, legit),
        "recall_at_review": share(at_review, fraud),
        "recall_at_reject": share(at_reject, fraud),
        "precision_at_review": precision(at_review),
        "precision_at_reject": precision(at_reject),
    }


def threshold_report(
    artifact: ModelArtifact,
    df: pd.DataFrame,
    label: str,
    review: int | None = None,
    reject: int | None = None,
) -> dict[str, float]:
    """`_threshold_effects` of an artifact's (or given) thresholds on a labelled payments table."""
    X = batch_features(df)[artifact.feature_names].to_numpy(dtype=np.float64)
    raw = artifact.booster.predict(X, raw_score=True)
    return _threshold_effects(
        _labels(df, label),
        artifact.calibration.score_bps(raw),
        artifact.review_threshold_bps if review is None else review,
        artifact.reject_threshold_bps if reject is None else reject,
    )


def train(
    df: pd.DataFrame,
    label: str,
    time_col: str | None = None,
    features: list[str] | None = None,
    seed: int = 0,
    fp_budget_review: float = 0.01,
    fp_budget_reject: float = 0.001,
    out: str | Path | None = None,
    time_budget: float = 0.0,
    max_trials: int | None = None,
) -> tuple[ModelArtifact, dict[str, Any]]:
    """Train, calibrate the risk scale, evaluate on the held-out test split; write the artifact if `out`.

    The score is the model's legitimate-traffic quantile in bps (oracle.calibration), so the proposed
    thresholds follow from the budgets alone: review = 10,000 x (1 - fp_budget_review), reject =
    10,000 x (1 - fp_budget_reject); the defaults (1%, 0.1%) give 9,900 / 9,990. They are *proposed*
    to governance (metadata "proposed_thresholds"); the on-chain values stay whatever the DAO has set.

    time_budget: seconds for the hyper-parameter search (oracle.search) over time-ordered folds of
    the train + validation rows; 0 evaluates the defaults only. max_trials caps the number of
    configurations (with a generous budget, the same seed and cap give the same model id).
    """
    if not 0 < fp_budget_reject < fp_budget_review < 1:
        raise DataError("false-positive budgets must satisfy 0 < reject budget < review budget < 1")
    review = int(round(10_000 * (1 - fp_budget_review)))
    reject = int(round(10_000 * (1 - fp_budget_reject)))
    if not 0 < review < reject <= 10_000:
        raise DataError("the budgets round to the same threshold; make them further apart")
    prep = _prepare(df, label, time_col, features)
    tr, va, ca, te = _split(prep.y, prep.time, seed)
    y = prep.y
    if y[te].sum() == 0:
        raise DataError("the test split holds no positive labels; more positives are needed (or drop --time)")
    if y[tr].sum() == 0:
        raise DataError(
            "the training split holds no positive labels; more positives are needed (or drop --time)"
        )
    if int((y[ca] == 0).sum()) < MIN_CALIBRATION_LEGIT:
        raise DataError(
            f"the calibration split holds {int((y[ca] == 0).sum())} legitimate rows; at least "
            f"{MIN_CALIBRATION_LEGIT} are needed to place the risk scale (use a larger table)"
        )

    pos, neg = int(y[tr].sum()), int(len(tr) - y[tr].sum())
    params: dict[str, Any] = {
        "objective": "binary",
        "learning_rate": 0.1,
        "num_leaves": 31,
        "max_depth": 6,  # shallow trees keep pred_contrib (TreeSHAP, cost ~ depth^2) fast for reasons
        "min_child_samples": int(min(50, max(10, len(tr) // 1000))),
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l1": 0.1,
        "lambda_l2": 5.0,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        # sqrt of the class ratio: enough weight that rare positives shape the splits; the
        # probability is recalibrated afterwards on the calibration split, and the on-chain score
        # is rank-based, so the weighting does not distort either.
        "scale_pos_weight": float(math.sqrt(neg / max(pos, 1))),
        "max_bin": 255,
        "min_data_per_group": 20,
        "cat_smooth": 10.0,
        "seed": int(seed),
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": NUM_THREADS,
        "verbosity": -1,
    }
    names = list(prep.X.columns)
    # development rows = train + validation, in time order with --time (train precedes validation)
    dev = np.r_[tr, va] if time_col else np.sort(np.r_[tr, va])
    Xdev, ydev = prep.X.iloc[dev].to_numpy(dtype=np.float64), y[dev]
    Xca, Xte = (prep.X.iloc[idx].to_numpy(dtype=np.float64) for idx in (ca, te))
    folds = make_folds(len(dev), ydev, time_col is not None, seed)
    folds_label = (
        f"{len(folds)} expanding-window time folds (validation slices of {FOLD_FRACTION:.0%})"
        if time_col
        else f"{len(folds)} stratified random validation sets of {FOLD_FRACTION:.0%}"
    )

    def dataset(Xs: np.ndarray, ys: np.ndarray) -> lgb.Dataset:
        return lgb.Dataset(
            Xs,
            label=ys,
            feature_name=names,
            categorical_feature=prep.categorical or "auto",
            free_raw_data=True,
        )

    def refit(p: dict[str, Any], rounds: int) -> lgb.Booster:
        return lgb.train({**p, "metric": ["binary_logloss"]}, dataset(Xdev, ydev), num_boost_round=rounds)

    try:
        result = search(params, Xdev, ydev, folds, dataset, time_budget, seed, max_trials, folds_label)
        if not math.isfinite(result.default.cv_auprc):
            raise DataError(
                "no validation fold holds positives on both sides; more positives are needed (or drop --time)"
            )
        final_params = {**params, **result.best.overrides}
        # The chosen configuration, refit on train + validation with the chosen number of rounds.
        booster = refit(final_params, result.best.rounds)
        default_booster = booster if result.best.number == 0 else refit(params, result.default.rounds)
    except lgb.basic.LightGBMError as err:
        raise ModelError(f"LightGBM could not train on this table: {str(err).splitlines()[0]}") from err
    best = int(result.best.rounds)
    params = {**final_params, "metric": ["binary_logloss"]}
    booster = lgb.Booster(model_str=booster.model_to_string())
    raw_test_default = default_booster.predict(Xte, raw_score=True)

    raw_cal = booster.predict(Xca, raw_score=True)
    calibration = Calibration.fit(
        raw_cal,
        y[ca],
        {
            "split": "calibration (time-ordered, just before the test)"
            if time_col
            else "calibration (stratified)",
            "rows": int(len(ca)),
            "legitimate_rows": int((y[ca] == 0).sum()),
            "positives": int(y[ca].sum()),
            "probability": "platt"
            if y[ca].sum() >= MIN_PLATT_POSITIVES
            else "too few frauds for a slope: the model's log-odds shifted to the base rate",
        },
    )
    raw_test = booster.predict(Xte, raw_score=True)
    yt = y[te]
    test_bps = calibration.score_bps(raw_test)
    effects = _threshold_effects(yt, test_bps, review, reject)
    p_test = calibration.probability(raw_test)
    metrics: dict[str, Any] = {
        "auprc": average_precision(yt, raw_test),
        "roc_auc": roc_auc(yt, raw_test),
        "recall_at_1pct_fpr": recall_at_fpr(yt, raw_test, 0.01),
        "n_train": int(len(tr)),
        "n_valid": int(len(va)),
        "n_calibration": int(len(ca)),
        "n_test": int(len(te)),
        "positives_train": pos,
        "positives_test": int(yt.sum()),
        "best_iteration": best,
        "search": result.report(),
        "defaults_test": {
            "auprc": average_precision(yt, raw_test_default),
            "roc_auc": roc_auc(yt, raw_test_default),
            "recall_at_1pct_fpr": recall_at_fpr(yt, raw_test_default, 0.01),
            "rounds": int(result.default.rounds),
        },
        "score_scale": SCALE,
        "review_threshold_bps": review,
        "reject_threshold_bps": reject,
        **{f"test_{k}": v for k, v in effects.items()},
        # kept for older readers: the FPR at a threshold is the legitimate share at or above it
        "test_fpr_at_review": effects["legit_review_rate"],
        "test_fpr_at_reject": effects["legit_refund_rate"],
        "test_brier_calibrated_probability": float(np.mean((p_test - yt) ** 2)),
        "test_mean_calibrated_probability": float(p_test.mean()),
        "test_fraud_rate": float(yt.mean()),
    }
    if "typology" in df.columns:
        typ = df["typology"].astype(str).to_numpy()[te]
        flagged_review = test_bps >= review
        metrics["test_recall_at_review_by_typology"] = {
            str(k): float(flagged_review[(typ == k) & (yt == 1)].mean()) for k in sorted(set(typ[yt == 1]))
        }
    medians = prep.X.iloc[tr][y[tr] == 0].median(numeric_only=True)
    # drift reference: the calibration split, the traffic the score's scale was fitted on
    drift_reference = build_reference(prep.X.iloc[ca], calibration.score_bps(raw_cal), prep.categorical)
    metadata: dict[str, Any] = {
        "search": {k: v for k, v in metrics["search"].items() if k != "history"},
        "feature_set": prep.feature_set,
        "source_columns": prep.source_columns,
        "categorical_features": prep.categorical,
        "label": label,
        "time_column": time_col,
        "split": "time" if time_col else "stratified",
        "seed": int(seed),
        "params": params,
        "training_data": {
            "fingerprint": _fingerprint(df),
            "rows": int(len(df)),
            "positives": int(y.sum()),
            "columns": [str(c) for c in df.columns],
        },
        "metrics": metrics,
        "feature_medians": {k: (float(v) if pd.notna(v) else None) for k, v in medians.items()},
        "drift_reference": drift_reference,
        "score_scale": {
            "name": SCALE,
            "meaning": "score_bps = round(10,000 x share of legitimate calibration payments the model "
            "rated less risky); 9,900 = riskier than 99% of legitimate payments",
            "probability": "calibrated P(fraud) (Platt on the calibration split): for people, not thresholds",
        },
        "proposed_thresholds": {
            "review_threshold_bps": review,
            "reject_threshold_bps": reject,
            "fp_budget_review": fp_budget_review,
            "fp_budget_reject": fp_budget_reject,
            "chosen_on": "legitimate-quantile scale: review/refund about these shares of legitimate payments",
            "test_effects": effects,
            "status": "proposed: enact through a governance proposal; the on-chain thresholds decide",
        },
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "lightgbm_version": lgb.__version__,
        "verdict_version": oracle.__version__,
    }
    artifact = ModelArtifact.from_booster(booster, calibration, metadata, review, reject)
    if out is not None:
        d = save(artifact, out)
        try:
            (d / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
            _pr_png(d / "pr_curve.png", yt, calibration.quantiles(raw_test), metrics["auprc"], review, reject)
        except OSError as err:
            raise ModelError(f"{d}: cannot write metrics ({err.strerror or err})") from err
    return artifact, metrics


def recalibrate(
    artifact: ModelArtifact,
    df: pd.DataFrame,
    since: int | None = None,
    label: str | None = None,
    source: str = "a payments table",
) -> ModelArtifact:
    """The same trees on the risk scale of the population a node serves: the quantile map (and the
    drift reference) refitted on the legitimate payments of `df` from `since` on.

    The score means "riskier than this share of legitimate payments", and which payments are
    ordinary depends on the population: how many payments an account has behind it, how many payers
    a merchant has in a day. A model calibrated on one population and scoring another reviews a
    share of it that no threshold vote chose. `df` is a payments table (Verdict's schema) of the
    node's own recent traffic; its features are computed over the whole table, so rows before
    `since` give the later ones their history without being calibrated on (the first days of a
    history are a warm-up in which every account looks new). With `label`, rows labelled 1 are left
    out. The fraud probability (Platt) keeps its fit on the labelled calibration split: it needs
    frauds, which a node's recent traffic does not label. A new calibration is a new model id.
    """
    if artifact.feature_set != "verdict":
        raise DataError(
            "only a model trained on payments (Verdict's features) can be recalibrated on payments"
        )
    feats = batch_features(df)[artifact.feature_names]
    keep = np.ones(len(df), dtype=bool)
    if since is not None:
        keep &= df["timestamp"].to_numpy(dtype=np.float64) >= since
    if label is not None:
        keep &= _labels(df, label) == 0
    X = feats.to_numpy(dtype=np.float64)[keep]
    raw = np.asarray(artifact.booster.predict(X, raw_score=True, num_threads=NUM_THREADS), dtype=np.float64)
    quantiles = QuantileMap.fit(raw)  # ModelError below MIN_CALIBRATION_LEGIT rows
    info = {
        "split": f"recalibrated on {source}",
        "legitimate_rows": int(keep.sum()),
        "since": None if since is None else int(since),
        "trained_on": dict(artifact.calibration.info),
    }
    calibration = Calibration(quantiles, artifact.calibration.probability, info)
    categorical = [str(c) for c in artifact.metadata.get("categorical_features", [])]
    metadata = {
        **artifact.metadata,
        "drift_reference": build_reference(feats[keep], calibration.score_bps(raw), categorical),
        "recalibrated": {"source": source, "rows": int(keep.sum()), "since": info["since"]},
    }
    return ModelArtifact.from_booster(
        artifact.booster,
        calibration,
        metadata,
        artifact.review_threshold_bps,
        artifact.reject_threshold_bps,
    )
