"""The risk gate's vocabulary, in one place: which item a verdict is about, the score-to-decision
rule, and what each gated contract calls the outcome of a verdict.

Everything that names a gated item (the daemon, the stores, reports, `verdict explain`, the
dashboard, the demo) builds its key with `GateKey`, and everything that turns a score into a
decision uses `decide`; neither is re-derived anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

ROUTER = "router"
ESCROW = "escrow"
XBORDER = "xborder"  # the CrossBorderRouter (issue 18): pay in one currency, settle in another

SETTLE, REVIEW, REJECT = "settle", "review", "reject"
DECISIONS = (SETTLE, REVIEW, REJECT)
"""What a score says under the thresholds: the predicted band, before the chain acts on it."""

SETTLED, HELD, REFUNDED, FLAGGED = "settled", "held", "refunded", "flagged"

OUTCOME_EVENTS: dict[str, dict[str, str]] = {
    # gate -> outcome event emitted inside a verdict transaction -> outcome recorded for the item
    ROUTER: {"PaymentSettled": SETTLED, "PaymentHeld": HELD, "PaymentRefunded": REFUNDED},
    # A rejected escrow release is Flagged: the money stays in escrow (a dispute may follow).
    ESCROW: {"ReleaseSettled": SETTLED, "ReleaseHeld": HELD, "ReleaseRejected": FLAGGED},
    # A settling verdict that cannot convert within the quote and the feeds refunds the payer.
    XBORDER: {"CrossBorderSettled": SETTLED, "CrossBorderHeld": HELD, "CrossBorderRefunded": REFUNDED},
}
FLAGGING_OUTCOMES = (HELD, REFUNDED, FLAGGED)
"""Outcomes by which the gate stopped an item (a reviewer or an arbiter may still release it)."""

ROUTER_STATUS = ("none", "pending", "held", "settled", "refunded")
"""`IPaymentRouter.Status` by its numeric value."""


@dataclass(frozen=True, slots=True)
class GateKey:
    """One item at the risk gate: the gate it waits at ("router" or "escrow"), the gated contract's
    address and its id there. `str(key)` is the store's key, e.g. "router:17"."""

    source: str
    target: str
    item_id: int

    def __str__(self) -> str:
        return key_of(self.source, self.item_id)

    @property
    def item(self) -> tuple[str, int]:
        """(target, id): how the RiskOracle and its events name the item."""
        return (self.target, self.item_id)


def key_of(source: str, item_id: int | str) -> str:
    """The store's key of item `item_id` at gate `source` ("router:17")."""
    return f"{source}:{item_id}"


def parse_key(key: str) -> tuple[str, int]:
    """("router", 17) from "router:17"."""
    source, _, item_id = key.partition(":")
    return source, int(item_id)


def decide(score_bps: int, review_bps: int, reject_bps: int) -> str:
    """settle below review, review from review up to reject, reject at or above reject."""
    if score_bps >= reject_bps:
        return REJECT
    if score_bps >= review_bps:
        return REVIEW
    return SETTLE


def band_of(low: int, high: int, review_bps: int, reject_bps: int) -> str:
    """The decision for every score in [low, high), or "mixed" if a threshold falls inside it."""
    first, last = decide(low, review_bps, reject_bps), decide(high - 1, review_bps, reject_bps)
    return first if first == last else "mixed"
