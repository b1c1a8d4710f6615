"""The outbox: scored verdicts waiting to be posted, the verdict transactions in flight, their
receipts, and re-posting what a reorganisation or a lost transaction dropped.

Verdicts are posted with `submitVerdicts` in batches, without waiting for them to be mined: a few
transactions are in flight at once (nonces kept locally), and each turn settles those mined since.
The verdict log is written before anything is sent and after every change, so a crash loses
nothing: on restart the unposted verdicts are sent again, and the RiskOracle skips what is already
final or already voted, which the outbox records as done.

Gas (issue 16): no `eth_estimateGas` per batch. A batch's gas limit is the sum of its items'
worst cases (`oracle.budget`: a fixed cost per verdict plus the push budget of its token, which the
DAO lists on the router), so batches are cut to stay under the gas cap, and the in-flight window is
half a block's gas: on a chain with 1G-gas blocks, thousands of verdicts ride each block.

Split and park (issue 13, attacks 6 to 8): no verdict may stall the others. A batch mined but
reverted is not sent again as it was: each half goes back as a *suspect* group, which is checked
with an `eth_call` (the fee fields and gas limit it will be sent with) before it is sent, and
bisected (`oracle.isolate`, its first half at once, the second on a later turn; the parts go one
per turn after fresh verdicts) when the call fails: the parts that pass are sent, a single item
that fails alone is *parked* (final status "parked", its decoded reason in the log, counted in
`verdict_parked_total{reason}`, listed on the dashboard's health page) and never sent again by the
daemon. A single item that fails the call only for want of gas (its budget was too low) is
estimated once, and sent with that estimate if it fits the cap. A single verdict whose own
transaction reverted is checked and sent once more the same way, and parked if it reverts again
(with the call's decoded reason when there is one). With k failing items among n this costs about
2·k·log2(n) calls, none when all is well.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from oracle.budget import GasBudget
from oracle.chain import BatchOutcome, SentTx, VerdictItem
from oracle.clock import Clock, SystemClock
from oracle.config import Settings
from oracle.isolate import Probe, isolate
from oracle.metrics import Metrics
from oracle.policy import PolicyCache
from oracle.reorg import ReorgWatch
from oracle.sender import gas_limit
from oracle.verdict_codec import NO_TERMS, Terms
from oracle.verdicts import VerdictLog, VerdictRow

log = structlog.get_logger("verdict.daemon")

INFLIGHT_RECHECK = 30.0  # seconds between looks at sent-but-unmined verdicts (and once at start)
RECEIPT_TIMEOUT = 60.0  # seconds a sent verdict transaction is watched before the recheck takes over
MAX_INFLIGHT_TXS = 32  # verdict transactions sent and not yet seen mined
INFLIGHT_SHARE = 2
"""The in-flight window: the gas limits of the verdict transactions in flight add up to at most
1/INFLIGHT_SHARE of a block's gas limit, a block's worth of verdicts that leaves the other half to
everyone else (on an automining dev chain, two large transactions that cannot share a block can
both wait in the pool for good). A single batch above it is still sent, alone."""
SETTLE_LEAST = 200  # verdicts a turn settles whatever its budget (see `_settle_mined`)
BUDGET_TTL = 30.0  # seconds the tokens' push budgets are reused (re-read at once after a revert)

Item = tuple[str, int]  # (target, id): how the RiskOracle names a gated item


class VerdictChain(Protocol):
    """The chain calls the outbox needs (`oracle.chain.ChainClient` is one)."""

    def send_verdicts(self, items: Sequence[VerdictItem], gas: int | None = None) -> SentTx: ...

    def call_verdicts(self, items: Sequence[VerdictItem], gas: int) -> Probe: ...

    def estimate_verdicts(self, items: Sequence[VerdictItem]) -> Probe: ...

    def gas_budget(self) -> GasBudget: ...

    def block_gas_limit(self) -> int: ...

    def receipt(self, tx_hash: str) -> dict[str, Any] | None: ...

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, dict[str, Any] | None]: ...

    def known_tx(self, tx_hash: str) -> SentTx | None: ...

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


def _verdict_item(row: VerdictRow, terms: Mapping[str, Terms]) -> VerdictItem:
    """The verdict of `row`, with the item's terms (issue 16.4: the router pays only against them)."""
    return VerdictItem(
        row.target,
        int(row.item_id),
        row.score_bps,
        row.model_id,
        row.reasons_hash,
        terms.get(row.key, NO_TERMS),
    )


def reason_label(reason: str) -> str:
    """A bounded metrics label for a parked reason: the error's name without its arguments
    ("RiskOracleUnknownTarget"), or the first words of a node's message."""
    if reason.startswith("needs ") and "more than the cap" in reason:
        return "over_gas_cap"
    if reason.startswith("reverted once mined"):
        return "reverted_once_mined"
    if "out of gas" in reason.lower():
        return "out_of_gas"
    head = reason.split("(", 1)[0].strip() if "(" in reason else " ".join(reason.split()[:4])
    return head[:60] or "unknown"


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
        defer_finals: bool = False,
    ) -> None:
        """fault: called at the test crash points "sent" and "posted" (see `oracle.daemon`).
        defer_finals: the final statuses of settled verdicts are kept (`unwritten_finals`) for the
        owner to write with its next write (the daemon: its next scoring batch), not written at once:
        a commit fewer per turn (issue 16). Kept only in memory, they are safe to lose: a restart
        finds those verdicts posted and not final, and settles them again from their receipts."""
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
        self._tokens: dict[str, str] = {}  # key -> the token its payout is in (as read)
        self._terms: dict[str, Terms] = {}  # key -> the item's terms (as read), which its verdict carries
        self._budget: tuple[GasBudget, float] | None = None
        self._collected_at: int | None = None  # the head when receipts were last asked for
        # Receipts fetched and not settled yet (a turn settles what its budget holds, see
        # `_settle_mined`): tx hash -> receipt; their transactions stay in `_sent` until settled.
        self._mined: dict[str, dict[str, Any]] = {}
        self._retried: set[str] = set()  # keys whose own transaction reverted once, alone
        # Keys of verdicts whose batch reverted once mined, in the groups they are to be sent in
        # (each half of the reverted batch alone; see `_reverted`).
        self._groups: list[tuple[list[str], int | None]] = []  # (keys, estimate or None)
        self._defer_finals = defer_finals
        self._finals: dict[str, str] = {}  # key -> final status, settled and not written yet
        self._finals_since: float | None = None  # monotonic time the oldest of them was settled

    @property
    def unwritten_finals(self) -> dict[str, str]:
        """Final statuses settled and not yet written (`defer_finals`), key -> status."""
        return dict(self._finals)

    def finals_age(self, now: float) -> float:
        """Seconds the oldest unwritten final status has waited (0 when there is none)."""
        return 0.0 if self._finals_since is None else now - self._finals_since

    def finals_written(self, finals: Mapping[str, str]) -> None:
        """`finals` (from `unwritten_finals`) are now committed to the log by the owner."""
        for key, status in finals.items():
            if self._finals.get(key) == status:
                del self._finals[key]
        if not self._finals:
            self._finals_since = None

    def write_finals(self) -> None:
        """Writes the final statuses not written yet (one transaction)."""
        if self._finals:
            finals = dict(self._finals)
            self._verdicts.mark_final_many(finals)
            self.finals_written(finals)

    def _record_finals(self, finals: dict[str, str]) -> None:
        if self._defer_finals:
            if finals and self._finals_since is None:
                self._finals_since = self._clock.monotonic()
            self._finals.update(finals)
        else:
            self._verdicts.mark_final_many(finals)

    @property
    def in_flight(self) -> int:
        """Verdict transactions sent and not yet seen mined."""
        return len(self._sent)

    def enqueue(
        self,
        rows: Sequence[VerdictRow],
        seen_at: float,
        tokens: Mapping[str, str] | None = None,
        terms: Mapping[str, Terms] | None = None,
    ) -> None:
        """Newly scored verdicts (already in the log), whose requests were read at `seen_at`;
        `tokens`: key -> the token each pays out in, for its gas budget (a verdict whose token is
        not known is given the dearest token's); `terms`: key -> the item's terms, which its verdict
        carries (those not given, after a restart, are read from the chain when sent)."""
        if tokens:
            self._tokens.update(tokens)
        if terms:
            self._terms.update(terms)
        for row in rows:
            self._seen_at[row.key] = seen_at
            if self._queue is not None:  # else they are read from the log with the rest
                self._queue[row.key] = row

    def flush(self, head: int | None = None) -> bool:
        """One turn: settle what was mined, re-post what was dropped, send what is pending while the
        in-flight window has room. Returns whether anything was settled or sent.

        head: the chain's head as the caller just read it. Receipts are only asked for when it has
        moved since they were last asked for (nothing can have been mined otherwise); None: always
        (tests, and callers that do not read the head)."""
        busy = False
        if head is None or head != self._collected_at or self._overdue():
            busy = self._collect()
            self._collected_at = head
        elif self._mined:
            busy = self._settle_mined()
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
        strangers: dict[str, str] = {}
        targets = self._targets()
        approved: dict[str, bool] = {}  # model id -> approved, asked once per turn, not per verdict
        for row in pending:
            if targets is not None and row.target.lower() not in targets:
                # A row left over from another deployment (its target is no gated contract here):
                # it could only ever fail, so it waits for no one.
                strangers[row.key] = f"target {row.target} is not a gated contract of this deployment"
            # A score from a model governance has since revoked is not posted: fail closed.
            elif (
                approved[row.model_id] if row.model_id in approved else self._approved(approved, row.model_id)
            ):
                ready.append(row)
            else:
                self._verdicts.mark_final(row.key, "model_not_approved")
                queue.pop(row.key, None)
        if strangers:
            self._park({k: queue[k] for k in strangers}, strangers)
        return self._send(ready) or busy

    def _approved(self, seen: dict[str, bool], model_id: str) -> bool:
        seen[model_id] = approved = self._policy.model_approved(model_id)
        return approved

    def _targets(self) -> set[str] | None:
        try:
            return {address.lower() for address in self._policy.targets.values()}
        except (AttributeError, TypeError):
            return None  # a chain that does not say (tests' fakes): every target is taken

    # --- sending -------------------------------------------------------------------------------
    def _send(self, rows: list[VerdictRow]) -> bool:
        """Sends `rows` in batches while the in-flight window has room; whether any went.

        Fresh verdicts go at once, whatever their number: on a chain with block times, a verdict
        that waits for a fuller batch misses the next block. Verdicts held back in groups (the
        parts of a split batch, the halves of a reverted one) go one group per turn, after the
        fresh verdicts: a heavy or suspect group never makes the honest verdicts behind it wait,
        and the loop keeps reading new requests in between."""
        busy = False
        waiting = {key for keys, _ in self._groups for key in keys}
        fresh = [r for r in rows if r.key not in waiting] if waiting else rows
        for batch, gas in self._batches(fresh):
            if not self._room_for(gas):
                break  # the rest waits in the queue for the transactions in flight (next turn)
            self._post(batch, gas)
            busy = True
        if self._groups:
            by_key = {row.key: row for row in rows}
            keys, gas = self._groups[0]
            group = [by_key[k] for k in keys if k in by_key]
            if not group:
                self._groups.pop(0)  # parked or settled meanwhile
            elif self._room_for(self._gas_of(group) if gas is None else gas):
                self._groups.pop(0)
                if gas is None:
                    self._send_suspect(group)
                else:
                    self._post(group, gas)
                busy = True
        return busy

    def _batches(self, rows: list[VerdictRow]) -> list[tuple[list[VerdictRow], int]]:
        """`rows` cut into batches of at most the batch size and the gas cap, each with its gas
        limit (the sum of its items' budgets, `oracle.budget`)."""
        budget = self._gas_budget()
        most = self._batch_size(len(rows))
        cap = self._gas_cap()
        out: list[tuple[list[VerdictRow], int]] = []
        batch: list[VerdictRow] = []
        # The batch's gas as the running sum of its items' (GasBudget.batch of the sum is that of
        # the items), and each (target, token)'s budget worked out once: a backlog is thousands of
        # rows over a few targets and tokens.
        total = 0
        item_gas: dict[tuple[str, str | None], int] = {}
        for row in rows:
            pair = (row.target, self._tokens.get(row.key))
            gas = item_gas.get(pair)
            if gas is None:
                gas = item_gas[pair] = budget.item(*pair)
            if batch and (len(batch) >= most or GasBudget.batch((total + gas,)) > cap):
                out.append((batch, GasBudget.batch((total,))))
                batch, total = [], 0
            batch.append(row)
            total += gas
        if batch:
            out.append((batch, GasBudget.batch((total,))))
        return out

    def _items(self, rows: Sequence[VerdictRow]) -> list[VerdictItem]:
        """The verdicts of `rows` with their items' terms; terms not known here (rows read back
        from the log after a restart) are read from the chain (`item_terms`, one log query per
        target), and an item whose terms cannot be found is sent without them: its target skips it
        (ContentMismatch), never pays it."""
        missing: dict[str, list[VerdictRow]] = {}
        for row in rows:
            if row.key not in self._terms:
                missing.setdefault(row.target, []).append(row)
        lookup = getattr(self._chain, "item_terms", None)
        for target, group in missing.items():
            if lookup is None:
                break
            found = lookup(target, [int(r.item_id) for r in group])
            for row in group:
                if int(row.item_id) in found:
                    self._terms[row.key] = found[int(row.item_id)]
        return [_verdict_item(r, self._terms) for r in rows]

    def _gas_of(self, rows: Sequence[VerdictRow]) -> int:
        budget = self._gas_budget()
        return GasBudget.batch(budget.item(r.target, self._tokens.get(r.key)) for r in rows)

    def _gas_budget(self, refresh: bool = False) -> GasBudget:
        """The tokens' push budgets as the router lists them (re-read every BUDGET_TTL seconds);
        a chain that does not say (tests' fakes) gives every item the dearest token's budget."""
        now = self._clock.monotonic()
        if refresh or self._budget is None or now - self._budget[1] > BUDGET_TTL:
            try:
                self._budget = (self._chain.gas_budget(), now)
            except AttributeError:
                self._budget = (GasBudget(), now)
        return self._budget[0]

    def _send_suspect(self, batch: list[VerdictRow]) -> None:
        """Sends a group whose batch reverted once mined: checked first with an `eth_call` at the gas
        limit it will carry, sent as it is when the call passes; otherwise split (`isolate`) into the
        parts that pass, which are sent, and single verdicts that fail alone, which are parked."""
        cap = self._gas_cap()

        def probe(group: Sequence[VerdictRow]) -> Probe:
            gas = self._gas_of(group)
            answer = self._chain.call_verdicts(self._items(group), gas)
            if answer.ok or len(group) > 1 or "out of gas" not in (answer.reason or "").lower():
                return answer
            # Alone and short of gas: its budget is too low (a token relisted with a larger budget,
            # an EVM repricing). The rare case where the node's estimate is worth its cost.
            estimate = self._chain.estimate_verdicts(self._items(group))
            return Probe(gas_limit(estimate.gas)) if estimate.gas is not None else estimate

        first = probe(batch)
        if first.gas is not None and first.gas <= cap:
            self._post(batch, first.gas)
            return
        self._metrics.splits.labels("refused" if first.gas is None else "over_gas_cap").inc()
        log.warning(
            "verdict batch refused or over the gas cap; splitting it",
            count=len(batch),
            gas=first.gas,
            gas_cap=cap,
            reason=first.reason,
        )
        # Only the first half is isolated now; the second waits its turn as a group of its own (it is
        # checked, and split if need be, then): the loop goes back to reading requests sooner, and
        # fresh verdicts go ahead of the rest of a heavy backlog.
        middle = len(batch) // 2
        now, later = (batch[:middle], batch[middle:]) if middle else (batch, [])
        split = isolate(now, lambda group: first if len(group) == len(batch) else probe(group), cap)
        if split.parked:
            self._park({r.key: r for r, _ in split.parked}, {r.key: why for r, why in split.parked})
        log.info(
            "verdict batch split",
            count=len(batch),
            batches=[len(g) for g, _ in split.batches],
            parked=len(split.parked),
            later=len(later),
            calls=split.probes + 1,
        )
        # The first part goes now; the others wait their turn, behind fresh verdicts (see `_send`).
        waiting: list[tuple[list[str], int | None]] = [
            ([r.key for r in group], gas) for group, gas in split.batches[1:]
        ]
        if later:
            waiting.append(([r.key for r in later], None))
        self._groups[0:0] = waiting
        if split.batches:
            group, gas = split.batches[0]
            self._post(group, gas)

    def _post(self, batch: list[VerdictRow], gas: int) -> SentTx:
        """Sends one batch with gas limit `gas`, records it as posted and in flight, and takes it
        off the queue."""
        items = self._items(batch)
        began = self._clock.monotonic()
        sent = self._chain.send_verdicts(items, gas)
        self._fault("sent")
        took = round(self._clock.monotonic() - began, 3)
        log.debug("verdicts sent", tx=sent.tx_hash, count=len(batch), seconds=took)
        self._verdicts.mark_posted([r.key for r in batch], sent.tx_hash)
        self._fault("posted")
        self._sent[sent.tx_hash] = InFlight(sent, {_item(r): r for r in batch}, self._clock.monotonic())
        assert self._queue is not None
        for row in batch:
            self._queue.pop(row.key, None)
        return sent

    def _gas_cap(self) -> int:
        """Most gas one verdict transaction may need: the configured cap, and at most half a block
        (the gas limit adds a margin to the estimate; other transactions need room too)."""
        cap = self._settings.verdict_gas_cap
        try:
            return min(cap, self._chain.block_gas_limit() // 2)
        except AttributeError:
            return cap

    def _park(self, rows: dict[str, VerdictRow], reasons: dict[str, str]) -> None:
        """Final status "parked" with the reason: never sent again, never in anyone's way."""
        if not reasons:
            return
        self._verdicts.mark_parked(reasons)
        for key, reason in reasons.items():
            self._metrics.parked.labels(reason_label(reason)).inc()
            self._seen_at.pop(key, None)
            self._tokens.pop(key, None)
            self._terms.pop(key, None)
            self._retried.discard(key)
            if self._queue is not None:
                self._queue.pop(key, None)
            row = rows.get(key)
            log.error(
                "verdict parked: the chain refuses it on its own; not retried",
                key=key,
                target=row.target if row else None,
                reason=reason,
                hint="see `Parked verdicts` on the dashboard's health page (docs/operator-guide.md)",
            )

    def _batch_size(self, backlog: int) -> int:
        """`verdict_batch_size`, or up to `verdict_batch_max` when the backlog is larger: fewer
        transactions, and so fewer gas estimates, round trips and receipts per verdict."""
        size = self._settings.verdict_batch_size
        if backlog <= size:
            return size
        return min(max(self._settings.verdict_batch_max, size), backlog)

    def _room_for(self, gas: int) -> bool:
        """Whether a batch of gas limit `gas` may be sent now, given the transactions in flight
        (the window: half a block's gas, see INFLIGHT_SHARE)."""
        if not self._sent:
            return True
        if len(self._sent) >= MAX_INFLIGHT_TXS:
            return False
        return sum(s.tx.gas for s in self._sent.values()) + gas <= self._window()

    def _window(self) -> int:
        try:
            return self._chain.block_gas_limit() // INFLIGHT_SHARE
        except AttributeError:
            return self._settings.verdict_gas_cap

    # --- receipts ------------------------------------------------------------------------------
    def _overdue(self) -> bool:
        """A transaction in flight for longer than RECEIPT_TIMEOUT: looked at whatever the head."""
        now = self._clock.monotonic()
        return any(now - s.sent_at > RECEIPT_TIMEOUT for s in self._sent.values())

    def _collect(self) -> bool:
        """Settles the verdict transactions in flight that have been mined (one batched receipt
        request). One unmined for too long is looked up in the node (`_overdue_tx`)."""
        waiting = [h for h in self._sent if h not in self._mined]
        if not waiting:
            return self._settle_mined()
        receipts = self._chain.receipts(waiting)
        now = self._clock.monotonic()
        for tx_hash, receipt in receipts.items():
            if receipt is not None:
                self._mined[tx_hash] = receipt
            elif now - self._sent[tx_hash].sent_at > RECEIPT_TIMEOUT:
                self._overdue_tx(tx_hash, now)
        return self._settle_mined()

    def _overdue_tx(self, tx_hash: str, now: float) -> None:
        """A verdict transaction unmined after RECEIPT_TIMEOUT. If the node still holds it (a pool
        crowded by dearer transactions), it is watched for another RECEIPT_TIMEOUT: sending its
        verdicts again would only queue a duplicate behind it, under a later nonce, that pays gas
        to be skipped, and under a flood every batch would be doubled each minute. If the node no
        longer knows it, the in-flight recheck sends its verdicts again (`_lost`)."""
        waited = round(now - self._sent[tx_hash].sent_at, 1)
        if self._chain.known_tx(tx_hash) is not None:
            self._sent[tx_hash].sent_at = now
            log.warning("verdict transaction still waiting in the node's pool", tx=tx_hash, waited_s=waited)
            return
        log.warning("verdict transaction unknown to the node; its verdicts will be sent again", tx=tx_hash)
        del self._sent[tx_hash]

    def _settle_mined(self) -> bool:
        """Settles the fetched receipts in sending order while this turn's budget lasts (at least
        one): a turn that found dozens of verdict transactions mined at once (a block that took a
        backlog of them) settled thousands of verdicts before reading the next block; the rest
        are settled by the next turns, without asking for their receipts again."""
        began = time.thread_time()
        now = self._clock.monotonic()
        settled = 0  # verdicts
        finals: dict[str, str] = {}  # of every transaction settled here: one write (issue 16)
        try:
            for tx_hash in [h for h in self._sent if h in self._mined]:
                if settled >= SETTLE_LEAST and time.thread_time() - began > self._settings.turn_budget / 2:
                    break
                sent = self._sent[tx_hash]
                self._settle(self._mined[tx_hash], sent.rows, now - sent.sent_at, finals)
                del self._sent[tx_hash], self._mined[tx_hash]
                settled += len(sent.rows)
        finally:
            # Also when a later transaction's settling failed: those settled are off `_sent`.
            self._record_finals(finals)
        return settled > 0

    def _lost(self) -> list[VerdictRow]:
        """Verdicts sent but never seen mined (a crash after sending, a node restart that dropped
        the transaction): settle those that were mined, watch again those whose transaction the
        node still holds, and return the rest to be sent again. A repeat is harmless: the
        RiskOracle skips what is already final or already voted."""
        resend: list[VerdictRow] = []
        by_tx: dict[str, list[VerdictRow]] = {}
        self.write_finals()  # else the log's "not final" would include them
        for row in self._verdicts.verdict_rows(posted=True, final=False):
            if row.tx_hash not in self._sent and row.key not in (self._queue or {}):  # handled already
                by_tx.setdefault(row.tx_hash or "", []).append(row)
        now = self._clock.monotonic()
        finals: dict[str, str] = {}
        try:
            for tx_hash, rows in by_tx.items():
                receipt = self._chain.receipt(tx_hash) if tx_hash else None
                if receipt is not None:
                    self._settle(receipt, {_item(r): r for r in rows}, finals_out=finals)
                    continue
                # Still in the node's pool (a restart while it waited): watched again, not duplicated.
                held = self._chain.known_tx(tx_hash) if tx_hash else None
                if held is not None:
                    self._sent[tx_hash] = InFlight(held, {_item(r): r for r in rows}, now)
                else:
                    resend.extend(rows)
        finally:
            self._record_finals(finals)
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
            self.write_finals()  # a reopen after them, never before (they may be these verdicts')
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
        self,
        receipt: dict[str, Any],
        by_item: dict[Item, VerdictRow],
        waited: float | None = None,
        finals_out: dict[str, str] | None = None,
    ) -> None:
        """Records what became of a mined verdict transaction's verdicts. finals_out: their final
        statuses are added to it, for the caller to write with those of the other transactions it
        settles (one transaction and commit for all); None: written here."""
        outcome = self._chain.batch_outcome(receipt)
        self._metrics.gas.inc(outcome.gas_used)
        if int(receipt.get("status", 1)) != 1:
            self._reverted(outcome, by_item)
            return
        for row in by_item.values():
            self._tokens.pop(row.key, None)
            self._terms.pop(row.key, None)
            self._retried.discard(row.key)
        now = self._clock.monotonic()
        self._reorgs.watch(receipt, outcome.tx_hash, by_item)
        finals: dict[str, str] = {}
        skipped: dict[str, str] = {}
        decisions: Tally[str] = Tally()
        latency = self._metrics.latency
        # The logger resolved once per transaction, not per verdict: the module's lazy proxy binds
        # anew on every call, even for a debug line that is filtered out (issue 16).
        debug = log.bind().debug
        for item, row in by_item.items():
            if item in outcome.posted:
                finals[row.key] = final = outcome.finals.get(item, "posted")
                decisions[row.decision] += 1
                seen = self._seen_at.pop(row.key, None)
                if seen is not None:
                    latency.observe(now - seen)
                debug("verdict posted", key=row.key, score=row.score_bps, outcome=final, tx=outcome.tx_hash)
            elif item in outcome.skipped:
                finals[row.key] = skipped[row.key] = reason = outcome.skipped[item]
                self._seen_at.pop(row.key, None)
                debug("verdict skipped by the oracle", key=row.key, reason=reason)
        for decision, count in decisions.items():
            self._metrics.verdicts.labels(decision).inc(count)
        if finals_out is None:
            self._verdicts.mark_final_many(finals)
        else:
            finals_out.update(finals)
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
        """A mined verdict transaction that reverted (status 0): not left alone, and not sent again
        as it was. Its verdicts go back to the queue; each half of the batch is sent apart (and
        estimated, so split further if the node now refuses it), so the failing ones are isolated
        in about log2(n) rounds. A single verdict whose own transaction reverted is parked."""
        self._metrics.errors.labels("reverted").inc()
        self._gas_budget(refresh=True)  # a budget raised since it was read would explain it
        rows = list(by_item.values())
        log.error(
            "verdict transaction reverted",
            tx=outcome.tx_hash,
            count=len(rows),
            gas=outcome.gas_used,
            hint="its verdicts are sent again in halves (split and park)",
        )
        if len(rows) == 1 and rows[0].key in self._retried:
            row = rows[0]
            # Its second revert alone: parked, with the node's reason when a call still fails.
            answer = self._chain.call_verdicts(self._items([row]), self._gas_of(rows))
            why = f"reverted once mined, alone (tx {outcome.tx_hash}, gas used {outcome.gas_used:,})"
            self._park({row.key: row}, {row.key: answer.reason or why})
            return
        self._metrics.splits.labels("reverted").inc()
        self._verdicts.reopen([r.key for r in rows])
        if self._queue is not None:
            for row in rows:
                self._queue[row.key] = replace(
                    row, tx_hash=None, posted_at=None, final_status=None, finalized_at=None
                )
        if len(rows) == 1:
            # Alone: checked (a call, and an estimate if only gas was short) and sent once more.
            self._retried.add(rows[0].key)
            self._groups.append(([rows[0].key], None))
            return
        middle = len(rows) // 2
        self._groups += [([r.key for r in rows[:middle]], None), ([r.key for r in rows[middle:]], None)]
