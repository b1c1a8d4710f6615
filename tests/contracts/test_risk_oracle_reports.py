"""RiskOracle.transmit (issue 17): one signed report from a network of 4 nodes with f = 1 and a
threshold of 3 signatures. Attacks first: replays, foreign or stale configs, too few or duplicate
signers, outsiders, tampered scores, a node signing garbage; then the exactly-once behaviour of a
second transmission, the content check and the DAO's config changes."""

from __future__ import annotations

import ape
import pytest
from network_helpers import build_report, observe, transmit
from router_helpers import (
    ALREADY_FINAL,
    FRAUD_SCORE,
    OTHER_MODEL_ID,
    PENDING,
    SAFE_SCORE,
    SETTLED,
    USD,
    terms_of,
)

from oracle.network.report import config_digest, content_hash

CONTENT_MISMATCH = 4  # IRiskOracle.SkipReason.ContentMismatch
THRESHOLD = 3  # n = 4, f = 1: 2f + 1 = (n + f) // 2 + 1 = 3


@pytest.fixture(scope="module")
def network(roles, accounts, risk_oracle, router, stablecoin, deployer, node, extra_nodes):
    """Four registered nodes (the world's node, the two extra nodes and account 16), threshold 3."""
    members = [node, *extra_nodes, accounts[16]]
    for extra in members[1:]:
        risk_oracle.addNode(extra, sender=deployer)
    risk_oracle.setQuorum(THRESHOLD, sender=deployer)
    return members


@pytest.fixture
def pay_many(router, stablecoin, payer, payee):
    """`count` ERC-20 payments; returns their ids."""

    def pay(count: int) -> list[int]:
        first = router.paymentCount() + 1
        router.payMany([payee] * count, stablecoin, [10 * USD] * count, [b"\x01" * 32] * count, sender=payer)
        return list(range(first, first + count))

    return pay


@pytest.fixture
def sign(risk_oracle, chain):
    def signed(account, report, scores):
        return observe(account, report, scores, risk_oracle=risk_oracle, chain_id=chain.chain_id)

    return signed


def finals(router, risk_oracle, ids) -> list[int]:
    out = []
    for i in ids:
        is_final, score = risk_oracle.finalScore(router, i)
        assert is_final, f"payment {i} has no final verdict"
        out.append(score)
    return out


# --------------------------------------------------------------------------------------------
# attacks
# --------------------------------------------------------------------------------------------


def test_replayed_report_reverts(network, risk_oracle, router, pay_many, sign):
    ids = pay_many(2)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in network[:3]]
    transmit(risk_oracle, report, observations, sender=network[0])
    with ape.reverts(risk_oracle.RiskOracleReportReplayed):
        transmit(risk_oracle, report, observations, sender=network[1])
    assert risk_oracle.isReportTransmitted(report.hash())
    assert bytes(risk_oracle.reportHash(report.as_tuple())) == report.hash()


def test_report_for_an_old_config_reverts(network, risk_oracle, router, pay_many, sign, deployer):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in network[:3]]
    risk_oracle.setQuorum(THRESHOLD, sender=deployer)  # same threshold, still a new config version
    with ape.reverts(risk_oracle.RiskOracleConfigDigestMismatch):
        transmit(risk_oracle, report, observations, sender=network[0])
    assert router.payment(ids[0]).status == PENDING


def test_report_for_another_chain_or_oracle_reverts(network, risk_oracle, router, pay_many, sign, chain):
    ids = pay_many(1)
    version = risk_oracle.configVersion()
    for digest in (
        config_digest(chain.chain_id + 1, risk_oracle.address, version),
        config_digest(chain.chain_id, router.address, version),
    ):
        report = build_report(risk_oracle, router, ids, digest=digest)
        observations = [sign(n, report, SAFE_SCORE) for n in network[:3]]
        with ape.reverts(risk_oracle.RiskOracleConfigDigestMismatch):
            transmit(risk_oracle, report, observations, sender=network[0])


def test_signatures_for_another_domain_do_not_count(network, risk_oracle, router, pay_many, chain):
    """The right digest, but signed for another chain id: the signers recover to strangers."""
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    foreign = [
        observe(n, report, SAFE_SCORE, risk_oracle=risk_oracle, chain_id=chain.chain_id + 1)
        for n in network[:3]
    ]
    with ape.reverts():
        transmit(risk_oracle, report, foreign, sender=network[0])
    assert router.payment(ids[0]).status == PENDING


def test_below_threshold_reverts(network, risk_oracle, router, pay_many, sign):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in network[:2]]
    with ape.reverts(risk_oracle.RiskOracleTooFewSignatures):
        transmit(risk_oracle, report, observations, sender=network[0])


def test_one_node_signing_twice_does_not_reach_the_threshold(network, risk_oracle, router, pay_many, sign):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    low, high = sorted(network[:2], key=lambda n: int(n.address, 16))
    first, last = sign(low, report, SAFE_SCORE), sign(high, report, SAFE_SCORE)
    again = sign(high, report, SAFE_SCORE + 1)  # a second, different observation of the same node
    for observations in ([first, last, first], [first, last, again]):
        with ape.reverts(risk_oracle.RiskOracleSignersNotAscending):
            transmit(risk_oracle, report, observations, sender=network[0], sort=False)


def test_outsider_signature_does_not_count(network, risk_oracle, router, pay_many, sign, outsider):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in (*network[:2], outsider)]
    with ape.reverts(risk_oracle.RiskOracleUnauthorizedSigner):
        transmit(risk_oracle, report, observations, sender=network[0])


def test_outsider_cannot_transmit_a_valid_report(network, risk_oracle, router, pay_many, sign, outsider):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in network[:3]]
    with ape.reverts(risk_oracle.RiskOracleUnauthorizedNode):
        transmit(risk_oracle, report, observations, sender=outsider)


def test_transmitter_cannot_alter_a_signed_score(network, risk_oracle, router, pay_many, sign):
    """A transmitter lowering an honest node's fraud score breaks that node's signature."""
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, FRAUD_SCORE) for n in network[:3]]
    forged = observations[0].__class__(
        observations[0].signer, (0,), observations[0].reasons_hashes, observations[0].signature
    )
    with ape.reverts():
        transmit(risk_oracle, report, [forged, *observations[1:]], sender=network[0])
    assert router.payment(ids[0]).status == PENDING


@pytest.mark.parametrize("garbage", [0, 10_000], ids=["garbage-low", "garbage-high"])
@pytest.mark.parametrize("signers", [3, 4], ids=["3-signatures", "4-signatures"])
def test_garbage_signer_cannot_move_a_score_outside_the_honest_range(
    network, risk_oracle, router, pay_many, sign, garbage, signers
):
    ids = pay_many(3)
    honest = [[1200, 9995, 5000], [1300, 9992, 5100], [1250, 9999, 4900]]
    report = build_report(risk_oracle, router, ids)
    liar, honest_nodes = network[3], network[: signers - 1]
    observations = [sign(n, report, s) for n, s in zip(honest_nodes, honest, strict=False)]
    observations.append(sign(liar, report, garbage))
    transmit(risk_oracle, report, observations, sender=liar)  # the liar may even be the transmitter
    used = honest[: signers - 1]
    for item, score in enumerate(finals(router, risk_oracle, ids)):
        column = [row[item] for row in used]
        assert min(column) <= score <= max(column)


def test_score_out_of_range_reverts(network, risk_oracle, router, pay_many, sign):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in network[:3]]
    observations.append(sign(network[3], report, 10_001))
    with ape.reverts(risk_oracle.RiskOracleScoreOutOfRange):
        transmit(risk_oracle, report, observations, sender=network[0])


def test_unapproved_model_reverts(network, risk_oracle, router, pay_many, sign):
    ids = pay_many(1)
    report = build_report(risk_oracle, router, ids, model=OTHER_MODEL_ID)
    observations = [sign(n, report, SAFE_SCORE) for n in network[:3]]
    with ape.reverts(risk_oracle.RiskOracleModelNotApproved):
        transmit(risk_oracle, report, observations, sender=network[0])


def test_item_whose_terms_differ_is_skipped(network, risk_oracle, router, pay_many, sign, payer, stablecoin):
    """A report signed for other terms (say, a payment re-made differently after a reorg) cannot
    decide the payment that now holds the id; the batch's other items still settle."""
    ids = pay_many(2)
    forged = content_hash(payer.address, payer.address, stablecoin.address, 10 * USD)
    report = build_report(
        risk_oracle,
        router,
        ids,
        contents=[forged, build_report(risk_oracle, router, ids[1:]).content_hashes[0]],
    )
    receipt = transmit(
        risk_oracle, report, [sign(n, report, SAFE_SCORE) for n in network[:3]], sender=network[0]
    )
    assert [(log.id, log.reason) for log in receipt.events.filter(risk_oracle.VerdictSkipped)] == [
        (ids[0], CONTENT_MISMATCH)
    ]
    assert router.payment(ids[0]).status == PENDING
    assert router.payment(ids[1]).status == SETTLED


def test_transmitter_with_other_terms_pays_nothing(
    network, risk_oracle, router, pay_many, sign, outsider, stablecoin
):
    """Issue 16.4: the router keeps only a hash of each payment's terms, so the transmitter sends
    them. Other terms than the signed ones are skipped; terms the signers themselves signed for
    another payee (a colluding quorum, or nodes fed a forged log) are refused by the router: no
    money moves either way, and the other item of the batch settles."""
    ids = pay_many(2)
    real = [terms_of(router, i) for i in ids]
    forged = (real[0][0], outsider.address, real[0][2], real[0][3])
    before = stablecoin.balanceOf(outsider)

    honest = build_report(risk_oracle, router, ids, round_=20)
    signed = [sign(n, honest, SAFE_SCORE) for n in network[:3]]
    receipt = transmit(risk_oracle, honest, signed, sender=network[0], terms=[forged, real[1]])
    assert [(log.id, log.reason) for log in receipt.events.filter(risk_oracle.VerdictSkipped)] == [
        (ids[0], CONTENT_MISMATCH)
    ]

    colluding = build_report(risk_oracle, router, ids[:1], round_=21, contents=[content_hash(*forged)])
    receipt = transmit(
        risk_oracle,
        colluding,
        [sign(n, colluding, SAFE_SCORE) for n in network[:3]],
        sender=network[0],
        terms=[forged],
    )
    assert [(log.id, log.reason) for log in receipt.events.filter(risk_oracle.VerdictSkipped)] == [
        (ids[0], CONTENT_MISMATCH)
    ]
    assert stablecoin.balanceOf(outsider) == before
    assert router.payment(ids[0]).status == PENDING and router.payment(ids[1]).status == SETTLED
    assert risk_oracle.finalScore(router, ids[0]) == (False, 0)


def test_report_with_the_wrong_number_of_terms_reverts(network, risk_oracle, router, pay_many, sign):
    ids = pay_many(2)
    report = build_report(risk_oracle, router, ids)
    signed = [sign(n, report, SAFE_SCORE) for n in network[:3]]
    with ape.reverts(risk_oracle.RiskOracleReportMalformed):
        transmit(risk_oracle, report, signed, sender=network[0], terms=[terms_of(router, ids[0])])


# --------------------------------------------------------------------------------------------
# exactly once, and what a report does
# --------------------------------------------------------------------------------------------


def test_second_transmission_of_the_same_items_is_harmless(network, risk_oracle, router, pay_many, sign):
    """Two transmitters (a slow one and its replacement) report the same payments in different
    rounds: each payment is decided once, the second report only skips."""
    ids = pay_many(3)
    first = build_report(risk_oracle, router, ids, round_=10)
    receipt = transmit(
        risk_oracle, first, [sign(n, first, SAFE_SCORE) for n in network[:3]], sender=network[0]
    )
    assert len(router.PaymentSettled.from_receipt(receipt)) == 3
    second = build_report(risk_oracle, router, ids, round_=11)
    receipt = transmit(
        risk_oracle, second, [sign(n, second, FRAUD_SCORE) for n in network[1:]], sender=network[1]
    )
    assert not router.PaymentSettled.from_receipt(receipt) and not router.PaymentRefunded.from_receipt(
        receipt
    )
    assert {log.reason for log in receipt.events.filter(risk_oracle.VerdictSkipped)} == {ALREADY_FINAL}
    assert finals(router, risk_oracle, ids) == [SAFE_SCORE] * 3


def test_report_settles_with_the_middle_score_and_names_its_signers(
    network, risk_oracle, router, pay_many, sign
):
    ids = pay_many(2)
    report = build_report(risk_oracle, router, ids, round_=42)
    observations = [sign(n, report, s) for n, s in zip(network, (100, 300, 200, 9999), strict=True)]
    receipt = transmit(risk_oracle, report, observations, sender=network[2])
    # four signatures, sorted 100 200 300 9999: the higher middle is 300
    assert finals(router, risk_oracle, ids) == [300, 300]
    [event] = receipt.events.filter(risk_oracle.ReportTransmitted)
    assert event.round == 42 and event.transmitter == network[2].address
    assert sorted(event.signers) == sorted(n.address for n in network)
    assert [log.votes for log in receipt.events.filter(risk_oracle.VerdictFinalized)] == [4, 4]


def test_node_set_changes_bump_the_config(network, risk_oracle, deployer, accounts):
    version, digest = risk_oracle.configVersion(), bytes(risk_oracle.configDigest())
    risk_oracle.addNode(accounts[15], sender=deployer)
    assert risk_oracle.configVersion() == version + 1
    assert bytes(risk_oracle.configDigest()) != digest
    risk_oracle.removeNode(accounts[15], sender=deployer)
    assert risk_oracle.configVersion() == version + 2


def test_removed_node_signature_no_longer_counts(network, risk_oracle, router, pay_many, sign, deployer):
    ids = pay_many(1)
    risk_oracle.removeNode(network[3], sender=deployer)
    report = build_report(risk_oracle, router, ids)
    observations = [sign(n, report, SAFE_SCORE) for n in network[1:]]
    with ape.reverts(risk_oracle.RiskOracleUnauthorizedSigner):
        transmit(risk_oracle, report, observations, sender=network[0])
