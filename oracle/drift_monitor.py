"""Live drift: the node's recent scores and features against the model's training reference.

The reference (histograms of the calibration split, `oracle.drift.build_reference`) travels in the
artifact's metadata.json as `drift_reference`. The daemon feeds every scored row here; at most every
`interval` seconds the monitor computes the population stability index of the score and of each
feature over the last `window` rows, exports them as Prometheus gauges and logs a warning for each
one past the reference's limit (0.2). The dashboard's model card computes the same report from the
verdict log (`drift_of_rows`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import structlog

from oracle.drift import WARN_PSI, drift_report
from oracle.metrics import Metrics
from oracle.verdicts import VerdictRow

log = structlog.get_logger("verdict.drift")

MIN_ROWS = 200  # fewer rows than this say more about sampling noise than about drift


def drift_of_rows(reference: dict[str, Any] | None, rows: Sequence[VerdictRow]) -> dict[str, Any] | None:
    """PSI report (oracle.drift.drift_report) of verdict rows against a reference; None without one."""
    if not reference or not rows:
        return None
    features = pd.DataFrame([r.features for r in rows])
    scores = np.array([r.score_bps for r in rows], dtype=np.float64)
    return drift_report(reference, features, scores)


class DriftMonitor:
    """PSI gauges of the recent window of scored rows; one per model (reset when the model changes)."""

    def __init__(
        self, metrics: Metrics, window: int = 2_000, interval: float = 60.0, min_rows: int = MIN_ROWS
    ) -> None:
        self._metrics = metrics
        self._rows: deque[VerdictRow] = deque(maxlen=window)
        self._interval = float(interval)
        self._min_rows = int(min_rows)
        self._model_id: str | None = None
        self._last: float | None = None
        self._warned: set[str] = set()
        self.last_report: dict[str, Any] | None = None

    def observe(self, model_id: str, rows: Iterable[VerdictRow]) -> None:
        if model_id != self._model_id:
            self._rows.clear()
            self._model_id, self._last, self._warned, self.last_report = model_id, None, set(), None
        self._rows.extend(rows)

    def maybe_report(self, reference: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
        """Recompute the gauges if `interval` has passed and the window holds enough rows."""
        if not reference or len(self._rows) < self._min_rows:
            return None
        if self._last is not None and now - self._last < self._interval:
            return None
        self._last = now
        report = drift_of_rows(reference, list(self._rows))
        if report is None:
            return None
        self.last_report = report
        limit = float(reference.get("warn_psi", WARN_PSI))
        self._metrics.drift_rows.set(report["rows"])
        series = {"score": report["score"], **report["features"]}
        for name, value in series.items():
            if value is None or not math.isfinite(value):
                continue
            self._metrics.drift_psi.labels(name).set(value)
            if value > limit and name not in self._warned:
                log.warning(
                    "drift: population stability index past the limit",
                    series=name,
                    psi=round(value, 3),
                    limit=limit,
                    rows=report["rows"],
                    model_id=self._model_id,
                )
                self._warned.add(name)
            elif value <= limit:
                self._warned.discard(name)
        return report
