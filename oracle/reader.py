"""Reading gate requests: `eth_getLogs` from the last checkpoint, in slices of whole blocks.

Node-side filters vanish when a node restarts, so requests are read by block range from a
checkpoint kept in the verdict log. The checkpoint moves only when the caller commits a slice,
after its requests are scored and stored: a crash never skips a request.
"""

from __future__ import annotations

from dataclasses import dataclass
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
            self._head = self._chain.block_number() - settings.confirmations
            self.head_reads += 1
            if self._head < start:
                return None
            end = min(self._head, start + settings.log_batch_blocks - 1)
            self._backlog = self._chain.gate_requests(start, end)
            self._backlog_end = end
        # A big backlog is taken a slice at a time, with the verdicts posted between slices: the
        # chain mines one batch while the next is scored, and no turn runs longer than `most` allow.
        requests, rest = self._backlog[:most], self._backlog[most:]
        end = rest[0].block_number - 1 if rest else self._backlog_end
        self._backlog = rest
        if not rest:
            self._backlog_end = None
        return Slice(requests, max(end, self.checkpoint))

    def commit(self, end: int) -> None:
        """Every request up to block `end` is processed: move the checkpoint there."""
        if end == self._checkpoint:
            return  # part of a block handed out: nothing to move (and no write)
        self._checkpoints.set_checkpoint(CHECKPOINT, end)
        self._checkpoint = end

    def forget(self) -> None:
        """Drop the requests fetched and not handed out: the next slice reads from the checkpoint."""
        self._backlog, self._backlog_end = [], None
