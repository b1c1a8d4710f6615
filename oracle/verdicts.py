"""The verdict log: every payment this node scored, and what became of its verdict; and the
read checkpoints. The daemon is its only writer; reports, `verdict explain` and the dashboard read it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from oracle.db import OverDatabase, checkpoints, chunks, dumps_sorted, parked, verdicts


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One scored payment in the verdict log."""

    key: str
    target: str
    item_id: str
    score_bps: int
    decision: str
    model_id: str
    reasons: list[dict[str, Any]]
    reasons_hash: str
    features: dict[str, float]
    scored_at: float
    tx_hash: str | None
    posted_at: float | None
    final_status: str | None
    finalized_at: float | None
    probability: float | None = None  # calibrated fraud probability; None when scored before it was kept


_SCORED_COLUMNS = (
    "key",
    "target",
    "item_id",
    "score_bps",
    "decision",
    "model_id",
    "reasons",
    "reasons_hash",
    "features",
    "scored_at",
    "probability",
)
"""The columns `record_scored_many` writes, in its tuples' order."""


class VerdictLog(OverDatabase):
    """Scored verdicts, their posting and final status, and named read checkpoints."""

    # --- checkpoints -------------------------------------------------------------------------

    def get_checkpoint(self, name: str) -> int | None:
        with self._db.tx("reading checkpoint") as conn:
            row = conn.execute(select(checkpoints.c.block).where(checkpoints.c.name == name)).first()
        return int(row[0]) if row else None

    def set_checkpoint(self, name: str, block: int) -> None:
        db = self._db
        with db.tx("saving checkpoint") as conn:
            sql = db.driver_insert(checkpoints, ("name", "block"), ("name",), True)
            db.run_many(conn, sql, [(name, int(block))])

    # --- verdict log -------------------------------------------------------------------------

    def record_scored(
        self,
        key: str,
        target: str,
        item_id: int | str,
        score_bps: int,
        decision: str,
        model_id: str,
        reasons: list[dict[str, Any]],
        reasons_hash: str,
        features: dict[str, float],
        probability: float | None = None,
    ) -> bool:
        """Log a scored payment once; returns False if `key` was already logged (kept unchanged)."""
        return bool(
            self.record_scored_many(
                [
                    {
                        "key": key,
                        "target": target,
                        "item_id": item_id,
                        "score_bps": score_bps,
                        "decision": decision,
                        "model_id": model_id,
                        "reasons": reasons,
                        "reasons_hash": reasons_hash,
                        "features": features,
                        "probability": probability,
                    }
                ]
            )
        )

    def record_scored_many(self, items: Sequence[dict[str, Any]]) -> int:
        """`record_scored` for a batch in one transaction and one multi-row insert (a commit per row
        was a sixth of the daemon's time under load); returns how many were new."""
        if not items:
            return 0
        now = time.time()
        rows = [
            (
                item["key"],
                item["target"],
                str(item["item_id"]),
                int(item["score_bps"]),
                item["decision"],
                item["model_id"],
                dumps_sorted(item["reasons"]) if item["reasons"] else "[]",
                item["reasons_hash"],
                # the scoring stage passes the JSON it already made for the history row (the same bytes)
                item.get("features_json") or dumps_sorted(item["features"]),
                now,
                None if item.get("probability") is None else float(item["probability"]),
            )
            for item in items
        ]
        db = self._db
        with db.tx("logging verdicts") as conn:
            # Which are new is read inside the same write transaction (SQLite serialises writers;
            # PostgreSQL's ON CONFLICT still keeps a racing duplicate out), so rowcount is not needed
            # (psycopg reports -1 for executemany).
            present = {k for (k,) in db.select_in(conn, verdicts, ("key",), "key", [r[0] for r in rows])}
            fresh = []
            for row in rows:
                if row[0] not in present:
                    present.add(row[0])  # a key twice in one batch: the first one counts
                    fresh.append(row)
            db.run_many(conn, db.driver_insert(verdicts, _SCORED_COLUMNS, ("key",), False), fresh)
        return len(fresh)

    def mark_posted(self, keys: Sequence[str], tx_hash: str) -> None:
        now = time.time()
        db = self._db
        with db.tx("marking verdicts posted") as conn:
            sql = db.driver_update(verdicts, ("tx_hash", "posted_at"), "key")
            db.run_many(conn, sql, [(tx_hash, now, k) for k in dict.fromkeys(keys)])

    def reopen(self, keys: Sequence[str]) -> None:
        """Back to scored-but-unposted: their verdict transaction was dropped by a reorganisation."""
        with self._db.tx("reopening verdicts") as conn:
            for chunk in chunks(list(keys)):
                conn.execute(
                    update(verdicts)
                    .where(verdicts.c.key.in_(chunk))
                    .values(tx_hash=None, posted_at=None, final_status=None, finalized_at=None)
                )

    def mark_final_many(self, statuses: dict[str, str]) -> None:
        """`mark_final` for many keys in one transaction (one executemany)."""
        if not statuses:
            return
        now = time.time()
        db = self._db
        with db.tx("marking verdicts final") as conn:
            sql = db.driver_update(verdicts, ("final_status", "finalized_at"), "key")
            db.run_many(conn, sql, [(v, now, k) for k, v in statuses.items()])

    def mark_final(self, key: str, status: str) -> None:
        with self._db.tx("marking a verdict final") as conn:
            conn.execute(
                update(verdicts)
                .where(verdicts.c.key == key)
                .values(final_status=status, finalized_at=time.time())
            )

    def mark_parked(self, reasons: dict[str, str]) -> None:
        """Final status "parked" for each key, with the decoded reason the chain refused it for
        (split and park, issue 13). A parked verdict is never sent again by the daemon."""
        if not reasons:
            return
        now = time.time()
        stmt = (
            update(verdicts)
            .where(verdicts.c.key == bindparam("k"))
            .values(final_status="parked", finalized_at=bindparam("t"))
        )
        with self._db.tx("parking verdicts") as conn:
            conn.execute(stmt, [{"k": k, "t": now} for k in reasons])
            self._db.upsert(
                conn,
                parked,
                [{"key": k, "reason": r[:2000], "parked_at": now} for k, r in reasons.items()],
                ["key"],
            )

    def parked_reason(self, key: str) -> str | None:
        """Why the node parked the verdict of `key` (the decoded revert), or None if it was not parked."""
        with self._db.tx("reading a parked verdict") as conn:
            reason = conn.execute(select(parked.c.reason).where(parked.c.key == key)).scalar_one_or_none()
        return None if reason is None else str(reason)

    def parked_items(self, limit: int = 500) -> list[dict[str, Any]]:
        """Parked verdicts, newest first: key, target, item id, score, reason, parked_at."""
        q = (
            select(
                verdicts.c.key,
                verdicts.c.target,
                verdicts.c.item_id,
                verdicts.c.score_bps,
                verdicts.c.decision,
                parked.c.reason,
                parked.c.parked_at,
            )
            .join(parked, parked.c.key == verdicts.c.key)
            .where(verdicts.c.final_status == "parked")
            .order_by(parked.c.parked_at.desc())
            .limit(limit)
        )
        with self._db.tx("reading parked verdicts") as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def unposted(self) -> list[VerdictRow]:
        """Scored verdicts not yet posted and not final, oldest first."""
        return self.verdict_rows(posted=False, final=False)

    def scored_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are already in the verdict log (one query per few hundred keys)."""
        found: set[str] = set()
        if not keys:
            return found
        with self._db.tx("reading verdict keys") as conn:
            found.update(k for (k,) in self._db.select_in(conn, verdicts, ("key",), "key", list(keys)))
        return found

    def scored(self, key: str) -> VerdictRow | None:
        with self._db.tx("reading a verdict") as conn:
            row = conn.execute(select(verdicts).where(verdicts.c.key == key)).first()
        return verdict_row(row) if row else None

    def scored_many(self, keys: Sequence[str]) -> dict[str, VerdictRow]:
        """`scored` for many keys at once (one query per few hundred keys); absent keys are left out."""
        out: dict[str, VerdictRow] = {}
        with self._db.tx("reading verdicts") as conn:
            for chunk in chunks(list(dict.fromkeys(keys))):
                for r in conn.execute(select(verdicts).where(verdicts.c.key.in_(chunk))):
                    out[r.key] = verdict_row(r)
        return out

    def verdict_rows(
        self,
        decision: str | None = None,
        posted: bool | None = None,
        final: bool | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[VerdictRow]:
        """Verdicts filtered by decision / posted / final, in scoring order (or newest first)."""
        q = select(verdicts)
        if decision is not None:
            q = q.where(verdicts.c.decision == decision)
        if posted is not None:
            q = q.where(verdicts.c.tx_hash.is_not(None) if posted else verdicts.c.tx_hash.is_(None))
        if final is not None:
            q = q.where(verdicts.c.final_status.is_not(None) if final else verdicts.c.final_status.is_(None))
        q = q.order_by(verdicts.c.seq.desc() if newest_first else verdicts.c.seq)
        if limit is not None:
            q = q.limit(limit)
        with self._db.tx("reading verdicts") as conn:
            return [verdict_row(r) for r in conn.execute(q)]


def verdict_row(r: Any) -> VerdictRow:
    return VerdictRow(
        key=r.key,
        target=r.target,
        item_id=r.item_id,
        score_bps=r.score_bps,
        decision=r.decision,
        model_id=r.model_id,
        reasons=json.loads(r.reasons),
        reasons_hash=r.reasons_hash,
        features=json.loads(r.features),
        scored_at=r.scored_at,
        tx_hash=r.tx_hash,
        posted_at=r.posted_at,
        final_status=r.final_status,
        finalized_at=r.finalized_at,
        probability=getattr(r, "probability", None),
    )
