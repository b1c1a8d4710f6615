"""The one database layer under the history store and the verdict log: schema, engine, transactions.

SQLite by default (WAL mode, created on first use by the daemon), PostgreSQL by URL. Readers
(reports, explain, the dashboard) open with `create=False`: a URL that names no existing Verdict
store is then a StoreError, never a new empty database. Only portable SQL is used;
the one dialect-specific construct is the upsert, which SQLite and PostgreSQL spell the same way
in SQLAlchemy (`INSERT ... ON CONFLICT`). The schema is the one earlier versions created, so an
existing database opens as it is.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import StaticPool

from oracle.errors import StoreError
from oracle.records import dumps_sorted as dumps_sorted  # the stores' encoder, re-exported

log = structlog.get_logger("verdict.store")

# Schema definitions are immutable descriptions, not mutable state.
_META = MetaData()

payments = Table(
    "payments",
    _META,
    Column("id", Integer, primary_key=True, autoincrement=True),  # arrival order
    Column("key", String(200), nullable=False, unique=True),
    # payer and payee: searched by the (payer, timestamp) and (payee, timestamp) indexes below, whose
    # first column serves every lookup by the account alone (`_REDUNDANT_INDEXES`)
    Column("payer", String(128), nullable=False),
    Column("payee", String(128), nullable=False),
    Column("token", String(32), nullable=False),
    Column("amount_usd", Double, nullable=False),
    Column("timestamp", BigInteger, nullable=False, index=True),
    Column("features", Text, nullable=True),  # features as computed at first sight (JSON)
    # what the payee receives when it differs from `token` (a cross-border conversion), else NULL
    Column("token_out", String(32), nullable=True),
)


# The history's window reads (`HistoryStore.recent_payments`: an account's payments since a time)
# search these instead of scanning the account's whole history or the whole window (issue 16).
Index("ix_payments_payer_timestamp", payments.c.payer, payments.c.timestamp)
Index("ix_payments_payee_timestamp", payments.c.payee, payments.c.timestamp)

_REDUNDANT_INDEXES = ("ix_payments_payer", "ix_payments_payee")
"""Single-column indexes earlier versions made on `payments`, each the prefix of a composite one
above: every query they served (an account's payments, with or without a time bound or an order by
time) uses the composite instead. Each cost a B-tree insert on a random page per payment (issue 16),
so the daemon drops them from an older store when it opens it."""

PAYMENT_RECORD_COLUMNS = tuple(
    payments.c[name] for name in ("key", "payer", "payee", "token", "amount_usd", "timestamp", "token_out")
)
"""The columns of a `PaymentRecord`, in its field order."""

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
    # calibrated fraud probability beside the score (oracle.calibration); NULL in older databases
    Column("probability", Double, nullable=True),
)

parked = Table(
    "parked",
    _META,
    # Verdicts the chain refuses on their own (issue 13, split and park): final status "parked" in
    # `verdicts`, the decoded reason here (a table of its own: older stores gain it on open).
    Column("key", String(200), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("parked_at", Double, nullable=False),
)

shadow_verdicts = Table(
    "shadow_verdicts",
    _META,
    # The challenger's would-be verdict on a payment the champion scored (`verdict run --shadow`,
    # oracle.shadow): never posted; `verdict compare` joins it to `verdicts` by key.
    Column("key", String(200), primary_key=True),
    Column("model_id", String(66), nullable=False, index=True),  # the challenger's
    Column("champion_model_id", String(66), nullable=False),
    Column("score_bps", Integer, nullable=False),
    Column("probability", Double, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("review_bps", Integer, nullable=False),  # the router's thresholds both were decided under
    Column("reject_bps", Integer, nullable=False),
    Column("latency_ms", Double, nullable=False),  # challenger scoring time per payment (batch / size)
    Column("champion_latency_ms", Double, nullable=False),  # the champion's, measured the same way
    Column("scored_at", Double, nullable=False),
)

relay_items = Table(
    "relay_items",
    _META,
    # `verdict relay`'s queue (oracle.relay.queue): a signed vote or delegation from acceptance to its
    # outcome, so a restart neither loses one nor submits one twice. While "submitted", the signed
    # relay transaction itself (raw_tx, tx_nonce) is kept: a restart re-sends exactly it.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("signer", String(64), nullable=False),
    Column("nonce", String(80), nullable=False),  # uint256
    Column("proposal_id", String(80), nullable=True),
    Column("calldata", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("tx_hash", String(66), nullable=True),
    Column("raw_tx", Text, nullable=True),
    Column("tx_nonce", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("accepted_at", Double, nullable=False),
)

store_binding = Table(
    "store_binding",
    _META,
    # The deployment a store serves (oracle.binding): written by the first `verdict run`, checked by
    # every later one, so a node never mixes two deployments' payments, verdicts and checkpoints.
    Column("name", String(32), primary_key=True),  # "deployment": one row
    Column("chain_id", BigInteger, nullable=False),
    Column("router", String(64), nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("record", Text, nullable=False),  # the record's path when it was bound, for messages
    Column("bound_at", Double, nullable=False),
)

# Columns added after the first schema: (table, column, SQL type). `Database` adds the missing ones
# to an existing database when it opens it (nullable, so old rows read as NULL).
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("verdicts", "probability", "DOUBLE PRECISION"),
    ("payments", "token_out", "VARCHAR(32)"),
)

DEFAULT_CACHE_MB = 8
"""The writer's SQLite page cache (Settings.store_cache_mb): room for a batch's dirty pages (a turn
of ~75 payments dirties ~500 4 KB pages: SQLite's default 2 MB would spill them to the WAL before
the commit). A larger cache measured no less CPU on the bench's 50 MB store (64 MB: +40 MB RSS and
no gain, issue 16): its pages are in the OS's page cache, read back cheaply."""
WAL_AUTOCHECKPOINT = 1_000
"""WAL pages (4 KB each, ~4 MB) before a writer copies them back into the database file, inside the
commit that crossed it: SQLite's default. The daemon's store does it off that path instead
(`WalCheckpointer`): a checkpoint syncs the file, and on this machine's disk one sync now and then
took 70-140 ms, a stall of that turn that put a block's payments at 500/s into a second block
(p99 200 ms against 110; `python -m bench.latency_probe`, issue 16)."""
BACKGROUND_CHECKPOINT_EVERY = 0.25  # seconds between the checkpointer's passes
BACKGROUND_FALLBACK_PAGES = 16_000
"""With the checkpointer running, the writer still checkpoints itself past this many WAL pages
(~64 MB): a bound on the WAL should the checkpointer stall or fail."""
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes the WAL file is cut back to after a checkpoint resets it

CHUNK = 400  # stays under SQLite's bound-parameter limit for IN (...) lists


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class WalCheckpointer:
    """Copies a SQLite store's WAL back into its file from a thread and connection of its own
    (`PRAGMA wal_checkpoint(PASSIVE)` every BACKGROUND_CHECKPOINT_EVERY seconds), so the writer's
    commits never wait for the copy or its sync (WAL_AUTOCHECKPOINT says why). PASSIVE takes no
    lock a writer needs; sqlite3 releases the GIL while it runs. A failed pass is logged and the
    next one tried; the writer's own fallback (BACKGROUND_FALLBACK_PAGES) bounds the WAL meanwhile."""

    def __init__(self, path: Path, busy_timeout: float, every: float = BACKGROUND_CHECKPOINT_EVERY) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wal-checkpoint", daemon=True)
        self.passes = 0  # passes that copied frames back (tests, the stop line)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(5.0, self._busy_timeout))

    def _loop(self) -> None:
        conn = sqlite3.connect(str(self._path), timeout=self._busy_timeout, check_same_thread=False)
        try:
            while not self._stop.wait(self._every):
                try:
                    _busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    log.warning("background WAL checkpoint failed; trying again", error=str(exc))
                    continue
                if copied > 0:
                    self.passes += 1
        finally:
            conn.close()


class Database:
    """One SQLAlchemy engine over the oracle's schema, with error mapping to StoreError."""

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
        create=False: the database must already hold a Verdict store (its `payments` table); a
        missing SQLite file or an empty database is a StoreError and nothing is created.
        cache_mb: SQLite's page cache per connection (default: DEFAULT_CACHE_MB for a writer, SQLite's
        own 2 MB for a reader, whose reads are mostly one pass).
        background_checkpoints: a SQLite writer's WAL is copied back by a `WalCheckpointer` thread
        rather than inside its commits (the daemon's store; off the path of its turns)."""
        self._busy_timeout = float(busy_timeout)
        cache_mb = cache_mb if cache_mb is not None else DEFAULT_CACHE_MB if create else None
        self._cache_kb = None if cache_mb is None else int(cache_mb) * 1024
        self._create = create
        self._checkpointer: WalCheckpointer | None = None
        self._shared = threading.local()  # the connection of an open `shared_tx`, per thread
        self.write_commits = 0  # SQLite transactions committed with a write in them (the bench's count)
        self._statements: dict[tuple[str, tuple[str, ...], tuple[str, ...] | None], Any] = {}  # built once
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
            self._engine = self._make_engine(url, parsed, background_checkpoints)
        except (sa_exc.ArgumentError, ImportError) as err:
            raise StoreError(f"store {self._label}: cannot create engine ({err})") from err
        # The DBAPI's positional placeholder (sqlite3: qmark; psycopg: format) for `driver_*` SQL.
        self._mark = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        self._quote = self._engine.dialect.identifier_preparer.quote
        with self._server_hint(), self.guard("open"):
            if not create and not inspect(self._engine).has_table(payments.name):
                self._engine.dispose()
                raise StoreError(
                    f"store {self._label} holds no Verdict store (no payments table); check "
                    "VERDICT_STORE_URL (only `verdict run` creates a store)"
                )
            # Also on open for reading: an older store gains the tables and columns added since.
            _META.create_all(self._engine)
            self._add_missing_columns()
            self._add_missing_indexes()
            if create:
                self._drop_redundant_indexes()
        if self._checkpointer is not None:
            self._checkpointer.start()  # the file is a store in WAL mode by now

    def _add_missing_columns(self) -> None:
        present = {t: {c["name"] for c in inspect(self._engine).get_columns(t)} for t, _, _ in _ADDED_COLUMNS}
        missing = [(t, c, ty) for t, c, ty in _ADDED_COLUMNS if c not in present[t]]
        if missing:
            with self._engine.begin() as conn:
                for table, column, sql_type in missing:
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))

    def _add_missing_indexes(self) -> None:
        """create_all makes a table's indexes only with the table: an older store gains the
        history's window indexes here (issue 16)."""
        for index in payments.indexes:
            index.create(self._engine, checkfirst=True)

    def _drop_redundant_indexes(self) -> None:
        """`_REDUNDANT_INDEXES` off an older store; nothing when they are gone (safe every open).
        Only the writer drops them: a reader (reports, explain) writes nothing."""
        present = {ix["name"] for ix in inspect(self._engine).get_indexes(payments.name)}
        stale = [name for name in _REDUNDANT_INDEXES if name in present]
        if stale:
            with self._engine.begin() as conn:
                for name in stale:
                    conn.execute(text(f"DROP INDEX IF EXISTS {self._quote(name)}"))

    def _make_engine(self, url: str, parsed: Any, background: bool = False) -> Engine:
        if self._dialect != "sqlite":
            return create_engine(url, pool_pre_ping=True)
        database = parsed.database
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        if in_memory:
            # One shared connection, or each checkout would see its own empty database.
            engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            self._prepare_file(Path(database).expanduser())
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": self._busy_timeout}
            )
            if background and self._create:
                self._checkpointer = WalCheckpointer(Path(database).expanduser(), self._busy_timeout)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if self._create:
                # WAL lets readers (explain, reports) run while the daemon writes; it is a property
                # of the file, so a reader leaves it to the writer (and writes nothing to a file
                # that may not be a store at all).
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            # Issue 16: the cache holds a batch's changed pages (DEFAULT_CACHE_MB; negative: KB,
            # not pages); the checkpoint interval stays SQLite's (WAL_AUTOCHECKPOINT says why).
            # Still WAL with synchronous=NORMAL: a process crash loses no commit; a power cut may
            # roll the store back to its last checkpoint, which the daemon recovers from like a
            # crash (re-reads from the checkpoint, re-sends what it had not recorded).
            if self._cache_kb is not None:
                cur.execute(f"PRAGMA cache_size=-{self._cache_kb}")
            cur.execute("PRAGMA temp_store=MEMORY")
            if self._create:
                pages = WAL_AUTOCHECKPOINT if self._checkpointer is None else BACKGROUND_FALLBACK_PAGES
                cur.execute(f"PRAGMA wal_autocheckpoint={pages}")
                cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cur.close()

        @event.listens_for(engine, "commit")
        def _count(conn: Connection) -> None:
            # sqlite3 opens a transaction only before a write: one open at commit wrote something.
            if getattr(conn.connection.dbapi_connection, "in_transaction", False):
                self.write_commits += 1

        return engine

    @contextmanager
    def _server_hint(self) -> Iterator[None]:
        """A database server that cannot be reached at open says where to look (still one line)."""
        try:
            yield
        except StoreError as err:
            if self._dialect == "sqlite" or not isinstance(err.__cause__, sa_exc.OperationalError):
                raise
            raise StoreError(f"{err}; check VERDICT_STORE_URL and that the server is running") from err

    def _prepare_file(self, path: Path) -> None:
        """A writer creates the file's folder; a reader needs the file (SQLite would create it)."""
        if not self._create:
            if not path.is_file():
                raise StoreError(
                    f"store {self._label}: no such database file {path}; check VERDICT_STORE_URL "
                    "(only `verdict run` creates a store)"
                )
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"store {self._label}: cannot create its directory ({err})") from err

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
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
    def tx(self, what: str) -> Iterator[Connection]:
        shared = getattr(self._shared, "conn", None)
        if shared is not None:  # inside `shared_tx`: one transaction for the lot
            with self.guard(what):
                yield shared
            return
        with self.guard(what), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def shared_tx(self, what: str) -> Iterator[None]:
        """Every `tx` of this thread inside the block runs in one transaction: a batch's several
        reads cost one BEGIN and COMMIT (each cost about as much as a small query, issue 16)."""
        if getattr(self._shared, "conn", None) is not None:
            yield
            return
        with self.guard(what), self._engine.begin() as conn:
            self._shared.conn = conn
            try:
                yield
            finally:
                self._shared.conn = None

    def insert(self, table: Table) -> Any:
        mod = sqlite if self._dialect == "sqlite" else postgresql
        return mod.insert(table)

    def upsert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
        if not rows:
            return
        cols = tuple(c for c in rows[0] if c not in keys)
        stmt = self._statements.get((table.name, tuple(keys), cols))
        if stmt is None:
            stmt = self.insert(table)
            stmt = (
                stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols})
                if cols
                else stmt.on_conflict_do_nothing(index_elements=keys)
            )
            self._statements[(table.name, tuple(keys), cols)] = stmt
        conn.execute(stmt, rows)

    def insert_new(self, table: Table, keys: list[str]) -> Any:
        """`INSERT ... ON CONFLICT (keys) DO NOTHING` for `table`, built once. Statements are
        immutable; building one (and its cache key) per batch was about half a millisecond of CPU
        for an upsert, and the daemon writes a few per batch (issue 16)."""
        stmt = self._statements.get((table.name, tuple(keys), None))
        if stmt is None:
            stmt = self.insert(table).on_conflict_do_nothing(index_elements=keys)
            self._statements[(table.name, tuple(keys), None)] = stmt
        return stmt

    # --- driver SQL for the daemon's per-batch statements (issue 16) ------------------------------
    # SQLAlchemy Core spent more CPU per batch than SQLite did on the daemon's few hot statements:
    # building each statement and its cache key, expanding every IN list, and one `construct_params`
    # per row of an executemany. These run the same SQL through the same engine and transaction as
    # plain DBAPI strings with tuples; values are passed as they are (none of these columns' types
    # converts a value on either dialect), so the stored rows are the same byte for byte.

    def driver_insert(
        self, table: Table, columns: tuple[str, ...], keys: tuple[str, ...], update: bool
    ) -> str:
        """`INSERT INTO table (columns) VALUES (...) ON CONFLICT (keys)` and `DO UPDATE SET` the other
        columns to the new values (update) or `DO NOTHING`, as driver SQL (one tuple per row, in
        `columns` order); built once."""
        cache = ("driver", table.name, columns, keys, update)
        sql = self._statements.get(cache)
        if sql is None:
            q = self._quote
            rest = [c for c in columns if c not in keys]
            action = (
                "DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in rest)
                if update and rest
                else "DO NOTHING"
            )
            sql = (
                f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) "
                f"VALUES ({', '.join([self._mark] * len(columns))}) "
                f"ON CONFLICT ({', '.join(q(k) for k in keys)}) {action}"
            )
            self._statements[cache] = sql
        return str(sql)

    def driver_update(self, table: Table, columns: tuple[str, ...], key: str) -> str:
        """`UPDATE table SET columns WHERE key = ?` as driver SQL (tuples: the columns' values, then
        the key); built once."""
        cache = ("driver-update", table.name, columns, key)
        sql = self._statements.get(cache)
        if sql is None:
            q = self._quote
            sets = ", ".join(f"{q(c)} = {self._mark}" for c in columns)
            sql = f"UPDATE {q(table.name)} SET {sets} WHERE {q(key)} = {self._mark}"
            self._statements[cache] = sql
        return str(sql)

    def run_many(self, conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One driver statement for each row (one executemany); nothing for no rows."""
        if rows:
            conn.exec_driver_sql(sql, list(rows) if len(rows) > 1 else rows[0])

    def select_in(
        self,
        conn: Connection,
        table: Table,
        columns: Sequence[str],
        column: str,
        values: Sequence[Any],
        after: tuple[str, Any] | None = None,
    ) -> list[Any]:
        """Rows (tuples of `columns`) of `table` whose `column` is one of `values`, one driver query
        per CHUNK values; after=(c, x) adds `AND c > x`."""
        q = self._quote
        head = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table.name)} WHERE {q(column)} IN ("
        tail = ")" if after is None else f") AND {q(after[0])} > {self._mark}"
        extra = () if after is None else (after[1],)
        out: list[Any] = []
        for chunk in chunks(values):
            sql = head + ", ".join([self._mark] * len(chunk)) + tail
            out.extend(conn.exec_driver_sql(sql, (*chunk, *extra)).fetchall())
        return out

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._engine.dispose()

    @property
    def label(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return self._label


class OverDatabase:
    """Base of a store over the one database: given a `Database`, or a URL to open one of its own."""

    def __init__(self, db: Database | str) -> None:
        self._db = db if isinstance(db, Database) else Database(db)

    def close(self) -> None:
        self._db.close()

    @property
    def write_commits(self) -> int:
        """SQLite transactions this process committed with a write in them (0 on PostgreSQL)."""
        return self._db.write_commits

    def batch(self, what: str) -> AbstractContextManager[None]:
        """Every store call of this thread inside the block runs in one transaction, committed at its
        end (the scoring stage's history rows and verdicts: one commit per batch, issue 16)."""
        return self._db.shared_tx(what)

    @property
    def label(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return self._db.label
