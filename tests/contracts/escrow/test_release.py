"""The release path: request, confirm (or auto-confirm), the risk gate, review and expiry."""

import ape
import pytest
from escrow_helpers import (
    AWAITING,
    DAY,
    DECIDED,
    EXPIRED,
    FLAGGED,
    FUNDED,
    GATED,
    HELD,
    RELEASED,
    REQUESTED,
    UNKNOWN,
    USD,
    balance_of,
)
from router_helpers import NO_TERMS

WINDOWS = {"confirmGrace": 3 * DAY, "verdict": DAY, "review": 3 * DAY, "contest": 3 * DAY, "ruling": 7 * DAY}


def test_supplier_requests_release(world, escrow, stablecoin, supplier):
    agreement_id, _ = world.create(stablecoin)
    tx = escrow.requestRelease(agreement_id, 1, sender=supplier)
    milestone = escrow.milestoneOf(agreement_id, 1)
    assert milestone.status == REQUESTED
    event = list(tx.decode_logs(escrow.ReleaseProposed))[0]
    assert event.milestone == 1
    assert event.autoConfirmAt == milestone.deadline == tx.timestamp + WINDOWS["confirmGrace"]


def test_only_the_supplier_requests(world, escrow, stablecoin, buyer, outsider):
    agreement_id, _ = world.create(stablecoin)
    for account in (buyer, outsider):
        with ape.reverts(escrow.EscrowNotSupplier):
            escrow.requestRelease(agreement_id, 0, sender=account)


def test_request_twice_reverts(world, escrow, stablecoin, supplier):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 0, sender=supplier)
    with ape.reverts(escrow.EscrowInvalidStatus, status=REQUESTED):
        escrow.requestRelease(agreement_id, 0, sender=supplier)


def test_buyer_confirms_into_the_risk_gate(world, escrow, stablecoin, buyer, supplier):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 2, sender=supplier)
    tx = escrow.confirmRelease(agreement_id, 2, sender=buyer)

    gate_id = tx.return_value
    assert gate_id == 1 == escrow.gateCount()
    assert escrow.gate(gate_id) == (agreement_id, 2)
    assert escrow.gateStatus(gate_id) == AWAITING
    milestone = escrow.milestoneOf(agreement_id, 2)
    assert milestone.status == GATED and milestone.gateId == gate_id
    requested = list(tx.decode_logs(escrow.ReleaseRequested))[0]
    assert requested.gateId == gate_id
    assert requested.agreementId == agreement_id
    assert requested.milestone == 2
    assert requested.payer == buyer.address
    assert requested.payee == supplier.address
    assert requested.token == stablecoin.address
    assert requested.amount == 300 * USD
    assert requested.deadline == milestone.deadline == tx.timestamp + WINDOWS["verdict"]
    confirmed = list(tx.decode_logs(escrow.ReleaseConfirmed))[0]
    assert confirmed.by == buyer.address and confirmed.byBuyer


def test_only_the_buyer_confirms(world, escrow, stablecoin, supplier, outsider):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 0, sender=supplier)
    for account in (supplier, outsider):
        with ape.reverts(escrow.EscrowNotBuyer):
            escrow.confirmRelease(agreement_id, 0, sender=account)


def test_confirm_requires_a_request(world, escrow, stablecoin, buyer):
    agreement_id, _ = world.create(stablecoin)
    with ape.reverts(escrow.EscrowInvalidStatus, status=FUNDED):
        escrow.confirmRelease(agreement_id, 0, sender=buyer)


def test_anyone_auto_confirms_after_the_grace_period(world, escrow, stablecoin, supplier, outsider):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 0, sender=supplier)
    with ape.reverts(escrow.EscrowTooEarly):
        escrow.autoConfirmRelease(agreement_id, 0, sender=outsider)
    world.warp(WINDOWS["confirmGrace"])
    tx = escrow.autoConfirmRelease(agreement_id, 0, sender=outsider)
    assert world.status(agreement_id) == GATED
    confirmed = list(tx.decode_logs(escrow.ReleaseConfirmed))[0]
    assert confirmed.by == outsider.address and not confirmed.byBuyer


def test_auto_confirm_requires_a_request(world, escrow, stablecoin, outsider):
    agreement_id, _ = world.create(stablecoin)
    with ape.reverts(escrow.EscrowInvalidStatus):
        escrow.autoConfirmRelease(agreement_id, 0, sender=outsider)


def test_low_score_pays_the_supplier_less_the_router_fee(world, escrow, stablecoin, supplier, policy):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    before = stablecoin.balanceOf(supplier)

    tx = world.verdict(gate_id, 1000)

    fee = 100 * USD * policy.feeBps() // 10_000
    assert stablecoin.balanceOf(supplier) - before == 100 * USD - fee
    assert escrow.feesAccrued(stablecoin) == fee
    assert world.status(agreement_id) == RELEASED
    assert escrow.gateStatus(gate_id) == DECIDED
    settled = list(tx.decode_logs(escrow.ReleaseSettled))[0]
    assert (settled.gateId, settled.supplierAmount, settled.fee) == (gate_id, 100 * USD - fee, fee)


def test_eth_release_pays_the_supplier(world, chain, escrow, supplier):
    agreement_id, _ = world.create(None, amounts=(10**18,))
    gate_id = world.gate(agreement_id, 0)
    before = balance_of(chain, None, supplier)
    world.verdict(gate_id, 0)
    assert balance_of(chain, None, supplier) - before == 10**18 * 99 // 100
    assert escrow.feesAccrued("0x0000000000000000000000000000000000000000") == 10**16


def test_full_release_gas(world, escrow, stablecoin, buyer, supplier):
    """request -> confirm -> verdict (supplier paid): the gas of one milestone release."""
    agreement_id, _ = world.create(stablecoin)
    request = escrow.requestRelease(agreement_id, 0, sender=supplier)
    confirm = escrow.confirmRelease(agreement_id, 0, sender=buyer)
    verdict = world.verdict(confirm.return_value, 100)
    total = request.gas_used + confirm.gas_used + verdict.gas_used
    print(
        f"\nGAS milestone release: request={request.gas_used} confirm={confirm.gas_used} "
        f"verdict+paid={verdict.gas_used} total={total}"
    )
    assert world.status(agreement_id) == RELEASED


@pytest.mark.parametrize(
    ("score", "expected"), [(4999, RELEASED), (5000, HELD), (7999, HELD), (8000, FLAGGED)]
)
def test_threshold_boundaries(world, stablecoin, score, expected):
    agreement_id, _ = world.create(stablecoin)
    world.verdict(world.gate(agreement_id, 0), score)
    assert world.status(agreement_id) == expected


def test_thresholds_are_read_from_the_router_at_verdict_time(world, stablecoin, policy, deployer):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    policy.setThresholds(1000, 2000, sender=deployer)
    world.verdict(gate_id, 1500)
    assert world.status(agreement_id) == HELD


def test_review_band_holds_the_release(world, escrow, stablecoin):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    tx = world.verdict(gate_id, 6000)
    milestone = escrow.milestoneOf(agreement_id, 0)
    assert milestone.status == HELD
    held = list(tx.decode_logs(escrow.ReleaseHeld))[0]
    assert (
        held.score == 6000 and held.reviewDeadline == milestone.deadline == tx.timestamp + WINDOWS["review"]
    )
    assert escrow.gateStatus(gate_id) == DECIDED


def test_high_score_flags_and_keeps_the_money(world, escrow, stablecoin, supplier):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    before = stablecoin.balanceOf(escrow)
    tx = world.verdict(gate_id, 9500)
    assert stablecoin.balanceOf(escrow) == before
    assert world.status(agreement_id) == FLAGGED
    rejected = list(tx.decode_logs(escrow.ReleaseRejected))[0]
    assert rejected.score == 9500 and rejected.contestDeadline == tx.timestamp + WINDOWS["contest"]


def test_verdict_while_paused_holds_instead_of_paying(world, escrow, stablecoin, guardian):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    escrow.pause(sender=guardian)
    world.verdict(gate_id, 100)
    assert world.status(agreement_id) == HELD


def test_only_the_oracle_applies_verdicts(world, escrow, stablecoin, outsider):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    with ape.reverts(escrow.EscrowOnlyOracle, caller=outsider.address):
        escrow.applyVerdict(gate_id, 0, NO_TERMS, sender=outsider)


def test_verdict_on_unknown_decided_or_expired_gate_is_a_no_op(world, escrow, stablecoin, supplier):
    assert escrow.gateStatus(0) == UNKNOWN
    assert escrow.gateStatus(99) == UNKNOWN
    assert world.verdict(99, 0).return_value == UNKNOWN

    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    assert world.verdict(gate_id, 0).return_value == AWAITING
    before = stablecoin.balanceOf(supplier)
    assert world.verdict(gate_id, 0).return_value == DECIDED
    assert stablecoin.balanceOf(supplier) == before

    gate_two = world.gate(agreement_id, 1)
    world.warp(WINDOWS["verdict"] + 1)
    world.chain.mine()
    assert escrow.gateStatus(gate_two) == EXPIRED
    assert world.verdict(gate_two, 0).return_value == EXPIRED
    assert world.status(agreement_id, 1) == GATED


def test_reviewer_approves_a_held_release(world, escrow, stablecoin, supplier, reviewer):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    world.verdict(gate_id, 6000)
    before = stablecoin.balanceOf(supplier)
    tx = escrow.reviewRelease(gate_id, True, sender=reviewer)
    assert stablecoin.balanceOf(supplier) - before == 99 * USD
    assert world.status(agreement_id) == RELEASED
    reviewed = list(tx.decode_logs(escrow.ReleaseReviewed))[0]
    assert reviewed.reviewer == reviewer.address and reviewed.approved


def test_reviewer_rejects_a_held_release(world, escrow, stablecoin, reviewer):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    world.verdict(gate_id, 6000)
    tx = escrow.reviewRelease(gate_id, False, sender=reviewer)
    assert world.status(agreement_id) == FLAGGED
    assert list(tx.decode_logs(escrow.ReleaseRejected))[0].score == 6000


def test_review_reverts(world, escrow, stablecoin, reviewer, outsider, guardian):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    with ape.reverts(escrow.EscrowUnknownGate):
        escrow.reviewRelease(42, True, sender=reviewer)
    with ape.reverts(escrow.EscrowInvalidStatus, status=GATED):
        escrow.reviewRelease(gate_id, True, sender=reviewer)
    world.verdict(gate_id, 6000)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.reviewRelease(gate_id, True, sender=outsider)
    escrow.pause(sender=guardian)
    with ape.reverts(escrow.EnforcedPause):
        escrow.reviewRelease(gate_id, True, sender=reviewer)
    world.warp(WINDOWS["review"] + 1)
    with ape.reverts(escrow.EscrowDeadlinePassed):
        escrow.reviewRelease(gate_id, False, sender=reviewer)


def test_reviewer_may_reject_while_paused(world, escrow, stablecoin, reviewer, guardian):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    world.verdict(gate_id, 6000)
    escrow.pause(sender=guardian)
    escrow.reviewRelease(gate_id, False, sender=reviewer)
    assert world.status(agreement_id) == FLAGGED


def test_gate_without_verdict_expires_back_to_funded(world, escrow, stablecoin, supplier, buyer, outsider):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    with ape.reverts(escrow.EscrowTooEarly):
        escrow.expireRelease(agreement_id, 0, sender=outsider)
    world.warp(WINDOWS["verdict"] + 1)
    tx = escrow.expireRelease(agreement_id, 0, sender=outsider)
    assert world.status(agreement_id) == FUNDED
    assert list(tx.decode_logs(escrow.ReleaseExpired))[0].gateId == gate_id
    assert escrow.gateStatus(gate_id) == DECIDED
    # It can be requested again, under a new gate id; the old one is dead.
    new_gate = world.gate(agreement_id, 0)
    assert new_gate == gate_id + 1
    assert world.verdict(gate_id, 0).return_value == DECIDED
    assert world.status(agreement_id) == GATED


def test_held_release_without_review_expires_back_to_funded(world, escrow, stablecoin, outsider, guardian):
    agreement_id, _ = world.create(stablecoin)
    world.verdict(world.gate(agreement_id, 0), 6000)
    escrow.pause(sender=guardian)
    world.warp(WINDOWS["review"] + 1)
    escrow.expireRelease(agreement_id, 0, sender=outsider)
    assert world.status(agreement_id) == FUNDED


def test_expire_requires_a_gated_or_held_release(world, escrow, stablecoin, outsider):
    agreement_id, _ = world.create(stablecoin)
    with ape.reverts(escrow.EscrowInvalidStatus, status=FUNDED):
        escrow.expireRelease(agreement_id, 0, sender=outsider)


def test_releases_stop_while_paused(world, escrow, stablecoin, supplier, buyer, guardian):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 1, sender=supplier)
    escrow.pause(sender=guardian)
    with ape.reverts(escrow.EnforcedPause):
        escrow.requestRelease(agreement_id, 0, sender=supplier)
    with ape.reverts(escrow.EnforcedPause):
        escrow.confirmRelease(agreement_id, 1, sender=buyer)
    world.warp(WINDOWS["confirmGrace"])
    with ape.reverts(escrow.EnforcedPause):
        escrow.autoConfirmRelease(agreement_id, 1, sender=buyer)


def test_sweep_fees_to_the_treasury(world, escrow, stablecoin, treasury, outsider):
    agreement_id, _ = world.create(stablecoin)
    world.verdict(world.gate(agreement_id, 0), 0)
    fee = escrow.feesAccrued(stablecoin)
    before = stablecoin.balanceOf(treasury)
    tx = escrow.sweepFees(stablecoin, sender=outsider)
    assert stablecoin.balanceOf(treasury) - before == fee
    assert escrow.feesAccrued(stablecoin) == 0
    assert list(tx.decode_logs(escrow.FeesSwept))[0].amount == fee
    with ape.reverts(escrow.EscrowNothingToWithdraw):
        escrow.sweepFees(stablecoin, sender=outsider)
