"""The store: checkpoints, profiles, verdict log, clear errors; SQLite always, PostgreSQL if configured."""

from __future__ import annotations

import sqlite3

import pytest

from oracle.errors import StoreError
from oracle.store import PaymentRecord, Store


def test_checkpoints(any_store):
    assert any_store.get_checkpoint("router") is None
    any_store.set_checkpoint("router", 10)
    any_store.set_checkpoint("router", 12)
    assert any_store.get_checkpoint("router") == 12


def test_verdict_log_lifecycle_is_idempotent(any_store):
    reasons = [{"feature": "amount", "value": 1.0, "contribution": 0.5, "text": "amount is $1.00"}]
    args = dict(
        target="0xrouter",
        item_id=2**200,
        score_bps=9100,
        decision="reject",
        model_id="0x" + "ab" * 32,
        reasons=reasons,
        reasons_hash="0x" + "cd" * 32,
        features={"amount": 1.0},
    )
    assert any_store.record_scored("router:1", **args) is True
    assert any_store.record_scored("router:1", **{**args, "score_bps": 1}) is False
    any_store.record_scored("router:2", **{**args, "decision": "settle", "score_bps": 3})
    assert [v.key for v in any_store.unposted()] == ["router:1", "router:2"]
    any_store.mark_posted(["router:1"], "0x" + "ee" * 32)
    assert [v.key for v in any_store.unposted()] == ["router:2"]
    any_store.mark_final("router:2", "Settled")
    assert any_store.unposted() == []
    row = any_store.scored("router:1")
    assert row.score_bps == 9100 and row.item_id == str(2**200) and row.reasons == reasons
    assert row.tx_hash == "0x" + "ee" * 32
    assert any_store.scored("router:404") is None
    assert [v.key for v in any_store.verdict_rows(decision="settle")] == ["router:2"]
    assert [v.key for v in any_store.verdict_rows(newest_first=True, limit=1)] == ["router:2"]


def test_account_profiles_upsert(any_store):
    any_store.upsert_account("0xA", "us", 123)
    any_store.upsert_account("0xA", "DE", None)
    assert any_store.account_profiles(["0xA", "0xB"]) == {"0xA": ("DE", None)}


def test_sqlite_file_uses_wal(tmp_path):
    path = tmp_path / "w.sqlite"
    Store(f"sqlite:///{path}").set_checkpoint("x", 1)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_corrupt_locked_or_bad_urls_raise_store_errors(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store(f"sqlite:///{bad}")
    with pytest.raises(StoreError, match="only sqlite and postgresql"):
        Store("mysql://u@h/db")
    with pytest.raises(StoreError, match="not a valid"):
        Store("::nonsense::")
    path = tmp_path / "locked.sqlite"
    s = Store(f"sqlite:///{path}", busy_timeout=0.2)
    s.set_checkpoint("a", 1)
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            s.set_checkpoint("a", 2)
    finally:
        holder.rollback()
        holder.close()


def test_payments_with_verdicts_reads_a_window_with_its_verdicts(any_store):
    from oracle.records import PaymentRecord as StoredPayment

    pays = [
        (StoredPayment("router:1", "0xa", "0xb", "ETH", 10.0, 100), {"amount": 10.0}),
        (StoredPayment("router:2", "0xa", "0xc", "ETH", 20.0, 200), None),
        (StoredPayment("escrow:1", "0xa", "0xc", "ETH", 30.0, 150), None),
        (StoredPayment("router:3", "0xa", "0xc", "ETH", 40.0, 300), None),
    ]
    any_store.record_payments(pays, [], [])
    any_store.record_scored(
        "router:2", "0xrouter", 2, 7000, "review", "0x" + "ab" * 32, [], "0x" + "cd" * 32, {"amount": 20.0}
    )
    got = any_store.payments_with_verdicts("router:", 100, 250)
    assert [(p.key, p.amount_usd) for p, _ in got] == [("router:1", 10.0), ("router:2", 20.0)]
    assert got[0][1] is None
    assert got[1][1] is not None and got[1][1].decision == "review"


def test_record_scored_many_counts_new_rows_and_mark_final_many_marks_each(any_store):
    def row(key: str, score: int) -> dict:
        return {
            "key": key,
            "target": "0xrouter",
            "item_id": int(key.split(":")[1]),
            "score_bps": score,
            "decision": "settle",
            "model_id": "0x" + "ab" * 32,
            "reasons": [],
            "reasons_hash": "0x" + "cd" * 32,
            "features": {"amount": 1.0},
        }

    assert any_store.record_scored_many([row("router:1", 1), row("router:2", 2)]) == 2
    # a known key and a key twice in one batch: each is logged once, the first score kept
    assert any_store.record_scored_many([row("router:2", 99), row("router:3", 3), row("router:3", 98)]) == 1
    assert any_store.record_scored_many([]) == 0
    assert {v.key: v.score_bps for v in any_store.unposted()} == {"router:1": 1, "router:2": 2, "router:3": 3}
    any_store.mark_final_many({"router:1": "settled", "router:3": "already_final"})
    assert [v.key for v in any_store.unposted()] == ["router:2"]
    assert any_store.scored("router:3").final_status == "already_final"
    assert any_store.scored("router:1").finalized_at is not None


def test_the_calibrated_probability_is_stored_beside_the_score(any_store):
    any_store.record_scored(
        "router:7",
        "0xrouter",
        7,
        9_950,
        "review",
        "0x" + "ab" * 32,
        [],
        "0x" + "cd" * 32,
        {},
        probability=0.0375,
    )
    any_store.record_scored(
        "router:8", "0xrouter", 8, 100, "settle", "0x" + "ab" * 32, [], "0x" + "cd" * 32, {}
    )
    assert any_store.scored("router:7").probability == pytest.approx(0.0375)
    assert any_store.scored("router:8").probability is None


def test_a_store_from_before_probabilities_gains_the_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    Store(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE verdicts DROP COLUMN probability")  # the schema as older versions made it
    conn.execute(
        "INSERT INTO verdicts (key, target, item_id, score_bps, decision, model_id, reasons, reasons_hash,"
        " features, scored_at) VALUES ('router:1', '0xr', '1', 42, 'settle', '0xm', '[]', '0xh', '{}', 1.0)"
    )
    conn.commit()
    conn.close()
    store = Store(f"sqlite:///{path}")
    try:
        old = store.scored("router:1")
        assert old is not None and old.score_bps == 42 and old.probability is None
        store.record_scored("router:2", "0xr", 2, 9_999, "reject", "0xm", [], "0xh", {}, probability=0.9)
        assert store.scored("router:2").probability == pytest.approx(0.9)
    finally:
        store.close()


def test_a_reader_never_creates_a_store(tmp_path):
    """create=False (every command but `verdict run`): a missing file, or a database without the
    Verdict tables, is a StoreError and nothing is created."""
    missing = tmp_path / "no" / "such" / "s.sqlite"
    with pytest.raises(StoreError, match="no such database file"):
        Store(f"sqlite:///{missing}", create=False)
    assert not (tmp_path / "no").exists()
    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE other (x INTEGER)").connection.commit()
    with pytest.raises(StoreError, match="holds no Verdict store"):
        Store(f"sqlite:///{foreign}", create=False)
    assert [r[0] for r in sqlite3.connect(foreign).execute("SELECT name FROM sqlite_master")] == ["other"]


def test_a_reader_opens_an_existing_store_and_sees_its_latest_payment(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    writer = Store(url)
    assert writer.latest_payment_time("router:") is None
    writer.record_payments(
        [
            (PaymentRecord("router:1", "0xa", "0xb", "ETH", 1.0, 2_000), None),
            (PaymentRecord("escrow:1", "0xa", "0xb", "ETH", 1.0, 9_000), None),
            (PaymentRecord("router:2", "0xa", "0xb", "ETH", 1.0, 1_000), None),
        ],
        [],
        [],
    )
    writer.close()
    reader = Store(url, create=False)
    assert reader.latest_payment_time("router:") == 2_000
    reader.close()
