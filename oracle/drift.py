"""Drift: population stability index (PSI) of the score and of each feature against the training reference.

`build_reference` runs at training time over the calibration split (the most recent rows before
the test, the traffic the score's scale was fitted on) and is saved in the artifact's metadata under
`drift_reference`. `drift_report` compares live rows with it. PSI = Σ (a − e) · ln(a / e) over
bins, where e and a are the reference and current shares of each bin (floored, so an empty bin
does not give infinity). Usual reading: < 0.1 stable, 0.1–0.2 moderate, > 0.2 a shift worth a look
(`WARN_PSI`). Numeric features use the reference's decile edges; categorical ones (and features
with few distinct values) their values; missing values get a bin of their own. The score uses
fixed bps bins that resolve the thresholds' neighbourhood.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

WARN_PSI = 0.2
N_BINS = 10
MAX_CATEGORIES = 20
FLOOR = 1e-4
SCORE_EDGES: tuple[int, ...] = (1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 9500, 9900, 9990)
"""Interior edges of the score bins (bps): deciles, then the top of the scale where thresholds live."""


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """PSI between two histograms over the same bins (counts or shares; each is normalised)."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape or e.ndim != 1 or len(e) == 0:
        raise ValueError("expected and actual need the same bins")
    if e.sum() <= 0 or a.sum() <= 0:
        return float("nan")
    e = np.maximum(e / e.sum(), FLOOR)
    a = np.maximum(a / a.sum(), FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_bins(values: np.ndarray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    distinct = np.unique(finite)
    if len(distinct) <= MAX_CATEGORIES:
        return {"kind": "values", "values": [float(v) for v in distinct]}
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, N_BINS + 1)[1:-1]))
    return {"kind": "edges", "edges": [float(v) for v in edges]}


def _counts(spec: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """Bin counts: the spec's bins, then one for values outside them (categories), then missing."""
    v = np.asarray(values, dtype=np.float64)
    missing = ~np.isfinite(v)
    present = v[~missing]
    if spec["kind"] == "edges":
        edges = np.asarray(spec["edges"], dtype=np.float64)
        idx = np.searchsorted(edges, present, side="right")
        counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
        other = np.zeros(1)
    else:
        cats = np.asarray(spec["values"], dtype=np.float64)
        pos = np.searchsorted(cats, present)
        hit = (
            (pos < len(cats)) & (cats[np.minimum(pos, len(cats) - 1)] == present)
            if len(cats)
            else np.zeros(len(present), dtype=bool)
        )
        counts = np.bincount(pos[hit], minlength=len(cats)).astype(np.float64)
        other = np.array([float((~hit).sum())])
    return np.r_[counts, other, float(missing.sum())]


def build_reference(
    features: pd.DataFrame, score_bps: np.ndarray, categorical: Sequence[str] = ()
) -> dict[str, Any]:
    """The reference histograms (bins and counts) of every feature column and of the score."""
    out: dict[str, Any] = {"rows": int(len(features)), "features": {}, "warn_psi": WARN_PSI}
    for name in features.columns:
        values = features[name].to_numpy(dtype=np.float64)
        if name in categorical:
            finite = values[np.isfinite(values)]
            spec: dict[str, Any] = {"kind": "values", "values": [float(x) for x in np.unique(finite)]}
        else:
            spec = _numeric_bins(values)
        spec["counts"] = [int(c) for c in _counts(spec, values)]
        out["features"][str(name)] = spec
    score_spec: dict[str, Any] = {"kind": "edges", "edges": [float(e) for e in SCORE_EDGES]}
    score_spec["counts"] = [int(c) for c in _counts(score_spec, np.asarray(score_bps, dtype=np.float64))]
    out["score"] = score_spec
    return out


def drift_report(
    reference: dict[str, Any], features: pd.DataFrame | None = None, score_bps: np.ndarray | None = None
) -> dict[str, Any]:
    """PSI of the score and of each feature present in `features` against `reference`.

    Returns {"score": psi or None, "features": {name: psi}, "rows": n, "warnings": [names over
    WARN_PSI, "score" included]}. Features absent from the reference are ignored.
    """
    result: dict[str, Any] = {"score": None, "features": {}, "warnings": [], "rows": 0}
    limit = float(reference.get("warn_psi", WARN_PSI))
    if score_bps is not None and len(score_bps):
        spec = reference["score"]
        result["score"] = psi(spec["counts"], _counts(spec, np.asarray(score_bps, dtype=np.float64)))
        result["rows"] = int(len(score_bps))
        if math.isfinite(result["score"]) and result["score"] > limit:
            result["warnings"].append("score")
    if features is not None and len(features):
        result["rows"] = max(result["rows"], int(len(features)))
        for name, spec in reference["features"].items():
            if name not in features.columns:
                continue
            value = psi(spec["counts"], _counts(spec, features[name].to_numpy(dtype=np.float64)))
            result["features"][name] = value
            if math.isfinite(value) and value > limit:
                result["warnings"].append(name)
    return result
