"""Scores with reasons where they are needed: the risk score in basis points, a decision, the
evidence hash, and for risky payments the top three contributions in words.

The score comes from the raw model output (log-odds) through the fastest predictor that agrees with
LightGBM (oracle.forest: a compiled forest, else LightGBM itself). The artifact's calibration turns
it into the on-chain score, its legitimate-traffic quantile in bps (9,900 = riskier than 99% of
legitimate payments), and into a calibrated fraud probability for people (oracle.calibration).

Reasons are LightGBM's per-feature contributions (TreeSHAP, `pred_contrib`), about 300 µs a row:
the daemon asks for them only from the router's review threshold up, where reviewers need them at
once. Every verdict instead commits on-chain (its `reasonsHash` field) to the evidence hash of the
model id and the exact feature vector (oracle.evidence), so `verdict explain` can recompute the
reasons of any verdict later and prove they belong to it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from eth_utils import keccak

from oracle.errors import DataError
from oracle.evidence import evidence_hashes
from oracle.features import FEATURES, SECS_SINCE_CAP, token_symbol
from oracle.forest import raw_predictor
from oracle.fx_features import FX_FEATURES, fx_reason_text
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
        # spelled out: dataclasses.asdict deep-copies field by field, a visible share per payment
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": self.contribution,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score_bps: int  # legitimate-traffic quantile of the raw score, 0..10,000 (what goes on-chain)
    probability: float  # calibrated P(fraud), for people; not what the thresholds compare
    reasons: list[Reason]  # empty when scored below the threshold reasons were asked from
    evidence_hash: str  # oracle.evidence: binds the model id and the exact feature vector

    @property
    def reasons_hash(self) -> str:
        """The evidence hash under the name of the on-chain field it fills (`reasonsHash`)."""
        return self.evidence_hash

    def reasons_dicts(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]


def canonical_reasons_json(reasons: Sequence[Reason | dict[str, Any]]) -> str:
    """Sorted keys, no spaces, ASCII: the bytes the legacy (pre-evidence) reasons hash committed to."""
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


def legacy_reasons_hash(reasons: Sequence[Reason | dict[str, Any]]) -> str:
    """0x-hex keccak256 of the canonical reasons JSON: what verdicts committed to before the evidence
    hash (version 1); `verdict explain` still recognises it on verdicts posted then."""
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
        case f if f in FX_FEATURES:
            return fx_reason_text(f, v)
        case _:
            return f"{feature} is {v:,.6g}" + (
                f" (usual: {t:,.6g})" if t is not None and math.isfinite(t) else ""
            )


class Scorer:
    """Scores FEATURES-ordered rows (or the artifact's own feature order); reasons where asked."""

    def __init__(self, artifact: ModelArtifact, compiled: bool = False) -> None:
        """compiled: score through the compiled forest once it is ready and agrees with LightGBM
        (oracle.forest; compiling takes seconds on a background thread, so long-running scorers,
        the daemon, ask for it; one-shot commands do not)."""
        self.artifact = artifact
        self.feature_names = list(artifact.feature_names)
        medians = artifact.metadata.get("feature_medians", {})
        self._typical = [medians.get(f) for f in self.feature_names]
        # A model trained on a subset of FEATURES still accepts full FEATURES rows from the daemon.
        if artifact.feature_set == "verdict" and self.feature_names != list(FEATURES):
            self._select: np.ndarray | None = np.array([FEATURES.index(f) for f in self.feature_names])
        else:
            self._select = None
        self._predictor = raw_predictor(artifact, compiled)
        self.reasons_cpu = 0.0  # CPU seconds of the calling threads in `reasons` (the daemon's stop line)

    @property
    def model_id(self) -> str:
        return self.artifact.model_id

    @property
    def predictor(self) -> str:
        """Which predictor gives the scores now: "lleaves" (compiled) or "lightgbm"."""
        return self._predictor.name

    def wait_compiled(self, timeout: float | None = None) -> bool:
        """Block until the compiled forest is ready or given up on (benchmarks, tests)."""
        return self._predictor.wait(timeout)

    def decide(self, score_bps: int) -> str:
        return decide(score_bps, self.artifact.review_threshold_bps, self.artifact.reject_threshold_bps)

    def model_matrix(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Rows in the model's own feature order, float64, checked: exactly what is scored and what
        the evidence hash commits to (and so what the store must keep)."""
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

    def score_many(self, X: np.ndarray, reasons_from_bps: int = 0) -> list[ScoreResult]:
        """Scores, evidence hashes, and reasons for the rows scoring `reasons_from_bps` or more
        (the daemon passes the router's review threshold; the default gives every row its reasons)."""
        arr = self.model_matrix(X)
        if arr.shape[0] == 0:
            return []
        raw = self._predictor.raw(arr)
        cal = self.artifact.calibration
        bps = cal.score_bps(raw)
        prob = cal.probability(raw)
        hashes = evidence_hashes(self.model_id, arr)
        need = np.flatnonzero(bps >= reasons_from_bps)
        reasons: dict[int, list[Reason]] = dict(zip(need.tolist(), self.reasons(arr[need]), strict=True))
        # plain Python numbers: indexing NumPy scalars row by row cost more than the model itself
        return [
            ScoreResult(b, p, reasons.get(i, []), h)
            for i, (b, p, h) in enumerate(zip(bps.tolist(), prob.tolist(), hashes, strict=True))
        ]

    def reasons(self, arr: np.ndarray) -> list[list[Reason]]:
        """The top three contributions of each row (model feature order), in words: TreeSHAP
        through LightGBM's `pred_contrib`, the slow part (about 300 µs a row)."""
        if arr.shape[0] == 0:
            return []
        began = time.thread_time()
        try:
            return self._reasons(arr)
        finally:
            self.reasons_cpu += time.thread_time() - began

    def _reasons(self, arr: np.ndarray) -> list[list[Reason]]:
        contrib = np.asarray(
            self.artifact.booster.predict(arr, pred_contrib=True, num_threads=1), dtype=np.float64
        )
        per_feature = contrib[:, :-1]
        k = min(TOP_REASONS, per_feature.shape[1])
        # stable sort on the negated contributions: ties resolve by feature order, deterministically
        top = np.argsort(-per_feature, axis=1, kind="stable")[:, :k]
        out: list[list[Reason]] = []
        for i in range(arr.shape[0]):
            row = []
            for j in top[i]:
                name = self.feature_names[j]
                finite = math.isfinite(arr[i, j])
                value = round(float(arr[i, j]), 6) if finite else 0.0
                text = reason_text(name, value, self._typical[j]) if finite else f"{name} is missing"
                row.append(Reason(name, value, round(float(per_feature[i, j]), 6), text))
            out.append(row)
        return out
