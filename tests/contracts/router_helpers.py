"""Constants and helpers shared by the PaymentRouter and RiskOracle tests (and their conftest)."""

from __future__ import annotations

ETH = "0x0000000000000000000000000000000000000000"
USD = 10**6  # MockStablecoin has 6 decimals
ETHER = 10**18
MODEL_ID = bytes.fromhex("a1" * 32)
OTHER_MODEL_ID = bytes.fromhex("b2" * 32)
REASONS_HASH = bytes.fromhex("c3" * 32)
REF = bytes.fromhex("d4" * 32)

# defaults of the router: scores are legitimate-traffic quantiles in bps (docs/model-card.md), so
# 9,900 reviews about 1% of legitimate payments and 9,990 refunds about 0.1%
REVIEW_THRESHOLD = 9900
REJECT_THRESHOLD = 9990
FEE_BPS = 30
DEADLINE_WINDOW = 3600
REVIEW_WINDOW = 3 * 24 * 3600

SAFE_SCORE = 1200
REVIEW_SCORE = (REVIEW_THRESHOLD + REJECT_THRESHOLD) // 2  # inside the review band
FRAUD_SCORE = 9995  # above the reject threshold

# IPaymentRouter.Status
NONE, PENDING, HELD, SETTLED, REFUNDED = range(5)
# IRiskGated.GateStatus
UNKNOWN, AWAITING, EXPIRED, DECIDED = range(4)
# IRiskOracle.SkipReason
UNKNOWN_ITEM, ALREADY_FINAL, SKIP_EXPIRED, DUPLICATE_VOTE = range(4)


def verdict(router, payment_id: int, score: int, *, model: bytes = MODEL_ID) -> tuple:
    """One IRiskOracle.Verdict as a tuple."""
    return (router.address, payment_id, score, model, REASONS_HASH)


def fee_of(amount: int, fee_bps: int = FEE_BPS) -> int:
    return amount * fee_bps // 10_000
