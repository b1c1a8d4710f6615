"""One node of a k-of-n oracle network (issue 17): `verdict run` with `VERDICT_NETWORK_LISTEN` set.

Each turn:
1. **Rounds from chain data.** Round windows are aligned block ranges of `network_round_blocks`
   from the deployment block. Once a window is buried under `confirmations`, the node reads its
   gate requests (the daemon's reader call), scores them (the daemon's scoring stage, which logs
   the verdicts in this node's own store) and cuts one report per target and chunk of
   `verdict_batch_size` items, in chain order. Every honest node cuts the same reports: the same
   logs, the same rule. The report's round is `window end block * 1024 + chunk`.
2. **Sign and publish.** The node signs its own scores for each report (EIP-712, `report`) and
   serves them on its HTTP board (`transport`).
3. **Transmit in turn.** Nodes sorted by address take turns: a report is transmitted by node
   `(t + attempt) % n`, where t is the report's turn (the first 8 bytes of its hash: every node
   derives the same, and consecutive reports spread over all nodes whatever the block pattern) and
   `attempt` grows by one every `network_transmit_timeout` seconds the report is still not on
   chain. So a dead transmitter is replaced after one timeout. The
   transmitter pulls its peers' observations, keeps those that verify, and sends `transmit` once
   it holds the threshold (the oracle's quorum). The contract accepts a report once and skips
   items already final, so two transmitters racing cost gas but never decide a payment twice.

A node whose node set or threshold changed under it (a new config digest) signs the open reports
again under the new digest. Nothing is transmitted without an approved model (fail closed).

Cross-border requests (`CrossBorderRequested`) are scored like the others; their quotes are
prepared at the window's end block by every signer and sent by the transmitter just before the
report (`oracle.network.fx`), so the signed reasons hash covers the quote the payment converts with.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import structlog

from oracle.binding import bind_store
from oracle.chain import ChainClient, GateRequest
from oracle.clock import Clock, SystemClock
from oracle.config import Settings
from oracle.daemon import ModelSlot, retry_startup
from oracle.errors import ChainError, ConfigError, StoreError
from oracle.features import OnlineFeatures
from oracle.metrics import Metrics
from oracle.network.fx import RoundQuotes
from oracle.network.report import (
    Observation,
    Report,
    ordered,
    recover_signer,
    sign_observation,
)
from oracle.network.transport import ObservationBoard, PeerClient, serve
from oracle.policy import PolicyCache
from oracle.scoring_stage import ScoringStage
from oracle.store import Store

log = structlog.get_logger("verdict.network")

ROUND_CHECKPOINT = "network-rounds"
"""The store checkpoint: the last block whose window this node has scored and signed."""
CHUNKS_PER_WINDOW = 1024  # report round = window end block * this + chunk index
MAX_SCORE = 10_000
UNVALUED_SCORE = MAX_SCORE  # an item the node cannot value is scored as fraud: fail closed, refunded
RECEIPT_TIMEOUT = 60.0
PROBE_INTERVAL = 1.0  # seconds between liveness probes of the peers
CONFIG_TTL = 1.0  # seconds the node set, quorum and digest are reused (a stale digest only delays)


@dataclass
class OpenRound:
    """A report this node signed and that is not yet on chain."""

    window: int
    report: Report
    keys: list[str]
    scores: list[int]
    reasons: list[bytes]
    mine: Observation | None = None  # this node's signed scores (set by NetworkNode._sign)
    opened: float = 0.0  # monotonic time the node signed it
    sent: set[str] = field(default_factory=set)  # tx hashes this node sent for it


def chunks(requests: Sequence[GateRequest], size: int) -> list[tuple[str, list[GateRequest]]]:
    """Per target (in order of first appearance), the requests cut into runs of `size`, chain order."""
    by_target: dict[str, list[GateRequest]] = {}
    for r in requests:
        by_target.setdefault(r.target, []).append(r)
    return [(t, items[i : i + size]) for t, items in by_target.items() for i in range(0, len(items), size)]


def turn_of(report: Report) -> int:
    """The report's place in the rotation. Not the window number: on an automining chain payments
    and reports alternate blocks, and a rotation by window gave every report to half the nodes."""
    return int.from_bytes(report.hash()[:8], "big")


def transmitter_index(turn: int, attempt: int, nodes: int) -> int:
    """Which node (by ascending address) transmits at `turn` and `attempt` (0 first)."""
    return (turn + attempt) % nodes


def transmitter(turn: int, attempt: int, nodes: Sequence[str], down: set[str]) -> str:
    """The node that transmits at `turn` and `attempt`: the rotation's, passing over the nodes seen
    down (so a dead node costs no timeout once seen dead). Nodes may disagree on who is down: then
    two transmit, and the contract accepts the first report and refuses the copy."""
    for k in range(len(nodes)):
        candidate = nodes[transmitter_index(turn, attempt + k, len(nodes))]
        if candidate not in down:
            return candidate
    return nodes[transmitter_index(turn, attempt, len(nodes))]


class NetworkNode:
    """One network node: the daemon's reader, model and scoring stages; its own signing, board and turn."""

    def __init__(
        self,
        settings: Settings,
        chain: ChainClient,
        store: Store,
        metrics: Metrics | None = None,
        clock: Clock | None = None,
    ) -> None:
        if chain.account is None:
            raise ConfigError("a network node needs its key (VERDICT_NODE_KEY or VERDICT_KEYSTORE)")
        self.settings = settings
        self.chain = chain
        self.store = store
        self.metrics = metrics or Metrics()
        self.clock = clock or SystemClock()
        self.account = chain.account
        self.address = chain.account.address
        self.model = ModelSlot(Path(settings.model_dir))
        self.policy = PolicyCache(chain, self.clock)
        # cross-border items: quoted at their window's end block when signed, sent by the transmitter
        self.fx = RoundQuotes.for_network(settings, chain)
        verdicts = store if self.fx is None else self.fx.verdicts(store)
        self.scoring = ScoringStage(
            settings, chain, OnlineFeatures(store), verdicts, self.metrics, self.clock
        )
        self.board = ObservationBoard()
        self.peers = PeerClient(settings.network_peers)
        self.open: dict[tuple[str, int], OpenRound] = {}
        self.first_block = chain.deployment.block
        self.reports = 0  # reports this node transmitted
        self._nodes: list[str] = []
        self._threshold = 0
        self._digest = b""
        self._probed = -float("inf")
        self._config_read = -float("inf")

    # --- startup -------------------------------------------------------------------------------
    def preflight(self) -> None:
        self.chain.verify_deployment()
        bind_store(self.store, self.chain.deployment, rebind=self.settings.store_rebind)
        if not self.chain.is_node(self.address):
            raise ConfigError(f"{self.address} is not a registered oracle node on this RiskOracle")
        if self.chain.balance(self.address) == 0:
            raise ChainError(f"oracle node {self.address} has no funds to pay for gas; top it up")
        self._read_config()
        log.info(
            "oracle node ready",
            node=self.address,
            network_index=self.index,
            nodes=len(self._nodes),
            threshold=self._threshold,
            peers=self.peers.peers,
            rpc=self.chain.rpc_url,
        )

    @property
    def index(self) -> int:
        return self._nodes.index(self.address) if self.address in self._nodes else -1

    def _read_config(self) -> None:
        oracle = self.chain.oracle.functions
        nodes, quorum, digest = self.chain.rpc(
            lambda: (oracle.nodes().call(), oracle.quorum().call(), oracle.configDigest().call())
        )
        self._nodes = sorted((str(n) for n in nodes), key=lambda a: int(a, 16))
        self._threshold = int(quorum)
        self._digest = bytes(digest)

    # --- the loop ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                busy = self.step()
                failures = 0
            except (ChainError, StoreError) as exc:
                failures += 1
                delay = min(self.settings.max_backoff, 0.1 * 2 ** min(failures, 10))
                log.warning("unavailable, backing off", error=str(exc), retry_in=round(delay, 2))
                stop.wait(delay)
                continue
            if not busy:
                stop.wait(self.settings.poll_interval)
        log.info("oracle node stopped", node=self.address, reports=self.reports)

    def step(self) -> bool:
        """One turn: open the next ready window, then drive every open report. Returns whether
        anything happened."""
        self.model.refresh()
        if self.clock.monotonic() - self._config_read >= CONFIG_TTL:
            self._read_config()
            self._config_read = self.clock.monotonic()
        head = self.chain.block_number() - self.settings.confirmations
        opened = self.open_next_window(head)
        transmitted = self.drive(head)
        return opened or transmitted

    def _window_of(self, block: int) -> int:
        return (block - self.first_block) // self.settings.network_round_blocks

    def _checkpoint(self) -> int:
        stored = self.store.get_checkpoint(ROUND_CHECKPOINT)
        return self.first_block - 1 if stored is None else stored

    def open_next_window(self, head: int) -> bool:
        """Scores and signs every window buried since the last turn (the empty ones cost nothing
        but their share of one `eth_getLogs`); returns whether any was opened."""
        scorer, artifact = self.model.scorer, self.model.artifact
        if scorer is None or artifact is None or not self.policy.model_approved(artifact.model_id):
            return False  # fail closed: nothing is signed without an approved model
        width = self.settings.network_round_blocks
        start = self._checkpoint() + 1
        ready = (head - start + 1) // width  # whole windows buried under the confirmations
        if ready <= 0:
            return False
        ready = min(ready, max(1, self.settings.log_batch_blocks // width))
        end = start + ready * width - 1
        by_window: dict[int, list[GateRequest]] = {}
        for request in self.chain.gate_requests(start, end):
            by_window.setdefault(self._window_of(request.block_number), []).append(request)
        model_id = bytes.fromhex(artifact.model_id.removeprefix("0x"))
        for window in sorted(by_window):
            self._open_window(window, by_window[window], model_id)
        self.store.set_checkpoint(ROUND_CHECKPOINT, end)
        self.board.set_status(node=self.address, index=self.index, signed_block=end)
        return True

    def _open_window(self, window: int, requests: list[GateRequest], model_id: bytes) -> None:
        """Scores the window's requests and signs one report per target and chunk."""
        end = self._end_block(window)
        if self.fx is None:
            scored = self._score(requests)
        else:
            with self.fx.signing(end):
                scored = self._score(requests)
        for chunk, (target, items) in enumerate(chunks(requests, self.settings.verdict_batch_size)):
            report = Report.over(
                self._digest,
                target,
                model_id,
                end * CHUNKS_PER_WINDOW + chunk,
                [r.item_id for r in items],
                [r.terms for r in items],
            )
            scores = [scored.get(r.key, (UNVALUED_SCORE, bytes(32)))[0] for r in items]
            reasons = [scored.get(r.key, (UNVALUED_SCORE, bytes(32)))[1] for r in items]
            self._sign(OpenRound(window, report, [r.key for r in items], scores, reasons))
        log.info("round signed", window=window, end_block=end, items=len(requests))

    def _end_block(self, window: int) -> int:
        return self.first_block + (window + 1) * self.settings.network_round_blocks - 1

    def _score(self, requests: list[GateRequest]) -> dict[str, tuple[int, bytes]]:
        """Key -> (score, reasons hash), from this node's log if scored before a restart, else scored now."""
        scorer, artifact = self.model.scorer, self.model.artifact
        assert scorer is not None and artifact is not None
        known = self.store.scored_many([r.key for r in requests])
        fresh = [r for r in requests if r.key not in known]
        rows = list(known.values())
        if fresh:
            rows += self.scoring.score(fresh, scorer, artifact, self.policy.thresholds())
        return {
            row.key: (int(row.score_bps), bytes.fromhex(str(row.reasons_hash).removeprefix("0x")))
            for row in rows
        }

    def _sign(self, round_: OpenRound) -> None:
        round_.mine = sign_observation(
            self.account.key,
            round_.report,
            round_.scores,
            round_.reasons,
            chain_id=self.chain.chain_id(),
            oracle=self.chain.oracle.address,
        )
        round_.opened = self.clock.monotonic()
        self.board.put(round_.report, round_.mine)
        self.open[(round_.report.target, round_.report.round)] = round_

    # --- transmission --------------------------------------------------------------------------
    def drive(self, head: int) -> bool:
        """Closes the open reports that are on chain; transmits those whose turn is this node's."""
        if not self.open:
            return False
        busy = False
        now = self.clock.monotonic()
        if now - self._probed >= PROBE_INTERVAL:
            self._probed = now
            self.peers.probe()
        down = self.peers.down() - {self.address}
        rounds = list(self.open.values())
        oracle = self.chain.oracle.functions
        on_chain = self.chain.rpc(
            lambda: [oracle.isReportTransmitted(r.report.hash()).call() for r in rounds]
        )
        for round_, done in zip(rounds, on_chain, strict=True):
            if done:
                self._close(round_, head)
                busy = True
                continue
            if round_.report.config_digest != self._digest:
                # the node set or threshold changed: what was signed can no longer be accepted
                del self.open[(round_.report.target, round_.report.round)]
                redone = _redigest(round_.report, self._digest)
                self._sign(OpenRound(round_.window, redone, round_.keys, round_.scores, round_.reasons))
                busy = True
                continue
            attempt = int((now - round_.opened) // self.settings.network_transmit_timeout)
            turn = turn_of(round_.report)
            if self._nodes and transmitter(turn, attempt, self._nodes, down) == self.address:
                busy = self._transmit(round_, attempt) or busy
        return busy

    def _close(self, round_: OpenRound, head: int) -> None:
        del self.open[(round_.report.target, round_.report.round)]
        lag = head - round_.report.round // CHUNKS_PER_WINDOW
        self.board.set_status(last_report_round=round_.report.round, lag_blocks=lag)

    def _verified(self, round_: OpenRound) -> list[Observation]:
        """This node's observation and every peer's that is for the same report, signed by a
        registered node and in range: what the contract would accept."""
        assert round_.mine is not None
        chosen = [round_.mine]
        chain_id, oracle = self.chain.chain_id(), self.chain.oracle.address
        for report, observation in self.peers.observations(round_.report.target, round_.report.round):
            if report != round_.report or observation.signer not in self._nodes:
                continue
            if any(not 0 <= s <= MAX_SCORE for s in observation.scores):
                continue
            try:
                if (
                    recover_signer(observation, report, chain_id=chain_id, oracle=oracle)
                    != observation.signer
                ):
                    continue
            except (ValueError, TypeError):
                continue
            chosen.append(observation)
        return ordered(chosen)

    def _transmit(self, round_: OpenRound, attempt: int) -> bool:
        observations = self._verified(round_)
        if len(observations) < self._threshold:
            return False  # peers not there yet (or dead); the next turn asks again
        if self.fx is not None and round_.report.target.lower() == self.fx.address.lower():
            self._quote_items(round_, observations)
        data = self.chain.oracle.encode_abi("transmit", args=round_.report.transmit_args(observations))
        assert self.chain.sender is not None
        try:
            sent = self.chain.sender.send(self.chain.oracle.address, data, "transmit")
        except ChainError as exc:
            oracle = self.chain.oracle.functions
            if self.chain.rpc(lambda: oracle.isReportTransmitted(round_.report.hash()).call()):
                return False  # another transmitter was first: the next turn closes the round
            # refused for another reason (a config change mid-round, an RPC hiccup): the next turn
            # (or the next node in the rotation) tries again; the node itself need not back off
            log.warning("transmit refused", round=round_.report.round, error=str(exc))
            return False
        receipt = self.chain.wait_receipt(sent.tx_hash, timeout=RECEIPT_TIMEOUT)
        round_.sent.add(sent.tx_hash)
        if receipt is None or int(receipt.get("status", 0)) != 1:
            log.warning("transmit not mined or reverted", tx=sent.tx_hash, round=round_.report.round)
            return True
        self.reports += 1
        self.store.mark_posted(round_.keys, sent.tx_hash)
        self.board.set_status(
            last_transmit_round=round_.report.round,
            last_transmit_tx=sent.tx_hash,
            last_transmit_signatures=len(observations),
            reports_transmitted=self.reports,
        )
        log.info(
            "report transmitted",
            round=round_.report.round,
            items=len(round_.report.ids),
            signatures=len(observations),
            attempt=attempt,
            gas=int(receipt.get("gasUsed", 0)),
            tx=sent.tx_hash,
        )
        return True

    def _quote_items(self, round_: OpenRound, observations: Sequence[Observation]) -> None:
        """The transmitter's quotes of a cross-border report, sent before it (oracle/network/fx.py)."""
        assert self.fx is not None
        n = len(observations)
        medians = [sorted(o.scores[i] for o in observations)[n // 2] for i in range(len(round_.report.ids))]
        mismatched = self.fx.quote_round(
            round_.report.ids, medians, self._end_block(round_.window), self.policy.thresholds()
        )
        if mismatched:
            self.board.set_status(quote_mismatches=self.fx.mismatches)


def _redigest(report: Report, digest: bytes) -> Report:
    return replace(report, config_digest=digest)


def run_network_node(settings: Settings) -> None:
    """`verdict run` as one node of a network: serve the board, loop until SIGINT or SIGTERM."""
    assert settings.network_listen is not None
    store = Store(settings.store_url)
    chain = ChainClient.from_settings(settings, verify=False)  # verified in preflight
    node = NetworkNode(settings, chain, store)
    retry_startup(node.preflight, settings.max_backoff)
    host, _, port = settings.network_listen.rpartition(":")
    try:
        serve(node.board, host, int(port))
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the network board on {settings.network_listen}: {exc.strerror}"
        ) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    node.run(stop)
