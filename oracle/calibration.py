"""The risk scale: a model's raw output -> legitimate-traffic quantile (bps), and a calibrated probability.

The on-chain score is `round(10,000 x F(raw))`, where F is the empirical distribution of the model's
raw output (log-odds) over the *legitimate* rows of a held-out calibration split: mid-ranked,
linearly interpolated between knots, with smooth exponential tails outside the observed range, so
F is continuous and strictly increasing. A score of 9,900 means "riskier than 99% of legitimate
payments" under every model, which is what lets the DAO's thresholds keep their meaning across
model upgrades. Both maps are frozen in the artifact (`calibration.json`) and hashed into the
model id.

Beside it, a fraud probability for people (reasons, reports): Platt scaling (a logistic fit of the
label on the raw output, with Platt's smoothed targets) over the same split. Platt rather than
isotonic: a calibration split holds a few dozen frauds, too few for an isotonic step function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from oracle.errors import ModelError

MAX_KNOTS = 4_000
TOP_KNOTS = 1_500
"""The quantile map keeps every knot of the top TOP_KNOTS legitimate scores (where thresholds live)
and an even subsample below, so a large calibration split still gives a small artifact."""
MIN_CALIBRATION_LEGIT = 200
MIN_PLATT_POSITIVES = 5
DEFAULT_REVIEW_BPS = 9_900
DEFAULT_REJECT_BPS = 9_990
SCALE = "legit-quantile-bps/v1"


def _r(x: float) -> float:
    # 12 significant digits: stable through JSON, far finer than any score difference that matters
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class QuantileMap:
    """Monotone map raw -> F(raw) in [0, 1] through knots (raw strictly increasing, cdf increasing)."""

    raw: np.ndarray
    cdf: np.ndarray
    n_legit: int

    @classmethod
    def fit(cls, legit_raw: np.ndarray) -> QuantileMap:
        x = np.sort(np.asarray(legit_raw, dtype=np.float64))
        x = x[np.isfinite(x)]
        n = len(x)
        if n < MIN_CALIBRATION_LEGIT:
            raise ModelError(
                f"the calibration split holds {n} legitimate rows; at least {MIN_CALIBRATION_LEGIT} are "
                "needed to place the risk scale (use a larger table)"
            )
        u, first, counts = np.unique(x, return_index=True, return_counts=True)
        cdf = (first + counts / 2.0) / n  # mid-rank: ties sit in the middle of their mass
        k = len(u)
        if k > MAX_KNOTS:
            top = np.arange(k - TOP_KNOTS, k)
            low = np.unique(np.linspace(0, k - TOP_KNOTS - 1, MAX_KNOTS - TOP_KNOTS).round().astype(np.int64))
            keep = np.concatenate([low, top])
            u, cdf = u[keep], cdf[keep]
        u = np.array([_r(v) for v in u])
        cdf = np.array([_r(v) for v in cdf])
        # rounding may merge neighbours: keep strictly increasing raw and non-decreasing cdf
        ok = np.r_[True, np.diff(u) > 0]
        return cls(u[ok], np.maximum.accumulate(cdf[ok]), n)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        r = np.asarray(raw, dtype=np.float64)
        f = np.interp(r, self.raw, self.cdf)
        lo, hi = self.raw[0], self.raw[-1]
        # tails: exponential in raw (log-odds) beyond the observed range, continuous at the ends
        below = r < lo
        above = r > hi
        if below.any():
            f = np.where(below, self.cdf[0] * np.exp(np.minimum(r - lo, 0.0)), f)
        if above.any():
            f = np.where(above, 1.0 - (1.0 - self.cdf[-1]) * np.exp(-np.maximum(r - hi, 0.0)), f)
        return np.clip(f, 0.0, 1.0)

    def bps(self, raw: np.ndarray) -> np.ndarray:
        return np.clip(np.round(self(raw) * 10_000), 0, 10_000).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": [float(v) for v in self.raw],
            "cdf": [float(v) for v in self.cdf],
            "n_legit": self.n_legit,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuantileMap:
        raw = np.asarray(d["raw"], dtype=np.float64)
        cdf = np.asarray(d["cdf"], dtype=np.float64)
        if raw.ndim != 1 or raw.shape != cdf.shape or len(raw) < 2:
            raise ValueError("quantile map needs two equal-length lists of at least two knots")
        if not (np.all(np.diff(raw) > 0) and np.all(np.diff(cdf) >= 0)):
            raise ValueError("quantile map is not monotone")
        if not (np.isfinite(raw).all() and cdf[0] >= 0 and cdf[-1] <= 1):
            raise ValueError("quantile map values out of range")
        return cls(raw, cdf, int(d["n_legit"]))


@dataclass(frozen=True)
class PlattScaler:
    """P(fraud | raw) = sigmoid(a * raw + b), fitted on the calibration split."""

    a: float
    b: float
    n: int
    positives: int

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> PlattScaler:
        raw = np.asarray(raw, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        pos = int(y.sum())
        neg = len(y) - pos
        # Platt (1999): smoothed targets keep the fit finite when the classes separate perfectly
        t = np.where(y == 1, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            z = w[0] * raw + w[1]
            # log(1 + e^z) - t z, stably
            lse = np.logaddexp(0.0, z)
            p = 1.0 / (1.0 + np.exp(-z))
            g = p - t
            return float(np.sum(lse - t * z)), np.array([np.sum(g * raw), np.sum(g)])

        prior = math.log((pos + 1.0) / (neg + 1.0))
        if pos < MIN_PLATT_POSITIVES:
            # too few frauds to fit a slope: keep the model's own slope, shift it to the base rate
            b = prior - float(np.log(np.mean(np.exp(np.clip(raw, -30, 30)))))
            return cls(1.0, _r(b), int(len(y)), pos)
        res = minimize(loss, np.array([1.0, 0.0 if pos else prior]), jac=True, method="L-BFGS-B")
        a, b = (float(v) for v in res.x)
        if not (math.isfinite(a) and math.isfinite(b)):
            a, b = 0.0, prior
        return cls(_r(a), _r(b), int(len(y)), pos)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        z = self.a * np.asarray(raw, dtype=np.float64) + self.b
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        return {"method": "platt", "a": self.a, "b": self.b, "n": self.n, "positives": self.positives}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlattScaler:
        if d.get("method") != "platt":
            raise ValueError(f"unknown probability calibration {d.get('method')!r}")
        a, b = float(d["a"]), float(d["b"])
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError("probability calibration has non-finite coefficients")
        return cls(a, b, int(d["n"]), int(d["positives"]))


@dataclass(frozen=True)
class Calibration:
    """Everything that turns the model's raw output into what the chain and people read."""

    quantiles: QuantileMap
    probability: PlattScaler
    info: dict[str, Any]  # where it was fitted (split, rows); part of the hashed record

    def to_dict(self) -> dict[str, Any]:
        return {
            "scale": SCALE,
            "quantile_map": self.quantiles.to_dict(),
            "probability": self.probability.to_dict(),
            "fitted_on": dict(self.info),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        if not isinstance(d, dict) or d.get("scale") != SCALE:
            raise ValueError(f"unknown risk scale {d.get('scale') if isinstance(d, dict) else d!r}")
        return cls(
            QuantileMap.from_dict(d["quantile_map"]),
            PlattScaler.from_dict(d["probability"]),
            dict(d.get("fitted_on", {})),
        )

    @classmethod
    def fit(
        cls,
        raw: np.ndarray,
        y: np.ndarray,
        info: dict[str, Any],
        prob_raw: np.ndarray | None = None,
        prob_y: np.ndarray | None = None,
    ) -> Calibration:
        """Quantile map from the legitimate rows of (raw, y); Platt from (prob_raw, prob_y), by default
        the same rows (a caller with too few frauds in the calibration split may add held-out rows)."""
        raw = np.asarray(raw, dtype=np.float64)
        y = np.asarray(y)
        pr = raw if prob_raw is None else np.asarray(prob_raw, dtype=np.float64)
        py = y if prob_y is None else np.asarray(prob_y)
        return cls(QuantileMap.fit(raw[y == 0]), PlattScaler.fit(pr, py), dict(info))

    def score_bps(self, raw: np.ndarray) -> np.ndarray:
        return self.quantiles.bps(raw)
