"""The oracle's state: payment history for live features, account profiles, checkpoints, verdict log.

SQLite by default (WAL mode, created on first use), PostgreSQL by URL. Only portable SQL is used;
the one dialect-specific construct is the upsert, which SQLite and PostgreSQL spell the same way
in SQLAlchemy (`INSERT ... ON CONFLICT`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import StaticPool

from oracle.errors import StoreError

# Schema definitions are immutable descriptions, not mutable state.
_META = MetaData()

payments = Table(
    "payments",
    _META,
    Column("id", Integer, primary_key=True, autoincrement=True),  # arrival order
    Column("key", String(200), nullable=False, unique=True),
    Column("payer", String(128), nullable=False, index=True),
    Column("payee", String(128), nullable=False, index=True),
    Column("token", String(32), nullable=False),
    Column("amount_usd", Double, nullable=False),
    Column("timestamp", BigInteger, nullable=False, index=True),
    Column("features", Text, nullable=True),  # features as computed at first sight (JSON)
)

accounts = Table(
    "accounts",
    _META,
    Column("address", String(128), primary_key=True),
    Column("country", String(8), nullable=True),
    Column("created_at", BigInteger, nullable=True),
)

account_stats = Table(
    "account_stats",
    _META,
    Column("address", String(128), primary_key=True),
    Column("first_seen", BigInteger, nullable=False),
    Column("n_paid", Integer, nullable=False),
    Column("sum_log", Double, nullable=False),
    Column("sumsq_log", Double, nullable=False),
    Column("last_paid", BigInteger, nullable=True),
)

pairs = Table(
    "pairs",
    _META,
    Column("payer", String(128), primary_key=True),
    Column("payee", String(128), primary_key=True),
    Column("first_ts", BigInteger, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    _META,
    Column("name", String(128), primary_key=True),
    Column("block", BigInteger, nullable=False),
)

verdicts = Table(
    "verdicts",
    _META,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("target", String(128), nullable=False),
    Column("item_id", String(80), nullable=False),  # uint256 ids do not fit a BIGINT
    Column("score_bps", Integer, nullable=False),
    Column("decision", String(16), nullable=False, index=True),
    Column("model_id", String(66), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("reasons_hash", String(66), nullable=False),
    Column("features", Text, nullable=False),
    Column("scored_at", Double, nullable=False),
    Column("tx_hash", String(66), nullable=True),
    Column("posted_at", Double, nullable=True),
    Column("final_status", String(32), nullable=True),
    Column("finalized_at", Double, nullable=True),
)

_CHUNK = 400  # stays under SQLite's bound-parameter limit for IN (...) lists


@dataclass(frozen=True, slots=True)
class AccountStats:
    """Running per-account aggregates behind the payer features (all-time, not windowed)."""

    address: str
    first_seen: int
    n_paid: int
    sum_log: float
    sumsq_log: float
    last_paid: int | None


@dataclass(frozen=True, slots=True)
class StoredPayment:
    key: str
    payer: str
    payee: str
    token: str
    amount_usd: float
    timestamp: int


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


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Store:
    """History, profiles, checkpoints and verdicts behind one SQLAlchemy engine."""

    def __init__(self, url: str, busy_timeout: float = 5.0) -> None:
        """busy_timeout: seconds a SQLite write waits for another writer before StoreError("locked")."""
        self._busy_timeout = float(busy_timeout)
        try:
            parsed = make_url(url)
        except sa_exc.ArgumentError as err:
            raise StoreError(f"store URL {url!r} is not a valid SQLAlchemy URL") from err
        self._label = parsed.render_as_string(hide_password=True)
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StoreError(f"store {self._label}: only sqlite and postgresql URLs are supported")
        self._dialect = backend
        try:
            self._engine = self._make_engine(url, parsed)
        except (sa_exc.ArgumentError, ImportError) as err:
            raise StoreError(f"store {self._label}: cannot create engine ({err})") from err
        with self._guard("open"):
            _META.create_all(self._engine)

    # --- plumbing ---------------------------------------------------------------------------

    def _make_engine(self, url: str, parsed: Any) -> Engine:
        if self._dialect != "sqlite":
            return create_engine(url, pool_pre_ping=True)
        database = parsed.database
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        if in_memory:
            # One shared connection, or each checkout would see its own empty database.
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"store {self._label}: cannot create its directory ({err})") from err
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": self._busy_timeout}
            )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets readers (explain, reports) run while the daemon writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            cur.close()

        return engine

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except sa_exc.DBAPIError as err:
            detail = (
                str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err) else type(err).__name__
            )
            raise StoreError(f"store {self._label}: {what} failed: {detail}") from err
        except sa_exc.SQLAlchemyError as err:
            raise StoreError(f"store {self._label}: {what} failed: {err}") from err

    @contextmanager
    def _tx(self, what: str) -> Iterator[Connection]:
        with self._guard(what), self._engine.begin() as conn:
            yield conn

    def _insert(self, table: Table) -> Any:
        mod = sqlite if self._dialect == "sqlite" else postgresql
        return mod.insert(table)

    def _upsert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
        if not rows:
            return
        stmt = self._insert(table)
        cols = [c for c in rows[0] if c not in keys]
        stmt = (
            stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols})
            if cols
            else stmt.on_conflict_do_nothing(index_elements=keys)
        )
        conn.execute(stmt, rows)

    def close(self) -> None:
        self._engine.dispose()

    @property
    def label(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return self._label

    # --- account profiles (off-chain KYC) -----------------------------------------------------

    def upsert_account(self, address: str, country: str | None, created_at: int | None) -> None:
        self.upsert_accounts([(address, country, created_at)])

    def upsert_accounts(self, rows: Iterable[tuple[str, str | None, int | None]]) -> None:
        data = [
            {
                "address": a,
                "country": (c.strip().upper() or None) if isinstance(c, str) else None,
                "created_at": int(t) if t is not None else None,
            }
            for a, c, t in rows
        ]
        with self._tx("saving account profiles") as conn:
            for chunk in _chunks(data):
                self._upsert(conn, accounts, list(chunk), ["address"])

    def account_profiles(self, addresses: Sequence[str]) -> dict[str, tuple[str | None, int | None]]:
        out: dict[str, tuple[str | None, int | None]] = {}
        uniq = list(dict.fromkeys(addresses))
        with self._tx("reading account profiles") as conn:
            for chunk in _chunks(uniq):
                q = select(accounts.c.address, accounts.c.country, accounts.c.created_at).where(
                    accounts.c.address.in_(chunk)
                )
                for a, c, t in conn.execute(q):
                    out[a] = (c, t)
        return out

    # --- payment history ---------------------------------------------------------------------

    def known_payments(self, keys: Sequence[str]) -> dict[str, dict[str, float] | None]:
        """Features recorded for payments already in the history (None if none were recorded)."""
        out: dict[str, dict[str, float] | None] = {}
        uniq = list(dict.fromkeys(keys))
        with self._tx("reading payment history") as conn:
            for chunk in _chunks(uniq):
                q = select(payments.c.key, payments.c.features).where(payments.c.key.in_(chunk))
                for k, f in conn.execute(q):
                    out[k] = json.loads(f) if f else None
        return out

    def account_stats(self, addresses: Sequence[str]) -> dict[str, AccountStats]:
        out: dict[str, AccountStats] = {}
        uniq = list(dict.fromkeys(addresses))
        with self._tx("reading account stats") as conn:
            for chunk in _chunks(uniq):
                q = select(account_stats).where(account_stats.c.address.in_(chunk))
                for r in conn.execute(q):
                    out[r.address] = AccountStats(
                        r.address, r.first_seen, r.n_paid, r.sum_log, r.sumsq_log, r.last_paid
                    )
        return out

    def payees_of(self, payers: Sequence[str]) -> dict[str, set[str]]:
        """Every payee each payer has ever paid (pair novelty)."""
        out: dict[str, set[str]] = {p: set() for p in payers}
        uniq = list(dict.fromkeys(payers))
        with self._tx("reading payment pairs") as conn:
            for chunk in _chunks(uniq):
                q = select(pairs.c.payer, pairs.c.payee).where(pairs.c.payer.in_(chunk))
                for a, b in conn.execute(q):
                    out[a].add(b)
        return out

    def recent_payments(self, addresses: Sequence[str], since: int) -> list[StoredPayment]:
        """Payments sent or received by any of `addresses` with timestamp > since, in arrival order."""
        seen: dict[int, StoredPayment] = {}
        uniq = list(dict.fromkeys(addresses))
        cols = (
            payments.c.id,
            payments.c.key,
            payments.c.payer,
            payments.c.payee,
            payments.c.token,
            payments.c.amount_usd,
            payments.c.timestamp,
        )
        with self._tx("reading recent payments") as conn:
            for chunk in _chunks(uniq):
                for col in (payments.c.payer, payments.c.payee):
                    q = select(*cols).where(col.in_(chunk), payments.c.timestamp > since)
                    for r in conn.execute(q):
                        seen[r.id] = StoredPayment(
                            r.key, r.payer, r.payee, r.token, r.amount_usd, r.timestamp
                        )
        return [seen[i] for i in sorted(seen)]

    def record_payments(
        self,
        rows: Sequence[tuple[StoredPayment, dict[str, float] | None]],
        stats: Sequence[AccountStats],
        new_pairs: Sequence[tuple[str, str, int]],
    ) -> None:
        """Append payments to the history with their features and the updated aggregates, atomically.

        A payment key already present is left as it is (re-observing is a no-op).
        """
        pay_rows = [
            {
                "key": p.key,
                "payer": p.payer,
                "payee": p.payee,
                "token": p.token,
                "amount_usd": float(p.amount_usd),
                "timestamp": int(p.timestamp),
                "features": json.dumps(f, sort_keys=True) if f is not None else None,
            }
            for p, f in rows
        ]
        stat_rows = [
            {
                "address": s.address,
                "first_seen": s.first_seen,
                "n_paid": s.n_paid,
                "sum_log": s.sum_log,
                "sumsq_log": s.sumsq_log,
                "last_paid": s.last_paid,
            }
            for s in stats
        ]
        pair_rows = [{"payer": a, "payee": b, "first_ts": t} for a, b, t in new_pairs]
        with self._tx("saving payment history") as conn:
            if pay_rows:
                conn.execute(self._insert(payments).on_conflict_do_nothing(index_elements=["key"]), pay_rows)
            for chunk in _chunks(stat_rows):
                self._upsert(conn, account_stats, list(chunk), ["address"])
            if pair_rows:
                conn.execute(
                    self._insert(pairs).on_conflict_do_nothing(index_elements=["payer", "payee"]), pair_rows
                )

    def payments_with_verdicts(
        self, prefix: str, since: int, until: int
    ) -> list[tuple[StoredPayment, VerdictRow | None]]:
        """Payments whose key starts with `prefix` (e.g. "router:") and whose timestamp is in
        [since, until], in time then arrival order, each with its verdict row if it has one. One
        read transaction, so the two sides are consistent (reports and the dashboard read these)."""
        cols = (
            payments.c.key,
            payments.c.payer,
            payments.c.payee,
            payments.c.token,
            payments.c.amount_usd,
            payments.c.timestamp,
        )
        ts = payments.c.timestamp
        q = (
            select(*cols)
            .where(payments.c.key.like(f"{prefix}%"), ts >= since, ts <= until)
            .order_by(ts, payments.c.id)
        )
        with self._tx("reading payments and their verdicts") as conn:
            pays = [StoredPayment(*r) for r in conn.execute(q)]
            rows: dict[str, VerdictRow] = {}
            for chunk in _chunks([p.key for p in pays]):
                for r in conn.execute(select(verdicts).where(verdicts.c.key.in_(chunk))):
                    rows[r.key] = _verdict(r)
        return [(p, rows.get(p.key)) for p in pays]

    def payment_count(self) -> int:
        with self._tx("counting payments") as conn:
            return int(conn.execute(select(func.count()).select_from(payments)).scalar_one())

    # --- checkpoints -------------------------------------------------------------------------

    def get_checkpoint(self, name: str) -> int | None:
        with self._tx("reading checkpoint") as conn:
            row = conn.execute(select(checkpoints.c.block).where(checkpoints.c.name == name)).first()
        return int(row[0]) if row else None

    def set_checkpoint(self, name: str, block: int) -> None:
        with self._tx("saving checkpoint") as conn:
            self._upsert(conn, checkpoints, [{"name": name, "block": int(block)}], ["name"])

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
            {
                **item,
                "item_id": str(item["item_id"]),
                "score_bps": int(item["score_bps"]),
                "reasons": json.dumps(item["reasons"], sort_keys=True),
                "features": json.dumps(item["features"], sort_keys=True),
                "scored_at": now,
            }
            for item in items
        ]
        with self._tx("logging verdicts") as conn:
            # Which are new is read inside the same write transaction (SQLite serialises writers;
            # PostgreSQL's ON CONFLICT still keeps a racing duplicate out), so rowcount is not needed
            # (psycopg reports -1 for executemany).
            present: set[str] = set()
            keys = [r["key"] for r in rows]
            for chunk in _chunks(keys):
                present.update(conn.execute(select(verdicts.c.key).where(verdicts.c.key.in_(chunk))).scalars())
            fresh = []
            for row in rows:
                if row["key"] not in present:
                    present.add(row["key"])  # a key twice in one batch: the first one counts
                    fresh.append(row)
            if fresh:
                conn.execute(self._insert(verdicts).on_conflict_do_nothing(index_elements=["key"]), fresh)
        return len(fresh)

    def mark_posted(self, keys: Sequence[str], tx_hash: str) -> None:
        now = time.time()
        with self._tx("marking verdicts posted") as conn:
            for chunk in _chunks(list(keys)):
                conn.execute(
                    update(verdicts).where(verdicts.c.key.in_(chunk)).values(tx_hash=tx_hash, posted_at=now)
                )

    def reopen(self, keys: Sequence[str]) -> None:
        """Back to scored-but-unposted: their verdict transaction was dropped by a reorganisation."""
        with self._tx("reopening verdicts") as conn:
            for chunk in _chunks(list(keys)):
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
        stmt = (
            update(verdicts)
            .where(verdicts.c.key == bindparam("k"))
            .values(final_status=bindparam("s"), finalized_at=bindparam("t"))
        )
        with self._tx("marking verdicts final") as conn:
            conn.execute(stmt, [{"k": k, "s": v, "t": now} for k, v in statuses.items()])

    def mark_final(self, key: str, status: str) -> None:
        with self._tx("marking a verdict final") as conn:
            conn.execute(
                update(verdicts)
                .where(verdicts.c.key == key)
                .values(final_status=status, finalized_at=time.time())
            )

    def unposted(self) -> list[VerdictRow]:
        """Scored verdicts not yet posted and not final, oldest first."""
        return self.verdict_rows(posted=False, final=False)

    def scored_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are already in the verdict log (one query per few hundred keys)."""
        found: set[str] = set()
        if not keys:
            return found
        with self._tx("reading verdict keys") as conn:
            for chunk in _chunks(list(keys)):
                found.update(conn.execute(select(verdicts.c.key).where(verdicts.c.key.in_(chunk))).scalars())
        return found

    def scored(self, key: str) -> VerdictRow | None:
        with self._tx("reading a verdict") as conn:
            row = conn.execute(select(verdicts).where(verdicts.c.key == key)).first()
        return _verdict(row) if row else None

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
        with self._tx("reading verdicts") as conn:
            return [_verdict(r) for r in conn.execute(q)]


def _verdict(r: Any) -> VerdictRow:
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
    )
