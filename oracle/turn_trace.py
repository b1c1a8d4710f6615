"""A timing trace of the daemon's loop, for the latency probe only (`bench/latency_probe.py`).

With `VERDICT_TURN_TRACE=path` set (bench only, like `VERDICT_PROFILE`), the daemon writes one JSON
line per busy turn: when it began and ended, and every chain call its reader and outbox made in it
(the head read and its value, the logs fetched and the payments in them by block, each verdict
transaction sent with its hash, each receipt poll), all on `time.perf_counter()`, which is
CLOCK_MONOTONIC on Linux and so comparable with the probe's own clocks in another process. The
probe matches them with when each block appeared and where each verdict landed, to say per payment
where a second block of latency came from (issue 16). Off, none of this exists: the stages get the
chain client itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from oracle.chain import GateRequest, SentTx, VerdictItem


class TurnTrace:
    """Collects one turn's events and writes the turn as one JSON line if it was busy."""

    def __init__(self, path: Path) -> None:
        self._out: IO[str] = path.open("a", buffering=1 << 16)
        self._turn: dict[str, Any] = {}
        self._calls: list[list[Any]] = []

    def begin(self) -> None:
        self._turn = {"t0": time.perf_counter(), "cpu0": time.thread_time()}
        self._calls = []

    def mark(self, name: str, **detail: Any) -> None:
        """A point in the turn (`scored`, `flushed`...), with what it concerns (`scored`: the ids)."""
        self._turn[name] = time.perf_counter()
        self._turn.update(detail)

    def call(self, name: str, began: float, **detail: Any) -> None:
        """A chain call that began at `began` and has just returned; with the CPU ms of this thread
        since the turn began (what the turn cost up to here, whatever the host's load)."""
        cpu_ms = (time.thread_time() - self._turn.get("cpu0", 0.0)) * 1000
        self._calls.append([name, began, time.perf_counter(), {**detail, "cpu_ms": cpu_ms}])

    def end(self, busy: bool, stages: dict[str, float]) -> None:
        """The turn is over; `stages`: its wall and CPU ms per stage (the daemon's `_turn_ms`)."""
        if busy and self._turn:
            cpu_ms = (time.thread_time() - self._turn.pop("cpu0")) * 1000
            line = {**self._turn, "t1": time.perf_counter(), "cpu_ms": cpu_ms, "stages": stages}
            self._out.write(json.dumps({**line, "calls": self._calls}) + "\n")

    def close(self) -> None:
        self._out.close()


class TracedChain:
    """The chain client with its reader's and outbox's calls timed into a `TurnTrace`; every other
    attribute is the client's own (so `getattr(chain, name, None)` probes behave the same)."""

    def __init__(self, chain: Any, trace: TurnTrace) -> None:
        self._chain = chain
        self._trace = trace

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chain, name)

    def block_number(self) -> int:
        began = time.perf_counter()
        head = int(self._chain.block_number())
        self._trace.call("head", began, head=head)
        return head

    def gate_requests(self, from_block: int, to_block: int | str) -> list[GateRequest]:
        began = time.perf_counter()
        found: list[GateRequest] = self._chain.gate_requests(from_block, to_block)
        by_block: dict[int, list[int]] = {}
        for r in found:
            by_block.setdefault(r.block_number, []).append(r.item_id)
        self._trace.call("logs", began, blocks=[from_block, to_block], ids=by_block)
        return found

    def send_verdicts(self, items: Sequence[VerdictItem], gas: int | None = None) -> SentTx:
        began = time.perf_counter()
        sent: SentTx = self._chain.send_verdicts(items, gas)
        self._trace.call("send", began, tx=sent.tx_hash, count=len(items))
        return sent

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        began = time.perf_counter()
        found: dict[str, dict[str, Any] | None] = self._chain.receipts(tx_hashes)
        self._trace.call(
            "receipts", began, asked=len(tx_hashes), mined=sum(v is not None for v in found.values())
        )
        return found
