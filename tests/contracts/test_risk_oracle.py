"""RiskOracle: who may post, what counts, skips without side effects, quorum and median,
node removal, and the administration of nodes, models and targets."""

from __future__ import annotations

import ape
import pytest
from router_helpers import (
    ALREADY_FINAL,
    DEADLINE_WINDOW,
    DUPLICATE_VOTE,
    ETH,
    ETHER,
    FRAUD_SCORE,
    HELD,
    MODEL_ID,
    NO_TERMS,
    OTHER_MODEL_ID,
    PENDING,
    REASONS_HASH,
    REFUNDED,
    REVIEW_SCORE,
    SAFE_SCORE,
    SETTLED,
    SKIP_EXPIRED,
    UNKNOWN_ITEM,
    batches,
    fee_of,
    submit,
    terms_of,
    verdict,
)


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router):
    """Deploys everything module-scoped before any test snapshot (cheap isolation)."""


def status_of(router, payment_id: int) -> int:
    return router.payment(payment_id).status


def skips(receipt, risk_oracle) -> list[tuple[int, int]]:
    return [(log.id, log.reason) for log in receipt.events.filter(risk_oracle.VerdictSkipped)]


# --------------------------------------------------------------------------------------------
# who may post, what is valid
# --------------------------------------------------------------------------------------------


def test_non_node_sender_reverts(risk_oracle, router, make_payment, outsider):
    make_payment()
    with ape.reverts(risk_oracle.RiskOracleUnauthorizedNode, sender=outsider.address):
        submit(risk_oracle, [verdict(router, 1, SAFE_SCORE)], sender=outsider)


def test_empty_batch_reverts(risk_oracle, node):
    with ape.reverts(risk_oracle.RiskOracleEmptyBatch):
        submit(risk_oracle, [], sender=node)


def test_empty_group_reverts(risk_oracle, router, make_payment, node):
    """A group (one target, one model) with no verdicts is malformed, even beside a good one."""
    make_payment()
    good = (router.address, MODEL_ID, [(1, SAFE_SCORE, REASONS_HASH, terms_of(router, 1))])
    with ape.reverts(risk_oracle.RiskOracleEmptyBatch):
        risk_oracle.submitVerdicts([good, (router.address, MODEL_ID, [])], sender=node)


def test_groups_of_one_batch_are_checked_each(risk_oracle, router, make_payment, node, outsider):
    """Target and model are checked once per group: a second group's unknown target reverts the
    whole batch, and a batch of two groups for the same target settles both."""
    make_payment()
    make_payment()
    first, second = verdict(router, 1, SAFE_SCORE), verdict(router, 2, SAFE_SCORE)
    stray = (outsider.address, 1, SAFE_SCORE, MODEL_ID, REASONS_HASH, NO_TERMS)
    with ape.reverts(risk_oracle.RiskOracleUnknownTarget, target=outsider.address):
        submit(risk_oracle, [first, stray], sender=node)
    risk_oracle.submitVerdicts(batches([first]) + batches([second]), sender=node)
    assert status_of(router, 1) == status_of(router, 2) == SETTLED


def test_unapproved_model_reverts_whole_batch(risk_oracle, router, make_payment, post):
    make_payment()
    make_payment()
    batch = [verdict(router, 1, SAFE_SCORE), verdict(router, 2, SAFE_SCORE, model=OTHER_MODEL_ID)]
    with ape.reverts(risk_oracle.RiskOracleModelNotApproved, modelId=OTHER_MODEL_ID):
        submit(risk_oracle, batch, sender=risk_oracle.nodes()[0])
    assert status_of(router, 1) == PENDING


def test_revoked_model_no_longer_counts(risk_oracle, make_payment, post, deployer):
    make_payment()
    receipt = risk_oracle.revokeModel(MODEL_ID, sender=deployer)
    assert receipt.events == [risk_oracle.ModelRevoked(modelId=MODEL_ID)]
    with ape.reverts(risk_oracle.RiskOracleModelNotApproved):
        post(1, SAFE_SCORE)


def test_score_above_10000_reverts(risk_oracle, make_payment, post):
    make_payment()
    with ape.reverts(risk_oracle.RiskOracleScoreOutOfRange, id=1, score=10_001):
        post(1, 10_001)


def test_unregistered_target_reverts(risk_oracle, node, outsider):
    item = (outsider.address, 1, SAFE_SCORE, MODEL_ID, REASONS_HASH, NO_TERMS)
    with ape.reverts(risk_oracle.RiskOracleUnknownTarget, target=outsider.address):
        submit(risk_oracle, [item], sender=node)


# --------------------------------------------------------------------------------------------
# quorum 1: the fast path
# --------------------------------------------------------------------------------------------


def test_verdict_posted_finalized_and_applied(risk_oracle, router, make_payment, post, node):
    make_payment()
    receipt = post(1, SAFE_SCORE)

    assert receipt.events.filter(risk_oracle.VerdictPosted) == [
        risk_oracle.VerdictPosted(
            target=router, id=1, node=node, score=SAFE_SCORE, modelId=MODEL_ID, reasonsHash=REASONS_HASH
        )
    ]
    # quorum 1: the one vote is final; no VerdictFinalized repeats it (issue 16.4)
    assert receipt.events.filter(risk_oracle.VerdictFinalized) == []
    assert risk_oracle.finalScore(router, 1) == (True, SAFE_SCORE)
    assert risk_oracle.voteCount(router, 1) == 1
    assert not risk_oracle.hasVoted(router, 1, node)  # quorum 1 stores no per-node vote
    assert status_of(router, 1) == SETTLED


def test_batch_applies_each_outcome(router, make_payment, risk_oracle, node):
    for _ in range(3):
        make_payment()
    batch = [
        verdict(router, 1, SAFE_SCORE),
        verdict(router, 2, REVIEW_SCORE),
        verdict(router, 3, FRAUD_SCORE),
    ]
    submit(risk_oracle, batch, sender=node)
    assert [status_of(router, i) for i in (1, 2, 3)] == [SETTLED, HELD, REFUNDED]
    assert [risk_oracle.finalScore(router, i)[1] for i in (1, 2, 3)] == [
        SAFE_SCORE,
        REVIEW_SCORE,
        FRAUD_SCORE,
    ]


def test_unknown_item_is_skipped_and_rest_of_batch_applies(risk_oracle, router, make_payment, post):
    make_payment()
    receipt = post([99, 1], SAFE_SCORE)

    assert skips(receipt, risk_oracle) == [(99, UNKNOWN_ITEM)]
    assert status_of(router, 1) == SETTLED
    assert risk_oracle.finalScore(router, 99) == (False, 0)


def test_late_verdict_is_skipped_as_expired(risk_oracle, router, make_payment, post, chain):
    make_payment()
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    receipt = post(1, SAFE_SCORE)
    assert skips(receipt, risk_oracle) == [(1, SKIP_EXPIRED)]
    assert status_of(router, 1) == PENDING
    assert receipt.events.filter(risk_oracle.VerdictPosted) == []


def test_retried_batch_is_all_skips_and_pays_nobody_twice(risk_oracle, router, make_payment, post, payee):
    ids = [make_payment(ETHER) for _ in range(4)]
    post(ids, SAFE_SCORE)
    balance_after_first = payee.balance
    fees_after_first = router.feesAccrued(ETH)

    receipt = post(ids, SAFE_SCORE)

    assert skips(receipt, risk_oracle) == [(i, ALREADY_FINAL) for i in ids]
    assert receipt.events.filter(router.PaymentSettled) == []
    assert payee.balance == balance_after_first
    assert router.feesAccrued(ETH) == fees_after_first == 4 * fee_of(ETHER)


def test_second_verdict_on_held_payment_is_skipped(risk_oracle, router, make_payment, post):
    make_payment()
    post(1, REVIEW_SCORE)
    receipt = post(1, SAFE_SCORE)
    assert skips(receipt, risk_oracle) == [(1, ALREADY_FINAL)]
    assert status_of(router, 1) == HELD
    assert risk_oracle.finalScore(router, 1) == (True, REVIEW_SCORE)


def test_same_id_twice_in_one_batch_applies_once(risk_oracle, router, make_payment, post, payee):
    make_payment(ETHER)
    before = payee.balance
    receipt = post([1, 1], SAFE_SCORE)
    assert skips(receipt, risk_oracle) == [(1, ALREADY_FINAL)]
    assert payee.balance == before + ETHER - fee_of(ETHER)


# --------------------------------------------------------------------------------------------
# quorum k > 1
# --------------------------------------------------------------------------------------------


def test_quorum_of_three_settles_on_median_ignoring_outlier(
    risk_oracle, router, make_payment, post, quorum_nodes
):
    make_payment()
    first, second, third = quorum_nodes
    post(1, 1000, sender=first)
    post(1, 9900, sender=second)  # the outlier would refund on its own
    assert status_of(router, 1) == PENDING
    assert risk_oracle.voteCount(router, 1) == 2
    assert risk_oracle.finalScore(router, 1) == (False, 0)

    receipt = post(1, 1500, sender=third)

    assert receipt.events.filter(risk_oracle.VerdictFinalized) == [
        risk_oracle.VerdictFinalized(target=router, id=1, score=1500, votes=3)
    ]
    assert status_of(router, 1) == SETTLED
    assert router.paymentScore(1) == 1500
    assert risk_oracle.finalScore(router, 1) == (True, 1500)
    assert all(risk_oracle.hasVoted(router, 1, n) for n in quorum_nodes)


def test_even_quorum_cannot_settle_what_half_rejects(
    risk_oracle, router, make_payment, post, quorum_nodes, deployer
):
    """Issue 13.5: with quorum 2, one node scoring a fraud 0 must not settle what the other
    rejects. An even count takes the higher middle (fail safe), so the payment is refunded."""
    risk_oracle.setQuorum(2, sender=deployer)
    make_payment()
    post(1, FRAUD_SCORE, sender=quorum_nodes[0])
    post(1, 0, sender=quorum_nodes[1])
    assert risk_oracle.finalScore(router, 1) == (True, FRAUD_SCORE)
    assert status_of(router, 1) == REFUNDED


def test_even_quorum_of_four_takes_the_higher_middle(
    risk_oracle, router, make_payment, post, quorum_nodes, extra_nodes, deployer, accounts
):
    fourth = accounts[19]
    risk_oracle.addNode(fourth, sender=deployer)
    risk_oracle.setQuorum(4, sender=deployer)
    make_payment()
    for sender, score in zip([*quorum_nodes, fourth], [0, 0, REVIEW_SCORE, FRAUD_SCORE], strict=True):
        post(1, score, sender=sender)
    assert risk_oracle.finalScore(router, 1) == (True, REVIEW_SCORE)
    assert status_of(router, 1) == HELD


def test_repeat_vote_by_same_node_is_skipped_as_duplicate(
    risk_oracle, router, make_payment, post, quorum_nodes
):
    make_payment()
    post(1, 1000, sender=quorum_nodes[0])
    receipt = post(1, 9000, sender=quorum_nodes[0])
    assert skips(receipt, risk_oracle) == [(1, DUPLICATE_VOTE)]
    assert risk_oracle.voteCount(router, 1) == 1


def test_quorum_vote_after_final_is_skipped(risk_oracle, make_payment, post, quorum_nodes, deployer):
    risk_oracle.setQuorum(2, sender=deployer)
    make_payment()
    post(1, SAFE_SCORE, sender=quorum_nodes[0])
    post(1, SAFE_SCORE, sender=quorum_nodes[1])
    receipt = post(1, SAFE_SCORE, sender=quorum_nodes[2])
    assert skips(receipt, risk_oracle) == [(1, ALREADY_FINAL)]


def test_quorum_votes_in_one_batch_per_node_cover_many_ids(
    risk_oracle, router, make_payment, post, quorum_nodes
):
    ids = [make_payment() for _ in range(5)]
    for n in quorum_nodes:
        post(ids, SAFE_SCORE, sender=n)
    assert [status_of(router, i) for i in ids] == [SETTLED] * 5


def test_removed_node_vote_no_longer_counts(risk_oracle, router, make_payment, post, quorum_nodes, deployer):
    risk_oracle.setQuorum(2, sender=deployer)
    make_payment()
    first, second, third = quorum_nodes
    post(1, FRAUD_SCORE, sender=first)
    risk_oracle.removeNode(first, sender=deployer)

    post(1, SAFE_SCORE, sender=second)  # the running count hits 2, but only one vote still counts
    assert status_of(router, 1) == PENDING
    assert risk_oracle.voteCount(router, 1) == 1

    post(1, 2000, sender=third)
    assert risk_oracle.finalScore(router, 1) == (True, 2000)  # higher middle of 1200 and 2000
    assert status_of(router, 1) == SETTLED


def test_late_quorum_vote_is_skipped_as_expired(risk_oracle, make_payment, post, quorum_nodes, chain):
    make_payment()
    post(1, SAFE_SCORE, sender=quorum_nodes[0])
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    receipt = post(1, SAFE_SCORE, sender=quorum_nodes[1])
    assert skips(receipt, risk_oracle) == [(1, SKIP_EXPIRED)]


def test_target_refusing_the_final_verdict_leaves_nothing_final(project, risk_oracle, deployer, quorum_nodes):
    gate = deployer.deploy(project.DisagreeingGate)
    risk_oracle.addTarget(gate, sender=deployer)
    risk_oracle.setQuorum(2, sender=deployer)
    item = (gate.address, 5, SAFE_SCORE, MODEL_ID, REASONS_HASH, NO_TERMS)

    submit(risk_oracle, [item], sender=quorum_nodes[0])
    receipt = submit(risk_oracle, [item], sender=quorum_nodes[1])

    assert receipt.events.filter(risk_oracle.VerdictFinalized) == []
    assert skips(receipt, risk_oracle) == [(5, ALREADY_FINAL)]
    assert risk_oracle.finalScore(gate, 5) == (False, 0)

    risk_oracle.setQuorum(1, sender=deployer)
    receipt = submit(risk_oracle, [item], sender=quorum_nodes[2])
    assert skips(receipt, risk_oracle) == [(5, ALREADY_FINAL)]
    assert risk_oracle.finalScore(gate, 5) == (False, 0)


# --------------------------------------------------------------------------------------------
# administration
# --------------------------------------------------------------------------------------------


def test_add_and_remove_node(risk_oracle, deployer, node, outsider):
    receipt = risk_oracle.addNode(outsider, sender=deployer)
    version = risk_oracle.configVersion()  # a node-set change is a new config (signed reports)
    assert receipt.events == [
        risk_oracle.NodeAdded(node=outsider),
        risk_oracle.ConfigChanged(version=version, configDigest=risk_oracle.configDigest()),
    ]
    assert risk_oracle.isNode(outsider)
    assert set(risk_oracle.nodes()) == {node.address, outsider.address}

    receipt = risk_oracle.removeNode(outsider, sender=deployer)
    assert receipt.events == [
        risk_oracle.NodeRemoved(node=outsider),
        risk_oracle.ConfigChanged(version=version + 1, configDigest=risk_oracle.configDigest()),
    ]
    assert not risk_oracle.isNode(outsider)


def test_add_node_rejects_zero_and_duplicate(risk_oracle, deployer, node):
    with ape.reverts(risk_oracle.RiskOracleZeroAddress):
        risk_oracle.addNode(ETH, sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleNodeExists, node=node.address):
        risk_oracle.addNode(node, sender=deployer)


def test_remove_unknown_node_reverts(risk_oracle, deployer, outsider):
    with ape.reverts(risk_oracle.RiskOracleNodeMissing, node=outsider.address):
        risk_oracle.removeNode(outsider, sender=deployer)


def test_remove_node_cannot_break_quorum(risk_oracle, deployer, quorum_nodes):
    with ape.reverts(risk_oracle.RiskOracleInvalidQuorum, quorum=3, nodes=2):
        risk_oracle.removeNode(quorum_nodes[0], sender=deployer)


@pytest.mark.parametrize("new_quorum", [0, 2])
def test_set_quorum_must_be_between_one_and_node_count(risk_oracle, deployer, new_quorum):
    with ape.reverts(risk_oracle.RiskOracleInvalidQuorum, quorum=new_quorum, nodes=1):
        risk_oracle.setQuorum(new_quorum, sender=deployer)


def test_set_quorum_emits_change(risk_oracle, deployer, extra_nodes):
    risk_oracle.addNode(extra_nodes[0], sender=deployer)
    receipt = risk_oracle.setQuorum(2, sender=deployer)
    version, digest = risk_oracle.configVersion(), risk_oracle.configDigest()
    assert receipt.events == [
        risk_oracle.QuorumChanged(oldQuorum=1, newQuorum=2),
        risk_oracle.ConfigChanged(version=version, configDigest=digest),
    ]
    assert risk_oracle.quorum() == 2


def test_approve_model_and_targets(risk_oracle, deployer, outsider):
    receipt = risk_oracle.approveModel(OTHER_MODEL_ID, sender=deployer)
    assert receipt.events == [risk_oracle.ModelApproved(modelId=OTHER_MODEL_ID)]
    assert risk_oracle.isModelApproved(OTHER_MODEL_ID)

    receipt = risk_oracle.addTarget(outsider, sender=deployer)
    assert receipt.events == [risk_oracle.TargetAdded(target=outsider)]
    assert risk_oracle.isTarget(outsider)
    receipt = risk_oracle.removeTarget(outsider, sender=deployer)
    assert receipt.events == [risk_oracle.TargetRemoved(target=outsider)]
    assert not risk_oracle.isTarget(outsider)
    with ape.reverts(risk_oracle.RiskOracleZeroAddress):
        risk_oracle.addTarget(ETH, sender=deployer)


def test_removed_target_rejects_verdicts(risk_oracle, router, make_payment, post, deployer):
    make_payment()
    risk_oracle.removeTarget(router, sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleUnknownTarget, target=router.address):
        post(1, SAFE_SCORE)


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("addNode", (ETH,)),
        ("removeNode", (ETH,)),
        ("setQuorum", (1,)),
        ("approveModel", (MODEL_ID,)),
        ("revokeModel", (MODEL_ID,)),
        ("addTarget", (ETH,)),
        ("removeTarget", (ETH,)),
    ],
)
def test_administration_is_admin_only(risk_oracle, outsider, method, args):
    with ape.reverts(risk_oracle.AccessControlUnauthorizedAccount, account=outsider.address):
        getattr(risk_oracle, method)(*args, sender=outsider)
