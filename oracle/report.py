"""`verdict report suspicious`: flagged payments in the shape of a suspicious-activity report.

A payment is reported when the risk gate flagged it (its verdict held or refunded it, or the
score at scoring time said review or reject), or when it is part of a structuring pattern: many
payments from one payer just below the reporting threshold within a sliding window, each of which
may have scored low on its own. docs/compliance.md documents every field.

The store gives what the oracle saw (parties, USD value, block time, score, reasons); the chain
gives what happened (amount in base units, status now, the request, verdict, outcome and review
transactions), and the payments the gate held or refunded that this node never stored (reported
as `chain-only`). Detection itself (`detect_structuring`) is a pure function of the payments.

Default periods follow the chain's clock, not the wall clock (`report_period`): a local chain
whose time runs ahead still reports its latest payments.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from web3 import Web3

from oracle.chain import ChainClient, RouterPayment, load_abis
from oracle.config import Settings
from oracle.db import chunks
from oracle.errors import ChainError, DataError
from oracle.explain import ReasonsOnDemand
from oracle.gate import (
    ESCROW,
    FLAGGED,
    HELD,
    OUTCOME_EVENTS,
    REFUNDED,
    REJECT,
    REVIEW,
    ROUTER,
    ROUTER_STATUS,
    SETTLED,
    key_of,
    parse_key,
)
from oracle.records import PaymentRecord
from oracle.store import Store, VerdictRow
from oracle.structuring import PaymentFact, StructuringAlert, StructuringRule, detect_structuring

FLAGGING_DECISIONS = (REVIEW, REJECT)
FLAGGING_STATUSES = (HELD, REFUNDED)  # the router's outcomes that stop a payment
CSV_LIST_SEPARATOR = " | "

__all__ = [
    "PaymentFact",
    "StructuringAlert",
    "StructuringRule",
    "ReportPeriod",
    "SuspiciousActivityReport",
    "build_report",
    "chain_now",
    "detect_structuring",
    "parse_period",
    "report_period",
    "router_logs",
]

DEFAULT_DAYS = 30
SEEN_BY_NODE = "store"  # Activity.source: this node stored (and usually scored) the payment
CHAIN_ONLY = "chain-only"  # Activity.source: only the chain knows it (held or refunded there)


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


@dataclass
class Activity:
    """One reported payment (a row of the CSV, an item of the JSON `activities`)."""

    case_id: str
    payment_id: int
    flags: list[str]
    occurred_at: str
    subject: str
    counterparty: str
    token: str
    amount: str
    amount_base_units: str
    amount_usd: float
    status_now: str
    decision_at_scoring: str
    score_bps: int | None
    fraud_probability: float | None
    model_id: str
    reasons: list[str]
    reasons_hash: str
    structuring_alert: str
    request_tx: str
    verdict_tx: str
    outcome_tx: str
    review_tx: str
    reviewed: str
    source: str = SEEN_BY_NODE
    """"store" (this node saw it) or "chain-only" (flagged on chain, never in this node's store)."""


CSV_FIELDS = [f for f in Activity.__dataclass_fields__]


@dataclass
class SuspiciousActivityReport:
    generated_at: str
    period_from: str
    period_to: str
    chain_id: int | None
    router: str
    criteria: dict[str, Any]
    activities: list[Activity] = field(default_factory=list)
    subjects: list[dict[str, Any]] = field(default_factory=list)
    structuring_alerts: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)
    """What was read: the store, the chain (node URL, chain id, router, block range), the clock."""

    def describe_sources(self) -> str:
        """The sources as one line, for a terminal (the JSON form carries them in its header)."""
        src = self.sources
        chain = src.get("chain", {})
        blocks = chain.get("blocks", ["?", "?"])
        return (
            f"read store {src.get('store', '?')} and chain {chain.get('chain_id', '?')} at "
            f"{chain.get('rpc_url', '?')} (router {self.router}, blocks {blocks[0]}-{blocks[1]}); "
            f"period {self.period_from} to {self.period_to}, {src.get('clock', 'given')}"
        )

    def summary(self) -> dict[str, Any]:
        flags: dict[str, int] = {}
        for a in self.activities:
            for f in a.flags:
                name = f.split(":")[0]
                flags[name] = flags.get(name, 0) + 1
        return {
            "activities": len(self.activities),
            "subjects": len(self.subjects),
            "structuring_alerts": len(self.structuring_alerts),
            "total_usd": round(sum(a.amount_usd for a in self.activities), 2),
            "by_flag": flags,
        }

    def to_json(self) -> str:
        body = {
            "report": {
                "type": "suspicious-activity",
                "generated_at": self.generated_at,
                "period": {"from": self.period_from, "to": self.period_to},
                "filer": {"system": "Verdict", "chain_id": self.chain_id, "payment_router": self.router},
                "criteria": self.criteria,
                "summary": self.summary(),
                "sources": self.sources,
            },
            "subjects": self.subjects,
            "structuring_alerts": self.structuring_alerts,
            "activities": [asdict(a) for a in self.activities],
        }
        return json.dumps(body, indent=2) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for a in self.activities:
            row = asdict(a)
            row["flags"] = CSV_LIST_SEPARATOR.join(a.flags)
            row["reasons"] = CSV_LIST_SEPARATOR.join(a.reasons)
            writer.writerow(row)
        return buf.getvalue()

    def render(self, fmt: str) -> str:
        if fmt == "csv":
            return self.to_csv()
        if fmt == "json":
            return self.to_json()
        raise DataError(f"unknown report format {fmt!r}: use csv or json")


def parse_period(start: str | None, end: str | None, now: datetime | None = None) -> tuple[int, int]:
    """--from / --to as unix seconds [start, end]. A date alone means its whole day (UTC); the
    defaults are the last 30 days up to `now` (the wall clock if not given: callers that know a
    chain use `report_period`, which takes now from the chain)."""
    now = now or datetime.now(UTC)
    lo = (
        _parse_when(start, "--from", end_of_day=False)
        if start
        else int((now - timedelta(days=DEFAULT_DAYS)).timestamp())
    )
    hi = _parse_when(end, "--to", end_of_day=True) if end else int(now.timestamp())
    if lo > hi:
        raise DataError(f"--from ({start}) is after --to ({end})")
    return lo, hi


@dataclass(frozen=True)
class ReportPeriod:
    """A report's period in unix seconds [start, end], and where "now" came from for its defaults."""

    start: int
    end: int
    clock: str
    """"given by --from and --to", or "now from chain time (block N at T)", "now from the store's
    latest payment (T): the chain could not be read (...)", "now from the wall clock (...)"."""


def chain_now(chain: ChainClient | None, store: Store | None) -> tuple[int, str]:
    """The deployment's "now" in unix seconds, and a phrase saying where it came from: the latest
    block's timestamp; if the chain cannot be read, the store's latest payment time; the wall
    clock only when neither has a time. Demo chains run ahead of the wall clock, so a wall-clock
    "now" would leave their payments in the future."""
    why = "no chain client"
    if chain is not None:
        try:
            number = chain.block_number()
            stamp = chain.block_timestamp(number)
            return stamp, f"now from chain time (block {number} at {iso(stamp)})"
        except ChainError as exc:
            why = str(exc)
    if store is not None:
        latest = store.latest_payment_time(key_of(ROUTER, ""))
        if latest is not None:
            return (
                latest,
                f"now from the store's latest payment ({iso(latest)}): the chain could not be read ({why})",
            )
    wall = int(datetime.now(UTC).timestamp())
    return wall, f"now from the wall clock ({iso(wall)}): neither the chain nor the store gave a time ({why})"


def report_period(
    start: str | None,
    end: str | None,
    *,
    chain: ChainClient | None = None,
    store: Store | None = None,
) -> ReportPeriod:
    """--from / --to (or the dashboard's from/to) as a `ReportPeriod`. A missing end is chain
    time now, a missing start 30 days before that end (`chain_now` says where now came from).
    The one period rule of the CLI and the dashboard."""
    if end:
        hi = _parse_when(end, "--to", end_of_day=True)
        if start:
            lo, hi = parse_period(start, end)
            return ReportPeriod(lo, hi, "given by --from and --to")
        lo = int((datetime.fromtimestamp(hi, UTC) - timedelta(days=DEFAULT_DAYS)).timestamp())
        return ReportPeriod(lo, hi, f"from {DEFAULT_DAYS} days before --to")
    now, clock = chain_now(chain, store)
    lo, hi = parse_period(start, None, now=datetime.fromtimestamp(now, UTC))
    return ReportPeriod(lo, hi, clock)


def _parse_when(text: str, option: str, *, end_of_day: bool) -> int:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
            return int(moment.timestamp())
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{option} {text!r} is not a date (YYYY-MM-DD) or an ISO date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def iso(ts: float | int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _ChainFacts:
    request_tx: dict[int, str] = field(default_factory=dict)
    request_block: dict[int, int] = field(default_factory=dict)
    outcome_tx: dict[int, str] = field(default_factory=dict)
    review_tx: dict[int, tuple[str, bool]] = field(default_factory=dict)
    flagged: dict[int, tuple[str, int]] = field(default_factory=dict)
    """Payment id -> the latest flagging outcome the chain recorded (held or refunded) and its score."""
    outcome: dict[int, str] = field(default_factory=dict)
    """Payment id -> its latest outcome (settled, held or refunded)."""


def router_logs(chain: ChainClient, to_block: int | str = "latest") -> _ChainFacts:
    """Request, outcome and review transactions of every router payment from the deployment block
    to `to_block`, by payment id, and which of them the gate held or refunded."""
    router = chain.router
    names = ["PaymentRequested", "PaymentReviewed", *OUTCOME_EVENTS[ROUTER]]
    topics = {ChainClient.topic(router, n): n for n in names}
    logs = chain.logs(router.address, topics, to_block=to_block)
    facts = _ChainFacts()
    for log in logs:
        name = topics[bytes(log["topics"][0])]
        pid = int.from_bytes(bytes(log["topics"][1]), "big")
        tx = Web3.to_hex(log["transactionHash"])
        if name == "PaymentRequested":
            facts.request_tx[pid] = tx
            if log.get("blockNumber") is not None:
                facts.request_block[pid] = int(log["blockNumber"])
        elif name == "PaymentReviewed":
            approved = bool(int.from_bytes(bytes(log["data"])[-32:], "big"))
            facts.review_tx[pid] = (tx, approved)
        else:
            facts.outcome_tx[pid] = tx  # the latest outcome (a held payment settles or refunds later)
            outcome = OUTCOME_EVENTS[ROUTER][name]
            facts.outcome[pid] = outcome
            if outcome in FLAGGING_STATUSES:
                # PaymentHeld(id, score) and PaymentRefunded(id, payer, amount, score): score is last.
                facts.flagged[pid] = (outcome, int.from_bytes(bytes(log["data"])[-32:], "big"))
    return facts


def _store_rows(store: Store, lo: int, hi: int) -> list[tuple[PaymentRecord, VerdictRow | None]]:
    """Router payments in [lo, hi] from the history, each with its verdict row if it has one."""
    return store.payments_with_verdicts(key_of(ROUTER, ""), lo, hi)


def build_report(
    settings: Settings,
    start: int,
    end: int,
    *,
    store: Store | None = None,
    chain: ChainClient | None = None,
    rule: StructuringRule | None = None,
    clock: str = "given",
) -> SuspiciousActivityReport:
    """Flagged payments whose block time is in [start, end]: those in the store (what this node
    saw), and those the chain held or refunded that the store lacks (`source = "chain-only"`).
    Structuring is looked for with the window reaching back before `start`, so a run that
    straddles the start is still seen. `clock` says where the period came from (`ReportPeriod`)."""
    rule = rule or StructuringRule.from_settings(settings)
    own_store = store is None
    store = store or Store(settings.store_url, create=False)
    try:
        chain = chain or ChainClient.from_settings(settings, with_key=False)
        to_block = chain.block_number()  # one block range for every chain read below
        stored = _store_rows(store, start - rule.window_s, end)
        pays = [p for p, _ in stored]
        scored = {p.key: row for p, row in stored if row is not None}
        facts = router_logs(chain, to_block)
        router = chain.router

        def on_chain(pid: int) -> tuple[str, int, str, int]:
            payment = chain.payment(pid)
            token = chain.token_info(payment.token)
            return ROUTER_STATUS[payment.status], payment.amount, token.symbol, token.decimals

        alerts = detect_structuring(
            (PaymentFact(p.key, p.payer, float(p.amount_usd), int(p.timestamp)) for p in pays), rule
        )
        alert_of = {key: a for a in alerts for key in a.keys}
        activities: list[Activity] = []
        for p in pays:
            if not start <= int(p.timestamp) <= end:
                continue
            pid = parse_key(p.key)[1]
            row = scored.get(p.key)
            flags: list[str] = []
            status, amount_units, symbol, decimals = on_chain(pid)
            final = row.final_status if row is not None else None
            if final not in FLAGGING_STATUSES and status in FLAGGING_STATUSES and pid not in facts.review_tx:
                final = status  # decided by the gate (or refunded after its deadline) without this node's log
            if final in FLAGGING_STATUSES:
                flags.append(_gate_flag(final))
            elif row is not None and row.decision in FLAGGING_DECISIONS:
                flags.append(f"{row.decision}: scored at or above the {row.decision} threshold")
            alert = alert_of.get(p.key)
            if alert is not None:
                flags.append(alert.describe())
            if not flags:
                continue
            review = facts.review_tx.get(pid)
            activities.append(
                Activity(
                    case_id=p.key,
                    payment_id=pid,
                    flags=flags,
                    occurred_at=iso(p.timestamp),
                    subject=p.payer,
                    counterparty=p.payee,
                    token=symbol,
                    amount=_decimal(amount_units, decimals),
                    amount_base_units=str(amount_units),
                    amount_usd=round(float(p.amount_usd), 2),
                    status_now=status,
                    decision_at_scoring=row.decision if row is not None else "",
                    score_bps=int(row.score_bps) if row is not None else None,
                    fraud_probability=_probability(row),
                    model_id=row.model_id if row is not None else "",
                    reasons=_reason_texts(row),
                    reasons_hash=row.reasons_hash if row is not None else "",
                    structuring_alert=alert.alert_id if alert is not None else "",
                    request_tx=facts.request_tx.get(pid, ""),
                    verdict_tx=(row.tx_hash or "") if row is not None else "",
                    outcome_tx=facts.outcome_tx.get(pid, ""),
                    review_tx=review[0] if review else "",
                    reviewed=("approved" if review[1] else "rejected") if review else "",
                )
            )
        known = {parse_key(p.key)[1] for p in pays}
        activities.extend(_chain_only(settings, chain, facts, known, start, end))
        activities.extend(_escrow_releases(settings, chain, store, start, end, to_block))
        activities = _with_recomputed_reasons(activities, store, Path(settings.model_dir))
        activities.sort(key=lambda a: (a.occurred_at, a.payment_id))
        return SuspiciousActivityReport(
            generated_at=iso(datetime.now(UTC).timestamp()),
            period_from=iso(start),
            period_to=iso(end),
            chain_id=chain.deployment.chain_id,
            router=router.address,
            criteria={
                "risk_gate": "held or refunded by the risk gate, or scored at or above the review threshold",
                "structuring": rule.describe(),
                "reporting_threshold_usd": rule.threshold_usd,
                "structuring_band": rule.band,
                "structuring_window_hours": rule.window_s / 3600,
                "structuring_min_count": rule.min_count,
            },
            activities=activities,
            subjects=_subjects(activities),
            structuring_alerts=[
                {
                    "alert_id": a.alert_id,
                    "subject": a.payer,
                    "payments": len(a.keys),
                    "payment_ids": [int(k.split(":", 1)[1]) for k in a.keys],
                    "total_usd": a.total_usd,
                    "first_at": iso(a.first_ts),
                    "last_at": iso(a.last_ts),
                    "hours": round((a.last_ts - a.first_ts) / 3600, 2),
                }
                for a in alerts
                if any(a.alert_id == x.structuring_alert for x in activities)
            ],
            sources={
                "store": store.label,
                "chain": {
                    "rpc_url": chain.rpc_url,
                    "chain_id": chain.deployment.chain_id,
                    "payment_router": router.address,
                    "blocks": [chain.deployment.block, to_block],
                },
                "clock": clock,
            },
        )
    except ChainError as exc:
        raise ChainError(f"cannot build the report: {exc}") from None
    finally:
        if own_store:
            store.close()


def _chain_only(
    settings: Settings, chain: ChainClient, facts: _ChainFacts, known: set[int], start: int, end: int
) -> list[Activity]:
    """Payments the chain held or refunded in [start, end] that the store does not hold (this node
    never saw them: another node decided, or this node's store is newer than the deployment)."""
    times = {
        pid: chain.block_timestamp(facts.request_block[pid])
        for pid in sorted(facts.flagged)
        if pid not in known and pid in facts.request_block
    }
    ids = [pid for pid, at in times.items() if start <= at <= end]
    records: dict[int, RouterPayment] = {}
    for chunk in chunks(ids):  # JSON-RPC batches, not one call per payment
        records.update(chain.payments(chunk))
    out: list[Activity] = []
    for pid in ids:
        (outcome, chain_score), at, payment = facts.flagged[pid], times[pid], records[pid]
        token = chain.token_info(payment.token)
        price = settings.usd_prices.get(token.symbol, 0.0)  # no price: valued at 0, the amount stays exact
        review = facts.review_tx.get(pid)
        out.append(
            Activity(
                case_id=key_of(ROUTER, pid),
                payment_id=pid,
                flags=[
                    f"{_gate_flag(outcome)} (on-chain score {chain_score}; "
                    "chain-only: this node never saw it)"
                ],
                occurred_at=iso(at),
                subject=payment.payer,
                counterparty=payment.payee,
                token=token.symbol,
                amount=_decimal(payment.amount, token.decimals),
                amount_base_units=str(payment.amount),
                amount_usd=round(payment.amount / 10**token.decimals * price, 2),
                status_now=ROUTER_STATUS[payment.status],
                decision_at_scoring="",
                score_bps=None,
                fraud_probability=None,
                model_id="",
                reasons=[],
                reasons_hash="",
                structuring_alert="",
                request_tx=facts.request_tx.get(pid, ""),
                verdict_tx="",
                outcome_tx=facts.outcome_tx.get(pid, ""),
                review_tx=review[0] if review else "",
                reviewed=("approved" if review[1] else "rejected") if review else "",
                source=CHAIN_ONLY,
            )
        )
    return out


ESCROW_OUTCOMES = {
    "ReleaseSettled": SETTLED,
    "ReleaseHeld": HELD,
    "ReleaseRejected": FLAGGED,
    "ReleaseExpired": "expired",
}
"""Escrow event -> the release's status once it was emitted (the latest one is the status now)."""


def _escrow_releases(
    settings: Settings, chain: ChainClient, store: Store, start: int, end: int, to_block: int
) -> list[Activity]:
    """Escrow milestone releases the gate held or rejected, requested in [start, end]: with this
    node's score and reasons when its store has them, else as chain-only. None without an Escrow."""
    address = chain.sources.get(ESCROW)
    if address is None:
        return []
    escrow = chain.w3.eth.contract(address, abi=load_abis(settings.build_manifest)["IEscrow"])
    topics = {ChainClient.topic(escrow, n): n for n in ("ReleaseReviewed", *ESCROW_OUTCOMES)}
    flagged: dict[int, tuple[str, int]] = {}
    status: dict[int, str] = {}
    outcome_tx: dict[int, str] = {}
    reviewed: dict[int, tuple[str, bool]] = {}
    for log in chain.logs(address, topics, to_block=to_block):
        name = topics[bytes(log["topics"][0])]
        gate_id = int.from_bytes(bytes(log["topics"][1]), "big")
        tx = Web3.to_hex(log["transactionHash"])
        data = bytes(log["data"])
        if name == "ReleaseReviewed":
            reviewed[gate_id] = (tx, bool(int.from_bytes(data[-32:], "big")))
            continue
        status[gate_id], outcome_tx[gate_id] = ESCROW_OUTCOMES[name], tx
        if status[gate_id] in (HELD, FLAGGED):  # data: milestone, score, deadline
            flagged[gate_id] = (status[gate_id], int.from_bytes(data[32:64], "big"))
    if not flagged:
        return []
    requests = [
        r
        for r in chain.gate_requests(chain.deployment.block, to_block)
        if r.source == ESCROW and r.item_id in flagged
    ]
    stored_rows = store.payments_with_verdicts(key_of(ESCROW, ""), start, end)
    seen_by_key = {p.key: (p, row) for p, row in stored_rows}
    out: list[Activity] = []
    for req in requests:
        at = chain.block_timestamp(req.block_number)
        if not start <= at <= end:
            continue
        outcome, chain_score = flagged[req.item_id]
        token = chain.token_info(req.token)
        stored, row = seen_by_key.get(req.key, (None, None))
        what = "held the escrow release for review" if outcome == HELD else "rejected the escrow release"
        flag = f"{outcome}: the risk gate {what}"
        if stored is None:
            flag += f" (on-chain score {chain_score}; chain-only: this node never saw it)"
            usd = req.amount / 10**token.decimals * settings.usd_prices.get(token.symbol, 0.0)
        else:
            usd = float(stored.amount_usd)
        review = reviewed.get(req.item_id)
        out.append(
            Activity(
                case_id=req.key,
                payment_id=req.item_id,
                flags=[flag],
                occurred_at=iso(at),
                subject=req.payer,
                counterparty=req.payee,
                token=token.symbol,
                amount=_decimal(req.amount, token.decimals),
                amount_base_units=str(req.amount),
                amount_usd=round(usd, 2),
                status_now=status[req.item_id],
                decision_at_scoring=row.decision if row is not None else "",
                score_bps=int(row.score_bps) if row is not None else None,
                fraud_probability=_probability(row),
                model_id=row.model_id if row is not None else "",
                reasons=_reason_texts(row),
                reasons_hash=row.reasons_hash if row is not None else "",
                structuring_alert="",
                request_tx=req.tx_hash,
                verdict_tx=(row.tx_hash or "") if row is not None else "",
                outcome_tx=outcome_tx.get(req.item_id, ""),
                review_tx=review[0] if review else "",
                reviewed=("approved" if review[1] else "rejected") if review else "",
                source=SEEN_BY_NODE if stored is not None else CHAIN_ONLY,
            )
        )
    return out


def _with_recomputed_reasons(activities: list[Activity], store: Store, model_dir: Path) -> list[Activity]:
    """`activities` with reasons for those the node scored below review (it stores none for them,
    16.3; a structuring alert or a gate outcome can still flag them), recomputed from the stored
    features as the dashboard does. A vector that no longer hashes to its evidence hash, or a model
    no longer in `model_dir`, keeps its empty reasons: `verdict explain` says why."""
    missing = [a.case_id for a in activities if not a.reasons and a.model_id]
    if not missing:
        return activities
    filled = ReasonsOnDemand(model_dir).fill(store.scored_many(missing))
    return [
        replace(a, reasons=_reason_texts(filled[a.case_id])) if a.case_id in filled else a for a in activities
    ]


def _gate_flag(outcome: str) -> str:
    """The flag of a payment the gate held or refunded ("held: the risk gate held it for review")."""
    return f"{outcome}: the risk gate {'held it for review' if outcome == HELD else 'refunded it'}"


def _subjects(activities: list[Activity]) -> list[dict[str, Any]]:
    """Each payer with reported activity, largest total first."""
    subjects: dict[str, dict[str, Any]] = {}
    for a in activities:
        subject = subjects.setdefault(
            a.subject, {"address": a.subject, "role": "payer", "activities": 0, "total_usd": 0.0, "flags": []}
        )
        subject["activities"] += 1
        subject["total_usd"] = round(subject["total_usd"] + a.amount_usd, 2)
        for f in a.flags:
            name = f.split(":")[0]
            if name not in subject["flags"]:
                subject["flags"].append(name)
    return sorted(subjects.values(), key=lambda s: -s["total_usd"])


def _probability(row: VerdictRow | None) -> float | None:
    return round(float(row.probability), 6) if row is not None and row.probability is not None else None


def _reason_texts(row: VerdictRow | None) -> list[str]:
    return [str(r.get("text", "")) for r in row.reasons] if row is not None else []


def _decimal(units: int, decimals: int) -> str:
    whole, frac = divmod(units, 10**decimals)
    text = f"{whole}.{frac:0{decimals}d}".rstrip("0").rstrip(".") if decimals else str(whole)
    return text
