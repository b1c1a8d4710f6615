"""Disputes: opening, arbiter rulings (release, refund, split), deadlines, reclaim, pause."""

import ape
import pytest
from escrow_helpers import (
    DAY,
    DISPUTED,
    FLAGGED,
    FUNDED,
    GATED,
    HELD,
    REFUNDED,
    RELEASED,
    USD,
)

RULING = 7 * DAY
CONTEST = 3 * DAY


def _dispute(world, escrow, stablecoin, by, milestone=0):
    agreement_id, _ = world.create(stablecoin)
    escrow.openDispute(agreement_id, milestone, sender=by)
    return agreement_id


@pytest.mark.parametrize("party", ["buyer", "supplier"])
def test_either_party_opens_a_dispute(world, escrow, stablecoin, party, request):
    account = request.getfixturevalue(party)
    agreement_id, _ = world.create(stablecoin)
    tx = escrow.openDispute(agreement_id, 0, sender=account)
    milestone = escrow.milestoneOf(agreement_id, 0)
    assert milestone.status == DISPUTED
    opened = list(tx.decode_logs(escrow.DisputeOpened))[0]
    assert opened.by == account.address
    assert opened.rulingDeadline == milestone.deadline == tx.timestamp + RULING


def test_outsider_and_arbiter_cannot_open_a_dispute(world, escrow, stablecoin, outsider, arbiter):
    agreement_id, _ = world.create(stablecoin)
    for account in (outsider, arbiter):
        with ape.reverts(escrow.EscrowNotParty):
            escrow.openDispute(agreement_id, 0, sender=account)


@pytest.mark.parametrize("state", ["requested", "gated", "held", "flagged"])
def test_dispute_any_state_before_release(world, escrow, stablecoin, supplier, buyer, state):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 0, sender=supplier)
    if state != "requested":
        gate_id = escrow.confirmRelease(agreement_id, 0, sender=buyer).return_value
        if state == "held":
            world.verdict(gate_id, 6000)
        if state == "flagged":
            world.verdict(gate_id, 9000)
    escrow.openDispute(agreement_id, 0, sender=buyer)
    assert world.status(agreement_id) == DISPUTED


def test_dispute_kills_the_pending_gate(world, escrow, stablecoin, buyer, supplier):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    escrow.openDispute(agreement_id, 0, sender=buyer)
    before = stablecoin.balanceOf(supplier)
    assert world.verdict(gate_id, 0).return_value == 3  # Decided: not applied
    assert stablecoin.balanceOf(supplier) == before
    assert world.status(agreement_id) == DISPUTED


def test_no_dispute_after_release_or_twice(world, escrow, stablecoin, buyer, supplier):
    agreement_id, _ = world.create(stablecoin)
    world.verdict(world.gate(agreement_id, 0), 0)
    with ape.reverts(escrow.EscrowInvalidStatus, status=RELEASED):
        escrow.openDispute(agreement_id, 0, sender=buyer)
    escrow.openDispute(agreement_id, 1, sender=buyer)
    with ape.reverts(escrow.EscrowInvalidStatus, status=DISPUTED):
        escrow.openDispute(agreement_id, 1, sender=supplier)


def test_refund_ruling_pays_buyer_and_arbiter(world, escrow, stablecoin, buyer, arbiter):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    buyer_before = stablecoin.balanceOf(buyer)
    tx = escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)
    fee = 100 * USD * escrow.arbiterFeeBps() // 10_000
    assert stablecoin.balanceOf(arbiter) == fee
    assert stablecoin.balanceOf(buyer) - buyer_before == 100 * USD - fee
    assert world.status(agreement_id) == REFUNDED
    resolved = list(tx.decode_logs(escrow.DisputeResolved))[0]
    assert (resolved.supplierBps, resolved.supplierAmount, resolved.buyerAmount, resolved.arbiterFee) == (
        0,
        0,
        100 * USD - fee,
        fee,
    )


def test_release_ruling_sends_the_supplier_share_through_the_gate(
    world, escrow, stablecoin, buyer, supplier, arbiter
):
    agreement_id = _dispute(world, escrow, stablecoin, supplier)
    tx = escrow.resolveDispute(agreement_id, 0, 10_000, sender=arbiter)
    fee = 1 * USD
    assert world.status(agreement_id) == GATED
    assert world.amount(agreement_id) == 100 * USD - fee
    requested = list(tx.decode_logs(escrow.ReleaseRequested))[0]
    assert requested.amount == 100 * USD - fee
    before = stablecoin.balanceOf(supplier)
    world.verdict(requested.gateId, 0)
    assert stablecoin.balanceOf(supplier) - before == (100 * USD - fee) * 99 // 100
    assert world.status(agreement_id) == RELEASED


def test_split_ruling(world, escrow, stablecoin, buyer, supplier, arbiter):
    agreement_id = _dispute(world, escrow, stablecoin, buyer, milestone=1)  # 200 USD
    buyer_before = stablecoin.balanceOf(buyer)
    tx = escrow.resolveDispute(agreement_id, 1, 2500, sender=arbiter)
    fee = 2 * USD
    to_supplier = (200 * USD - fee) * 2500 // 10_000
    to_buyer = 200 * USD - fee - to_supplier
    assert stablecoin.balanceOf(buyer) - buyer_before == to_buyer
    assert stablecoin.balanceOf(arbiter) == fee
    assert world.amount(agreement_id, 1) == to_supplier
    assert world.status(agreement_id, 1) == GATED
    resolved = list(tx.decode_logs(escrow.DisputeResolved))[0]
    assert resolved.supplierAmount + resolved.buyerAmount + resolved.arbiterFee == 200 * USD


def test_rejected_ruling_share_is_flagged_and_reclaimable(
    world, escrow, stablecoin, buyer, arbiter, outsider
):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    tx = escrow.resolveDispute(agreement_id, 0, 10_000, sender=arbiter)
    world.verdict(list(tx.decode_logs(escrow.ReleaseRequested))[0].gateId, 9000)
    assert world.status(agreement_id) == FLAGGED
    world.warp(CONTEST + 1)
    before = stablecoin.balanceOf(buyer)
    escrow.reclaim(agreement_id, 0, sender=outsider)
    assert stablecoin.balanceOf(buyer) - before == 99 * USD
    assert world.status(agreement_id) == REFUNDED


def test_arbiter_cannot_rule_on_an_undisputed_milestone(world, escrow, stablecoin, arbiter):
    agreement_id, _ = world.create(stablecoin)
    with ape.reverts(escrow.EscrowNotDisputed, agreementId=agreement_id, milestone=0):
        escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)
    world.gate(agreement_id, 0)
    with ape.reverts(escrow.EscrowNotDisputed):
        escrow.resolveDispute(agreement_id, 0, 10_000, sender=arbiter)


def test_arbiter_cannot_rule_twice(world, escrow, stablecoin, buyer, arbiter, second_arbiter):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)
    with ape.reverts(escrow.EscrowNotDisputed):
        escrow.resolveDispute(agreement_id, 0, 10_000, sender=second_arbiter)


def test_arbiter_cannot_rule_after_the_deadline(world, escrow, stablecoin, buyer, arbiter):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    world.warp(RULING + 1)
    with ape.reverts(escrow.EscrowDeadlinePassed):
        escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)


def test_ruling_at_the_deadline_is_still_allowed(world, escrow, stablecoin, buyer, arbiter):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    world.chain.pending_timestamp = escrow.milestoneOf(agreement_id, 0).deadline
    escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)
    assert world.status(agreement_id) == REFUNDED


def test_only_arbiters_rule(world, escrow, stablecoin, buyer, outsider, reviewer):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    for account in (outsider, reviewer, buyer):
        with ape.reverts(escrow.AccessControlUnauthorizedAccount):
            escrow.resolveDispute(agreement_id, 0, 0, sender=account)


def test_arbiter_who_is_a_party_cannot_rule(world, escrow, stablecoin, deployer, buyer, supplier):
    escrow.grantRole(escrow.ARBITER_ROLE(), supplier, sender=deployer)
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    with ape.reverts(escrow.EscrowArbiterIsParty, arbiter=supplier.address):
        escrow.resolveDispute(agreement_id, 0, 10_000, sender=supplier)


def test_ruling_bps_out_of_range(world, escrow, stablecoin, buyer, arbiter):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    with ape.reverts(escrow.EscrowInvalidBps, bps=10_001):
        escrow.resolveDispute(agreement_id, 0, 10_001, sender=arbiter)


def test_buyer_reclaims_after_the_ruling_deadline(world, escrow, stablecoin, buyer, supplier, outsider):
    agreement_id = _dispute(world, escrow, stablecoin, supplier)
    with ape.reverts(escrow.EscrowTooEarly):
        escrow.reclaim(agreement_id, 0, sender=outsider)
    world.warp(RULING + 1)
    before = stablecoin.balanceOf(buyer)
    tx = escrow.reclaim(agreement_id, 0, sender=outsider)
    assert stablecoin.balanceOf(buyer) - before == 100 * USD
    assert world.status(agreement_id) == REFUNDED
    reclaimed = list(tx.decode_logs(escrow.MilestoneReclaimed))[0]
    assert reclaimed.buyer == buyer.address and reclaimed.amount == 100 * USD
    with ape.reverts(escrow.EscrowInvalidStatus, status=REFUNDED):
        escrow.reclaim(agreement_id, 0, sender=outsider)


def test_flagged_release_is_reclaimable_after_the_contest_window(world, escrow, stablecoin, buyer, outsider):
    agreement_id, _ = world.create(stablecoin)
    world.verdict(world.gate(agreement_id, 0), 9000)
    with ape.reverts(escrow.EscrowTooEarly):
        escrow.reclaim(agreement_id, 0, sender=outsider)
    world.warp(CONTEST + 1)
    escrow.reclaim(agreement_id, 0, sender=outsider)
    assert world.status(agreement_id) == REFUNDED


def test_reclaim_requires_disputed_or_flagged(world, escrow, stablecoin, outsider):
    agreement_id, _ = world.create(stablecoin)
    for milestone_state in (FUNDED,):
        with ape.reverts(escrow.EscrowInvalidStatus, status=milestone_state):
            escrow.reclaim(agreement_id, 0, sender=outsider)
    world.gate(agreement_id, 0)
    world.warp(2 * DAY)
    with ape.reverts(escrow.EscrowInvalidStatus, status=GATED):
        escrow.reclaim(agreement_id, 0, sender=outsider)


# --- pause -------------------------------------------------------------------------------------


def test_disputes_open_while_paused(world, escrow, stablecoin, buyer, guardian):
    agreement_id, _ = world.create(stablecoin)
    escrow.pause(sender=guardian)
    escrow.openDispute(agreement_id, 0, sender=buyer)
    assert world.status(agreement_id) == DISPUTED


def test_refund_ruling_works_while_paused(world, escrow, stablecoin, buyer, arbiter, guardian):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    escrow.pause(sender=guardian)
    escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)
    assert world.status(agreement_id) == REFUNDED


@pytest.mark.parametrize("bps", [1, 5000, 10_000])
def test_release_or_split_ruling_waits_for_unpause(
    world, escrow, stablecoin, buyer, arbiter, guardian, deployer, bps
):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    escrow.pause(sender=guardian)
    with ape.reverts(escrow.EnforcedPause):
        escrow.resolveDispute(agreement_id, 0, bps, sender=arbiter)
    escrow.unpause(sender=deployer)
    escrow.resolveDispute(agreement_id, 0, bps, sender=arbiter)
    assert world.status(agreement_id) in (GATED, REFUNDED)


def test_reclaim_works_while_paused(world, escrow, stablecoin, buyer, outsider, guardian):
    agreement_id = _dispute(world, escrow, stablecoin, buyer)
    escrow.pause(sender=guardian)
    world.warp(RULING + 1)
    escrow.reclaim(agreement_id, 0, sender=outsider)
    assert world.status(agreement_id) == REFUNDED


def test_held_then_disputed_then_refunded_never_pays_twice(
    world, escrow, stablecoin, buyer, supplier, arbiter, reviewer
):
    agreement_id, _ = world.create(stablecoin)
    gate_id = world.gate(agreement_id, 0)
    world.verdict(gate_id, 6000)
    assert world.status(agreement_id) == HELD
    escrow.openDispute(agreement_id, 0, sender=buyer)
    with ape.reverts(escrow.EscrowInvalidStatus, status=DISPUTED):
        escrow.reviewRelease(gate_id, True, sender=reviewer)
    escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)
    assert stablecoin.balanceOf(supplier) == 0
    assert world.status(agreement_id) == REFUNDED
