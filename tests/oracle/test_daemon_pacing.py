"""The loop's pacing against a chain that mines on a clock (issue 16 latency), with times given by
hand: the idle wait wakes before the next block is due even after a head was seen late, polls
briskly until the block comes, and falls back to the plain poll on chains with no steady pace;
a turn's fresh verdicts are sent before the receipts of earlier ones are asked for."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from test_daemon_pipeline import FakeChain, outbox, scored

from oracle.clock import ManualClock
from oracle.config import Settings
from oracle.daemon import flush_fresh_first
from oracle.logging import configure_logging
from oracle.reader import PACE_EARLY, PACE_POLL, PACE_SAMPLES, BlockPace
from oracle.store import Store

STEP = 0.1  # seconds per block
POLL = 0.05  # the configured poll (the default)


def steady(blocks: int = PACE_SAMPLES + 2, late: dict[int, float] | None = None) -> BlockPace:
    """Blocks 1..blocks seen every STEP seconds, block n at n * STEP plus `late[n]`."""
    pace = BlockPace()
    for n in range(1, blocks + 1):
        pace.observe(n, n * STEP + (late or {}).get(n, 0.0))
    return pace


def test_the_idle_loop_sleeps_to_just_before_the_next_block_then_polls_briskly_until_it_comes():
    pace = steady()  # head 10, seen at 1.0; block 11 due at 1.1
    assert pace.wait(1.0, POLL) == pytest.approx(STEP * (1 - PACE_EARLY))
    # From the wake on, every PACE_POLL of a block, not the configured 50 ms: a block that came
    # just after a poll would wait that long to be read.
    assert pace.wait(1.1 - STEP * PACE_EARLY, POLL) == pytest.approx(STEP * PACE_POLL)
    assert pace.wait(1.12, POLL) == pytest.approx(STEP * PACE_POLL)
    assert pace.wait(1.12, 0.001) == 0.001  # a shorter configured poll is kept
    # A chain that stopped mining (the block a whole interval late) is polled at the plain poll.
    assert pace.wait(1.25, POLL) == POLL


def test_a_head_seen_late_does_not_push_the_next_wake_later():
    # Head 10 was seen 20 ms after it came (the node was busy in a turn): the next block is still
    # due at 1.1, as the earlier sightings say, not at 1.12.
    pace = steady(late={10: 0.02})
    assert pace.interval() == pytest.approx(STEP)  # the median is not moved by one late sighting
    assert pace.due() == pytest.approx(1.1)
    assert pace.wait(1.02, POLL) == pytest.approx(1.1 - STEP * PACE_EARLY - 1.02)
    # Only the recent sightings anchor it: a block seen early long ago does not make every wake early.
    moved = steady(blocks=PACE_SAMPLES + 6, late={n: 0.004 for n in range(8, 15)})
    assert moved.due() == pytest.approx(1.5 + 0.004)


def test_chains_with_no_steady_pace_are_polled_at_the_configured_poll():
    automine = BlockPace()  # a block per transaction: intervals anything
    for n, at in enumerate([0.0, 0.1, 0.9, 1.0, 3.0, 3.05, 3.1, 5.0, 5.2, 5.3], start=1):
        automine.observe(n, at)
    assert automine.due() is None
    assert automine.wait(5.3, POLL) == POLL
    young = steady(blocks=PACE_SAMPLES)  # too few blocks seen to tell
    assert young.wait(young.due() or 0.8, POLL) == POLL
    gap = steady()
    gap.observe(12, 1.2)  # block 11 missed between reads: its time is unknown, so no pace
    assert gap.wait(1.2, POLL) == POLL


class OrderedChain(FakeChain):
    """The fake chain of the pipeline tests, noting the order of sends and receipt polls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def send_verdicts(self, items: Any, gas: int | None = None) -> Any:
        self.calls.append("send")
        return super().send_verdicts(items, gas)

    def receipts(self, hashes: list[str]) -> dict[str, dict[str, Any] | None]:
        self.calls.append("receipts")
        return super().receipts(hashes)


def test_a_turns_fresh_verdicts_are_sent_before_earlier_ones_are_settled(store: Store, tmp_path: Path):
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    chain, clock = OrderedChain(), ManualClock()
    box = outbox(settings, chain, store, clock)  # type: ignore[arg-type]
    scored(store, range(1, 11))
    box.enqueue(store.unposted(), clock.monotonic())
    assert flush_fresh_first(box, head=5, last=None, fresh=True)
    assert chain.calls == ["send"]
    chain.mined.update(h for h, _ in chain.sent)  # mined in block 6, whose requests come next

    scored(store, range(11, 21))
    box.enqueue(store.unposted(), clock.monotonic())
    chain.calls.clear()
    assert flush_fresh_first(box, head=6, last=5, fresh=True)
    assert chain.calls == ["send", "receipts"]  # the new verdicts first, then the mined ones settled
    assert len(store.verdict_rows(final=True)) == 10
    assert store.unposted() == []

    # A turn with nothing fresh is one flush, as before: receipts, then anything left to send.
    chain.mined.update(h for h, _ in chain.sent)
    chain.calls.clear()
    assert flush_fresh_first(box, head=7, last=6, fresh=False)
    assert chain.calls == ["receipts"]
    assert len(store.verdict_rows(final=True)) == 20
