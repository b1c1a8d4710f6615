"""Signed reports for the RiskOracle tests: build a report over router payments and have nodes
sign their scores, through the same oracle.network.report code the node processes use."""

from __future__ import annotations

from collections.abc import Sequence

from router_helpers import MODEL_ID, REASONS_HASH, terms_of

from oracle.network.report import Observation, Report, content_hash, ordered, sign_observation


def payment_content(router, payment_id: int) -> bytes:
    return content_hash(*terms_of(router, payment_id))


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


def transmit(
    risk_oracle,
    report: Report,
    observations: Sequence[Observation],
    *,
    sender,
    sort: bool = True,
    terms: Sequence[tuple] | None = None,
):
    """`transmit(report, observations, terms)`, the terms of each router payment read from its log
    unless given."""
    chosen = ordered(observations) if sort else list(observations)
    if terms is None:
        terms = [terms_of(report.target, i) for i in report.ids]
    return risk_oracle.transmit(report.as_tuple(), [o.as_tuple() for o in chosen], list(terms), sender=sender)
