"""Notes of the outside audit (issue 13) decided on the PaymentRouter, each as a test named after
what it prevents. docs/security.md gives each decision."""

from __future__ import annotations

import ape
import pytest
from router_helpers import (
    ETHER,
    FEE_BPS,
    HELD,
    PENDING,
    REFUNDED,
    REVIEW_SCORE,
    REVIEW_WINDOW,
    SAFE_SCORE,
    SETTLED,
    USD,
    reclaim,
)


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


def test_fee_raised_after_pay_does_not_apply_to_the_payment(router, stablecoin, post, payer, payee, deployer):
    """Paid at 30 bps, the DAO raises the fee to 1,000 bps before the verdict: the payment still
    settles at the 30 bps it was quoted; a payment made after the change pays the new fee."""
    amount = 1_000 * USD
    router.pay(payee, stablecoin, amount, b"\x01" * 32, sender=payer)
    router.setFeeBps(1000, sender=deployer)
    router.pay(payee, stablecoin, amount, b"\x02" * 32, sender=payer)
    assert (router.paymentFeeBps(1), router.paymentFeeBps(2)) == (FEE_BPS, 1000)

    receipt = post([1, 2], SAFE_SCORE)

    fees = [event.fee for event in receipt.events.filter(router.PaymentSettled)]
    assert fees == [amount * FEE_BPS // 10_000, amount * 1000 // 10_000]


def test_fee_raised_while_held_does_not_apply_to_the_approval(
    router, stablecoin, post, payer, payee, reviewer, deployer
):
    amount = 1_000 * USD
    router.pay(payee, stablecoin, amount, b"\x01" * 32, sender=payer)
    post(1, REVIEW_SCORE)
    router.setFeeBps(1000, sender=deployer)
    before = stablecoin.balanceOf(payee)

    router.review(1, True, sender=reviewer)

    assert stablecoin.balanceOf(payee) - before == amount - amount * FEE_BPS // 10_000


def test_late_review_cannot_race_the_payers_reclaim(router, make_payment, post, reviewer, outsider, chain):
    """After deadline + review window the payer's reclaim is open; a reviewer's late approval
    must not be able to settle the payment in the same block."""
    make_payment()
    post(1, REVIEW_SCORE)
    deadline = router.payment(1).deadline
    chain.mine(timestamp=deadline + REVIEW_WINDOW + 1)

    with ape.reverts(router.PaymentRouterReviewWindowPassed, id=1, reviewDeadline=deadline + REVIEW_WINDOW):
        router.review(1, True, sender=reviewer)
    with ape.reverts(router.PaymentRouterReviewWindowPassed):
        router.review(1, False, sender=reviewer)
    assert router.payment(1).status == HELD

    reclaim(router, 1, sender=outsider)
    assert router.payment(1).status == REFUNDED


def test_review_at_the_last_second_of_the_window_still_decides(
    router, make_payment, post, reviewer, outsider, chain
):
    make_payment(ETHER)
    post(1, REVIEW_SCORE)
    last = router.payment(1).deadline + REVIEW_WINDOW
    chain.pending_timestamp = last
    with ape.reverts(router.PaymentRouterNotReclaimable):
        reclaim(router, 1, sender=outsider)
    chain.pending_timestamp = last
    router.review(1, True, sender=reviewer)
    assert router.payment(1).status == SETTLED


def test_removed_node_readded_cannot_revive_its_old_votes(
    risk_oracle, router, make_payment, post, quorum_nodes, deployer
):
    """A node votes FRAUD, is removed, and governance re-adds the address: its old vote would count
    again. A removed address is retired instead; the operator rejoins with a fresh key."""
    risk_oracle.setQuorum(2, sender=deployer)
    make_payment()
    first, second, _ = quorum_nodes
    post(1, REVIEW_SCORE, sender=first)
    risk_oracle.removeNode(first, sender=deployer)

    with ape.reverts(risk_oracle.RiskOracleNodeRetired, node=first):
        risk_oracle.addNode(first, sender=deployer)

    post(1, SAFE_SCORE, sender=second)
    assert risk_oracle.voteCount(router, 1) == 1
    assert router.payment(1).status == PENDING  # the retired vote does not count
