"""Reading gate requests: `eth_getLogs` from the last checkpoint, in slices of whole blocks.

Node-side filters vanish when a node restarts, so requests are read by block range from a
checkpoint kept in the verdict log. The checkpoint moves only when the caller commits a slice,
after its requests are scored and stored: a crash never skips a request.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import median
from typing import Protocol

from oracle.chain import GateRequest
from oracle.clock import Clock, SystemClock
from oracle.config import Settings

CHECKPOINT = "gate-requests"
"""The name of the daemon's read checkpoint in the verdict log."""


class RequestSource(Protocol):
    """The chain reads the reader needs (`oracle.chain.ChainClient` is one)."""

    def block_number(self) -> int: ...

    def gate_requests(self, from_block: int, to_block: int | str) -> list[GateRequest]: ...


class Checkpoints(Protocol):
    """Where the checkpoint is kept (`oracle.verdicts.VerdictLog` is one)."""

    def get_checkpoint(self, name: str) -> int | None: ...

    def set_checkpoint(self, name: str, block: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Slice:
    """The requests mined in a run of whole blocks up to `end`."""

    requests: list[GateRequest]
    end: int


PACE_SAMPLES = 8
"""Head changes whose intervals say whether the chain mines at a steady pace (interval mining)."""
PACE_SPREAD = 0.25
"""The intervals are steady when every one is within this share of their median: automining and
bursty chains are not, and are polled at the fixed interval."""
PACE_EARLY = 0.15
"""The idle loop wakes this share of a block interval before the next block is due."""
PACE_ANCHORS = 4
"""The last sightings the next block's due time is projected from (the earliest projection wins):
a head first seen late, because the node was busy when its block came, does not push the next wake
later. Few, so that an error in the median interval is not multiplied by many blocks."""
PACE_POLL = 0.05
"""From the wake until the block comes, the head is polled every this share of a block interval (5 ms
at 0.1 s blocks), however long the configured poll: the block is due, and at the default 50 ms poll
(20 ms with verdicts in flight) a block that came just after a poll waited that long to be read."""


FETCH_TURNS = 2
"""A log fetch spans about this many turns' worth of requests, at the density of the last fetches:
a node that fell behind fetched and decoded up to `log_batch_blocks` blocks in one turn (thousands
of requests at load, hundreds of ms), while the chain and the receipts waited."""
FIRST_SPAN = 16  # blocks in the first fetch, before any density is known


class BlockPace:
    """When the next block is due, from the times the head was seen to move (issue 16).

    Polling the head every few milliseconds between blocks cost most of an idle node's CPU and a
    visible share of a busy one's (0.1 s blocks: some twenty head reads per block, each a JSON-RPC
    round trip and a loop turn). On a chain that mines at a steady pace the idle loop instead sleeps
    until shortly before the next block is due, then polls briskly until it comes; on any other
    chain (automine, irregular intervals, too few blocks seen, a chain that stopped) it never waits
    longer than the fixed poll."""

    def __init__(self) -> None:
        self._head: int | None = None
        self._seen: float | None = None  # monotonic time the head was first seen at its value
        self._intervals: deque[float] = deque(maxlen=PACE_SAMPLES)
        self._anchors: deque[tuple[int, float]] = deque(maxlen=PACE_ANCHORS)  # (head, first seen)

    def observe(self, head: int, now: float) -> None:
        """The head as just read at `now`."""
        if head == self._head:
            return
        if self._head is not None and self._seen is not None and head == self._head + 1:
            self._intervals.append(now - self._seen)
        elif self._head is not None:
            self._intervals.clear()  # blocks missed between reads: their times are not known
            self._anchors.clear()
        self._head, self._seen = head, now
        self._anchors.append((head, now))

    def interval(self) -> float | None:
        """The chain's block interval, if it has mined its last PACE_SAMPLES blocks at a steady one."""
        if len(self._intervals) < PACE_SAMPLES:
            return None
        mid = median(self._intervals)
        if mid <= 0 or any(abs(x - mid) > PACE_SPREAD * mid for x in self._intervals):
            return None
        return mid

    def due(self) -> float | None:
        """When the block after the head is due to be seen (None: no steady pace): the earliest of
        the last sightings projected forward by the interval."""
        step = self.interval()
        if step is None or self._head is None or not self._anchors:
            return None
        return min(seen + (self._head + 1 - head) * step for head, seen in self._anchors)

    def until_next(self, now: float) -> float:
        """Seconds the idle loop may sleep before the next block is due (0: poll as usual)."""
        due = self.due()
        if due is None:
            return 0.0
        step = self.interval() or 0.0
        return max(0.0, min(step, due - step * PACE_EARLY - now))

    def wait(self, now: float, poll: float) -> float:
        """Seconds the idle loop sleeps, given the configured `poll`: until shortly before the next
        block is due, then every PACE_POLL of an interval until it comes; `poll` on a chain with no
        steady pace, and once the block is a whole interval late (a chain that stopped mining)."""
        due, step = self.due(), self.interval()
        if due is None or step is None:
            return poll
        sleep = self.until_next(now)
        if sleep > 0:
            return sleep
        if now - due > step:
            return poll
        return min(poll, step * PACE_POLL)


class RequestReader:
    """Reads the next slice of gate requests after the checkpoint."""

    def __init__(
        self,
        settings: Settings,
        chain: RequestSource,
        checkpoints: Checkpoints,
        first_block: int,
        clock: Clock | None = None,
    ) -> None:
        """first_block: where to start with no checkpoint stored (the deployment's block)."""
        self._settings = settings
        self._chain = chain
        self._checkpoints = checkpoints
        self._first_block = first_block
        self._clock = clock or SystemClock()
        self._checkpoint: int | None = None  # last block whose logs are processed (mirrors the store)
        self._head: int | None = None
        # Requests fetched and not handed out yet (a block holding more than a turn takes), and the
        # last block they were fetched to: handed out over the next turns before anything is fetched.
        self._backlog: list[GateRequest] = []
        self._backlog_end: int | None = None
        self.head_reads = 0  # how often the head was read: a caller can tell whether `head` is fresh
        self.pace = BlockPace()  # when the next block is due (the daemon's idle wait)
        self._density: float | None = None  # requests per block in recent fetches (moving average)

    @property
    def checkpoint(self) -> int:
        """The last block whose requests are processed."""
        if self._checkpoint is None:
            stored = self._checkpoints.get_checkpoint(CHECKPOINT)
            self._checkpoint = self._first_block - 1 if stored is None else stored
        return self._checkpoint

    @property
    def head(self) -> int | None:
        """The head as last read (less the confirmations); None before the first read."""
        return self._head

    @property
    def backlog(self) -> bool:
        """Whether requests were fetched and not handed out yet (the next slice needs no read)."""
        return self._backlog_end is not None

    @property
    def behind(self) -> bool:
        """Whether the node is behind the chain: requests fetched and not handed out, or, at the
        last read, blocks past the checkpoint that the fetch did not reach."""
        if self._backlog_end is not None:
            return True
        return self._head is not None and self._head > self.checkpoint

    def next_slice(self, most: int) -> Slice | None:
        """The next requests after the checkpoint, at most `most` of them; None if no block is ready.
        A slice's `end` is the last block all of whose requests it and the earlier slices hold (the
        checkpoint moves there on commit): when a block holds more than `most`, it is handed out over
        several turns, the checkpoint staying before it until its last request is taken (a restart
        re-reads it, and the requests already in the verdict log are not scored again).

        The head is read first (`eth_blockNumber`, a few bytes) and logs are fetched only for
        blocks not read yet. Fetching up to 'latest' from the last processed block instead, to
        save that round trip, re-read and re-decoded the whole last block on every poll: on a chain
        with 0.1 s blocks of hundreds of payments, most of the reader's work and a share of the
        node's."""
        if self._backlog_end is None:
            settings = self._settings
            start = self.checkpoint + 1
            head = self._chain.block_number()
            self.pace.observe(head, self._clock.monotonic())
            self._head = head - settings.confirmations
            self.head_reads += 1
            if self._head < start:
                return None
            end = min(self._head, start + self._span(most) - 1)
            self._backlog = self._chain.gate_requests(start, end)
            self._backlog_end = end
            self._learn_density(len(self._backlog) / (end - start + 1))
        # A big backlog is taken a slice at a time, with the verdicts posted between slices: the
        # chain mines one batch while the next is scored, and no turn runs longer than `most` allow.
        requests, rest = self._backlog[:most], self._backlog[most:]
        end = rest[0].block_number - 1 if rest else self._backlog_end
        self._backlog = rest
        if not rest:
            self._backlog_end = None
        return Slice(requests, max(end, self.checkpoint))

    def _span(self, most: int) -> int:
        """Blocks the next fetch spans: about FETCH_TURNS turns of `most` requests at the recent
        density, at least one block and at most `log_batch_blocks` (sparse chains, catching up)."""
        limit = self._settings.log_batch_blocks
        if self._density is None:
            return min(limit, FIRST_SPAN)
        if self._density <= 0:
            return limit
        return max(1, min(limit, int(FETCH_TURNS * most / self._density)))

    def _learn_density(self, per_block: float) -> None:
        old = self._density
        self._density = per_block if old is None else 0.5 * old + 0.5 * per_block

    def commit(self, end: int) -> None:
        """Every request up to block `end` is processed: move the checkpoint there."""
        if end == self._checkpoint:
            return  # part of a block handed out: nothing to move (and no write)
        self._checkpoints.set_checkpoint(CHECKPOINT, end)
        self._checkpoint = end

    def forget(self) -> None:
        """Drop the requests fetched and not handed out: the next slice reads from the checkpoint,
        as the store holds it (a `commit` made inside a transaction that then rolled back, the
        daemon's scoring batch, must not be believed)."""
        self._backlog, self._backlog_end = [], None
        self._checkpoint = None
