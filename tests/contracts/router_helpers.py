"""Constants and helpers shared by the PaymentRouter and RiskOracle tests (and their conftest)."""

from __future__ import annotations

from ape import chain
from eth_abi import decode
from eth_utils import keccak, to_checksum_address

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


NO_TERMS = (ETH, ETH, ETH, 0)  # IRiskGated.Terms for a target that ignores them (Escrow)
REQUESTED_TOPIC = (
    "0x" + keccak(text="PaymentRequested(uint256,address,address,address,uint256,bytes32,uint64)").hex()
)


def terms_of(router, payment_id: int) -> tuple[str, str, str, int]:
    """IRiskGated.Terms (payer, payee, token, amount) of a payment of `router` (a contract or an
    address), from its
    `PaymentRequested` log, as a node reads them (the router keeps only their hash); NO_TERMS for an
    id that was never paid."""
    logs = chain.provider.web3.eth.get_logs(
        {
            "address": str(getattr(router, "address", router)),
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [REQUESTED_TOPIC, "0x" + int(payment_id).to_bytes(32, "big").hex()],
        }
    )
    if not logs:
        return NO_TERMS
    log = logs[-1]
    payer, payee = (to_checksum_address(bytes(t)[-20:]) for t in log["topics"][2:4])
    token, amount, _, _ = decode(["address", "uint256", "bytes32", "uint64"], bytes(log["data"]))
    return (payer, payee, to_checksum_address(token), int(amount))


def verdict(
    router, payment_id: int, score: int, *, model: bytes = MODEL_ID, terms: tuple | None = None
) -> tuple:
    """One IRiskOracle.Verdict as a tuple, with the payment's terms from its log (or `terms`)."""
    return (router.address, payment_id, score, model, REASONS_HASH, terms or terms_of(router, payment_id))


def batches(items) -> list[tuple]:
    """IRiskOracle.VerdictBatch[] for Verdict tuples as `verdict` makes them (target, id, score,
    model, reasons hash, terms): runs of one target and model, in order."""
    out: list[tuple] = []
    for target, item_id, score, model, reasons, terms in items:
        target = str(getattr(target, "address", target))
        if out and (out[-1][0], out[-1][1]) == (target, model):
            out[-1][2].append((item_id, score, reasons, terms))
        else:
            out.append((target, model, [(item_id, score, reasons, terms)]))
    return out


def submit(risk_oracle, items, **kwargs):
    """`submitVerdicts` of Verdict tuples (see `batches`)."""
    return risk_oracle.submitVerdicts(batches(items), **kwargs)


def gate_verdict(target, item_id: int, score: int, *, model: bytes = MODEL_ID, reasons: bytes = REASONS_HASH):
    """One IRiskOracle.Verdict for a target that ignores the terms (Escrow, CrossBorderRouter)."""
    return (getattr(target, "address", target), item_id, score, model, reasons, NO_TERMS)


def reclaim(router, payment_id: int, *, sender):
    """`reclaim(id, terms)` with the payment's terms from its log."""
    return router.reclaim(payment_id, terms_of(router, payment_id), sender=sender)


def fee_of(amount: int, fee_bps: int = FEE_BPS) -> int:
    return amount * fee_bps // 10_000
