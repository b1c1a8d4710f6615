"""PaymentRouter: paying, the risk gate's three outcomes, review, reclaim, pause, blocklist,
policy, and payouts that fail or re-enter without blocking anyone else."""

from __future__ import annotations

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from router_helpers import (
    AWAITING,
    DEADLINE_WINDOW,
    DECIDED,
    ETH,
    ETHER,
    EXPIRED,
    FEE_BPS,
    FRAUD_SCORE,
    HELD,
    PENDING,
    REF,
    REFUNDED,
    REJECT_THRESHOLD,
    REVIEW_SCORE,
    REVIEW_THRESHOLD,
    REVIEW_WINDOW,
    SAFE_SCORE,
    SETTLED,
    UNKNOWN,
    USD,
    fee_of,
    reclaim,
    submit,
    terms_of,
    verdict,
)

from oracle.network.report import content_hash
from verdict_deploy.suite import list_token

REENTRANCY_SELECTOR = bytes.fromhex("3ee5aeb5")  # ReentrancyGuardReentrantCall()


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot (cheap isolation)."""


def status_of(router, payment_id: int) -> int:
    return router.payment(payment_id).status


# --------------------------------------------------------------------------------------------
# deployment
# --------------------------------------------------------------------------------------------


def test_constructor_sets_documented_defaults(router, risk_oracle, treasury, deployer):
    assert router.reviewThreshold() == REVIEW_THRESHOLD
    assert router.rejectThreshold() == REJECT_THRESHOLD
    assert router.feeBps() == FEE_BPS
    assert router.deadlineWindow() == DEADLINE_WINDOW
    assert router.reviewWindow() == REVIEW_WINDOW
    assert router.oracle() == risk_oracle.address
    assert router.treasury() == treasury.address
    assert router.hasRole(router.DEFAULT_ADMIN_ROLE(), deployer)
    assert router.paymentCount() == 0


def test_constructor_rejects_zero_addresses(project, deployer, treasury, risk_oracle):
    with ape.reverts(project.PaymentRouter.PaymentRouterZeroAddress):
        deployer.deploy(project.PaymentRouter, deployer, ETH, treasury)


# --------------------------------------------------------------------------------------------
# paying
# --------------------------------------------------------------------------------------------


def test_pay_eth_escrows_value_and_emits_payment_requested(router, payer, payee, chain):
    receipt = router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)

    assert router.balance == ETHER
    deadline = chain.blocks.head.timestamp + DEADLINE_WINDOW
    assert receipt.events == [
        router.PaymentRequested(
            id=1, payer=payer, payee=payee, token=ETH, amount=ETHER, ref=REF, deadline=deadline
        )
    ]
    p = router.payment(1)
    terms = (payer.address, payee.address, ETH, ETHER)
    # one slot: the terms' hash (the log carries them), the token, deadline, status, score and fee
    assert (p.termsHash, p.token, p.deadline, p.status, p.score, p.feeBps) == (
        router.termsHash(terms),
        ETH,
        deadline,
        PENDING,
        0,
        FEE_BPS,
    )
    assert bytes(p.termsHash) == content_hash(*terms)[:20]
    assert terms_of(router, 1) == terms


def test_pay_token_escrows_tokens(router, stablecoin, payer, payee):
    before = stablecoin.balanceOf(payer)
    router.pay(payee, stablecoin, 250 * USD, REF, sender=payer)

    assert stablecoin.balanceOf(router) == 250 * USD
    assert stablecoin.balanceOf(payer) == before - 250 * USD
    assert router.payment(1).token == stablecoin.address


def test_payment_ids_start_at_one_and_count_up(make_payment, stablecoin, router):
    assert make_payment() == 1
    assert make_payment(token=stablecoin, amount=USD) == 2
    assert make_payment() == 3
    assert router.paymentCount() == 3


def test_payment_view_of_unknown_id_reverts_naming_it(router):
    with ape.reverts(router.PaymentRouterUnknownPayment, id=42):
        router.payment(42)


def test_pay_rejects_zero_amount(router, stablecoin, payer, payee):
    with ape.reverts(router.PaymentRouterZeroAmount):
        router.pay(payee, ETH, 0, REF, sender=payer)
    with ape.reverts(router.PaymentRouterZeroAmount):
        router.pay(payee, stablecoin, 0, REF, sender=payer)


def test_pay_rejects_zero_payee(router, payer):
    with ape.reverts(router.PaymentRouterZeroPayee):
        router.pay(ETH, ETH, 1, REF, sender=payer, value=1)


def test_pay_rejects_paying_oneself(router, payer):
    with ape.reverts(router.PaymentRouterSelfPayment):
        router.pay(payer, ETH, 1, REF, sender=payer, value=1)


def test_pay_rejects_eth_value_mismatch(router, payer, payee):
    with ape.reverts(router.PaymentRouterValueMismatch, expected=100, sent=99):
        router.pay(payee, ETH, 100, REF, sender=payer, value=99)


def test_pay_rejects_eth_sent_with_token_payment(router, stablecoin, payer, payee):
    with ape.reverts(router.PaymentRouterUnexpectedValue):
        router.pay(payee, stablecoin, USD, REF, sender=payer, value=1)


def test_pay_rejects_token_address_without_code(router, payer, payee, outsider):
    with ape.reverts(router.PaymentRouterNotAToken, token=outsider.address):
        router.pay(payee, outsider, USD, REF, sender=payer)


def test_pay_rejects_amount_above_96_bits(router, stablecoin, payer, payee, deployer):
    too_much = 2**96
    stablecoin.mint(payer, too_much, sender=deployer)
    with ape.reverts(router.PaymentRouterAmountTooLarge, amount=too_much):
        router.pay(payee, stablecoin, too_much, REF, sender=payer)


def test_pay_accepts_largest_96_bit_amount(router, stablecoin, payer, payee, deployer):
    largest = 2**96 - 1
    stablecoin.mint(payer, largest, sender=deployer)
    router.pay(payee, stablecoin, largest, REF, sender=payer)
    assert terms_of(router, 1)[3] == largest


def test_pay_many_gives_each_payment_its_own_id(router, payer, payee, outsider, accounts):
    payees = [payee, outsider, accounts[10]]
    amounts = [1, 2, 3]
    refs = [REF, REF, bytes(32)]
    receipt = router.payMany(payees, ETH, amounts, refs, sender=payer, value=6)

    assert [log.id for log in receipt.events] == [1, 2, 3]
    assert [terms_of(router, i)[3] for i in (1, 2, 3)] == amounts
    assert [terms_of(router, i)[1] for i in (1, 2, 3)] == [a.address for a in payees]
    assert router.balance == 6


def test_pay_many_with_token_pulls_the_total_once(router, stablecoin, payer, payee, outsider):
    router.payMany([payee, outsider], stablecoin, [USD, 2 * USD], [REF, REF], sender=payer)
    assert stablecoin.balanceOf(router) == 3 * USD
    assert router.paymentCount() == 2


def test_pay_many_rejects_eth_value_not_equal_to_sum(router, payer, payee, outsider):
    with ape.reverts(router.PaymentRouterValueMismatch, expected=3, sent=2):
        router.payMany([payee, outsider], ETH, [1, 2], [REF, REF], sender=payer, value=2)


@pytest.mark.parametrize("lengths", [(2, 1, 2), (2, 2, 1), (0, 0, 0)])
def test_pay_many_rejects_mismatched_or_empty_lists(router, payer, payee, lengths):
    n_payees, n_amounts, n_refs = lengths
    with ape.reverts(router.PaymentRouterLengthMismatch):
        router.payMany(
            [payee] * n_payees, ETH, [1] * n_amounts, [REF] * n_refs, sender=payer, value=n_amounts
        )


def test_pay_many_checks_every_payee(router, payer, payee):
    with ape.reverts(router.PaymentRouterSelfPayment):
        router.payMany([payee, payer], ETH, [1, 1], [REF, REF], sender=payer, value=2)


# --------------------------------------------------------------------------------------------
# fee-on-transfer tokens
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fot_token(project, deployer, router, payer):
    """Burns 1% of every transfer."""
    token = deployer.deploy(project.FeeOnTransferToken, 100)
    list_token(router, token, deployer)
    token.mint(payer, 10_000 * USD, sender=deployer)
    token.approve(router, 2**256 - 1, sender=payer)
    return token


def test_fee_on_transfer_token_is_credited_with_what_arrived(router, fot_token, payer, payee):
    receipt = router.pay(payee, fot_token, 1000 * USD, REF, sender=payer)

    assert terms_of(router, 1)[3] == 990 * USD
    assert fot_token.balanceOf(router) == 990 * USD
    assert receipt.events.filter(router.PaymentRequested)[0].amount == 990 * USD


def test_fee_on_transfer_settlement_pays_out_no_more_than_escrowed(
    router, fot_token, payer, payee, make_payment, post
):
    make_payment(1000 * USD, token=fot_token)
    post(1, SAFE_SCORE)

    escrowed = 990 * USD
    fee = fee_of(escrowed)
    assert router.feesAccrued(fot_token) == fee
    assert fot_token.balanceOf(router) == fee  # the router keeps exactly the accrued fee
    assert fot_token.balanceOf(payee) == (escrowed - fee) * 99 // 100


def test_pay_many_splits_a_fee_on_transfer_shortfall_pro_rata(router, fot_token, payer, payee, outsider):
    router.payMany([payee, outsider], fot_token, [100 * USD, 300 * USD], [REF, REF], sender=payer)

    arrived = 396 * USD
    first, second = terms_of(router, 1)[3], terms_of(router, 2)[3]
    assert first == 100 * USD * arrived // (400 * USD)
    assert first + second == arrived == fot_token.balanceOf(router)


# --------------------------------------------------------------------------------------------
# the gate: verdicts settle, hold or refund
# --------------------------------------------------------------------------------------------


def test_low_score_settles_and_pays_payee_minus_fee(router, make_payment, post, payee):
    make_payment(ETHER)
    before = payee.balance
    receipt = post(1, SAFE_SCORE)

    fee = fee_of(ETHER)
    assert status_of(router, 1) == SETTLED
    assert payee.balance == before + ETHER - fee
    assert router.feesAccrued(ETH) == fee
    assert router.balance == fee
    assert router.paymentScore(1) == SAFE_SCORE
    settled = receipt.events.filter(router.PaymentSettled)
    assert settled == [
        router.PaymentSettled(id=1, payee=payee, payeeAmount=ETHER - fee, fee=fee, score=SAFE_SCORE)
    ]


def test_low_score_settles_token_payment(router, stablecoin, make_payment, post, payee):
    make_payment(1000 * USD, token=stablecoin)
    post(1, SAFE_SCORE)

    assert stablecoin.balanceOf(payee) == 1000 * USD - fee_of(1000 * USD)
    assert router.feesAccrued(stablecoin) == fee_of(1000 * USD)


def test_middling_score_holds_payment(router, make_payment, post, payee):
    make_payment(ETHER)
    before = payee.balance
    receipt = post(1, REVIEW_SCORE)

    assert status_of(router, 1) == HELD
    assert payee.balance == before
    assert router.balance == ETHER
    assert receipt.events.filter(router.PaymentHeld) == [router.PaymentHeld(id=1, score=REVIEW_SCORE)]


def test_high_score_refunds_payer(router, make_payment, post, payer):
    make_payment(ETHER)
    before = payer.balance
    receipt = post(1, FRAUD_SCORE)

    assert status_of(router, 1) == REFUNDED
    assert payer.balance == before + ETHER
    assert router.balance == 0
    assert receipt.events.filter(router.PaymentRefunded) == [
        router.PaymentRefunded(id=1, payer=payer, amount=ETHER, score=FRAUD_SCORE)
    ]


@pytest.mark.parametrize(
    ("score", "outcome"),
    [
        (0, SETTLED),
        (REVIEW_THRESHOLD - 1, SETTLED),
        (REVIEW_THRESHOLD, HELD),
        (REJECT_THRESHOLD - 1, HELD),
        (REJECT_THRESHOLD, REFUNDED),
        (10_000, REFUNDED),
    ],
)
def test_thresholds_are_inclusive_lower_bounds(router, make_payment, post, score, outcome):
    make_payment(ETHER)
    post(1, score)
    assert status_of(router, 1) == outcome


def test_apply_verdict_only_from_oracle(router, make_payment, outsider):
    make_payment()
    with ape.reverts(router.PaymentRouterOnlyOracle, caller=outsider.address):
        router.applyVerdict(1, SAFE_SCORE, terms_of(router, 1), sender=outsider)


def test_gate_status_follows_payment_lifecycle(router, make_payment, post, chain):
    assert router.gateStatus(1) == UNKNOWN
    make_payment()
    make_payment()
    assert router.gateStatus(1) == AWAITING
    post(1, REVIEW_SCORE)
    assert router.gateStatus(1) == DECIDED
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    assert router.gateStatus(2) == EXPIRED


def test_policy_change_applies_to_next_verdict(router, make_payment, post, deployer):
    make_payment()
    router.setThresholds(1000, 2000, sender=deployer)
    post(1, 1500)
    assert status_of(router, 1) == HELD


# --------------------------------------------------------------------------------------------
# fee arithmetic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fee_bps", "fee"),
    [
        (333, 30, 0),  # 0.999 rounds down to nothing
        (334, 30, 1),  # 1.002
        (3_334, 30, 10),  # 10.002
        (10_000, 30, 30),
        (1, 1000, 0),
        (9, 1000, 0),
        (10, 1000, 1),
        (2**96 - 1, 1000, (2**96 - 1) // 10),
    ],
)
def test_fee_is_rounded_down(router, stablecoin, post, payee, deployer, amount, fee_bps, fee):
    router.setFeeBps(fee_bps, sender=deployer)
    stablecoin.mint(deployer, amount, sender=deployer)
    stablecoin.approve(router, amount, sender=deployer)
    router.pay(payee, stablecoin, amount, REF, sender=deployer)
    before = stablecoin.balanceOf(payee)
    post(1, SAFE_SCORE)

    assert router.feesAccrued(stablecoin) == fee
    assert stablecoin.balanceOf(payee) - before == amount - fee


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=1, max_value=2**96 - 1), fee_bps=st.integers(min_value=0, max_value=1000))
def test_fee_and_payout_always_add_up_to_the_escrow(
    router, stablecoin, post, payee, deployer, amount, fee_bps
):
    router.setFeeBps(fee_bps, sender=deployer)
    stablecoin.mint(deployer, amount, sender=deployer)
    stablecoin.approve(router, amount, sender=deployer)
    router.pay(payee, stablecoin, amount, REF, sender=deployer)
    payment_id = router.paymentCount()
    fees_before = router.feesAccrued(stablecoin)
    payee_before = stablecoin.balanceOf(payee)

    post(payment_id, SAFE_SCORE)

    fee = router.feesAccrued(stablecoin) - fees_before
    paid = stablecoin.balanceOf(payee) - payee_before
    assert fee == amount * fee_bps // 10_000
    assert fee + paid == amount


def test_sweep_fees_sends_accrued_fees_to_treasury(
    router, stablecoin, make_payment, post, treasury, outsider
):
    make_payment(ETHER)
    make_payment(1000 * USD, token=stablecoin)
    post([1, 2], SAFE_SCORE)
    eth_before = treasury.balance

    receipt = router.sweepFees(ETH, sender=outsider)
    router.sweepFees(stablecoin, sender=outsider)

    assert treasury.balance == eth_before + fee_of(ETHER)
    assert stablecoin.balanceOf(treasury) == fee_of(1000 * USD)
    assert router.feesAccrued(ETH) == 0 == router.feesAccrued(stablecoin)
    assert receipt.events == [router.FeesSwept(token=ETH, treasury=treasury, amount=fee_of(ETHER))]


def test_sweep_fees_with_nothing_accrued_reverts(router, outsider):
    with ape.reverts(router.PaymentRouterNothingToWithdraw):
        router.sweepFees(ETH, sender=outsider)


# --------------------------------------------------------------------------------------------
# review
# --------------------------------------------------------------------------------------------


@pytest.fixture
def held_payment(make_payment, post) -> int:
    payment_id = make_payment(ETHER)
    post(payment_id, REVIEW_SCORE)
    return payment_id


def test_reviewer_approval_settles_held_payment(router, held_payment, reviewer, payee):
    before = payee.balance
    receipt = router.review(held_payment, True, sender=reviewer)

    assert status_of(router, held_payment) == SETTLED
    assert payee.balance == before + ETHER - fee_of(ETHER)
    assert receipt.events.filter(router.PaymentSettled)[0].score == REVIEW_SCORE
    assert receipt.events.filter(router.PaymentReviewed) == [
        router.PaymentReviewed(id=held_payment, reviewer=reviewer, approved=True)
    ]


def test_reviewer_rejection_refunds_held_payment(router, held_payment, reviewer, payer):
    before = payer.balance
    router.review(held_payment, False, sender=reviewer)
    assert status_of(router, held_payment) == REFUNDED
    assert payer.balance == before + ETHER


def test_review_requires_reviewer_role(router, held_payment, outsider):
    with ape.reverts(router.AccessControlUnauthorizedAccount, account=outsider.address):
        router.review(held_payment, True, sender=outsider)


def test_review_of_pending_payment_reverts_not_held(router, make_payment, reviewer):
    make_payment()
    with ape.reverts(router.PaymentRouterNotHeld, id=1):
        router.review(1, True, sender=reviewer)


def test_review_of_unknown_payment_reverts(router, reviewer):
    with ape.reverts(router.PaymentRouterUnknownPayment, id=7):
        router.review(7, False, sender=reviewer)


def test_review_cannot_decide_twice(router, held_payment, reviewer):
    router.review(held_payment, False, sender=reviewer)
    with ape.reverts(router.PaymentRouterNotHeld, id=held_payment):
        router.review(held_payment, True, sender=reviewer)


# --------------------------------------------------------------------------------------------
# deadline and reclaim
# --------------------------------------------------------------------------------------------


def test_reclaim_refunds_payer_after_deadline(router, make_payment, payer, outsider, chain):
    make_payment(ETHER)
    before = payer.balance
    chain.mine(deltatime=DEADLINE_WINDOW + 1)

    receipt = reclaim(router, 1, sender=outsider)

    assert status_of(router, 1) == REFUNDED
    assert payer.balance == before + ETHER
    assert receipt.events.filter(router.PaymentRefunded)[0].score == 0


def test_reclaim_before_deadline_reverts(router, make_payment, outsider):
    make_payment()
    with ape.reverts(router.PaymentRouterNotReclaimable, id=1):
        reclaim(router, 1, sender=outsider)


def test_reclaim_of_held_payment_waits_for_review_window(router, held_payment, payer, outsider, chain):
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    with ape.reverts(router.PaymentRouterNotReclaimable, id=held_payment):
        reclaim(router, held_payment, sender=outsider)

    chain.mine(deltatime=REVIEW_WINDOW)
    before = payer.balance
    reclaim(router, held_payment, sender=outsider)
    assert status_of(router, held_payment) == REFUNDED
    assert payer.balance == before + ETHER


def test_reclaim_of_settled_payment_reverts(router, make_payment, post, outsider, chain):
    make_payment()
    post(1, SAFE_SCORE)
    chain.mine(deltatime=DEADLINE_WINDOW + REVIEW_WINDOW + 1)
    with ape.reverts(router.PaymentRouterNotReclaimable, id=1):
        reclaim(router, 1, sender=outsider)


def test_reclaim_of_unknown_payment_reverts(router, outsider):
    with ape.reverts(router.PaymentRouterUnknownPayment, id=1):
        reclaim(router, 1, sender=outsider)


def test_verdict_after_deadline_changes_nothing(router, make_payment, post, payee, chain):
    make_payment()
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    before = payee.balance
    post(1, SAFE_SCORE)
    assert status_of(router, 1) == PENDING
    assert payee.balance == before


# --------------------------------------------------------------------------------------------
# pause
# --------------------------------------------------------------------------------------------


def test_guardian_pauses_and_only_admin_unpauses(router, guardian, deployer):
    router.pause(sender=guardian)
    assert router.paused()
    with ape.reverts(router.AccessControlUnauthorizedAccount, account=guardian.address):
        router.unpause(sender=guardian)
    router.unpause(sender=deployer)
    assert not router.paused()


def test_pause_requires_guardian_or_admin(router, outsider):
    with ape.reverts(router.AccessControlUnauthorizedAccount, account=outsider.address):
        router.pause(sender=outsider)


def test_pause_stops_new_payments(router, guardian, payer, payee):
    router.pause(sender=guardian)
    with ape.reverts(router.EnforcedPause):
        router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    with ape.reverts(router.EnforcedPause):
        router.payMany([payee], ETH, [1], [REF], sender=payer, value=1)


def test_pause_turns_settling_verdict_into_hold(router, make_payment, post, guardian, payee):
    make_payment()
    router.pause(sender=guardian)
    before = payee.balance
    post(1, SAFE_SCORE)
    assert status_of(router, 1) == HELD
    assert payee.balance == before


def test_pause_still_refunds_rejected_payment(router, make_payment, post, guardian, payer):
    make_payment(ETHER)
    router.pause(sender=guardian)
    before = payer.balance
    post(1, FRAUD_SCORE)
    assert status_of(router, 1) == REFUNDED
    assert payer.balance == before + ETHER


def test_pause_blocks_review_approval_but_not_rejection(router, held_payment, guardian, reviewer):
    router.pause(sender=guardian)
    with ape.reverts(router.EnforcedPause):
        router.review(held_payment, True, sender=reviewer)
    router.review(held_payment, False, sender=reviewer)
    assert status_of(router, held_payment) == REFUNDED


def test_reclaim_works_while_paused(router, make_payment, guardian, outsider, chain):
    make_payment()
    router.pause(sender=guardian)
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    reclaim(router, 1, sender=outsider)
    assert status_of(router, 1) == REFUNDED


# --------------------------------------------------------------------------------------------
# blocklist
# --------------------------------------------------------------------------------------------


def test_blocked_payer_cannot_pay(router, deployer, payer, payee):
    receipt = router.setBlocked(payer, True, sender=deployer)
    assert receipt.events == [router.BlocklistUpdated(account=payer, blocked=True)]
    assert router.isBlocked(payer)
    with ape.reverts(router.PaymentRouterBlocked, account=payer.address):
        router.pay(payee, ETH, 1, REF, sender=payer, value=1)


def test_blocked_payee_cannot_be_paid(router, deployer, payer, payee, outsider):
    router.setBlocked(payee, True, sender=deployer)
    with ape.reverts(router.PaymentRouterBlocked, account=payee.address):
        router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    with ape.reverts(router.PaymentRouterBlocked, account=payee.address):
        router.payMany([outsider, payee], ETH, [1, 1], [REF, REF], sender=payer, value=2)


def test_unblocked_account_can_pay_again(router, deployer, payer, payee):
    router.setBlocked(payer, True, sender=deployer)
    router.setBlocked(payer, False, sender=deployer)
    router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    assert router.paymentCount() == 1


def test_blocklist_count_cannot_be_talked_down_to_let_a_blocked_payer_through(
    router, deployer, payer, payee, outsider
):
    """The router skips blocklist lookups while nobody is blocked (issue 16.4), so the count of
    blocked accounts must never reach 0 while one is: blocking twice, unblocking an account never
    blocked, and unblocking another blocked one all leave the payer blocked."""
    router.setBlocked(payer, True, sender=deployer)
    router.setBlocked(payer, True, sender=deployer)
    router.setBlocked(outsider, False, sender=deployer)
    router.setBlocked(outsider, False, sender=deployer)
    router.setBlocked(payee, True, sender=deployer)
    router.setBlocked(payee, False, sender=deployer)
    with ape.reverts(router.PaymentRouterBlocked, account=payer.address):
        router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    with ape.reverts(router.PaymentRouterBlocked, account=payer.address):
        router.payMany([payee], ETH, [1], [REF], sender=payer, value=1)
    with ape.reverts(router.PaymentRouterBlocked, account=payer.address):
        router.pay(payer, ETH, 1, REF, sender=outsider, value=1)
    router.setBlocked(payer, False, sender=deployer)
    router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    router.pay(payer, ETH, 1, REF, sender=outsider, value=1)
    assert router.paymentCount() == 2


def test_blocklist_is_admin_only(router, outsider, payer):
    with ape.reverts(router.AccessControlUnauthorizedAccount, account=outsider.address):
        router.setBlocked(payer, True, sender=outsider)


# --------------------------------------------------------------------------------------------
# payouts that fail or re-enter
# --------------------------------------------------------------------------------------------


def test_reverting_payee_is_credited_and_others_in_batch_still_settle(
    project, router, deployer, make_payment, post, payee, outsider
):
    bad = deployer.deploy(project.RevertingPayee)
    make_payment(ETHER, to=payee)
    make_payment(2 * ETHER, to=bad)
    make_payment(3 * ETHER, to=outsider)
    payee_before, outsider_before = payee.balance, outsider.balance

    receipt = post([1, 2, 3], SAFE_SCORE)

    assert [status_of(router, i) for i in (1, 2, 3)] == [SETTLED] * 3
    assert payee.balance == payee_before + ETHER - fee_of(ETHER)
    assert outsider.balance == outsider_before + 3 * ETHER - fee_of(3 * ETHER)
    owed = 2 * ETHER - fee_of(2 * ETHER)
    assert router.credited(bad, ETH) == owed
    assert receipt.events.filter(router.PaymentCredited) == [
        router.PaymentCredited(id=2, account=bad, token=ETH, amount=owed)
    ]


def test_credited_payee_withdraws_later(project, router, deployer, make_payment, post):
    bad = deployer.deploy(project.RevertingPayee)
    make_payment(ETHER, to=bad)
    post(1, SAFE_SCORE)
    owed = router.credited(bad, ETH)

    bad.setAccepting(True, sender=deployer)
    receipt = bad.withdrawFrom(router, ETH, sender=deployer)

    assert bad.balance == owed
    assert router.credited(bad, ETH) == 0
    assert receipt.events.filter(router.Withdrawn) == [router.Withdrawn(account=bad, token=ETH, amount=owed)]


def test_withdraw_with_no_credit_reverts(router, outsider):
    with ape.reverts(router.PaymentRouterNothingToWithdraw):
        router.withdraw(ETH, sender=outsider)


def test_refund_that_cannot_be_pushed_is_credited_to_payer(project, router, deployer, payer, payee, post):
    token = deployer.deploy(project.SelectiveRevertToken)
    list_token(router, token, deployer)
    token.mint(payer, 100, sender=deployer)
    token.approve(router, 100, sender=payer)
    router.pay(payee, token, 100, REF, sender=payer)
    token.setBlacklisted(payer, sender=deployer)

    receipt = post(1, FRAUD_SCORE)

    assert status_of(router, 1) == REFUNDED
    assert router.credited(payer, token) == 100
    assert receipt.events.filter(router.PaymentCredited) == [
        router.PaymentCredited(id=1, account=payer, token=token, amount=100)
    ]


def test_token_that_reverts_for_one_payee_does_not_block_batch(
    project, router, deployer, payer, payee, outsider, post
):
    token = deployer.deploy(project.SelectiveRevertToken)
    list_token(router, token, deployer)
    token.mint(payer, 1000, sender=deployer)
    token.approve(router, 1000, sender=payer)
    router.pay(payee, token, 500, REF, sender=payer)
    router.pay(outsider, token, 500, REF, sender=payer)
    token.setBlacklisted(payee, sender=deployer)

    post([1, 2], SAFE_SCORE)

    assert token.balanceOf(outsider) == 500 - fee_of(500)
    assert router.credited(payee, token) == 500 - fee_of(500)
    assert [status_of(router, i) for i in (1, 2)] == [SETTLED, SETTLED]


def test_token_returning_false_is_credited(project, router, deployer, payer, payee, post):
    token = deployer.deploy(project.FalseReturningToken)
    list_token(router, token, deployer)
    token.mint(payer, 10_000, sender=deployer)
    token.approve(router, 10_000, sender=payer)
    router.pay(payee, token, 10_000, REF, sender=payer)
    token.setFailing(True, sender=deployer)

    post(1, SAFE_SCORE)

    assert token.balanceOf(payee) == 0
    assert router.credited(payee, token) == 10_000 - fee_of(10_000)


def test_payee_reentering_router_on_receive_is_blocked(project, router, deployer, make_payment, post):
    evil = deployer.deploy(project.ReentrantPayee)
    make_payment(ETHER, to=evil)
    make_payment(ETHER, to=evil)
    # on receive, the payee tries to reclaim (refund) the other payment
    evil.arm(router, _calldata(router, "reclaim", 2, terms_of(router, 2)), sender=deployer)

    receipt = post(1, SAFE_SCORE)

    reentered = receipt.events.filter(evil.Reentered)
    assert len(reentered) == 1 and not reentered[0].success
    assert bytes(reentered[0].returnData)[:4] == REENTRANCY_SELECTOR
    assert status_of(router, 1) == SETTLED and status_of(router, 2) == PENDING
    assert evil.balance == ETHER - fee_of(ETHER)


def test_token_reentering_router_during_pay_is_blocked(project, router, deployer, payer, payee):
    token = deployer.deploy(project.ReentrantToken)
    list_token(router, token, deployer)
    token.mint(payer, 1000, sender=deployer)
    token.approve(router, 1000, sender=payer)
    token.arm(router, _calldata(router, "sweepFees", token.address), sender=deployer)

    receipt = router.pay(payee, token, 1000, REF, sender=payer)

    reentered = receipt.events.filter(token.Reentered)
    assert len(reentered) == 1 and not reentered[0].success
    assert bytes(reentered[0].returnData)[:4] == REENTRANCY_SELECTOR
    assert terms_of(router, 1)[3] == 1000


def test_token_reentering_router_during_settlement_is_blocked(
    project, router, deployer, payer, payee, post, chain
):
    token = deployer.deploy(project.ReentrantToken)
    list_token(router, token, deployer)
    token.mint(payer, 2000, sender=deployer)
    token.approve(router, 2000, sender=payer)
    router.pay(payee, token, 1000, REF, sender=payer)
    router.pay(payee, token, 1000, REF, sender=payer)
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    # payment 2 is reclaimable now; the token tries to reclaim it from inside payment 1's refund
    token.arm(router, _calldata(router, "reclaim", 2, terms_of(router, 2)), sender=deployer)

    receipt = reclaim(router, 1, sender=payer)

    reentered = receipt.events.filter(token.Reentered)
    assert len(reentered) == 1 and not reentered[0].success
    assert status_of(router, 2) == PENDING
    assert token.balanceOf(payer) == 1000


def _calldata(contract, method: str, *args) -> bytes:
    handler = getattr(contract, method)
    return bytes(handler.encode_input(*args))


# --------------------------------------------------------------------------------------------
# policy setters
# --------------------------------------------------------------------------------------------


def test_set_thresholds_emits_and_applies(router, deployer):
    receipt = router.setThresholds(4000, 8000, sender=deployer)
    assert receipt.events == [router.ThresholdsChanged(reviewThreshold=4000, rejectThreshold=8000)]
    assert (router.reviewThreshold(), router.rejectThreshold()) == (4000, 8000)


@pytest.mark.parametrize(("review", "reject"), [(5000, 5000), (6000, 5000), (5000, 10_001)])
def test_set_thresholds_rejects_bad_order_or_range(router, deployer, review, reject):
    with ape.reverts(router.PaymentRouterInvalidThresholds, reviewThreshold=review, rejectThreshold=reject):
        router.setThresholds(review, reject, sender=deployer)


def test_set_fee_bps_caps_at_ten_percent(router, deployer):
    router.setFeeBps(1000, sender=deployer)
    assert router.feeBps() == 1000
    with ape.reverts(router.PaymentRouterFeeTooHigh, feeBps=1001):
        router.setFeeBps(1001, sender=deployer)


@pytest.mark.parametrize("setter", ["setDeadlineWindow", "setReviewWindow"])
def test_windows_are_bounded(router, deployer, setter):
    set_window = getattr(router, setter)
    set_window(60, sender=deployer)
    set_window(30 * 24 * 3600, sender=deployer)
    for bad in (59, 30 * 24 * 3600 + 1):
        with ape.reverts(router.PaymentRouterInvalidWindow, window=bad):
            set_window(bad, sender=deployer)


def test_deadline_window_applies_to_new_payments(router, deployer, make_payment, chain):
    router.setDeadlineWindow(600, sender=deployer)
    make_payment()
    assert router.payment(1).deadline == chain.blocks.head.timestamp + 600


def test_set_treasury_and_oracle_reject_zero_address(router, deployer, outsider):
    with ape.reverts(router.PaymentRouterZeroAddress):
        router.setTreasury(ETH, sender=deployer)
    with ape.reverts(router.PaymentRouterZeroAddress):
        router.setOracle(ETH, sender=deployer)
    router.setTreasury(outsider, sender=deployer)
    router.setOracle(outsider, sender=deployer)
    assert router.treasury() == outsider.address == router.oracle()


def test_replaced_oracle_can_no_longer_apply_verdicts(router, deployer, make_payment, post, outsider):
    make_payment()
    router.setOracle(outsider, sender=deployer)
    with ape.reverts(router.PaymentRouterOnlyOracle):
        post(1, SAFE_SCORE)
    router.applyVerdict(1, SAFE_SCORE, terms_of(router, 1), sender=outsider)
    assert status_of(router, 1) == SETTLED


@pytest.mark.parametrize(
    ("setter", "args"),
    [
        ("setThresholds", (1, 2)),
        ("setFeeBps", (1,)),
        ("setDeadlineWindow", (3600,)),
        ("setReviewWindow", (3600,)),
        ("setTreasury", (ETH,)),
        ("setOracle", (ETH,)),
        ("unpause", ()),
    ],
)
def test_policy_setters_are_admin_only(router, outsider, setter, args):
    with ape.reverts(router.AccessControlUnauthorizedAccount, account=outsider.address):
        getattr(router, setter)(*args, sender=outsider)


# --------------------------------------------------------------------------------------------
# one slot per payment (issue 16.4): whoever moves the money passes the terms back; wrong terms
# never pay
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("forge", ["payee", "payer", "amount", "token"])
def test_verdict_with_other_terms_is_skipped_and_pays_nothing(
    router, risk_oracle, make_payment, stablecoin, node, payer, payee, outsider, forge
):
    """A node (or a compromised key) passing another payee, payer, amount or token with a settling
    (or refunding) verdict: the router answers Mismatch, the oracle reports ContentMismatch, no
    money moves and the payment still awaits its real verdict."""
    make_payment(ETHER)
    real = terms_of(router, 1)
    forged = {
        "payee": (payer.address, outsider.address, ETH, ETHER),
        "payer": (outsider.address, payee.address, ETH, ETHER),
        "amount": (payer.address, payee.address, ETH, 2 * ETHER),
        "token": (payer.address, payee.address, stablecoin.address, ETHER),
    }[forge]
    balances = (outsider.balance, payee.balance, router.balance)
    for score in (SAFE_SCORE, FRAUD_SCORE, REVIEW_SCORE):
        receipt = submit(risk_oracle, [verdict(router, 1, score, terms=forged)], sender=node)
        assert [log.reason for log in risk_oracle.VerdictSkipped.from_receipt(receipt)] == [4]  # mismatch
        assert not router.PaymentSettled.from_receipt(receipt) and not router.PaymentRefunded.from_receipt(
            receipt
        )
    assert (outsider.balance, payee.balance, router.balance) == balances
    assert status_of(router, 1) == PENDING and risk_oracle.finalScore(router, 1) == (False, 0)
    submit(risk_oracle, [verdict(router, 1, SAFE_SCORE, terms=real)], sender=node)
    assert status_of(router, 1) == SETTLED


def test_terms_of_another_payment_cannot_redirect_a_verdict(
    router, risk_oracle, make_payment, node, payee, accounts
):
    """Terms copied from another real payment (a larger one, to a colluding payee) do not fit."""
    colluder = accounts[12]
    make_payment(ETHER)
    make_payment(5 * ETHER, to=colluder)
    before = colluder.balance
    receipt = submit(risk_oracle, [verdict(router, 1, SAFE_SCORE, terms=terms_of(router, 2))], sender=node)
    assert [log.reason for log in risk_oracle.VerdictSkipped.from_receipt(receipt)] == [4]
    assert colluder.balance == before and status_of(router, 1) == PENDING


def test_quorum_verdict_with_wrong_terms_never_pays(
    router, risk_oracle, make_payment, quorum_nodes, outsider
):
    """Quorum 3: the vote that reaches the quorum carries forged terms; nothing is paid, and the
    next honest vote settles the payment to its real payee."""
    make_payment(ETHER)
    real = terms_of(router, 1)
    forged = (real[0], outsider.address, real[2], real[3])
    before = outsider.balance
    for n in quorum_nodes[:2]:
        submit(risk_oracle, [verdict(router, 1, SAFE_SCORE)], sender=n)
    receipt = submit(risk_oracle, [verdict(router, 1, SAFE_SCORE, terms=forged)], sender=quorum_nodes[2])
    assert [log.reason for log in risk_oracle.VerdictSkipped.from_receipt(receipt)] == [4]
    assert outsider.balance == before and status_of(router, 1) == PENDING


def test_reclaim_needs_the_payments_terms(router, make_payment, payer, outsider, chain):
    make_payment(ETHER)
    chain.mine(deltatime=DEADLINE_WINDOW + 1)
    real = terms_of(router, 1)
    for forged in ((outsider.address, *real[1:]), (*real[:3], 2 * ETHER)):
        with ape.reverts(router.PaymentRouterTermsMismatch, id=1):
            router.reclaim(1, forged, sender=outsider)
    before = payer.balance
    router.reclaim(1, real, sender=outsider)
    assert payer.balance == before + ETHER and status_of(router, 1) == REFUNDED


def test_held_payment_keeps_its_terms_for_the_reviewer(router, held_payment, reviewer, payer, payee):
    assert router.heldTerms(held_payment) == terms_of(router, held_payment)
    router.review(held_payment, True, sender=reviewer)
    with ape.reverts(router.PaymentRouterNotHeld, id=held_payment):
        router.heldTerms(held_payment)


def test_replayed_verdict_with_the_right_terms_changes_nothing(
    router, risk_oracle, make_payment, node, payee
):
    make_payment(ETHER)
    submit(risk_oracle, [verdict(router, 1, SAFE_SCORE)], sender=node)
    before = payee.balance
    receipt = submit(risk_oracle, [verdict(router, 1, SAFE_SCORE)], sender=node)
    assert [log.reason for log in risk_oracle.VerdictSkipped.from_receipt(receipt)] == [1]  # already final
    assert payee.balance == before
