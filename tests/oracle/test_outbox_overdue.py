"""A verdict transaction that waits long for a block is not sent twice while the node still holds
it: under a flood of dearer transactions, re-sending every batch each minute would double the
oracle's own load and pay gas for duplicates the RiskOracle skips. One the node has dropped is sent
again, and a restarted node watches the transactions it left in the pool instead of duplicating
them."""

from __future__ import annotations

import io
from pathlib import Path

from test_daemon_pipeline import FakeChain, outbox, scored

from oracle.clock import ManualClock
from oracle.config import Settings
from oracle.logging import configure_logging
from oracle.outbox import RECEIPT_TIMEOUT
from oracle.store import Store


def test_a_transaction_still_in_the_pool_is_watched_and_a_dropped_one_sent_again(
    store: Store, tmp_path: Path
):
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    chain, clock = FakeChain(), ManualClock()
    box = outbox(settings, chain, store, clock)
    scored(store, range(1, 4))
    box.flush()
    first = chain.sent[0][0]
    chain.pool.add(first)  # the node holds it, behind a crowd of dearer transactions
    for _ in range(5):  # five receipt timeouts, each with an in-flight recheck
        clock.advance(RECEIPT_TIMEOUT + 1)
        box.flush()
    assert [h for h, _ in chain.sent] == [first]  # never duplicated
    assert chain.resyncs == 0
    chain.pool.discard(first)
    chain.mined.add(first)
    box.flush()
    assert len(store.verdict_rows(final=True)) == 3

    scored(store, range(4, 6))
    box.enqueue(store.unposted(), clock.monotonic())
    box.flush()
    dropped = chain.sent[1][0]  # not in the pool: the node lost it (a restart, an eviction)
    clock.advance(RECEIPT_TIMEOUT + 1)
    box.flush()
    assert len(chain.sent) == 3 and chain.sent[2][0] != dropped
    assert sorted(i.item_id for i in chain.sent[2][1]) == [4, 5]  # its verdicts, once more
    assert chain.resyncs == 1  # the dropped nonce is free again
    chain.mined.add(chain.sent[2][0])
    box.flush()
    assert len(store.verdict_rows(final=True)) == 5


def test_a_restarted_node_watches_what_it_left_in_the_pool(store: Store, tmp_path: Path):
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    chain, clock = FakeChain(), ManualClock()
    scored(store, range(1, 4))
    outbox(settings, chain, store, clock).flush()
    left = chain.sent[0][0]
    chain.pool.add(left)

    restarted = outbox(settings, chain, store, clock)
    restarted.flush()  # the start-up recheck finds it still held: watched, not sent again
    assert [h for h, _ in chain.sent] == [left]
    assert restarted.in_flight == 1
    chain.pool.discard(left)
    chain.mined.add(left)
    restarted.flush()
    assert len(store.verdict_rows(final=True)) == 3
    assert chain.resyncs == 0
