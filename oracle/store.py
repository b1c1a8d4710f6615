"""The oracle's state in one database: the payment history and the verdict log side by side.

`Store` opens one database and offers both stores' methods, for the processes that use both (the
daemon, reports, the demo); code that needs only one takes a `HistoryStore` or a `VerdictLog`.
"""

from __future__ import annotations

from sqlalchemy import func, select

from oracle.db import PAYMENT_RECORD_COLUMNS, Database, chunks, payments, verdicts
from oracle.history import HistoryStore
from oracle.records import AccountStats, PaymentRecord
from oracle.verdicts import VerdictLog, VerdictRow, verdict_row

__all__ = ["AccountStats", "PaymentRecord", "Store", "VerdictRow"]


class Store(HistoryStore, VerdictLog):
    """History and verdict log over one database (one engine, one connection pool)."""

    def __init__(
        self,
        url: str,
        busy_timeout: float = 5.0,
        *,
        create: bool = True,
        cache_mb: int | None = None,
        background_checkpoints: bool = False,
    ) -> None:
        """busy_timeout: seconds a SQLite write waits for another writer before StoreError("locked").
        create=False (every reader but the daemon): the URL must name an existing Verdict store.
        cache_mb: SQLite's page cache (`Settings.store_cache_mb`; `oracle.db.DEFAULT_CACHE_MB`).
        background_checkpoints: SQLite's WAL copied back off the writer's path (`verdict run`)."""
        self._db = Database(
            url, busy_timeout, create=create, cache_mb=cache_mb, background_checkpoints=background_checkpoints
        )

    def latest_payment_time(self, prefix: str) -> int | None:
        """Block time of the newest payment whose key starts with `prefix`; None if there is none."""
        with self._db.tx("reading the latest payment time") as conn:
            latest = conn.execute(
                select(func.max(payments.c.timestamp)).where(payments.c.key.like(f"{prefix}%"))
            ).scalar()
        return None if latest is None else int(latest)

    def payments_with_verdicts(
        self, prefix: str, since: int, until: int
    ) -> list[tuple[PaymentRecord, VerdictRow | None]]:
        """Payments whose key starts with `prefix` (e.g. "router:") and whose timestamp is in
        [since, until], in time then arrival order, each with its verdict row if it has one. One
        read transaction, so the two sides are consistent (reports and the dashboard read these)."""
        ts = payments.c.timestamp
        q = (
            select(*PAYMENT_RECORD_COLUMNS)
            .where(payments.c.key.like(f"{prefix}%"), ts >= since, ts <= until)
            .order_by(ts, payments.c.id)
        )
        with self._db.tx("reading payments and their verdicts") as conn:
            pays = [PaymentRecord(*r) for r in conn.execute(q)]
            rows: dict[str, VerdictRow] = {}
            for chunk in chunks([p.key for p in pays]):
                for r in conn.execute(select(verdicts).where(verdicts.c.key.in_(chunk))):
                    rows[r.key] = verdict_row(r)
        return [(p, rows.get(p.key)) for p in pays]
