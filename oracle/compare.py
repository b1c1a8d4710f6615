"""`verdict compare`: the approved (champion) model against the shadow (challenger) model over the
same live payments, from the store's `verdicts` and `shadow_verdicts` tables and the chain's outcomes.

Both models' decisions are the ones made at scoring time under the router's thresholds then (the
challenger's under the same thresholds as the champion's, oracle.shadow). Labels come from what
happened on-chain: a payment is *fraud* when it was refunded after a reviewer rejected it, or
refunded by the gate's own reject verdict (that label follows the champion's decision, so it
favours the champion; the output counts each source); *legitimate* when it settled (at once or
approved on review); any other payment (pending, held unreviewed, reclaimed after its deadline)
is unlabelled. The store keeps no fraud labels of its own.

The comparison is a plain dict with no wall-clock time in it, so the same store and chain give the
same comparison and the same hash: sha256 of its canonical JSON (`seal`), which a model-approval
proposal cites (`comparison_line`). A file edited after the fact no longer matches its hash.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from oracle.chain import ChainClient
from oracle.errors import DataError
from oracle.gate import DECISIONS, REFUNDED, REJECT, REVIEW, ROUTER, SETTLED, key_of, parse_key
from oracle.report import ReportPeriod, iso, router_logs
from oracle.shadow import ShadowLog, ShadowRow
from oracle.store import Store, VerdictRow

FORMAT = "verdict-comparison/1"
HASH_FIELD = "sha256"
CATCHING = (REVIEW, REJECT)  # a decision that stops a payment for a person or refunds it
EMPTY = (
    "No payments to compare: the store holds no challenger scores{where}; run the node with "
    "`verdict run --shadow DIR` first"
)


def canonical_json(body: dict[str, Any]) -> str:
    """Sorted keys, no spaces, ASCII, no NaN: the bytes the comparison's hash covers."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def comparison_hash(body: dict[str, Any]) -> str:
    """Hex sha256 of the canonical JSON of the comparison (without its own hash field)."""
    clean = {k: v for k, v in body.items() if k != HASH_FIELD}
    return hashlib.sha256(canonical_json(clean).encode("ascii")).hexdigest()


def seal(body: dict[str, Any]) -> dict[str, Any]:
    """The comparison with its hash beside it (what --json and --out write)."""
    return {**body, HASH_FIELD: comparison_hash(body)}


def load_comparison(path: Path) -> dict[str, Any]:
    """A sealed comparison file, checked: DataError (one line) if unreadable, not a comparison, or
    edited after it was made (its content no longer hashes to its recorded sha256)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise DataError(f"comparison {path}: cannot read it ({err.strerror or err})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataError(f"comparison {path}: not JSON; write one with `verdict compare --out FILE`") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get(HASH_FIELD), str):
        raise DataError(f"comparison {path}: not a `verdict compare --out` file ({FORMAT})")
    if comparison_hash(doc) != doc[HASH_FIELD]:
        raise DataError(
            f"comparison {path}: its content does not match its sha256 {doc[HASH_FIELD][:16]}…; it was "
            "edited after `verdict compare` wrote it"
        )
    return doc


def comparison_line(path: Path, model_id: str) -> str:
    """The line a model-approval proposal carries: the comparison's hash and both model ids. Refuses
    (DataError) a comparison of another challenger than `model_id`."""
    doc = load_comparison(path)
    challenger = str(doc["challenger"]["model_id"]).lower()
    if challenger != model_id.lower():
        raise DataError(
            f"comparison {path} is of challenger {challenger[:18]}…, not of this model {model_id[:18]}…; "
            "compare the model you propose"
        )
    champions = ", ".join(doc["champion"]["model_ids"]) or "none"
    return (
        f"Champion-challenger comparison sha256:{doc[HASH_FIELD]} over {doc['payments_compared']} "
        f"live payments (challenger {challenger}; champion {champions})."
    )


# --------------------------------------------------------------------------------------------
# building it
# --------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 4)


def _side(
    model_ids: list[str],
    decisions: dict[str, str],
    latency: list[float],
    fraud: set[str],
    legit: set[str],
) -> dict[str, Any]:
    """One model's would-be rates over the compared payments."""
    n = len(decisions)
    count = Counter(decisions.values())
    legit_count = Counter(decisions[k] for k in legit)
    return {
        "model_ids": model_ids,
        "decisions": {d: count.get(d, 0) for d in DECISIONS},
        "review_rate": _rate(count.get(REVIEW, 0), n),
        "refund_rate": _rate(count.get(REJECT, 0), n),
        "legit_review_rate": _rate(legit_count.get(REVIEW, 0), len(legit)),
        "legit_refund_rate": _rate(legit_count.get(REJECT, 0), len(legit)),
        "frauds_caught": sum(1 for k in fraud if decisions[k] in CATCHING),
        "frauds_refunded": sum(1 for k in fraud if decisions[k] == REJECT),
        "latency_ms_p50": _quantile(latency, 0.50),
        "latency_ms_p99": _quantile(latency, 0.99),
    }


def pick_challenger(shadows: dict[str, ShadowRow], wanted: str | None) -> str | None:
    """The challenger compared: the one asked for, else the one that scored last."""
    if wanted is not None:
        return wanted.lower()
    if not shadows:
        return None
    return max(shadows.values(), key=lambda r: r.scored_at).model_id


def build_comparison(
    store: Store,
    shadow_log: ShadowLog,
    chain: ChainClient,
    period: ReportPeriod,
    challenger: str | None = None,
) -> dict[str, Any]:
    """The comparison over the router payments of `period` both models scored (store + chain reads)."""
    to_block = chain.block_number()
    pairs = [
        (p, row)
        for p, row in store.payments_with_verdicts(key_of(ROUTER, ""), period.start, period.end)
        if row is not None
    ]
    shadows = shadow_log.rows_for([p.key for p, _ in pairs])
    model_id = pick_challenger(shadows, challenger)
    compared: list[tuple[VerdictRow, ShadowRow]] = [
        (row, shadows[p.key]) for p, row in pairs if p.key in shadows and shadows[p.key].model_id == model_id
    ]
    facts = router_logs(chain, to_block)
    fraud: set[str] = set()
    legit: set[str] = set()
    by_reviewer = by_gate = 0
    for row, _ in compared:
        pid = parse_key(row.key)[1]
        outcome = facts.outcome.get(pid)
        review = facts.review_tx.get(pid)
        if outcome == SETTLED:
            legit.add(row.key)
        elif outcome == REFUNDED and review is not None and not review[1]:
            fraud.add(row.key)
            by_reviewer += 1
        elif outcome == REFUNDED and (row.final_status == REFUNDED or row.decision == REJECT):
            fraud.add(row.key)
            by_gate += 1
    champion = {row.key: row.decision for row, _ in compared}
    shadow = {s.key: s.decision for _, s in compared}
    moves = Counter(f"{champion[k]}->{shadow[k]}" for k in champion if champion[k] != shadow[k])
    agree = sum(1 for k in champion if champion[k] == shadow[k])
    return {
        "format": FORMAT,
        "period": {"from": iso(period.start), "to": iso(period.end), "clock": period.clock},
        "payments_compared": len(compared),
        "agreement": {"same_decision": agree, "rate": _rate(agree, len(compared))},
        "disagreements": dict(sorted(moves.items())),
        "thresholds": sorted({f"{s.review_bps}/{s.reject_bps}" for _, s in compared}),
        "labels": {
            "fraud": len(fraud),
            "fraud_reviewer_rejected": by_reviewer,
            "fraud_refunded_by_gate": by_gate,
            "legitimate": len(legit),
            "unlabelled": len(compared) - len(fraud) - len(legit),
            "store_labels": 0,
            "rule": (
                "fraud: refunded after a reviewer rejected it, or refunded by the gate's reject "
                "verdict (follows the champion's decision); legitimate: settled (at once or approved "
                "on review); the store keeps no fraud labels of its own"
            ),
        },
        "champion": _side(
            sorted({row.model_id for row, _ in compared}),
            champion,
            [s.champion_latency_ms for _, s in compared],
            fraud,
            legit,
        ),
        "challenger": {
            **_side(
                [model_id] if model_id else [], shadow, [s.latency_ms for _, s in compared], fraud, legit
            ),
            "model_id": model_id or "",
        },
        "latency_note": "scoring time per payment: its batch's model time / batch size (the champion's "
        "includes reasons for payments at or above the review threshold)",
        "sources": {
            "store": store.label,
            "chain_id": chain.deployment.chain_id,
            "payment_router": chain.router.address,
            "blocks": [chain.deployment.block, to_block],
        },
    }


# --------------------------------------------------------------------------------------------
# showing it
# --------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} ms"


def table_rows(comparison: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, champion, challenger) rows: the terminal table and the dashboard page show these."""
    c, s, lab = comparison["champion"], comparison["challenger"], comparison["labels"]
    fraud = lab["fraud"]
    return [
        ("model", ", ".join(m[:18] + "…" for m in c["model_ids"]), s["model_id"][:18] + "…"),
        *[(f"would {d}", f"{c['decisions'][d]:,}", f"{s['decisions'][d]:,}") for d in DECISIONS],
        ("review rate", _pct(c["review_rate"]), _pct(s["review_rate"])),
        ("refund rate", _pct(c["refund_rate"]), _pct(s["refund_rate"])),
        (
            f"legitimate: review (of {lab['legitimate']:,})",
            _pct(c["legit_review_rate"]),
            _pct(s["legit_review_rate"]),
        ),
        (
            f"legitimate: refund (of {lab['legitimate']:,})",
            _pct(c["legit_refund_rate"]),
            _pct(s["legit_refund_rate"]),
        ),
        (
            f"frauds caught (of {fraud:,})",
            f"{c['frauds_caught']:,}",
            f"{s['frauds_caught']:,}",
        ),
        (f"frauds refunded (of {fraud:,})", f"{c['frauds_refunded']:,}", f"{s['frauds_refunded']:,}"),
        ("scoring time p50", _ms(c["latency_ms_p50"]), _ms(s["latency_ms_p50"])),
        ("scoring time p99", _ms(c["latency_ms_p99"]), _ms(s["latency_ms_p99"])),
    ]


def summary_lines(comparison: dict[str, Any]) -> list[str]:
    """The lines under the table: what was compared, the labels, the hash."""
    lab, agree = comparison["labels"], comparison["agreement"]
    n = comparison["payments_compared"]
    return [
        f"{n:,} payments compared ({comparison['period']['from']} to {comparison['period']['to']}, "
        f"{comparison['period']['clock']}); thresholds {', '.join(comparison['thresholds']) or '—'} bps",
        f"agreement: {agree['same_decision']:,} of {n:,} same decision ({_pct(agree['rate'])})"
        + (
            "; " + ", ".join(f"{k} {v}" for k, v in comparison["disagreements"].items())
            if comparison["disagreements"]
            else ""
        ),
        f"labels: {lab['fraud']:,} fraud ({lab['fraud_reviewer_rejected']:,} rejected by a reviewer, "
        f"{lab['fraud_refunded_by_gate']:,} refunded by the gate's reject verdict), {lab['legitimate']:,} "
        f"legitimate (settled), {lab['unlabelled']:,} unlabelled; store labels: none",
        f"comparison sha256: {comparison.get(HASH_FIELD) or comparison_hash(comparison)}",
    ]
