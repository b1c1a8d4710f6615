"""`verdict report suspicious`: flagged payments in the shape of a suspicious-activity report.

A payment is reported when the risk gate flagged it (its verdict held or refunded it, or the
score at scoring time said review or reject), or when it is part of a structuring pattern: many
payments from one payer just below the reporting threshold within a sliding window, each of which
may have scored low on its own. docs/compliance.md documents every field.

The store gives what the oracle saw (parties, USD value, block time, score, reasons); the chain
gives what happened (amount in base units, status now, the request, verdict, outcome and review
transactions). Detection itself (`detect_structuring`) is a pure function of the payments.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from web3 import Web3

from oracle.chain import ChainClient
from oracle.config import Settings
from oracle.errors import ChainError, DataError
from oracle.gate import (
    HELD,
    OUTCOME_EVENTS,
    REFUNDED,
    REJECT,
    REVIEW,
    ROUTER,
    ROUTER_STATUS,
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
    "SuspiciousActivityReport",
    "build_report",
    "detect_structuring",
    "parse_period",
    "router_logs",
]


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
    defaults are the last 30 days up to now."""
    now = now or datetime.now(UTC)
    lo = (
        _parse_when(start, "--from", end_of_day=False)
        if start
        else int((now - timedelta(days=30)).timestamp())
    )
    hi = _parse_when(end, "--to", end_of_day=True) if end else int(now.timestamp())
    if lo > hi:
        raise DataError(f"--from ({start}) is after --to ({end})")
    return lo, hi


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
    outcome_tx: dict[int, str] = field(default_factory=dict)
    review_tx: dict[int, tuple[str, bool]] = field(default_factory=dict)


def router_logs(chain: ChainClient) -> _ChainFacts:
    """Request, outcome and review transactions of every router payment, by payment id."""
    router = chain.router
    names = ["PaymentRequested", "PaymentReviewed", *OUTCOME_EVENTS[ROUTER]]
    topics = {ChainClient.topic(router, n): n for n in names}
    logs = chain.logs(router.address, topics)
    facts = _ChainFacts()
    for log in logs:
        name = topics[bytes(log["topics"][0])]
        pid = int.from_bytes(bytes(log["topics"][1]), "big")
        tx = Web3.to_hex(log["transactionHash"])
        if name == "PaymentRequested":
            facts.request_tx[pid] = tx
        elif name == "PaymentReviewed":
            approved = bool(int.from_bytes(bytes(log["data"])[-32:], "big"))
            facts.review_tx[pid] = (tx, approved)
        else:
            facts.outcome_tx[pid] = tx  # the latest outcome (a held payment settles or refunds later)
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
) -> SuspiciousActivityReport:
    """Flagged payments whose block time is in [start, end]. Structuring is looked for with the
    window reaching back before `start`, so a run that straddles the start is still seen."""
    rule = rule or StructuringRule.from_settings(settings)
    own_store = store is None
    store = store or Store(settings.store_url)
    try:
        chain = chain or ChainClient.from_settings(settings, with_key=False)
        stored = _store_rows(store, start - rule.window_s, end)
        pays = [p for p, _ in stored]
        scored = {p.key: row for p, row in stored if row is not None}
        facts = router_logs(chain)
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
        subjects: dict[str, dict[str, Any]] = {}
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
                what = "held it for review" if final == "held" else "refunded it"
                flags.append(f"{final}: the risk gate {what}")
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
                    fraud_probability=(
                        round(float(row.probability), 6)
                        if row is not None and row.probability is not None
                        else None
                    ),
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
            subject = subjects.setdefault(
                p.payer, {"address": p.payer, "role": "payer", "activities": 0, "total_usd": 0.0, "flags": []}
            )
            subject["activities"] += 1
            subject["total_usd"] = round(subject["total_usd"] + float(p.amount_usd), 2)
            for f in flags:
                name = f.split(":")[0]
                if name not in subject["flags"]:
                    subject["flags"].append(name)
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
            subjects=sorted(subjects.values(), key=lambda s: -s["total_usd"]),
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
        )
    except ChainError as exc:
        raise ChainError(f"cannot build the report: {exc}") from None
    finally:
        if own_store:
            store.close()


def _reason_texts(row: VerdictRow | None) -> list[str]:
    return [str(r.get("text", "")) for r in row.reasons] if row is not None else []


def _decimal(units: int, decimals: int) -> str:
    whole, frac = divmod(units, 10**decimals)
    text = f"{whole}.{frac:0{decimals}d}".rstrip("0").rstrip(".") if decimals else str(whole)
    return text
