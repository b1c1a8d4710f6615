"""Bad calls to PaymentRouter and RiskOracle: zero and overflowing amounts, unknown ids, wrong
roles and replayed verdicts each end in a named custom error (or, for a replayed verdict, a
VerdictSkipped event) and change nothing. The unit tests cover the common cases one by one; this
file sweeps the edges that they leave out."""

from __future__ import annotations

import ape
import pytest
from router_helpers import (
    ETH,
    ETHER,
    MODEL_ID,
    NO_TERMS,
    OTHER_MODEL_ID,
    PENDING,
    REF,
    SETTLED,
    USD,
    reclaim,
    submit,
    terms_of,
    verdict,
)

UINT96_MAX = 2**96 - 1
UINT256_MAX = 2**256 - 1


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, UINT96_MAX + 1, UINT256_MAX])
def test_pay_rejects_zero_and_overflowing_token_amounts(router, stablecoin, payer, payee, amount):
    error = router.PaymentRouterZeroAmount if amount == 0 else router.PaymentRouterAmountTooLarge
    with ape.reverts(error):
        router.pay(payee, stablecoin, amount, REF, sender=payer)
    assert router.paymentCount() == 0


def test_pay_many_rejects_a_zero_or_overflowing_item_anywhere_in_the_batch(
    router, stablecoin, payer, payee, outsider
):
    payees = [payee, outsider, payee]
    with ape.reverts(router.PaymentRouterZeroAmount):
        router.payMany(payees, stablecoin, [USD, USD, 0], [REF] * 3, sender=payer)
    with ape.reverts(router.PaymentRouterAmountTooLarge):
        router.payMany(payees, stablecoin, [USD, UINT96_MAX + 1, USD], [REF] * 3, sender=payer)
    assert router.paymentCount() == 0


def test_pay_many_rejects_empty_and_ragged_batches(router, stablecoin, payer, payee):
    with ape.reverts(router.PaymentRouterLengthMismatch):
        router.payMany([], stablecoin, [], [], sender=payer)
    with ape.reverts(router.PaymentRouterLengthMismatch):
        router.payMany([payee, payee], stablecoin, [USD], [REF, REF], sender=payer)
    with ape.reverts(router.PaymentRouterLengthMismatch):
        router.payMany([payee], stablecoin, [USD], [REF, REF], sender=payer)


def test_pay_many_in_eth_needs_exactly_the_sum_as_value(router, payer, payee, outsider):
    with ape.reverts(router.PaymentRouterValueMismatch, expected=3 * ETHER, sent=3 * ETHER - 1):
        router.payMany(
            [payee, outsider], ETH, [ETHER, 2 * ETHER], [REF, REF], sender=payer, value=3 * ETHER - 1
        )
    with ape.reverts(router.PaymentRouterValueMismatch, expected=3 * ETHER, sent=3 * ETHER + 1):
        router.payMany(
            [payee, outsider], ETH, [ETHER, 2 * ETHER], [REF, REF], sender=payer, value=3 * ETHER + 1
        )


def test_pay_rejects_value_with_a_token_and_a_token_that_is_not_a_contract(
    router, stablecoin, payer, payee, outsider
):
    with ape.reverts(router.PaymentRouterUnexpectedValue):
        router.pay(payee, stablecoin, USD, REF, sender=payer, value=1)
    with ape.reverts(router.PaymentRouterNotAToken, token=outsider.address):
        router.pay(payee, outsider, USD, REF, sender=payer)


def test_pay_rejects_the_zero_payee_and_paying_oneself(router, payer):
    with ape.reverts(router.PaymentRouterZeroPayee):
        router.pay(ETH, ETH, ETHER, REF, sender=payer, value=ETHER)
    with ape.reverts(router.PaymentRouterSelfPayment):
        router.pay(payer, ETH, ETHER, REF, sender=payer, value=ETHER)


# --- unknown ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("payment_id", [0, 1, 2**64, UINT256_MAX])
def test_review_and_reclaim_of_unknown_ids_name_the_id(router, reviewer, outsider, payment_id):
    with ape.reverts(router.PaymentRouterUnknownPayment, id=payment_id):
        router.review(payment_id, True, sender=reviewer)
    with ape.reverts(router.PaymentRouterUnknownPayment, id=payment_id):
        reclaim(router, payment_id, sender=outsider)


def test_verdict_for_an_unknown_id_is_skipped_without_side_effects(router, risk_oracle, node):
    receipt = submit(risk_oracle, [verdict(router, 42, 0), verdict(router, UINT256_MAX, 0)], sender=node)
    skipped = risk_oracle.VerdictSkipped.from_receipt(receipt)
    assert [int(log.id) for log in skipped] == [42, UINT256_MAX]
    assert not risk_oracle.VerdictFinalized.from_receipt(receipt)
    assert risk_oracle.voteCount(router, 42) == 0


def test_withdraw_and_sweep_with_nothing_owed(router, outsider):
    with ape.reverts(router.PaymentRouterNothingToWithdraw):
        router.withdraw(ETH, sender=outsider)
    with ape.reverts(router.PaymentRouterNothingToWithdraw):
        router.sweepFees(ETH, sender=outsider)


# --- the oracle's inputs ---------------------------------------------------------------------


def test_submit_verdicts_rejects_empty_batches_bad_scores_models_and_targets(
    router, risk_oracle, node, payer, payee, outsider
):
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    with ape.reverts(risk_oracle.RiskOracleEmptyBatch):
        submit(risk_oracle, [], sender=node)
    with ape.reverts(risk_oracle.RiskOracleScoreOutOfRange, id=1, score=10_001):
        submit(risk_oracle, [verdict(router, 1, 10_001)], sender=node)
    with ape.reverts(risk_oracle.RiskOracleScoreOutOfRange, id=1, score=65_535):
        submit(risk_oracle, [verdict(router, 1, 0), verdict(router, 1, 65_535)], sender=node)
    with ape.reverts(risk_oracle.RiskOracleModelNotApproved, modelId=OTHER_MODEL_ID):
        submit(risk_oracle, [verdict(router, 1, 0, model=OTHER_MODEL_ID)], sender=node)
    with ape.reverts(risk_oracle.RiskOracleUnknownTarget, target=outsider.address):
        submit(risk_oracle, [(outsider.address, 1, 0, MODEL_ID, b"\x00" * 32, NO_TERMS)], sender=node)
    assert router.payment(1).status == PENDING  # a reverted batch decided nothing


def test_replayed_verdict_is_skipped_and_moves_nothing(router, risk_oracle, node, payer, payee):
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    submit(risk_oracle, [verdict(router, 1, 0)], sender=node)
    assert router.payment(1).status == SETTLED
    balance = router.balance

    replay = submit(risk_oracle, [verdict(router, 1, 0), verdict(router, 1, 9_999)], sender=node)

    assert len(risk_oracle.VerdictSkipped.from_receipt(replay)) == 2
    assert not router.PaymentSettled.from_receipt(replay) and not router.PaymentRefunded.from_receipt(replay)
    assert router.balance == balance and router.paymentScore(1) == 0


# --- roles -----------------------------------------------------------------------------------


def test_outsiders_hold_no_role(router, risk_oracle, outsider, payer, payee, node):
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    with ape.reverts(router.PaymentRouterOnlyOracle, caller=outsider.address):
        router.applyVerdict(1, 0, terms_of(router, 1), sender=outsider)
    with ape.reverts(
        router.PaymentRouterOnlyOracle, caller=node.address
    ):  # a node, but not through the oracle
        router.applyVerdict(1, 0, terms_of(router, 1), sender=node)
    with ape.reverts(risk_oracle.RiskOracleUnauthorizedNode, sender=outsider.address):
        submit(risk_oracle, [verdict(router, 1, 0)], sender=outsider)
    admin = router.DEFAULT_ADMIN_ROLE()
    for contract, call in (
        (router, lambda: router.setFeeBps(0, sender=outsider)),
        (router, lambda: router.setThresholds(1, 2, sender=outsider)),
        (router, lambda: router.setOracle(outsider, sender=outsider)),
        (router, lambda: router.setTreasury(outsider, sender=outsider)),
        (router, lambda: router.setBlocked(payer, True, sender=outsider)),
        (router, lambda: router.unpause(sender=outsider)),
        (router, lambda: router.grantRole(admin, outsider, sender=outsider)),
        (risk_oracle, lambda: risk_oracle.addNode(outsider, sender=outsider)),
        (risk_oracle, lambda: risk_oracle.setQuorum(1, sender=outsider)),
        (risk_oracle, lambda: risk_oracle.approveModel(OTHER_MODEL_ID, sender=outsider)),
        (risk_oracle, lambda: risk_oracle.addTarget(outsider, sender=outsider)),
    ):
        unauthorized = contract.AccessControlUnauthorizedAccount
        with ape.reverts(unauthorized, account=outsider.address, neededRole=admin):
            call()
    with ape.reverts(
        router.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=router.GUARDIAN_ROLE()
    ):
        router.pause(sender=outsider)
    with ape.reverts(
        router.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=router.REVIEWER_ROLE()
    ):
        router.review(1, True, sender=outsider)
    assert router.payment(1).status == PENDING


def test_guardian_may_pause_but_not_unpause_or_set_policy(router, guardian):
    router.pause(sender=guardian)
    with ape.reverts(router.AccessControlUnauthorizedAccount):
        router.unpause(sender=guardian)
    with ape.reverts(router.AccessControlUnauthorizedAccount):
        router.setFeeBps(0, sender=guardian)


def test_reviewer_cannot_review_what_no_verdict_held(router, reviewer, payer, payee):
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    with ape.reverts(router.PaymentRouterNotHeld, id=1):
        router.review(1, True, sender=reviewer)


# --- node set limits -------------------------------------------------------------------------


def test_node_set_limits(risk_oracle, deployer, node, outsider):
    with ape.reverts(risk_oracle.RiskOracleNodeExists, node=node.address):
        risk_oracle.addNode(node, sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleNodeMissing, node=outsider.address):
        risk_oracle.removeNode(outsider, sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleZeroAddress):
        risk_oracle.addNode(ETH, sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleInvalidQuorum):
        risk_oracle.setQuorum(0, sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleInvalidQuorum):
        risk_oracle.setQuorum(2, sender=deployer)  # one node only


def test_node_set_is_capped(risk_oracle, deployer):
    room = risk_oracle.MAX_NODES() - len(risk_oracle.nodes())
    for i in range(room):
        risk_oracle.addNode(f"0x{i + 1:040x}", sender=deployer)
    with ape.reverts(risk_oracle.RiskOracleTooManyNodes, max=risk_oracle.MAX_NODES()):
        risk_oracle.addNode("0x" + "ee" * 20, sender=deployer)
