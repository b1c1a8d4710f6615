"""Scores with reasons: the risk score in basis points, a decision, and the top three contributions in words.

One LightGBM call per batch: with `pred_contrib=True` the per-feature contributions plus the bias sum
to the raw score (log-odds), so no second prediction is needed. The artifact's calibration turns the
raw score into the on-chain score, its legitimate-traffic quantile in bps (9,900 = riskier than 99%
of legitimate payments), and into a calibrated fraud probability for people (oracle.calibration).
The reasons hash (keccak256 of canonical JSON) goes on-chain next to the score, so `verdict explain`
can show that the reasons shown are the ones committed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from eth_utils import keccak

from oracle.errors import DataError
from oracle.features import FEATURES, SECS_SINCE_CAP, token_symbol
from oracle.gate import decide
from oracle.model import ModelArtifact

TOP_REASONS = 3


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    value: float
    contribution: float  # log-odds pushed towards fraud (negative: towards legitimate)
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score_bps: int  # legitimate-traffic quantile of the raw score, 0..10,000 (what goes on-chain)
    probability: float  # calibrated P(fraud), for people; not what the thresholds compare
    reasons: list[Reason]
    reasons_hash: str

    def reasons_dicts(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]


def canonical_reasons_json(reasons: Sequence[Reason | dict[str, Any]]) -> str:
    """Sorted keys, no spaces, ASCII: the exact bytes the reasons hash commits to."""
    items = [r.as_dict() if isinstance(r, Reason) else dict(r) for r in reasons]
    clean = [
        {
            "contribution": float(i["contribution"]),
            "feature": str(i["feature"]),
            "text": str(i["text"]),
            "value": float(i["value"]),
        }
        for i in items
    ]
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def reasons_hash(reasons: Sequence[Reason | dict[str, Any]]) -> str:
    """0x-hex keccak256 of the canonical reasons JSON (recompute it from stored reasons to verify)."""
    return "0x" + keccak(text=canonical_reasons_json(reasons)).hex()


# --- reasons in words -------------------------------------------------------------------------


def _money(x: float) -> str:
    return f"${x:,.2f}" if abs(x) < 1000 else f"${x:,.0f}"


def _count(x: float) -> str:
    return f"{int(round(x)):,}"


def _duration(secs: float) -> str:
    if secs < 120:
        return f"{int(secs)} seconds"
    if secs < 2 * 3600:
        return f"{secs / 60:.0f} minutes"
    if secs < 2 * 86400:
        return f"{secs / 3600:.1f} hours"
    return f"{secs / 86400:.0f} days"


def _days(d: float) -> str:
    return f"{d * 24:.0f} hours" if d < 2 else f"{d:,.0f} days"


def reason_text(feature: str, value: float, typical: float | None) -> str:
    """A plain-English sentence for one feature value; `typical` is its median on legitimate training rows."""
    t = typical
    usual = (lambda fmt: f" (usual: {fmt(t)})") if t is not None and math.isfinite(t) else (lambda fmt: "")
    v = value
    match feature:
        case "amount":
            return f"amount is {_money(v)}{usual(_money)}"
        case "log_amount":
            return f"amount is {_money(math.expm1(v))}" + (
                f" (usual: {_money(math.expm1(t))})" if t is not None else ""
            )
        case "payer_count_1h":
            return f"payer made {_count(v)} payments in the last hour{usual(_count)}"
        case "payer_sum_1h":
            return f"payer sent {_money(v)} in the last hour{usual(_money)}"
        case "payer_count_24h":
            return f"payer made {_count(v)} payments in the last day{usual(_count)}"
        case "payer_sum_24h":
            return f"payer sent {_money(v)} in the last day{usual(_money)}"
        case "secs_since_payer_last":
            if v >= SECS_SINCE_CAP:
                return "payer made no payment in the previous 30 days"
            return f"payer's previous payment was {_duration(v)} earlier{usual(_duration)}"
        case "pair_is_new":
            return (
                "first payment from this payer to this payee"
                if v >= 0.5
                else "payer has paid this payee before"
            )
        case "payee_fanin_24h":
            return f"payee received money from {_count(v)} different payers in the last day{usual(_count)}"
        case "amount_zscore_payer":
            side = "above" if v >= 0 else "below"
            return f"amount is {abs(v):.1f} standard deviations {side} this payer's usual amounts"
        case "hour_of_day":
            return f"sent at {int(v):02d}:00 UTC" + (f" (usual: {int(t):02d}:00)" if t is not None else "")
        case "token":
            return f"paid in {token_symbol(v)}"
        case "cross_border":
            return (
                "payer and payee are in different countries"
                if v >= 0.5
                else "payer and payee are not known to be in different countries"
            )
        case "account_age_days":
            return f"payer's account is {_days(v)} old{usual(_days)}"
        case "payer_txn_count":
            return f"payer has made {_count(v)} earlier payments{usual(_count)}"
        case "payee_age_days":
            return f"payee's account is {_days(v)} old{usual(_days)}"
        case "payer_recv_sum_24h":
            return f"payer received {_money(v)} in the last day{usual(_money)}"
        case "reverse_pair":
            return "payee has paid this payer before" if v >= 0.5 else "payee has never paid this payer"
        case _:
            return f"{feature} is {v:,.6g}" + (
                f" (usual: {t:,.6g})" if t is not None and math.isfinite(t) else ""
            )


class Scorer:
    """Scores FEATURES-ordered rows (or the artifact's own feature order) with reasons."""

    def __init__(self, artifact: ModelArtifact) -> None:
        self.artifact = artifact
        self.feature_names = list(artifact.feature_names)
        medians = artifact.metadata.get("feature_medians", {})
        self._typical = [medians.get(f) for f in self.feature_names]
        # A model trained on a subset of FEATURES still accepts full FEATURES rows from the daemon.
        if artifact.feature_set == "verdict" and self.feature_names != list(FEATURES):
            self._select: np.ndarray | None = np.array([FEATURES.index(f) for f in self.feature_names])
        else:
            self._select = None

    @property
    def model_id(self) -> str:
        return self.artifact.model_id

    def decide(self, score_bps: int) -> str:
        return decide(score_bps, self.artifact.review_threshold_bps, self.artifact.reject_threshold_bps)

    def _matrix(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            raise DataError("features must be a 2-D array")
        if self._select is not None and arr.shape[1] == len(FEATURES):
            arr = arr[:, self._select]
        if arr.shape[1] != len(self.feature_names):
            raise DataError(f"expected {len(self.feature_names)} features per row, got {arr.shape[1]}")
        if np.isinf(arr).any():
            raise DataError("features contain infinite values")
        return np.ascontiguousarray(arr)

    def score_one(self, features: dict[str, float] | np.ndarray) -> ScoreResult:
        if isinstance(features, dict):
            try:
                row = np.array([float(features[f]) for f in self.feature_names], dtype=np.float64)
            except KeyError as err:
                raise DataError(f"feature {err.args[0]!r} is missing") from err
        else:
            row = np.asarray(features, dtype=np.float64)
        return self.score_many(row.reshape(1, -1))[0]

    def score_many(self, X: np.ndarray) -> list[ScoreResult]:
        arr = self._matrix(X)
        if arr.shape[0] == 0:
            return []
        # One thread: OpenMP start-up and spinning cost more than they save on daemon-sized batches,
        # and slow everything down badly on a busy host.
        contrib = np.asarray(
            self.artifact.booster.predict(arr, pred_contrib=True, num_threads=1), dtype=np.float64
        )
        raw = contrib.sum(axis=1)
        cal = self.artifact.calibration
        bps = cal.score_bps(raw)
        prob = cal.probability(raw)
        per_feature = contrib[:, :-1]
        k = min(TOP_REASONS, per_feature.shape[1])
        # stable sort on the negated contributions: ties resolve by feature order, deterministically
        top = np.argsort(-per_feature, axis=1, kind="stable")[:, :k]
        out: list[ScoreResult] = []
        for i in range(arr.shape[0]):
            reasons = []
            for j in top[i]:
                name = self.feature_names[j]
                value = round(float(arr[i, j]), 6) if math.isfinite(arr[i, j]) else 0.0
                text = (
                    reason_text(name, value, self._typical[j])
                    if math.isfinite(arr[i, j])
                    else f"{name} is missing"
                )
                reasons.append(Reason(name, value, round(float(per_feature[i, j]), 6), text))
            p = float(prob[i])
            out.append(ScoreResult(int(bps[i]), p, reasons, reasons_hash(reasons)))
        return out
