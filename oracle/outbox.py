"""The outbox: scored verdicts waiting to be posted, the verdict transactions in flight, their
receipts, and re-posting what a reorganisation or a lost transaction dropped.

Verdicts are posted with `submitVerdicts` in batches, without waiting for them to be mined: a few
transactions are in flight at once (nonces kept locally), and each turn settles those mined since.
The verdict log is written before anything is sent and after every change, so a crash loses
nothing: on restart the unposted verdicts are sent again, and the RiskOracle skips what is already
final or already voted, which the outbox records as done.

Seams for later rules: `_send_batch` sends one batch (the place to bisect a batch the node
refuses), and `_reverted` handles a mined transaction that reverted (the place to park items).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from oracle.chain import BatchOutcome, SentTx, VerdictItem
from oracle.clock import Clock, SystemClock
from oracle.config import Settings
from oracle.metrics import Metrics
from oracle.policy import PolicyCache
from oracle.reorg import ReorgWatch
from oracle.verdicts import VerdictLog, VerdictRow

log = structlog.get_logger("verdict.daemon")

INFLIGHT_RECHECK = 30.0  # seconds between looks at sent-but-unmined verdicts (and once at start)
RECEIPT_TIMEOUT = 60.0  # seconds a sent verdict transaction is watched before the recheck takes over
MAX_INFLIGHT_TXS = 4  # verdict transactions sent and not yet seen mined
INFLIGHT_GAS = 16_000_000
"""Most gas (the sum of the gas limits) of the verdict transactions in flight at once: two batches of
200 (about 7.7M each), about half a 30M block, so our transactions do not crowd out another large
one on an automining dev chain (two large transactions that cannot share a block can both wait in
the pool for good). A single batch above it is still sent, alone."""

Item = tuple[str, int]  # (target, id): how the RiskOracle names a gated item


class VerdictChain(Protocol):
    """The chain calls the outbox needs (`oracle.chain.ChainClient` is one)."""

    def send_verdicts(self, items: Sequence[VerdictItem]) -> SentTx: ...

    def receipt(self, tx_hash: str) -> dict[str, Any] | None: ...

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, dict[str, Any] | None]: ...

    def block_hashes(self, numbers: Sequence[int]) -> dict[int, str | None]: ...

    def batch_outcome(self, receipt: dict[str, Any]) -> BatchOutcome: ...

    def resync_nonce(self) -> None: ...


@dataclass
class InFlight:
    """A verdict transaction sent by this process and not yet seen mined."""

    tx: SentTx
    rows: dict[Item, VerdictRow]
    sent_at: float


def _item(row: VerdictRow) -> Item:
    return (row.target, int(row.item_id))


class Outbox:
    """Pending verdict sends for one oracle node."""

    def __init__(
        self,
        settings: Settings,
        chain: VerdictChain,
        verdicts: VerdictLog,
        policy: PolicyCache,
        metrics: Metrics | None = None,
        clock: Clock | None = None,
        fault: Callable[[str], None] = lambda point: None,
    ) -> None:
        """fault: called at the test crash points "sent" and "posted" (see `oracle.daemon`)."""
        self._settings = settings
        self._chain = chain
        self._verdicts = verdicts
        self._policy = policy
        self._metrics = metrics or Metrics()
        self._clock = clock or SystemClock()
        self._fault = fault
        self._reorgs = ReorgWatch(chain, self._clock)
        self._sent: dict[str, InFlight] = {}  # tx hash -> verdicts in it, in sending (nonce) order
        # Scored verdicts not sent yet, and sent ones whose transaction never mined: key -> row.
        # Loaded from the log once (None until then), then kept here: this node is its log's only
        # writer, and re-reading the verdict log every turn was a large share of the loop.
        self._queue: dict[str, VerdictRow] | None = None
        self._seen_at: dict[str, float] = {}  # key -> monotonic time its request was read
        self._inflight_checked: float | None = None
        self._gas_per_item: float | None = None  # from the last estimate; predicts a batch's gas

    @property
    def in_flight(self) -> int:
        """Verdict transactions sent and not yet seen mined."""
        return len(self._sent)

    def enqueue(self, rows: Sequence[VerdictRow], seen_at: float) -> None:
        """Newly scored verdicts (already in the log), whose requests were read at `seen_at`."""
        for row in rows:
            self._seen_at[row.key] = seen_at
            if self._queue is not None:  # else they are read from the log with the rest
                self._queue[row.key] = row

    def flush(self) -> bool:
        """One turn: settle what was mined, re-post what was dropped, send what is pending while the
        in-flight window has room. Returns whether anything was settled or sent."""
        busy = self._collect()
        if self._queue is None:
            self._queue = {row.key: row for row in self._verdicts.unposted()}
        queue = self._queue
        self._repost_dropped()
        now = self._clock.monotonic()
        if self._inflight_checked is None or now - self._inflight_checked > INFLIGHT_RECHECK:
            for row in self._lost():
                queue.setdefault(row.key, row)
            self._inflight_checked = now
        pending = list(queue.values())
        self._metrics.backlog.set(len(pending))
        if not pending:
            return busy
        ready = []
        for row in pending:
            # A score from a model governance has since revoked is not posted: fail closed.
            if self._policy.model_approved(row.model_id):
                ready.append(row)
            else:
                self._verdicts.mark_final(row.key, "model_not_approved")
                queue.pop(row.key, None)
        return self._send(ready) or busy

    # --- sending -------------------------------------------------------------------------------
    def _send(self, rows: list[VerdictRow]) -> bool:
        """Sends `rows` in batches while the in-flight window has room; whether any went."""
        size = self._batch_size(len(rows))
        busy = False
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            if self._sent and len(batch) < self._settings.verdict_batch_size:
                break  # a part batch waits while another is in flight, and fills up meanwhile
            if not self._room_for(len(batch)):
                break  # the rest waits in the queue for the transactions in flight (next turn)
            self._send_batch(batch)
            busy = True
        return busy

    def _send_batch(self, batch: list[VerdictRow]) -> SentTx:
        """Sends one batch, records it as posted and in flight, and takes it off the queue."""
        items = [
            VerdictItem(r.target, int(r.item_id), r.score_bps, r.model_id, r.reasons_hash) for r in batch
        ]
        began = self._clock.monotonic()
        sent = self._chain.send_verdicts(items)
        self._fault("sent")
        took = round(self._clock.monotonic() - began, 3)  # the node's gas estimate is most of it
        log.debug("verdicts sent", tx=sent.tx_hash, count=len(batch), seconds=took)
        self._verdicts.mark_posted([r.key for r in batch], sent.tx_hash)
        self._fault("posted")
        self._gas_per_item = sent.gas / len(batch)
        self._sent[sent.tx_hash] = InFlight(sent, {_item(r): r for r in batch}, self._clock.monotonic())
        assert self._queue is not None
        for row in batch:
            self._queue.pop(row.key, None)
        return sent

    def _batch_size(self, backlog: int) -> int:
        """`verdict_batch_size`, or up to `verdict_batch_max` when the backlog is larger: fewer
        transactions, and so fewer gas estimates, round trips and receipts per verdict."""
        size = self._settings.verdict_batch_size
        if backlog <= size:
            return size
        return min(max(self._settings.verdict_batch_max, size), backlog)

    def _room_for(self, n: int) -> bool:
        """Whether a batch of `n` may be sent now, given the transactions already in flight."""
        if not self._sent:
            return True
        if len(self._sent) >= MAX_INFLIGHT_TXS:
            return False
        predicted = (self._gas_per_item or 0.0) * n
        return sum(s.tx.gas for s in self._sent.values()) + predicted <= INFLIGHT_GAS

    # --- receipts ------------------------------------------------------------------------------
    def _collect(self) -> bool:
        """Settles the verdict transactions in flight that have been mined (one batched receipt
        request). One unmined for too long is left to the in-flight recheck, which re-sends it."""
        if not self._sent:
            return False
        receipts = self._chain.receipts(list(self._sent))
        now = self._clock.monotonic()
        settled = False
        for tx_hash, receipt in receipts.items():
            sent = self._sent[tx_hash]
            if receipt is None:
                if now - sent.sent_at > RECEIPT_TIMEOUT:
                    log.warning("verdict transaction not mined yet; will check again", tx=tx_hash)
                    del self._sent[tx_hash]
                continue
            self._settle(receipt, sent.rows, now - sent.sent_at)
            del self._sent[tx_hash]
            settled = True
        return settled

    def _lost(self) -> list[VerdictRow]:
        """Verdicts sent but never seen mined (a crash after sending, a node restart that dropped
        the transaction): settle those that were mined, and return the rest to be sent again. A
        repeat is harmless: the RiskOracle skips what is already final or already voted."""
        resend: list[VerdictRow] = []
        by_tx: dict[str, list[VerdictRow]] = {}
        for row in self._verdicts.verdict_rows(posted=True, final=False):
            if row.tx_hash not in self._sent and row.key not in (self._queue or {}):  # handled already
                by_tx.setdefault(row.tx_hash or "", []).append(row)
        for tx_hash, rows in by_tx.items():
            receipt = self._chain.receipt(tx_hash) if tx_hash else None
            if receipt is not None:
                self._settle(receipt, {_item(r): r for r in rows})
            else:
                resend.extend(rows)
        if resend:
            log.warning("re-sending verdicts whose transaction never mined", count=len(resend))
            if not self._sent:
                self._chain.resync_nonce()  # a dropped transaction leaves a gap our local nonce would keep
        return resend

    def _repost_dropped(self) -> None:
        """Verdicts whose mined transaction a reorganisation dropped go back to the queue (and the
        log) to be posted again. The log's "final" is not trusted over the chain."""
        assert self._queue is not None
        for m in self._reorgs.dropped():
            self._verdicts.reopen([row.key for row in m.rows.values()])
            for row in m.rows.values():
                self._queue[row.key] = replace(
                    row, tx_hash=None, posted_at=None, final_status=None, finalized_at=None
                )
            self._chain.resync_nonce()  # the dropped transaction's nonce is free again
            self._metrics.errors.labels("reorg").inc()
            log.warning(
                "verdict transaction dropped by a chain reorganisation, posting again",
                tx=m.tx_hash,
                count=len(m.rows),
            )

    def _settle(
        self, receipt: dict[str, Any], by_item: dict[Item, VerdictRow], waited: float | None = None
    ) -> None:
        outcome = self._chain.batch_outcome(receipt)
        self._metrics.gas.inc(outcome.gas_used)
        if int(receipt.get("status", 1)) != 1:
            self._reverted(outcome, by_item)
            return
        now = self._clock.monotonic()
        self._reorgs.watch(receipt, outcome.tx_hash, by_item)
        finals: dict[str, str] = {}
        skipped: dict[str, str] = {}
        for item, row in by_item.items():
            if item in outcome.posted:
                finals[row.key] = final = outcome.finals.get(item, "posted")
                self._metrics.verdicts.labels(row.decision).inc()
                seen = self._seen_at.pop(row.key, None)
                if seen is not None:
                    self._metrics.latency.observe(now - seen)
                log.debug(
                    "verdict posted", key=row.key, score=row.score_bps, outcome=final, tx=outcome.tx_hash
                )
            elif item in outcome.skipped:
                finals[row.key] = skipped[row.key] = reason = outcome.skipped[item]
                self._seen_at.pop(row.key, None)
                log.debug("verdict skipped by the oracle", key=row.key, reason=reason)
        self._verdicts.mark_final_many(finals)
        log.info(
            "verdicts mined",
            tx=outcome.tx_hash,
            posted=len(finals) - len(skipped),
            outcomes=dict(Tally(v for k, v in finals.items() if k not in skipped)),
            skipped=dict(Tally(skipped.values())),
            gas=outcome.gas_used,
            seconds_since_sent=None if waited is None else round(waited, 3),
        )

    def _reverted(self, outcome: BatchOutcome, by_item: dict[Item, VerdictRow]) -> None:
        """A mined verdict transaction that reverted: counted and logged; its verdicts stay posted
        but not final, so the in-flight recheck sends them again."""
        self._metrics.errors.labels("reverted").inc()
        log.error("verdict transaction reverted", tx=outcome.tx_hash, count=len(by_item))
