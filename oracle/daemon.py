"""`verdict run`: the oracle node. Reads gate requests, scores them, posts verdicts.

One loop, three stages per turn, each a module of its own:
1. `reader`: read `PaymentRequested` / `ReleaseRequested` logs with `eth_getLogs` from the checkpoint;
2. `scoring_stage`: score the new ones in a batch and write the verdicts to the log, then advance
   the checkpoint;
3. `outbox`: settle the verdict transactions mined since the last turn, then post every
   scored-but-unposted verdict with `submitVerdicts`, in batches, without waiting for them to be
   mined: the next turn reads and scores while they are (a few in flight, nonces kept locally).

The log is written before the checkpoint moves and before anything is sent, so a crash at any
point loses nothing: on restart the unposted verdicts are sent again, and the RiskOracle skips what
is already final or already voted, which the outbox records as done. Nothing is ever posted
without a loaded model whose id governance has approved (`policy`; fail closed: the payment waits,
and the reclaim path refunds it after its deadline).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from oracle.binding import bind_store
from oracle.chain import ChainClient, GateRequest
from oracle.clock import Clock, SystemClock
from oracle.config import Settings
from oracle.drift_monitor import DriftMonitor
from oracle.errors import ChainError, ConfigError, ModelError, StoreError
from oracle.features import OnlineFeatures
from oracle.fx_daemon import FxNode
from oracle.metrics import Metrics
from oracle.model import ModelArtifact, load
from oracle.outbox import Outbox
from oracle.policy import PolicyCache
from oracle.reader import CHECKPOINT, RequestReader
from oracle.scoring import Scorer
from oracle.scoring_stage import ScoringStage
from oracle.store import Store
from oracle.turn_trace import TracedChain, TurnTrace
from oracle.verdicts import VerdictRow

__all__ = ["CHECKPOINT", "FAULT_POINTS", "Metrics", "ModelSlot", "OracleDaemon", "run_daemon"]

log = structlog.get_logger("verdict.daemon")

READ_WHILE_SENDING = 0.005
"""Least seconds between two reads of new requests while verdicts are in flight: the loop polls for
receipts every few milliseconds, and scoring one request per poll paid the per-batch store and RPC
costs for each (automine); on a chain with block times a block holds many, and a few ms of delay
is a few percent of the next block's time. With nothing in flight, requests are read at once."""
RECEIPT_POLL = 0.02  # seconds between receipt polls while verdicts are in flight (each one loads the node)
MODEL_CHECK = 1.0  # seconds between looks at the model directory (a swapped model is seen within it)
MIN_TURN_REQUESTS = 50
"""The fewest requests a turn takes, however slow scoring has been: every turn has fixed costs (the
store's transactions, a verdict transaction and its receipt), which tiny turns would multiply."""
SLOW_TURN = 4
"""A busy turn longer than this many turn budgets (wall time) is logged with its stages' wall and CPU
ms: on a shared host wall time includes being descheduled, CPU time says what the turn itself did."""
DRIFT_DEFER = 120.0  # seconds a busy node may put off its drift report (`report_drift`)
COST_TURNS = 20  # busy turns whose cost per request sizes the next turn (`turn_size`)
FINALS_DEFER = 1.0
"""Most seconds the final statuses of settled verdicts wait in memory for a scoring batch's
transaction to carry them (`score_and_checkpoint`) before they are written alone."""
TURN_SAMPLES = 200_000  # busy turns whose times are kept for the stop line (a few minutes at load)
FAULT_POINTS = ("scored", "sent", "posted")
"""Test-only crash points (tests/faults/): with `VERDICT_FAULT_POINT` set to one of these, the
process dies with `os._exit(137)`, like kill -9, the first time it reaches that point:
`scored` after the scores and the checkpoint are stored (one transaction) and before anything is
sent; `sent` after a verdict
transaction is sent and before the store records it; `posted` after the store records it and before
the receipt is read. Never set it in production."""


@dataclass
class ModelSlot:
    """The current model, reloaded when its files change; `None` while missing or corrupt."""

    directory: Path
    artifact: ModelArtifact | None = None
    scorer: Scorer | None = None
    error: str | None = None
    _stamp: tuple[float, ...] | None = field(default=None, repr=False)
    _checked: float = field(default=-float("inf"), repr=False)

    def refresh(self) -> None:
        # The files are looked at once a second, not every turn: at a turn every few ms, listing
        # and stat-ing the directory was a visible share of an idle node's CPU.
        now = time.monotonic()
        if now - self._checked < MODEL_CHECK and self.error is None:
            return
        self._checked = now
        stamp = (
            tuple(p.stat().st_mtime for p in sorted(self.directory.glob("*")) if p.is_file())
            if (self.directory.is_dir())
            else ()
        )
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
        self.artifact, self.scorer, self.error = artifact, Scorer(artifact, compiled=True), None
        log.info("model loaded", model_id=artifact.model_id, features=len(artifact.feature_names))


class OracleDaemon:
    """One oracle node: its stages wired over one chain client, store, clock and metrics."""

    def __init__(
        self,
        settings: Settings,
        chain: ChainClient,
        store: Store,
        metrics: Metrics | None = None,
        clock: Clock | None = None,
    ):
        self.settings = settings
        self.chain = chain
        self.store = store
        self.metrics = metrics or Metrics()
        self.drift = DriftMonitor(self.metrics)
        self.clock = clock or SystemClock()
        self.model = ModelSlot(Path(settings.model_dir))
        self.policy = PolicyCache(chain, self.clock)
        # Bench only (bench/latency_probe.py): a per-turn timing trace of the reader's and the
        # outbox's chain calls. Off, the stages get the client itself.
        trace_path = os.environ.get("VERDICT_TURN_TRACE") or None
        self.trace = TurnTrace(Path(trace_path)) if trace_path else None
        staged: ChainClient = chain if self.trace is None else TracedChain(chain, self.trace)  # type: ignore[assignment]
        self.reader = RequestReader(settings, staged, store, chain.deployment.block, self.clock)
        self.fx = FxNode.for_daemon(settings, chain)  # cross-border quotes and feeds (oracle.fx_daemon)
        log_ = store if self.fx is None else self.fx.verdicts(store)
        self._features = OnlineFeatures(store)  # forgotten when the batch with the checkpoint rolls back
        self.scoring = ScoringStage(settings, chain, self._features, log_, self.metrics, self.clock)
        self._fault_point = os.environ.get("VERDICT_FAULT_POINT") or None  # read once; see FAULT_POINTS
        if self._fault_point is not None and self._fault_point not in FAULT_POINTS:
            raise ConfigError(f"VERDICT_FAULT_POINT must be one of {', '.join(FAULT_POINTS)}")
        # The outbox's final statuses ride the next scoring batch's transaction (`score_and_checkpoint`).
        self.outbox = Outbox(
            settings, staged, store, self.policy, self.metrics, self.clock, self._fault, defer_finals=True
        )
        self._finals_taken = False  # this turn's scoring batch wrote the outbox's unwritten finals
        self._read_at = -float("inf")  # monotonic time of the last read of new requests
        self._drift_at = -float("inf")  # monotonic time the drift gauges were last offered a report
        # CPU seconds of this thread per stage (read, features, score, log, flush), for the stop
        # line: the benchmark divides them by the payments decided (issue 16).
        self.stage_cpu: dict[str, float] = {}
        self.reasons_cpu = 0.0  # the CPU seconds of TreeSHAP within the "score" stage
        self._per_request: float | None = None  # seconds of scoring per request (the dearest recent turn)
        self._costs: deque[float] = deque(maxlen=COST_TURNS)  # per request, of the last busy turns
        self._turn_ms: dict[str, float] = {}  # this turn's wall and CPU ms per stage (the slow-turn line)
        self._enqueued = False  # this turn queued fresh verdicts (sent before receipts: `flush`)
        self._commit_to: int | None = None  # the checkpoint this turn's slice moves to, once sent
        self._flushed_head: int | None = None  # the head last passed to the outbox

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        began, wall = time.thread_time(), time.perf_counter()
        try:
            yield
        finally:
            cpu = time.thread_time() - began
            self.stage_cpu[name] = self.stage_cpu.get(name, 0.0) + cpu
            for key, ms in (
                (f"{name}_ms", (time.perf_counter() - wall) * 1000),
                (f"{name}_cpu_ms", cpu * 1000),
            ):
                self._turn_ms[key] = self._turn_ms.get(key, 0.0) + ms

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
        self.chain.verify_deployment()
        bind_store(self.store, self.chain.deployment, rebind=self.settings.store_rebind)  # oracle/binding.py
        if not self.chain.is_node(account.address):
            raise ConfigError(f"{account.address} is not a registered oracle node on this RiskOracle")
        if self.chain.balance(account.address) == 0:
            raise ChainError(f"oracle node {account.address} has no funds to pay for gas; top it up")
        # The model is loaded before the first turn, not in it: loading (and the compiled forest)
        # took 135-170 ms of CPU, the longest "turn" of a short burst. What start-up built (modules,
        # the model, the ABIs) lives as long as the process: frozen out of the collector's
        # generations, a full collection no longer walks it (one took ~100 ms of CPU in a turn).
        self.model.refresh()
        gc.collect()
        gc.freeze()
        log.info(
            "oracle node ready",
            node=account.address,
            rpc=self.chain.rpc_url,
            sources=self.policy.targets,
        )

    # --- the loop ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        failures = 0
        turns: deque[float] = deque(maxlen=TURN_SAMPLES)  # seconds of each busy turn
        turns_cpu: deque[float] = deque(maxlen=TURN_SAMPLES)  # and its CPU seconds (this thread)
        gc_cpu = GcTimer()
        gc.callbacks.append(gc_cpu)
        while not stop.is_set():
            try:
                began, began_cpu = time.perf_counter(), time.thread_time()
                self._turn_ms = {}
                if self.trace is not None:
                    self.trace.begin()
                busy = self.step()
                if self.trace is not None:
                    self.trace.end(busy, self._turn_ms)
                if busy:
                    took = time.perf_counter() - began
                    turns.append(took)
                    turns_cpu.append(time.thread_time() - began_cpu)
                    if took > SLOW_TURN * self.settings.turn_budget:
                        log.info(
                            "slow turn",
                            ms=round(took * 1000, 1),
                            cpu_ms=round(turns_cpu[-1] * 1000, 1),
                            **{k: round(v, 1) for k, v in self._turn_ms.items()},
                        )
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
                stop.wait(self.idle_wait())
        try:
            self.outbox.write_finals()  # what the last turn settled (else settled again at restart)
        except StoreError as exc:
            log.warning(
                "could not record the last settled verdicts; the next start settles them", error=str(exc)
            )
        stages = {f"cpu_ms_{k}": round(v * 1000, 1) for k, v in self.stage_cpu.items()}
        gc.callbacks.remove(gc_cpu)
        if self.trace is not None:
            self.trace.close()
        log.info(
            "oracle node stopped",
            **turn_times(turns),
            **{k: v for k, v in turn_times(turns_cpu, "turn_cpu_ms").items() if k != "busy_turns"},
            **stages,
            reasons_cpu_ms=round(self.reasons_cpu * 1000, 1),  # inside cpu_ms_score, not beside it
            gc_cpu_ms=round(gc_cpu.seconds * 1000, 1),
            head_reads=self.reader.head_reads,
            store_write_commits=getattr(self.store, "write_commits", None),
        )

    def idle_wait(self) -> float:
        """Seconds to sleep after a turn with nothing to do: the poll interval (shorter while
        verdicts are in flight: their receipts are looked for again soon rather than a whole poll
        later), or, on a chain mining at a steady pace, until shortly before its next block is due
        (`reader.BlockPace`): nothing new can be read, nor any receipt come, before it; from then
        on briskly until it comes."""
        poll = self.settings.poll_interval
        poll = min(poll, RECEIPT_POLL) if self.outbox.in_flight else poll
        if self.reader.backlog:
            return poll  # requests fetched and not handed out yet: no block to wait for
        return self.reader.pace.wait(self.clock.monotonic(), poll)

    def step(self) -> bool:
        """One turn of the loop. Returns whether there was work."""
        self.model.refresh()
        now = self.clock.monotonic()
        if self.fx is not None:
            self.fx.tick(now)
        read = False
        reads = self.reader.head_reads
        self._commit_to = None  # a failed turn's slice: read again (its verdicts are in the log)
        self._finals_taken = False
        if not self.outbox.in_flight or now - self._read_at >= READ_WHILE_SENDING:
            self._read_at = now
            read = self.read_and_score()
        # Receipts are only looked for once the head has moved (the reader has just read it). A slice
        # handed out from a block already fetched reads no head: the last one is passed, so such turns
        # do not ask for receipts every time (a stale head only delays them to the next read).
        read_head = self.reader.head_reads != reads or read
        with self._stage("flush"):
            posted = self.flush(self.reader.head if read_head else None)
        if self._commit_to is not None:
            # A slice with nothing to score (its requests all logged already, or none): the checkpoint
            # moves here, alone (a scored slice's moved with its scores, `score_and_checkpoint`);
            # a crash before it re-reads the slice, whose requests the verdict log already holds.
            self.reader.commit(self._commit_to)
            self._commit_to = None
        if self.trace is not None:
            self.trace.mark("flushed")
        busy = read or posted
        if not self._finals_taken and self.outbox.finals_age(now) > FINALS_DEFER:
            # No scoring batch has taken the settled verdicts' finals for FINALS_DEFER: written alone
            # (at load the next batch comes within a block; an idle node's turns come every poll).
            self.outbox.write_finals()
        if not busy or now - self._drift_at >= DRIFT_DEFER:
            self.report_drift(now)
        return busy

    def flush(self, head: int | None) -> bool:
        """Stage 3 (`Outbox.flush`, `head` as it takes it), with this turn's fresh verdicts sent
        before the receipts of the earlier ones are asked for and settled: at 0.1 s blocks a block's
        verdicts must reach the pool before the next block is sealed, and settling the verdict
        transaction mined in the very block just read (its receipt, decoding, the log's updates)
        came first and cost that margin (issue 16, bench/latency_probe.py). The first call passes
        the head the outbox last saw, for which it asks for no receipts; the second collects."""
        last, self._flushed_head = self._flushed_head, head
        fresh, self._enqueued = self._enqueued, False
        return flush_fresh_first(self.outbox, head, last, fresh)

    def report_drift(self, now: float) -> None:
        """The drift gauges (`DriftMonitor`, at most once a minute), on a turn with nothing else to
        do: a report over its 2,000-row window took over 100 ms of CPU, the longest turn of a burst.
        A node never idle still reports, DRIFT_DEFER seconds late at most."""
        self._drift_at = now
        artifact = self.model.artifact
        if artifact is not None:
            self.drift.maybe_report(artifact.metadata.get("drift_reference"), now)

    def read_and_score(self) -> bool:
        """Stages 1 and 2: the next slice of requests, scored, logged and queued; then the checkpoint
        moves past it. Returns whether a slice was read."""
        scorer, artifact = self.model.scorer, self.model.artifact
        if scorer is None or artifact is None or not self.policy.model_approved(artifact.model_id):
            return False  # fail closed; keep the checkpoint so we catch up once a model is back
        with self._stage("read"):
            chunk = self.reader.next_slice(self.turn_size())
            if chunk is None:
                return False
        try:
            with self._stage("read"):
                known = self.store.scored_keys([r.key for r in chunk.requests])
                fresh = [r for r in chunk.requests if r.key not in known]
            if fresh:
                seen_at = self.clock.monotonic()
                # CPU time, not wall time: on a busy host wall time would shrink turns (and so verdict
                # batches) until their fixed costs dominate.
                began, reasons = time.thread_time(), scorer.reasons_cpu
                thresholds = self.policy.thresholds()
                with self._stage("score"):
                    rows = self.score_and_checkpoint(fresh, scorer, artifact, thresholds, chunk.end)
                # TreeSHAP's share of the score stage, apart (the reasons of payments under review)
                self.reasons_cpu += scorer.reasons_cpu - reasons
                self._learn_cost((time.thread_time() - began) / len(fresh))
                self.outbox.enqueue(
                    rows, seen_at, {r.key: r.token for r in fresh}, {r.key: r.terms for r in fresh}
                )
                self.drift.observe(artifact.model_id, rows)
                self._enqueued = True
                self._fault("scored")
            if self.trace is not None:
                self.trace.mark("scored", ids=[r.item_id for r in chunk.requests])
            # Moved with the scores when there were any; else after the send (`step`): a slice
            # whose requests are all in the log already (re-read after a restart) has no batch.
            self._commit_to = chunk.end
        except BaseException:
            self.reader.forget()  # read again from the checkpoint: nothing handed out is skipped
            raise
        self.metrics.last_block.set(chunk.end)
        return True

    def score_and_checkpoint(
        self,
        fresh: list[GateRequest],
        scorer: Scorer,
        artifact: ModelArtifact,
        thresholds: tuple[int, int],
        end: int,
    ) -> list[VerdictRow]:
        """The scoring stage's batch (history rows and verdicts) and the read checkpoint's move to
        `end`, in one transaction: one commit per turn instead of two (each rewrote pages of the
        store into the WAL, issue 16). Atomic, the store never holds a checkpoint past a request
        whose verdict is not in the log, nor the reverse, so a crash anywhere re-reads exactly
        what is missing. Rolled back, nothing of either is kept: the feature state, which ran
        ahead, is dropped, and the reader re-reads its checkpoint (`RequestReader.forget`, called
        by the caller)."""
        finals = self.outbox.unwritten_finals  # those the last turns settled: written here too
        try:
            with self.store.batch("scoring a batch"):
                rows = self.scoring.score(fresh, scorer, artifact, thresholds)
                self.reader.commit(end)
                self.store.mark_final_many(finals)
        except BaseException:
            self._features.forget()
            raise
        self.outbox.finals_written(finals)
        self._finals_taken = True
        return rows

    def turn_size(self) -> int:
        """How many requests this turn takes: what `turn_budget` seconds of scoring hold at the
        recent cost per request (`turn_budget_behind` while the node is behind the chain), within
        [MIN_TURN_REQUESTS, the largest verdict batch]. A turn that scored a whole burst in one go
        ran for seconds (p99 1.8 s at 0.1 s blocks), while receipts and the next blocks waited."""
        most = max(self.settings.verdict_batch_max, self.settings.verdict_batch_size)
        if self._per_request is None:
            # No cost known yet: the fewest. A first turn of a whole verdict batch (500 at the
            # bench) with reasons ran for half a second while the chain waited.
            return min(most, MIN_TURN_REQUESTS)
        budget = self.settings.turn_budget
        if self.reader.behind:
            budget = max(budget, self.settings.turn_budget_behind)
        fits = int(budget / max(self._per_request, 1e-6))
        return max(MIN_TURN_REQUESTS, min(most, fits))

    def _learn_cost(self, seconds_per_request: float) -> None:
        # The dearest of the recent turns: the cost is bimodal (TreeSHAP for the requests under review,
        # none for the rest), and sizing on an average let a turn of cheap requests be followed by
        # one three times the budget (167 requests, 214 ms) when the next block was all under review.
        self._costs.append(seconds_per_request)
        self._per_request = max(self._costs)


def flush_fresh_first(outbox: Outbox, head: int | None, last: int | None, fresh: bool) -> bool:
    """`outbox.flush(head)`, but with `fresh` verdicts queued (this turn's) sent before any receipt
    is asked for: first a flush at `last`, the head the outbox was last given (it asks for receipts
    only when the head moved), then the one at `head`, which collects and settles. Returns whether
    anything was sent or settled."""
    if not fresh or head is None or last is None or head == last:
        return outbox.flush(head)
    sent = outbox.flush(last)
    return outbox.flush(head) or sent


class GcTimer:
    """CPU seconds of this thread spent in the garbage collector (a `gc.callbacks` entry)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.thread_time()
        elif self._began is not None:
            self.seconds += time.thread_time() - self._began
            self._began = None


def turn_times(turns: deque[float], name: str = "turn_ms") -> dict[str, float | int]:
    """Busy turns and their p50, p99 and longest in ms: a turn longer than a block time means a
    block's requests wait for the next turn (the benchmark reads these from the stop line)."""
    if not turns:
        return {"busy_turns": 0}
    ordered = sorted(turns)
    at = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {
        "busy_turns": len(ordered),
        f"{name}_p50": at(0.5),
        f"{name}_p99": at(0.99),
        f"{name}_max": at(1.0),
    }


def run_daemon(settings: Settings) -> None:
    """Entry point of `verdict run`: start, serve metrics, loop until SIGINT or SIGTERM."""
    if settings.network_listen:  # one node of a k-of-n network (issue 17): oracle/network
        from oracle.network.node import run_network_node

        return run_network_node(settings)
    store = Store(settings.store_url, cache_mb=settings.store_cache_mb, background_checkpoints=True)
    chain = ChainClient.from_settings(settings, verify=False)  # verified in preflight
    daemon = OracleDaemon(settings, chain, store)
    retry_startup(daemon.preflight, settings.max_backoff)
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
    profile = os.environ.get("VERDICT_PROFILE") or None  # bench only: a cProfile dump of the loop
    if profile is None:
        daemon.run(stop)
        return None
    import cProfile

    # CPU time of the loop's thread, not wall time: on a shared machine wall time charges whatever
    # function was running when the process was descheduled.
    with cProfile.Profile(time.thread_time) as prof:
        daemon.run(stop)
    prof.dump_stats(profile)
    return None


def retry_startup(preflight: Callable[[], None], max_backoff: float) -> None:
    """Runs a node's `preflight` until it passes: an RPC that is not up yet is waited for (with
    backoff up to `max_backoff` seconds); a wrong key or an empty wallet is an error."""
    delay = 0.2
    while True:
        try:
            preflight()
            return
        except ChainError as exc:
            if "no funds" in str(exc):
                raise
            log.warning("RPC unavailable at startup, retrying", error=str(exc), retry_in=delay)
            time.sleep(delay)
            delay = min(delay * 2, max_backoff)
