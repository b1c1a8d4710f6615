"""The store's I/O settings and indexes (issue 16 item 2): the daemon's connection runs with its
page cache and WAL settings, the history's window reads still search an index after the redundant
single-column ones went, and the checkpoint moves atomically with the scores."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from oracle.config import Settings
from oracle.db import BACKGROUND_FALLBACK_PAGES, DEFAULT_CACHE_MB, WAL_AUTOCHECKPOINT, payments
from oracle.reader import CHECKPOINT, RequestReader
from oracle.store import PaymentRecord, Store


def _pragma(store: Store, name: str) -> object:
    with store._db.tx("reading a pragma") as conn:  # noqa: SLF001 - the connection the store uses
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_the_daemons_store_connection_runs_with_the_cache_and_wal_settings(tmp_path: Path):
    settings = Settings(model_dir=tmp_path, metrics_port=None, store_cache_mb=48)
    # as `run_daemon` opens it
    url = f"sqlite:///{tmp_path / 'node.sqlite'}"
    store = Store(url, cache_mb=settings.store_cache_mb, background_checkpoints=True)
    try:
        assert _pragma(store, "journal_mode") == "wal"
        assert _pragma(store, "synchronous") == 1  # NORMAL: durability as before
        assert _pragma(store, "cache_size") == -48 * 1024  # KB
        assert _pragma(store, "temp_store") == 2  # MEMORY
        # the WAL is copied back by the checkpointer's thread; the writer only past the fallback
        assert _pragma(store, "wal_autocheckpoint") == BACKGROUND_FALLBACK_PAGES
    finally:
        store.close()
    plain = Store(url)  # any other writer checkpoints in its commits, as SQLite does
    try:
        assert _pragma(plain, "wal_autocheckpoint") == WAL_AUTOCHECKPOINT
    finally:
        plain.close()
    assert Settings(model_dir=tmp_path, metrics_port=None).store_cache_mb == DEFAULT_CACHE_MB == 8


def test_the_daemons_wal_is_copied_back_off_its_commits_and_the_thread_ends_with_the_store(tmp_path: Path):
    """The checkpointer's thread copies what the writer commits back into the file (the writer's
    own checkpoints, inside its commits, stalled the daemon's turns for 70-140 ms)."""
    path = tmp_path / "node.sqlite"
    store = Store(f"sqlite:///{path}", background_checkpoints=True)
    checkpointer = store._db._checkpointer  # noqa: SLF001 - the thread under test
    assert checkpointer is not None
    try:
        for batch in range(20):  # twenty commits, as twenty turns make
            rows = range(batch * 100, (batch + 1) * 100)
            records = [
                PaymentRecord(f"router:{i}", f"0x{i:040x}", f"0x{i + 1:040x}", "ETH", 1.0, i) for i in rows
            ]
            store.record_payments([(r, None) for r in records], [], [])
        deadline = time.monotonic() + 10
        while checkpointer.passes == 0:
            assert time.monotonic() < deadline, "the WAL was never copied back"
            time.sleep(0.05)
    finally:
        store.close()
    assert not checkpointer._thread.is_alive()  # noqa: SLF001
    with sqlite3.connect(path) as conn:  # every payment is in the file, WAL or not
        assert conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 2_000


def test_a_reader_keeps_sqlites_default_cache_and_sets_no_wal_checkpointing(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'node.sqlite'}"
    Store(url).close()
    reader = Store(url, create=False)
    try:
        assert _pragma(reader, "cache_size") == -2000  # SQLite's default
        assert _pragma(reader, "wal_autocheckpoint") == 1000
    finally:
        reader.close()


def _plan(store: Store, sql: str, params: tuple[object, ...]) -> str:
    with store._db.tx("explaining") as conn:  # noqa: SLF001
        return " | ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.fixture
def history(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'history.sqlite'}")
    store.record_payments(
        [
            (
                PaymentRecord(
                    f"router:{i}", f"0xpayer{i % 7}", f"0xpayee{i % 5}", "ETH", 10.0 + i, 1_000 + i
                ),
                None,
            )
            for i in range(200)
        ],
        [],
        [],
    )
    with store._db.tx("analyze") as conn:  # noqa: SLF001 - statistics, as a long-lived store has
        conn.exec_driver_sql("ANALYZE")
    yield store
    store.close()


@pytest.mark.parametrize(
    ("side", "index"), [("payer", "ix_payments_payer_timestamp"), ("payee", "ix_payments_payee_timestamp")]
)
def test_the_features_window_reads_search_the_composite_indexes(history: Store, side: str, index: str):
    """`HistoryStore.recent_payments`'s query, as `Database.select_in` builds it."""
    sql = f'SELECT "id", "key" FROM payments WHERE "{side}" IN (?, ?) AND "timestamp" > ?'  # noqa: S608
    plan = _plan(history, sql, ("0xpayer1", "0xpayee2", 1_100))
    assert f"USING INDEX {index}" in plan, plan
    assert history.recent_payments(["0xpayer1"], 1_150) == [
        r for r in history.recent_payments(["0xpayer1"], 0) if r.timestamp > 1_150
    ]


def test_a_payers_payments_in_time_order_search_the_composite_index(history: Store):
    """`oracle.suggest`'s read of one payer's payments (ordered by time) needs no sort of its own."""
    with history._db._engine.connect() as conn:  # noqa: SLF001
        q = select(payments.c.key).where(payments.c.payer == "0xpayer1").order_by(payments.c.timestamp)
        sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " | ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "USING INDEX ix_payments_payer_timestamp" in plan and "TEMP B-TREE" not in plan, plan


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_an_older_stores_redundant_indexes_are_dropped_by_the_writer_only(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:  # as earlier versions made them
        conn.execute("CREATE INDEX ix_payments_payer ON payments (payer)")
        conn.execute("CREATE INDEX ix_payments_payee ON payments (payee)")

    Store(f"sqlite:///{path}", create=False).close()  # a reader writes nothing
    assert {"ix_payments_payer", "ix_payments_payee"} <= _indexes(path)

    for _ in range(2):  # and the writer's drop is safe every open
        Store(f"sqlite:///{path}").close()
        left = _indexes(path)
        assert not left & {"ix_payments_payer", "ix_payments_payee"}
        assert {"ix_payments_payer_timestamp", "ix_payments_payee_timestamp"} <= left


def test_a_checkpoint_moved_in_a_batch_that_rolls_back_is_neither_stored_nor_believed(any_store, tmp_path):
    """The daemon moves the read checkpoint inside the scoring batch's transaction: a batch that
    fails keeps the old checkpoint in the store, and the reader, told to forget, reads it again."""
    any_store.set_checkpoint(CHECKPOINT, 10)
    reader = RequestReader(
        Settings(model_dir=tmp_path, metrics_port=None), chain=None, checkpoints=any_store, first_block=1
    )  # type: ignore[arg-type]
    assert reader.checkpoint == 10
    with pytest.raises(RuntimeError), any_store.batch("scoring a batch"):
        reader.commit(20)
        assert any_store.get_checkpoint(CHECKPOINT) == 20  # inside the transaction
        raise RuntimeError("the batch failed")
    assert any_store.get_checkpoint(CHECKPOINT) == 10
    reader.forget()
    assert reader.checkpoint == 10

    with any_store.batch("scoring a batch"):
        reader.commit(20)
    assert any_store.get_checkpoint(CHECKPOINT) == 20 and reader.checkpoint == 20
