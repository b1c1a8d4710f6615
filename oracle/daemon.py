"""`verdict run`: the oracle node. Reads gate requests, scores them, posts verdicts.

One loop, three phases per turn:
1. read `PaymentRequested` / `ReleaseRequested` logs with `eth_getLogs` from the checkpoint;
2. score the new ones in a batch and write the scores to the store, then advance the checkpoint;
3. settle the verdict transactions that were mined since the last turn, then post every
   scored-but-unposted verdict with `submitVerdicts`, in batches, without waiting for them to be
   mined: the next turn reads and scores while they are (a few in flight, nonces kept locally).

The store is written before the checkpoint moves and before anything is sent, so a crash at any
point loses nothing: on restart the unposted scores are sent again, and the RiskOracle skips what
is already final or already voted, which the daemon records as done. Nothing is ever posted
without a loaded model whose id governance has approved (fail closed: the payment waits, and the
reclaim path refunds it after its deadline).
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections import Counter as Tally
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from oracle.chain import ChainClient, GateRequest, SentTx, VerdictItem
from oracle.config import Settings
from oracle.errors import ChainError, ConfigError, ModelError, StoreError
from oracle.features import OnlineFeatures, PaymentRecord
from oracle.model import ModelArtifact, load
from oracle.scoring import Scorer, decide
from oracle.store import Store, VerdictRow

log = structlog.get_logger("verdict.daemon")

CHECKPOINT = "gate-requests"
HEAD_REFRESH = 0.5  # seconds between eth_blockNumber reads while caught up
INFLIGHT_RECHECK = 30.0  # seconds between looks at sent-but-unmined verdicts (and once at start)
RECEIPT_TIMEOUT = 60.0  # seconds a sent verdict transaction is watched before the recheck takes over
MAX_INFLIGHT_TXS = 4  # verdict transactions sent and not yet seen mined
INFLIGHT_GAS = 16_000_000
"""Most gas (the sum of the gas limits) of the verdict transactions in flight at once: two batches of
200 (about 7.7M each), about half a 30M block, so our transactions do not crowd out another large
one on an automining dev chain (two large transactions that cannot share a block can both wait in
the pool for good). A single batch above it is still sent, alone."""
REORG_WINDOW = 30.0  # seconds a mined verdict transaction's block is watched for a reorganisation
REORG_WATCHED = 128  # at most this many of the latest mined verdict transactions
REORG_CHECK = 1.0  # seconds between those looks (one batched header request)
READ_WHILE_SENDING = 0.025
"""Least seconds between two reads of new requests while verdicts are in flight: the loop polls for
receipts every few milliseconds, and scoring one request per poll paid the per-batch store and RPC
costs for each; a few at a time amortise them. With nothing in flight, requests are read at once."""
RECEIPT_POLL = 0.02  # seconds between receipt polls while verdicts are in flight (each one loads the node)
FAULT_POINTS = ("scored", "sent", "posted")
"""Test-only crash points (tests/faults/): with `VERDICT_FAULT_POINT` set to one of these, the
process dies with `os._exit(137)`, like kill -9, the first time it reaches that point:
`scored` after the scores are stored and before the checkpoint moves; `sent` after a verdict
transaction is sent and before the store records it; `posted` after the store records it and before
the receipt is read. Never set it in production."""


class Metrics:
    """Prometheus metrics of one daemon, in a registry of its own (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "verdict_latency_seconds",
            "From reading a gate request to its verdict being mined",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.verdicts = Counter(
            "verdict_verdicts", "Verdicts posted, by predicted decision", ["decision"], registry=self.registry
        )
        self.backlog = Gauge("verdict_backlog", "Scored verdicts not yet posted", registry=self.registry)
        self.errors = Counter("verdict_errors", "Errors by kind", ["kind"], registry=self.registry)
        self.last_block = Gauge(
            "verdict_last_block", "Last block whose logs were processed", registry=self.registry
        )
        self.gas = Counter("verdict_gas_used", "Gas spent on verdict transactions", registry=self.registry)

    def serve(self, port: int) -> None:
        start_http_server(port, addr="127.0.0.1", registry=self.registry)


@dataclass
class ModelSlot:
    """The current model, reloaded when its files change; `None` while missing or corrupt."""

    directory: Path
    artifact: ModelArtifact | None = None
    scorer: Scorer | None = None
    error: str | None = None
    _stamp: tuple[float, ...] | None = field(default=None, repr=False)

    def refresh(self) -> None:
        stamp = tuple(p.stat().st_mtime for p in sorted(self.directory.glob("*")) if p.is_file()) if (
            self.directory.is_dir()
        ) else ()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            artifact = load(self.directory)
        except ModelError as exc:
            self.artifact, self.scorer = None, None
            if str(exc) != self.error:
                log.error(
                    "model unavailable, posting nothing", reason=str(exc), model_dir=str(self.directory)
                )
            self.error = str(exc)
            return
        self.artifact, self.scorer, self.error = artifact, Scorer(artifact), None
        log.info("model loaded", model_id=artifact.model_id, features=len(artifact.feature_names))


@dataclass
class _Sent:
    """A verdict transaction sent by this process and not yet seen mined."""

    tx: SentTx
    rows: dict[tuple[str, int], VerdictRow]
    sent_at: float


@dataclass
class _Mined:
    """A verdict transaction seen mined, watched for a while in case its block is reorganised away."""

    tx_hash: str
    block: int
    block_hash: str
    rows: dict[tuple[str, int], VerdictRow]
    seen_at: float


class OracleDaemon:
    """One oracle node: its chain client, store, model and metrics."""

    def __init__(self, settings: Settings, chain: ChainClient, store: Store, metrics: Metrics | None = None):
        self.settings = settings
        self.chain = chain
        self.store = store
        self.metrics = metrics or Metrics()
        self.features = OnlineFeatures(store)
        self.model = ModelSlot(Path(settings.model_dir))
        self._approved: dict[str, tuple[bool, float]] = {}  # model id -> (approved?, checked at)
        self._seen_at: dict[str, float] = {}  # key -> monotonic time the request was read
        self._thresholds: tuple[tuple[int, int], float] | None = None
        self._inflight_checked: float | None = None
        self._checkpoint: int | None = None  # last block whose logs are processed (mirrors the store)
        self._head: int | None = None
        self._head_read_at = 0.0
        self._sent: dict[str, _Sent] = {}  # tx hash -> verdicts in it, in sending (nonce) order
        # Scored verdicts not sent yet, and sent ones whose transaction never mined: key -> row.
        # Loaded from the store once (None until then), then kept here: this node is its store's
        # only writer, and re-reading the verdict log every turn was a large share of the loop.
        self._queue: dict[str, VerdictRow] | None = None
        self._mined: list[_Mined] = []
        self._read_at = 0.0  # monotonic time of the last read of new requests
        self._reorg_checked = 0.0
        self._gas_per_item: float | None = None  # from the last estimate; predicts a batch's gas
        self._fault_point = os.environ.get("VERDICT_FAULT_POINT") or None  # read once; see FAULT_POINTS
        if self._fault_point is not None and self._fault_point not in FAULT_POINTS:
            raise ConfigError(f"VERDICT_FAULT_POINT must be one of {', '.join(FAULT_POINTS)}")

    def _fault(self, point: str) -> None:
        if point == self._fault_point:
            log.warning("test fault point reached, exiting like kill -9", point=point)
            sys.stdout.flush()
            os._exit(137)

    # --- startup checks ------------------------------------------------------------------------
    def preflight(self) -> None:
        """Fails with one clear message if this node cannot work at all."""
        account = self.chain.account
        assert account is not None
        if not self.chain.is_node(account.address):
            raise ConfigError(f"{account.address} is not a registered oracle node on this RiskOracle")
        if self.chain.balance(account.address) == 0:
            raise ChainError(f"oracle node {account.address} has no funds to pay for gas; top it up")
        log.info(
            "oracle node ready",
            node=account.address,
            rpc=self.chain.rpc_url,
            sources=self.chain.sources,
        )

    # --- the loop ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                busy = self.step()
                failures = 0
            except (ChainError, StoreError) as exc:
                failures += 1
                kind = "chain" if isinstance(exc, ChainError) else "store"
                self.metrics.errors.labels(kind).inc()
                delay = min(self.settings.max_backoff, 0.1 * 2 ** min(failures, 10))
                log.warning(f"{kind} unavailable, backing off", error=str(exc), retry_in=round(delay, 2))
                stop.wait(delay)
                continue
            if not busy:
                # Verdicts in flight: look for their receipts again soon rather than a whole poll later.
                poll = self.settings.poll_interval
                stop.wait(min(poll, RECEIPT_POLL) if self._sent else poll)
        log.info("oracle node stopped")

    def step(self) -> bool:
        """One turn of the loop. Returns whether there was work."""
        self.model.refresh()
        now = time.monotonic()
        read = False
        if not self._sent or now - self._read_at >= READ_WHILE_SENDING:
            self._read_at = now
            read = self._read_and_score()
        posted = self._post()
        return read or posted

    # --- phase 1 and 2: read and score ---------------------------------------------------------
    def _read_and_score(self) -> bool:
        if self.model.scorer is None or not self._model_approved():
            return False  # fail closed; keep the checkpoint so we catch up once a model is back
        if self._checkpoint is None:
            stored = self.store.get_checkpoint(CHECKPOINT)
            self._checkpoint = self.chain.deployment.block - 1 if stored is None else stored
        start = self._checkpoint + 1
        now = time.monotonic()
        # Caught up and no confirmations to wait for: ask for the logs up to 'latest' directly and
        # skip the eth_blockNumber round trip (a fifth of the loop's time under load). The head is
        # still read now and then so the checkpoint moves across blocks without requests.
        tail_mode = self.settings.confirmations == 0 and self._head is not None and (
            self._head - start < self.settings.log_batch_blocks
        )
        if tail_mode and now - self._head_read_at < HEAD_REFRESH:
            # From the last processed block, not the one after it: a node answers an error, not an
            # empty list, for a range that starts past its head (every idle turn, once caught up).
            tail = self.chain.gate_requests(max(start - 1, 0), "latest")
            requests = [r for r in tail if r.block_number >= start]
            if not requests:
                return False
            end = max(r.block_number for r in requests)
        else:
            self._head = self.chain.block_number() - self.settings.confirmations
            self._head_read_at = now
            if self._head < start:
                return False
            end = min(self._head, start + self.settings.log_batch_blocks - 1)
            requests = self.chain.gate_requests(start, end)
        # A big backlog is scored a slice at a time (whole blocks, so the checkpoint stays exact),
        # with the verdicts posted between slices: the chain mines one batch while the next is scored.
        most = max(self.settings.verdict_batch_max, self.settings.verdict_batch_size)
        if len(requests) > most:
            end = requests[most - 1].block_number
            requests = [r for r in requests if r.block_number <= end]
        known = self.store.scored_keys([r.key for r in requests])
        fresh = [r for r in requests if r.key not in known]
        if fresh:
            self._score(fresh)
            self._fault("scored")
        self.store.set_checkpoint(CHECKPOINT, end)
        self._checkpoint = end
        self.metrics.last_block.set(end)
        return True

    def _score(self, requests: list[GateRequest]) -> None:
        scorer, artifact = self.model.scorer, self.model.artifact
        assert scorer is not None and artifact is not None
        now = time.monotonic()
        records: list[tuple[GateRequest, PaymentRecord]] = []
        for req in requests:
            record = self._record(req)
            if record is not None:
                records.append((req, record))
                self._seen_at[req.key] = now
        if not records:
            return
        matrix = self.features.compute_many([rec for _, rec in records])
        results = scorer.score_many(matrix)
        review, reject = self._policy()
        rows = []
        for (req, _), features, result in zip(records, matrix, results, strict=True):
            decision = decide(result.score_bps, review, reject)
            rows.append(
                {
                    "key": req.key,
                    "target": req.target,
                    "item_id": req.item_id,
                    "score_bps": result.score_bps,
                    "decision": decision,
                    "model_id": artifact.model_id,
                    "reasons": [r.as_dict() for r in result.reasons],
                    "reasons_hash": result.reasons_hash,
                    "features": dict(zip(artifact.feature_names, map(float, features), strict=False)),
                }
            )
            log.debug(
                "scored",
                key=req.key,
                score=result.score_bps,
                decision=decision,
                reasons=[r.text for r in result.reasons],
            )
        self.store.record_scored_many(rows)
        if self._queue is not None:
            at = time.time()
            for r in rows:
                self._queue[r["key"]] = VerdictRow(
                    key=r["key"],
                    target=r["target"],
                    item_id=str(r["item_id"]),
                    score_bps=int(r["score_bps"]),
                    decision=r["decision"],
                    model_id=r["model_id"],
                    reasons=r["reasons"],
                    reasons_hash=r["reasons_hash"],
                    features=r["features"],
                    scored_at=at,
                    tx_hash=None,
                    posted_at=None,
                    final_status=None,
                    finalized_at=None,
                )
        # One line per batch at info: two lines per payment were a visible share of the loop.
        log.info("scored", count=len(rows), decisions=dict(Tally(r["decision"] for r in rows)))

    def _record(self, req: GateRequest) -> PaymentRecord | None:
        """The request as the feature code sees it; None (with one log line) if it cannot be valued."""
        token = self.chain.token_info(req.token)
        price = self.settings.usd_prices.get(token.symbol)
        if price is None or not math.isfinite(price):
            self.metrics.errors.labels("features").inc()
            log.error(
                "cannot value payment, no verdict (it will be refunded after its deadline)",
                key=req.key,
                token=token.symbol,
                reason="no USD price configured for this token (VERDICT_USD_PRICES)",
            )
            return None
        return PaymentRecord(
            key=req.key,
            payer=req.payer,
            payee=req.payee,
            token=token.symbol,
            amount_usd=req.amount / 10**token.decimals * price,
            timestamp=self.chain.block_timestamp(req.block_number),
        )

    def _policy(self) -> tuple[int, int]:
        """The router's current thresholds, re-read every few seconds (governance may change them)."""
        now = time.monotonic()
        if self._thresholds is None or now - self._thresholds[1] > 5:
            self._thresholds = (self.chain.thresholds(), now)
        return self._thresholds[0]

    def _model_approved(self, model_id: str | None = None) -> bool:
        """Whether governance approves `model_id` (the loaded model's by default); cached 10 s."""
        if model_id is None:
            assert self.model.artifact is not None
            model_id = self.model.artifact.model_id
        now = time.monotonic()
        cached = self._approved.get(model_id)
        if cached is None or now - cached[1] > 10:
            approved = self.chain.is_model_approved(model_id)
            if not approved and (cached is None or cached[0]):
                log.error(
                    "model is not approved by governance, posting nothing for it",
                    model_id=model_id,
                    hint="propose approveModel(model_id) through the major track",
                )
            self._approved[model_id] = cached = (approved, now)
        return cached[0]

    # --- phase 3: post -------------------------------------------------------------------------
    def _post(self) -> bool:
        busy = self._collect()
        if self._queue is None:
            self._queue = {row.key: row for row in self.store.unposted()}
        queue = self._queue
        self._check_reorgs()
        now = time.monotonic()
        if self._inflight_checked is None or now - self._inflight_checked > INFLIGHT_RECHECK:
            for row in self._inflight():
                queue.setdefault(row.key, row)
            self._inflight_checked = now
        pending = list(queue.values())
        self.metrics.backlog.set(len(pending))
        if not pending:
            return busy
        items = []
        for row in pending:
            # A score from a model governance has since revoked is not posted: fail closed.
            if self._model_approved(row.model_id):
                items.append(
                    VerdictItem(row.target, int(row.item_id), row.score_bps, row.model_id, row.reasons_hash)
                )
            else:
                self.store.mark_final(row.key, "model_not_approved")
                queue.pop(row.key, None)
        by_item = {(row.target, int(row.item_id)): row for row in pending}
        size = self._batch_size(len(items))
        return self._send(items, by_item, size) or busy

    def _send(self, items: list[VerdictItem], by_item: dict[tuple[str, int], VerdictRow], size: int) -> bool:
        """Sends `items` in batches of `size` while the in-flight window has room; whether any went."""
        busy = False
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            if self._sent and len(batch) < self.settings.verdict_batch_size:
                break  # a part batch waits while another is in flight, and fills up meanwhile
            if not self._room_for(len(batch)):
                break  # the rest waits in the queue for the transactions in flight (next turn)
            began = time.monotonic()
            sent = self.chain.send_verdicts(batch)
            self._fault("sent")
            took = round(time.monotonic() - began, 3)  # the node's gas estimate is most of it
            log.debug("verdicts sent", tx=sent.tx_hash, count=len(batch), seconds=took)
            self.store.mark_posted([by_item[(i.target, i.item_id)].key for i in batch], sent.tx_hash)
            self._fault("posted")
            self._gas_per_item = sent.gas / len(batch)
            rows = {(i.target, i.item_id): by_item[(i.target, i.item_id)] for i in batch}
            self._sent[sent.tx_hash] = _Sent(sent, rows, time.monotonic())
            assert self._queue is not None
            for row in rows.values():
                self._queue.pop(row.key, None)
            busy = True
        return busy

    def _batch_size(self, backlog: int) -> int:
        """`verdict_batch_size`, or up to `verdict_batch_max` when the backlog is larger: fewer
        transactions, and so fewer gas estimates, round trips and receipts per verdict."""
        size = self.settings.verdict_batch_size
        if backlog <= size:
            return size
        return min(max(self.settings.verdict_batch_max, size), backlog)

    def _room_for(self, n: int) -> bool:
        """Whether a batch of `n` may be sent now, given the transactions already in flight."""
        if not self._sent:
            return True
        if len(self._sent) >= MAX_INFLIGHT_TXS:
            return False
        predicted = (self._gas_per_item or 0.0) * n
        return sum(s.tx.gas for s in self._sent.values()) + predicted <= INFLIGHT_GAS

    def _collect(self) -> bool:
        """Settles the verdict transactions in flight that have been mined (one batched receipt
        request). One unmined for too long is left to the in-flight recheck, which re-sends it."""
        if not self._sent:
            return False
        receipts = self.chain.receipts(list(self._sent))
        now = time.monotonic()
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

    def _check_reorgs(self) -> None:
        """Verdict transactions mined in the last REORG_WINDOW seconds whose block is no longer on
        the node's chain, and which were not mined again elsewhere: their verdicts go back to the
        queue (and the store) to be posted again. The store's "final" is not trusted over the chain.
        A repeat is harmless, as everywhere: the RiskOracle skips what is final or already voted."""
        now = time.monotonic()
        self._mined = [m for m in self._mined[-REORG_WATCHED:] if now - m.seen_at <= REORG_WINDOW]
        if not self._mined or now - self._reorg_checked < REORG_CHECK:
            return
        self._reorg_checked = now
        # A reorganisation that replaced any watched block also changed every block after it, so
        # the latest watched block alone tells whether to look closer (one header per check).
        top = max(self._mined, key=lambda m: m.block)
        if self.chain.block_hashes([top.block]).get(top.block) == top.block_hash:
            return
        current = self.chain.block_hashes(sorted({m.block for m in self._mined}))
        moved = [m for m in self._mined if current.get(m.block) != m.block_hash]
        if not moved:
            return
        receipts = self.chain.receipts([m.tx_hash for m in moved])
        assert self._queue is not None
        for m in moved:
            receipt = receipts.get(m.tx_hash)
            if receipt is not None and receipt.get("blockHash"):
                m.block, m.block_hash = int(receipt["blockNumber"]), _hex(receipt["blockHash"])  # mined again
                continue
            self.store.reopen([row.key for row in m.rows.values()])
            for row in m.rows.values():
                self._queue[row.key] = replace(
                    row, tx_hash=None, posted_at=None, final_status=None, finalized_at=None
                )
            self._mined.remove(m)
            self.chain.resync_nonce()  # the dropped transaction's nonce is free again
            self.metrics.errors.labels("reorg").inc()
            log.warning(
                "verdict transaction dropped by a chain reorganisation, posting again",
                tx=m.tx_hash,
                count=len(m.rows),
            )

    def _inflight(self) -> list[VerdictRow]:
        """Verdicts sent but never seen mined (a crash after sending, a node restart that dropped
        the transaction): settle those that were mined, and return the rest to be sent again. A
        repeat is harmless: the RiskOracle skips what is already final or already voted."""
        resend: list[VerdictRow] = []
        by_tx: dict[str, list[VerdictRow]] = {}
        for row in self.store.verdict_rows(posted=True, final=False):
            if row.tx_hash not in self._sent and row.key not in (self._queue or {}):  # handled already
                by_tx.setdefault(row.tx_hash or "", []).append(row)
        for tx_hash, rows in by_tx.items():
            receipt = self.chain.receipt(tx_hash) if tx_hash else None
            if receipt is not None:
                self._settle(receipt, {(r.target, int(r.item_id)): r for r in rows})
            else:
                resend.extend(rows)
        if resend:
            log.warning("re-sending verdicts whose transaction never mined", count=len(resend))
            if not self._sent:
                self.chain.resync_nonce()  # a dropped transaction leaves a gap our local nonce would keep
        return resend

    def _settle(
        self, receipt: dict[str, Any], by_item: dict[tuple[str, int], VerdictRow], waited: float | None = None
    ) -> None:
        outcome = self.chain.batch_outcome(receipt)
        self.metrics.gas.inc(outcome.gas_used)
        if int(receipt.get("status", 1)) != 1:
            self.metrics.errors.labels("reverted").inc()
            log.error("verdict transaction reverted", tx=outcome.tx_hash)
            return
        now = time.monotonic()
        if receipt.get("blockHash") is not None and receipt.get("blockNumber") is not None:
            block_hash = _hex(receipt["blockHash"])
            self._mined.append(_Mined(outcome.tx_hash, int(receipt["blockNumber"]), block_hash, by_item, now))
        finals: dict[str, str] = {}
        skipped: dict[str, str] = {}
        for item, row in by_item.items():
            if item in outcome.posted:
                finals[row.key] = final = outcome.finals.get(item, "posted")
                self.metrics.verdicts.labels(row.decision).inc()
                seen = self._seen_at.pop(row.key, None)
                if seen is not None:
                    self.metrics.latency.observe(now - seen)
                log.debug(
                    "verdict posted", key=row.key, score=row.score_bps, outcome=final, tx=outcome.tx_hash
                )
            elif item in outcome.skipped:
                finals[row.key] = skipped[row.key] = reason = outcome.skipped[item]
                self._seen_at.pop(row.key, None)
                log.debug("verdict skipped by the oracle", key=row.key, reason=reason)
        self.store.mark_final_many(finals)
        log.info(
            "verdicts mined",
            tx=outcome.tx_hash,
            posted=len(finals) - len(skipped),
            outcomes=dict(Tally(v for k, v in finals.items() if k not in skipped)),
            skipped=dict(Tally(skipped.values())),
            gas=outcome.gas_used,
            seconds_since_sent=None if waited is None else round(waited, 3),
        )


def _hex(value: Any) -> str:
    """0x hex of a raw JSON-RPC hex string or of web3's HexBytes."""
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def run_daemon(settings: Settings) -> None:
    """Entry point of `verdict run`: start, serve metrics, loop until SIGINT or SIGTERM."""
    store = Store(settings.store_url)
    chain = ChainClient.from_settings(settings)
    daemon = OracleDaemon(settings, chain, store)
    _retry_startup(daemon)
    if settings.metrics_port:
        try:
            daemon.metrics.serve(settings.metrics_port)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve metrics on 127.0.0.1:{settings.metrics_port}: {exc.strerror}"
            ) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    daemon.run(stop)


def _retry_startup(daemon: OracleDaemon) -> None:
    """An RPC that is not up yet is waited for; a wrong key or an empty wallet is an error."""
    delay = 0.2
    while True:
        try:
            daemon.preflight()
            return
        except ChainError as exc:
            if "no funds" in str(exc):
                raise
            log.warning("RPC unavailable at startup, retrying", error=str(exc), retry_in=delay)
            time.sleep(delay)
            delay = min(delay * 2, daemon.settings.max_backoff)

