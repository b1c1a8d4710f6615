"""The relayer's core: check a signed vote or delegation before any gas is spent, queue it, and
submit the queue in batches through VoteRelay from the relayer's key.

Checks, in order, each a `Refusal` with one reason and an HTTP status (nothing is sent on-chain):
well-formed JSON (400); the signature recovers the claimed voter (403); the proposal exists (404);
a member: in the Membership registry, holding tokens or votes (403); the proposal is Active (409);
not voted yet, nonce unused (409); voting power at the snapshot (403); the relay's budget covers a
batch (503, and the relayer stops submitting until it does); the nonce not already queued (409) and
the member's rate limit (429).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address
from prometheus_client import CollectorRegistry, Counter, Gauge
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception

from oracle.config import Settings
from oracle.deployment import Deployment, load_abis
from oracle.errors import ConfigError, DataError
from oracle.relay.queue import RelayQueue, StoredItem
from oracle.relay.signing import (
    DaoContracts,
    ballot_typed_data,
    delegation_typed_data,
    recover_signer,
    split_signature,
)

log = structlog.get_logger("verdict.relay")
ACTIVE = 1  # IGovernor.ProposalState.Active


class Refusal(Exception):
    """A signed item the relayer will not spend gas on: one reason, one HTTP status."""

    def __init__(self, status: int, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.kind = kind  # the metric label


@dataclass
class Item:
    """One accepted signed item and what became of it."""

    id: int
    kind: str  # "vote" | "delegation"
    signer: str
    calldata: bytes
    nonce_key: tuple[str, int]  # (signer, nonce) while queued: the same nonce twice is refused
    proposal_id: int | None = None
    status: str = "queued"  # queued -> submitted -> cast | failed
    tx_hash: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "signer": self.signer, "status": self.status}
        if self.proposal_id is not None:
            out["proposal_id"] = str(self.proposal_id)
        out.update(tx_hash=self.tx_hash, error=self.error)
        return out


@dataclass
class _Inflight:
    """A signed relay transaction sent (or about to be) and not yet landed: the items it carries."""

    raw: bytes
    nonce: int
    items: list[Item]


def _restored(row: StoredItem) -> Item:
    return Item(
        row.id,
        row.kind,
        row.signer,
        row.calldata,
        (row.signer, row.nonce),
        proposal_id=row.proposal_id,
        status=row.status,
        tx_hash=row.tx_hash,
        error=row.error,
    )


class RelayMetrics:
    """The relayer's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "verdict_relay_accepted", "Signed items accepted", ["kind"], registry=self.registry
        )
        self.refused = Counter(
            "verdict_relay_refused",
            "Signed items refused before any gas was spent",
            ["reason"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "verdict_relay_items", "Relayed items by outcome on-chain", ["outcome"], registry=self.registry
        )
        self.batches = Counter(
            "verdict_relay_batches", "VoteRelay.relay transactions sent", registry=self.registry
        )
        self.gas = Counter("verdict_relay_gas_used", "Gas used by relay transactions", registry=self.registry)
        self.reimbursed = Counter(
            "verdict_relay_reimbursed_wei", "Wei VoteRelay reimbursed to the relayer", registry=self.registry
        )
        self.budget_left = Gauge(
            "verdict_relay_budget_left_wei", "VoteRelay.budgetLeft()", registry=self.registry
        )
        self.budget_spent = Gauge(
            "verdict_relay_budget_spent",
            "1 once the budget cannot cover a batch: the relayer stopped",
            registry=self.registry,
        )
        self.queued = Gauge(
            "verdict_relay_queued", "Accepted items waiting for a batch", registry=self.registry
        )


@dataclass
class _RateLimiter:
    """At most `limit` accepted items per signer within `window` seconds (sliding)."""

    limit: int
    window: float
    seen: dict[str, deque[float]] = field(default_factory=dict)

    def allow(self, who: str, now: float) -> bool:
        times = self.seen.setdefault(who, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


def _int(value: Any, name: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise Refusal(
            400, f"{name} must be an integer (a decimal string for large ones)", "malformed"
        ) from None
    if number < 0 or number >= 1 << 256:
        raise Refusal(400, f"{name} is out of range", "malformed")
    return number


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise Refusal(400, f"{name} must be a 0x address", "malformed")
    return to_checksum_address(value)


def _signature(value: Any) -> str:
    if not isinstance(value, str) or len(value.removeprefix("0x")) != 130:
        raise Refusal(400, "signature must be 65 bytes of 0x-hex", "malformed")
    return value


class Relayer:
    """Checks, queues and submits signed items. Thread-safe: HTTP handlers call `accept_*`, one
    background thread runs `run_batches`."""

    def __init__(
        self,
        settings: Settings,
        w3: Web3,
        dao: DaoContracts,
        account: LocalAccount,
        queue: RelayQueue | None = None,
    ) -> None:
        """`queue`: where accepted items are kept [a RelayQueue over VERDICT_STORE_URL]; the items
        it holds from an earlier run are queued (or landed) again."""
        if dao.relay is None:
            raise ConfigError("the deployment record has no VoteRelay: redeploy (ape run deploy)")
        self.settings = settings
        self.w3 = w3
        self.dao = dao
        self.relay = dao.relay
        self.account = account
        self.metrics = RelayMetrics()
        self._lock = threading.Lock()
        self._queue: list[Item] = []
        self._items: dict[int, Item] = {}
        self._pending_nonces: set[tuple[str, int]] = set()
        self._inflight: dict[str, _Inflight] = {}
        self._store = queue if queue is not None else RelayQueue(settings.store_url)
        self._ids = itertools.count(self._restore() + 1)
        self._limiter = _RateLimiter(settings.relay_rate_limit, settings.relay_rate_window)
        self._stop = threading.Event()
        self.budget_spent_reason: str | None = None
        relayer = str(self.relay.functions.relayer().call())
        if relayer != account.address:
            raise ConfigError(
                f"VERDICT_RELAY_KEY is {account.address}, but the VoteRelay's relayer is {relayer}: "
                "use the relayer's key (or have the DAO call setRelayer)"
            )

    def _restore(self) -> int:
        """The stored queue back in memory; returns the highest item id used so far."""
        last = 0
        for row in self._store.load():
            item = _restored(row)
            last = max(last, item.id)
            self._items[item.id] = item
            if item.status == "queued":
                self._queue.append(item)
                self._pending_nonces.add(item.nonce_key)
            elif item.status == "submitted" and row.tx_hash and row.raw_tx is not None:
                flight = self._inflight.setdefault(
                    row.tx_hash, _Inflight(row.raw_tx, int(row.tx_nonce or 0), [])
                )
                flight.items.append(item)
                self._pending_nonces.add(item.nonce_key)
        if self._queue or self._inflight:
            log.info("relay queue restored", queued=len(self._queue), in_flight=len(self._inflight))
        self.metrics.queued.set(len(self._queue))
        return last

    @classmethod
    def from_settings(cls, settings: Settings) -> Relayer:
        if settings.relay_key is None:
            raise ConfigError("no relayer key: set VERDICT_RELAY_KEY to the VoteRelay relayer's private key")
        try:
            account = Account.from_key(settings.relay_key.get_secret_value())
        except (ValueError, TypeError):
            raise ConfigError("VERDICT_RELAY_KEY is not a valid private key") from None
        deployment = Deployment.load(settings.deployment)
        w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 30}))
        deployment.verify(w3, settings.rpc_url)
        dao = DaoContracts.from_record(w3, deployment, load_abis(settings.build_manifest))
        return cls(settings, w3, dao, account)

    # --- checks ---------------------------------------------------------------------------------
    def _is_member(self, who: str, votes: int) -> bool:
        if votes > 0:
            return True
        membership = self.dao.membership
        if membership is not None and bool(membership.functions.isMember(who).call()):
            return True
        return int(self.dao.token.functions.balanceOf(who).call()) > 0

    def _budget_check(self) -> None:
        """Refuses (503) while the budget cannot cover a batch of one; re-read every time, so the
        relayer resumes by itself once the DAO has refilled the VoteRelay."""
        reason = self._budget_short(1)
        if reason is not None:
            self._mark_spent(reason)
            raise Refusal(503, reason, "budget_spent")
        self._mark_funded()

    def _budget_short(self, length: int) -> str | None:
        price = min(int(self.w3.eth.gas_price), int(self.relay.functions.maxGasPrice().call()))
        need = int(self.relay.functions.maxBatchCost(length, price).call())
        left = int(self.relay.functions.budgetLeft().call())
        self.metrics.budget_left.set(left)
        if left >= need:
            return None
        return (
            f"the relay budget is spent: {left} wei left, a batch of {length} needs {need} wei; "
            "the DAO must fund the VoteRelay by a treasury proposal"
        )

    def _mark_funded(self) -> None:
        if self.budget_spent_reason is not None:
            log.info("relay budget refilled, submitting again")
        self.budget_spent_reason = None
        self.metrics.budget_spent.set(0)

    def _mark_spent(self, reason: str) -> None:
        if self.budget_spent_reason is None:
            log.warning("relay budget spent, not submitting", reason=reason)
        self.budget_spent_reason = reason
        self.metrics.budget_spent.set(1)

    def _admit(self, signer: str, nonce: int, build: Any) -> Item:
        with self._lock:
            if (signer, nonce) in self._pending_nonces:
                raise Refusal(409, f"nonce {nonce} of {signer} is already queued", "nonce_used")
            if not self._limiter.allow(signer, time.monotonic()):
                raise Refusal(
                    429,
                    f"rate limit: {signer} sent {self.settings.relay_rate_limit} signed items within "
                    f"{self.settings.relay_rate_window:g} s; try later",
                    "rate_limited",
                )
            item = build(next(self._ids))
            # Stored before the 202: an item the relayer answered for survives a restart.
            self._store.add(item.id, item.kind, signer, nonce, item.proposal_id, item.calldata)
            self._queue.append(item)
            self._items[item.id] = item
            self._pending_nonces.add((signer, nonce))
            self.metrics.queued.set(len(self._queue))
        self.metrics.accepted.labels(item.kind).inc()
        return item

    def accept_vote(self, body: Any) -> Item:
        """Checks a signed ballot ({proposal_id, support, voter, nonce, signature[, reason, params]})
        and queues it; a Refusal says why not."""
        try:
            return self._accept_vote(body)
        except Refusal as refusal:
            self.metrics.refused.labels(refusal.kind).inc()
            raise

    def _accept_vote(self, body: Any) -> Item:
        if not isinstance(body, dict):
            raise Refusal(400, "send a JSON object", "malformed")
        pid = _int(body.get("proposal_id"), "proposal_id")
        support = _int(body.get("support"), "support")
        if support > 2:
            raise Refusal(400, "support must be 0 (against), 1 (for) or 2 (abstain)", "malformed")
        voter = _address(body.get("voter"), "voter")
        nonce = _int(body.get("nonce"), "nonce")
        signature = _signature(body.get("signature"))
        reason = body.get("reason")
        params = body.get("params", "0x")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 280):
            raise Refusal(400, "reason must be a string of at most 280 characters", "malformed")
        if not isinstance(params, str):
            raise Refusal(400, "params must be 0x-hex", "malformed")
        try:
            params_bytes = bytes.fromhex(params.removeprefix("0x"))
        except ValueError:
            raise Refusal(400, "params must be 0x-hex", "malformed") from None
        typed = ballot_typed_data(
            self.dao,
            proposal_id=pid,
            support=support,
            voter=voter,
            nonce=nonce,
            reason=reason,
            params=params_bytes,
        )
        try:
            signer = recover_signer(typed, signature)
        except DataError as exc:
            raise Refusal(400, str(exc), "malformed") from None
        if signer != voter:
            raise Refusal(403, f"the signature is not {voter}'s (it recovers {signer})", "bad_signature")
        gov = self.dao.governor.functions
        try:
            state = int(gov.state(pid).call())
        except ContractLogicError:
            raise Refusal(404, f"no proposal {pid} on this governor", "no_proposal") from None
        snapshot = int(gov.proposalSnapshot(pid).call())
        votes = int(gov.getVotes(voter, snapshot).call()) if state == ACTIVE else 0
        if not self._is_member(voter, votes):
            raise Refusal(
                403, f"{voter} is not a member: no Membership entry, no tokens, no votes", "not_member"
            )
        if state != ACTIVE:
            raise Refusal(409, f"proposal {pid} is not open for voting", "not_active")
        if bool(gov.hasVoted(pid, voter).call()):
            raise Refusal(409, f"{voter} has already voted on proposal {pid}", "already_voted")
        current = self.dao.vote_nonce(voter, pid)
        if nonce != current:
            word = "already used" if nonce < current else "not the next one"
            raise Refusal(409, f"nonce {nonce} is {word} (the next is {current}); sign again", "nonce_used")
        if votes == 0:
            raise Refusal(403, f"{voter} had no voting power at proposal {pid}'s snapshot", "no_votes")
        self._budget_check()
        if reason is None:
            calldata = self.dao.governor.encode_abi(
                "castVoteBySig", [pid, support, voter, bytes.fromhex(signature[2:])]
            )
        else:
            calldata = self.dao.governor.encode_abi(
                "castVoteWithReasonAndParamsBySig",
                [pid, support, voter, reason, params_bytes, bytes.fromhex(signature.removeprefix("0x"))],
            )
        item = self._admit(
            voter,
            nonce,
            lambda i: Item(i, "vote", voter, bytes.fromhex(calldata[2:]), (voter, nonce), proposal_id=pid),
        )
        log.info("vote accepted", id=item.id, voter=voter, proposal=str(pid), support=support)
        return item

    def accept_delegation(self, body: Any) -> Item:
        """Checks a signed delegation ({delegator, delegatee, nonce, expiry, signature}) and queues it."""
        try:
            return self._accept_delegation(body)
        except Refusal as refusal:
            self.metrics.refused.labels(refusal.kind).inc()
            raise

    def _accept_delegation(self, body: Any) -> Item:
        if not isinstance(body, dict):
            raise Refusal(400, "send a JSON object", "malformed")
        delegator = _address(body.get("delegator"), "delegator")
        delegatee = _address(body.get("delegatee"), "delegatee")
        nonce = _int(body.get("nonce"), "nonce")
        expiry = _int(body.get("expiry"), "expiry")
        signature = _signature(body.get("signature"))
        typed = delegation_typed_data(
            self.dao, delegator=delegator, delegatee=delegatee, expiry=expiry, nonce=nonce
        )
        try:
            signer = recover_signer(typed, signature)
        except DataError as exc:
            raise Refusal(400, str(exc), "malformed") from None
        if signer != delegator:
            raise Refusal(403, f"the signature is not {delegator}'s (it recovers {signer})", "bad_signature")
        if not self._is_member(delegator, 0):
            raise Refusal(403, f"{delegator} is not a member: no Membership entry, no tokens", "not_member")
        if expiry <= int(self.w3.eth.get_block("latest")["timestamp"]):
            raise Refusal(409, "the delegation has expired; sign again", "expired")
        current = self.dao.delegation_nonce(delegator)
        if nonce != current:
            word = "already used" if nonce < current else "not the next one"
            raise Refusal(409, f"nonce {nonce} is {word} (the next is {current}); sign again", "nonce_used")
        self._budget_check()
        v, r, s = split_signature(signature)
        calldata = self.dao.token.encode_abi("delegateBySig", [delegatee, nonce, expiry, v, r, s])
        item = self._admit(
            delegator,
            nonce,
            lambda i: Item(i, "delegation", delegator, bytes.fromhex(calldata[2:]), (delegator, nonce)),
        )
        log.info("delegation accepted", id=item.id, delegator=delegator, delegatee=delegatee)
        return item

    # --- state ----------------------------------------------------------------------------------
    def item(self, item_id: int) -> Item | None:
        with self._lock:
            return self._items.get(item_id)

    def status(self) -> dict[str, Any]:
        with self._lock:
            counts: dict[str, int] = {}
            for item in self._items.values():
                counts[item.status] = counts.get(item.status, 0) + 1
        return {
            "relay": self.relay.address,
            "relayer": self.account.address,
            "governor": self.dao.governor.address,
            "token": self.dao.token.address,
            "budget_left_wei": str(int(self.relay.functions.budgetLeft().call())),
            "spent_wei": str(int(self.relay.functions.spent().call())),
            "max_gas_price_wei": str(int(self.relay.functions.maxGasPrice().call())),
            "budget_spent": self.budget_spent_reason is not None,
            "reason": self.budget_spent_reason,
            "items": counts,
        }

    # --- submission -----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run_batches(self) -> None:
        """Submits the queue every `relay_batch_interval` seconds until `stop()`; never raises."""
        while not self._stop.wait(self.settings.relay_batch_interval):
            try:
                self.flush()
            except Exception as exc:  # the relayer keeps serving; the items stay queued for the next try
                log.error("relay batch failed", error=f"{type(exc).__name__}: {exc}")

    def flush(self) -> int:
        """Submits up to `relay_batch_size` queued items in one VoteRelay.relay transaction and waits
        for it; returns how many were submitted (0 when none are queued or the budget is spent)."""
        for tx_hash in list(self._inflight):  # a batch of an earlier flush (or run) lands first
            self._land(tx_hash)
        with self._lock:
            batch = self._queue[: self.settings.relay_batch_size]
        if not batch:
            return 0
        # The largest head of the queue the budget covers; none: every queued item fails with the reason.
        while (short := self._budget_short(len(batch))) is not None and len(batch) > 1:
            batch = batch[: len(batch) // 2]
        if short is not None:
            self._mark_spent(short)
            with self._lock:
                queued = list(self._queue)
            self._finish(queued, "failed", None, short)
            return 0
        fn = self.relay.functions.relay([item.calldata for item in batch])
        price = int(self.w3.eth.gas_price)
        tx = fn.build_transaction(
            {
                "from": self.account.address,
                "nonce": self.w3.eth.get_transaction_count(self.account.address, "pending"),
                "gasPrice": price,
                "chainId": int(self.w3.eth.chain_id),
            }
        )
        tx["gas"] = int(tx["gas"] * 5 // 4)
        signed = self.account.sign_transaction(tx)
        hex_hash = Web3.to_hex(signed.hash)
        # Stored before it is sent: after a crash the same transaction is looked for or sent again.
        with self._lock:
            self._store.submitting([item.id for item in batch], hex_hash, signed.raw_transaction, tx["nonce"])
            for item in batch:
                item.status, item.tx_hash = "submitted", hex_hash
                self._queue.remove(item)
            self._inflight[hex_hash] = _Inflight(bytes(signed.raw_transaction), int(tx["nonce"]), batch)
            self.metrics.queued.set(len(self._queue))
        return self._land(hex_hash)

    def _receipt(self, tx_hash: str) -> Any:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except Web3Exception:  # TransactionNotFound: not mined (yet)
            return None

    def _land(self, hex_hash: str) -> int:
        """Sends an in-flight batch's signed transaction (again: the same nonce, so it lands at most
        once) and settles its items from the receipt; returns how many it carried. A batch whose
        nonce another transaction took goes back to the head of the queue."""
        flight = self._inflight[hex_hash]
        batch = flight.items
        receipt = self._receipt(hex_hash)
        if receipt is None:
            try:
                self.w3.eth.send_raw_transaction(flight.raw)
            except (Web3Exception, ValueError) as exc:  # already known, or its nonce is used
                # The nonce first, then the receipt: a batch mined between the two reads is found by
                # the second, never taken for a replaced one (whose items would be submitted again).
                taken = self.w3.eth.get_transaction_count(self.account.address, "latest") > flight.nonce
                receipt = self._receipt(hex_hash)
                if receipt is None and taken:
                    log.warning("relay transaction replaced, items queued again", tx=hex_hash, error=str(exc))
                    with self._lock:
                        del self._inflight[hex_hash]
                        self._queue[:0] = batch
                    self._finish(batch, "queued", None, None, dequeue=False)
                    return 0
        if receipt is None:
            try:
                receipt = self.w3.eth.wait_for_transaction_receipt(hex_hash, timeout=120)  # type: ignore[arg-type]
            except TimeExhausted:
                return 0  # still in flight: looked for again on the next flush
        with self._lock:
            self._inflight.pop(hex_hash, None)
        self.metrics.batches.inc()
        self.metrics.gas.inc(int(receipt["gasUsed"]))
        if int(receipt["status"]) != 1:
            self._finish(batch, "failed", hex_hash, "the relay transaction reverted")
            log.error("relay transaction reverted", tx=hex_hash, items=len(batch))
            return len(batch)
        failed = {
            int(ev["args"]["index"]): self._reason(bytes(ev["args"]["reason"]))
            for ev in self.relay.events.RelayedCallFailed().process_receipt(receipt)
        }
        relayed = self.relay.events.BatchRelayed().process_receipt(receipt)
        reimbursed = int(relayed[0]["args"]["reimbursed"]) if relayed else 0
        self.metrics.reimbursed.inc(reimbursed)
        for index, item in enumerate(batch):
            error = failed.get(index)
            self._finish([item], "failed" if index in failed else "cast", hex_hash, error)
        log.info(
            "batch relayed",
            tx=hex_hash,
            items=len(batch),
            failed=len(failed),
            gas_used=int(receipt["gasUsed"]),
            reimbursed_wei=reimbursed,
        )
        return len(batch)

    def _reason(self, data: bytes) -> str:
        """A failed element's revert, named by the governor's or token's ABI when it can be."""
        for contract in (self.dao.governor, self.dao.token):
            for entry in contract.abi:
                if entry.get("type") != "error":
                    continue
                sig = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
                if data[:4] == Web3.keccak(text=sig)[:4]:
                    return entry["name"]
        return "0x" + data.hex() if data else "reverted"

    def _finish(
        self, items: list[Item], status: str, tx_hash: str | None, error: str | None, dequeue: bool = True
    ) -> None:
        with self._lock:
            for item in items:
                item.status, item.tx_hash, item.error = status, tx_hash or item.tx_hash, error
            if status == "queued":
                self._store.finished([item.id for item in items], status, None, None)
                for item in items:
                    item.tx_hash = None
            elif status in ("cast", "failed"):
                self._store.finished([item.id for item in items], status, tx_hash, error)
            for item in items:
                if dequeue:
                    if item in self._queue:
                        self._queue.remove(item)
                    self._pending_nonces.discard(item.nonce_key)
                    self.metrics.outcomes.labels(status).inc()
            self.metrics.queued.set(len(self._queue))
