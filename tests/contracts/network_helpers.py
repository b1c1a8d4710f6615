"""Signed reports for the RiskOracle tests: build a report over router payments and have nodes
sign their scores, through the same oracle.network.report code the node processes use."""

from __future__ import annotations

from collections.abc import Sequence

from router_helpers import MODEL_ID, REASONS_HASH

from oracle.network.report import Observation, Report, content_hash, ordered, sign_observation


def payment_content(router, payment_id: int) -> bytes:
    p = router.payment(payment_id)
    return content_hash(p.payer, p.payee, p.token, p.amount)


def build_report(
    risk_oracle,
    router,
    ids: Sequence[int],
    *,
    round_: int = 1,
    model: bytes = MODEL_ID,
    digest: bytes | None = None,
    contents: Sequence[bytes] | None = None,
) -> Report:
    ids = tuple(ids)
    return Report(
        config_digest=bytes(digest if digest is not None else risk_oracle.configDigest()),
        target=router.address,
        model_id=model,
        round=round_,
        ids=ids,
        content_hashes=tuple(contents if contents is not None else (payment_content(router, i) for i in ids)),
    )


def observe(
    account, report: Report, scores: int | Sequence[int], *, risk_oracle, chain_id: int
) -> Observation:
    """`account` signs `scores` (one per item, or one for all) for `report`."""
    if isinstance(scores, int):
        scores = [scores] * len(report.ids)
    return sign_observation(
        account.private_key,
        report,
        scores,
        [REASONS_HASH] * len(report.ids),
        chain_id=chain_id,
        oracle=risk_oracle.address,
    )


def transmit(risk_oracle, report: Report, observations: Sequence[Observation], *, sender, sort: bool = True):
    chosen = ordered(observations) if sort else list(observations)
    return risk_oracle.transmit(report.as_tuple(), [o.as_tuple() for o in chosen], sender=sender)
