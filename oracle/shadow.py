"""Champion-challenger: a candidate model scores every payment beside the approved one, off the
verdict path (`verdict run --shadow DIR`, or `VERDICT_SHADOW_MODEL_DIR`).

The scoring stage hands each batch's feature rows to a `ShadowScorer` after the champion's
verdicts are logged, without waiting: a bounded queue and one worker thread score them with the
challenger under the same router thresholds and write its would-be score, probability, decision and
scoring time to the `shadow_verdicts` table (`ShadowLog`). A challenger that raises is logged and
counted (`verdict_errors{kind="shadow"}`); one that is slow only fills its queue, and batches that
do not fit are dropped and counted the same way. Nothing here is ever posted; `verdict compare`
(oracle.compare) reads the table beside the verdict log.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import structlog
from sqlalchemy import func, select

from oracle.config import Settings
from oracle.db import Database, OverDatabase, chunks, shadow_verdicts
from oracle.errors import ConfigError, ModelError
from oracle.gate import decide
from oracle.metrics import Metrics
from oracle.model import ModelArtifact, load
from oracle.scoring import Scorer, ScoreResult

log = structlog.get_logger("verdict.shadow")

QUEUE_BATCHES = 64  # batches waiting for the challenger before new ones are dropped (and counted)
NO_REASONS = 10_001  # above any score: the challenger's reasons are never needed


@dataclass(frozen=True, slots=True)
class ShadowRow:
    """The challenger's would-be verdict on one payment (a row of `shadow_verdicts`)."""

    key: str
    model_id: str
    champion_model_id: str
    score_bps: int
    probability: float
    decision: str
    review_bps: int
    reject_bps: int
    latency_ms: float
    champion_latency_ms: float
    scored_at: float


class ShadowLog(OverDatabase):
    """The `shadow_verdicts` table: written by the shadow worker, read by `verdict compare`."""

    def __init__(self, db: Database | str, *, create: bool = True) -> None:
        super().__init__(db if isinstance(db, Database) else Database(db, create=create))

    def record_many(self, rows: Sequence[ShadowRow]) -> None:
        """Stores rows once per key (a payment scored again after a restart keeps its first row)."""
        if not rows:
            return
        values = [{f: getattr(r, f) for f in ShadowRow.__slots__} for r in rows]
        with self._db.tx("logging shadow verdicts") as conn:
            conn.execute(
                self._db.insert(shadow_verdicts).on_conflict_do_nothing(index_elements=["key"]), values
            )

    def rows_for(self, keys: Sequence[str]) -> dict[str, ShadowRow]:
        out: dict[str, ShadowRow] = {}
        with self._db.tx("reading shadow verdicts") as conn:
            for chunk in chunks(list(keys)):
                for r in conn.execute(select(shadow_verdicts).where(shadow_verdicts.c.key.in_(chunk))):
                    out[r.key] = ShadowRow(**{f: getattr(r, f) for f in ShadowRow.__slots__})
        return out

    def count(self) -> int:
        with self._db.tx("counting shadow verdicts") as conn:
            return int(conn.execute(select(func.count()).select_from(shadow_verdicts)).scalar() or 0)


class ChallengerScorer(Protocol):
    """What the worker needs of a scorer (`oracle.scoring.Scorer` is one)."""

    @property
    def model_id(self) -> str: ...

    def score_many(self, X: np.ndarray, reasons_from_bps: int = 0) -> list[ScoreResult]: ...


@dataclass(frozen=True, slots=True)
class ShadowBatch:
    """One scored batch as the champion saw it: keys, FEATURES-ordered rows, the thresholds."""

    keys: list[str]
    features: np.ndarray
    thresholds: tuple[int, int]
    champion_model_id: str
    champion_latency_ms: float  # per payment


def load_challenger(directory: Path) -> ModelArtifact:
    """The challenger's artifact, or a ConfigError of one line: a challenger that cannot score is
    refused at start, never discovered payment by payment."""
    try:
        artifact = load(directory)
    except ModelError as exc:
        raise ConfigError(f"shadow model (--shadow / VERDICT_SHADOW_MODEL_DIR): {exc}") from None
    if artifact.feature_set != "verdict":
        raise ConfigError(
            f"shadow model {directory}: it was trained on a generic table ({len(artifact.feature_names)} "
            "columns), not on payments; a challenger must score the payments the node sees"
        )
    return artifact


class ShadowScorer:
    """Scores the champion's batches with the challenger on a thread of its own."""

    def __init__(
        self,
        scorer: ChallengerScorer,
        shadow_log: ShadowLog,
        metrics: Metrics,
        queue_batches: int = QUEUE_BATCHES,
    ) -> None:
        self._scorer = scorer
        self._log = shadow_log
        self._metrics = metrics
        self._queue: queue.Queue[ShadowBatch | None] = queue.Queue(maxsize=queue_batches)
        self.scored = 0
        self.failed = 0  # payments whose challenger scoring or storing raised
        self.dropped = 0  # payments not scored because the challenger had fallen behind
        self._thread = threading.Thread(target=self._work, name="verdict-shadow", daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> ShadowScorer | None:
        """The challenger of `settings.shadow_model_dir`, or None when none is set."""
        if settings.shadow_model_dir is None:
            return None
        artifact = load_challenger(Path(settings.shadow_model_dir))
        shadow = cls(Scorer(artifact), ShadowLog(settings.store_url), metrics)
        log.info(
            "shadow model loaded: scoring every payment beside the approved model, posting nothing",
            model_id=artifact.model_id,
            model_dir=str(settings.shadow_model_dir),
        )
        return shadow

    @property
    def model_id(self) -> str:
        return self._scorer.model_id

    def submit(self, batch: ShadowBatch) -> None:
        """Queues a batch and returns at once; never raises (the champion's verdicts come first)."""
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.dropped += len(batch.keys)
            self._metrics.errors.labels("shadow").inc(len(batch.keys))
            log.warning(
                "shadow model behind, batch not scored",
                payments=len(batch.keys),
                dropped=self.dropped,
                model_id=self.model_id,
            )

    def close(self, timeout: float | None = None) -> None:
        """Scores what is queued, then stops the worker (tests; the daemon's thread dies with it)."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        while (batch := self._queue.get()) is not None:
            try:
                self._log.record_many(self._score(batch))
                self.scored += len(batch.keys)
            except Exception as exc:  # a challenger's failure is its own, never the node's
                self.failed += len(batch.keys)
                self._metrics.errors.labels("shadow").inc(len(batch.keys))
                log.error(
                    "shadow model failed on a batch, champion verdicts unaffected",
                    error=f"{type(exc).__name__}: {exc}",
                    payments=len(batch.keys),
                    failed=self.failed,
                    model_id=self.model_id,
                )

    def _score(self, batch: ShadowBatch) -> list[ShadowRow]:
        review, reject = batch.thresholds
        began = time.perf_counter()
        results = self._scorer.score_many(batch.features, reasons_from_bps=NO_REASONS)
        per_row = (time.perf_counter() - began) * 1000 / max(1, len(batch.keys))
        now = time.time()
        return [
            ShadowRow(
                key=key,
                model_id=self.model_id,
                champion_model_id=batch.champion_model_id,
                score_bps=int(r.score_bps),
                probability=float(r.probability),
                decision=decide(int(r.score_bps), review, reject),
                review_bps=int(review),
                reject_bps=int(reject),
                latency_ms=per_row,
                champion_latency_ms=batch.champion_latency_ms,
                scored_at=now,
            )
            for key, r in zip(batch.keys, results, strict=True)
        ]
