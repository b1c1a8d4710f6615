"""Attacks from the outside audit (issue 13) on the escrow, each named after the attack.

Each failed on the code before its fix; docs/security.md describes attack, cause and fix.
"""

import ape
from escrow_helpers import GATED, REFUNDED, RELEASED, USD

BPS = 10_000
MAX_FEE_BPS = 1000


def test_escrow_fee_capped_when_router_reports_max_fee(world, escrow, policy, stablecoin, supplier, treasury):
    """A router replaced by one that answers feeBps() = 10000 cannot take the whole release:
    the escrow caps the protocol fee at its own MAX_FEE_BPS (10%)."""
    agreement_id, _ = world.create(stablecoin, amounts=(1000 * USD,))
    gate_id = world.gate(agreement_id)
    policy.setFeeBps(BPS, sender=supplier)  # the stub answers whatever it is told, like a hostile router
    before = stablecoin.balanceOf(supplier)

    tx = world.verdict(gate_id, 0)

    fee = 1000 * USD * MAX_FEE_BPS // BPS
    settled = list(tx.decode_logs(escrow.ReleaseSettled))[0]
    assert (settled.supplierAmount, settled.fee) == (1000 * USD - fee, fee)
    assert stablecoin.balanceOf(supplier) - before == 1000 * USD - fee
    assert escrow.feesAccrued(stablecoin) == fee
    assert escrow.MAX_FEE_BPS() == MAX_FEE_BPS
    assert world.status(agreement_id) == RELEASED


def test_escrow_fee_cap_also_holds_on_reviewer_approval(
    world, escrow, policy, stablecoin, supplier, reviewer
):
    agreement_id, _ = world.create(stablecoin, amounts=(1000 * USD,))
    gate_id = world.gate(agreement_id)
    world.verdict(gate_id, 6000)  # the stub's review band is [5000, 8000)
    policy.setFeeBps(BPS, sender=supplier)
    before = stablecoin.balanceOf(supplier)

    escrow.reviewRelease(gate_id, True, sender=reviewer)

    assert stablecoin.balanceOf(supplier) - before == 900 * USD
    assert escrow.feesAccrued(stablecoin) == 100 * USD


def test_repeated_disputes_cannot_drain_milestone(world, escrow, stablecoin, buyer, supplier, arbiter):
    """An arbiter and a supplier loop openDispute (on the Gated share) -> resolveDispute(10000)
    with no verdict between: only the first ruling on a milestone pays the arbiter."""
    agreement_id, _ = world.create(stablecoin, amounts=(1000 * USD,))
    buyer_before = stablecoin.balanceOf(buyer)
    first_fee = 1000 * USD * escrow.arbiterFeeBps() // BPS

    fees = []
    for _ in range(10):
        escrow.openDispute(agreement_id, 0, sender=supplier)
        tx = escrow.resolveDispute(agreement_id, 0, BPS, sender=arbiter)
        fees.append(list(tx.decode_logs(escrow.DisputeResolved))[0].arbiterFee)
        assert world.status(agreement_id) == GATED

    assert fees == [first_fee] + [0] * 9
    assert stablecoin.balanceOf(arbiter) == first_fee
    assert world.amount(agreement_id) == 1000 * USD - first_fee
    assert stablecoin.balanceOf(buyer) == buyer_before


def test_repeated_disputes_after_a_split_pay_the_arbiter_once(
    world, escrow, stablecoin, buyer, supplier, arbiter
):
    agreement_id, _ = world.create(stablecoin, amounts=(1000 * USD,))
    buyer_before = stablecoin.balanceOf(buyer)
    escrow.openDispute(agreement_id, 0, sender=buyer)
    escrow.resolveDispute(agreement_id, 0, 5000, sender=arbiter)  # 990 left: 495 to the gate
    escrow.openDispute(agreement_id, 0, sender=buyer)
    tx = escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)

    assert list(tx.decode_logs(escrow.DisputeResolved))[0].arbiterFee == 0
    assert stablecoin.balanceOf(arbiter) == 10 * USD
    assert stablecoin.balanceOf(buyer) - buyer_before == 990 * USD
    assert world.status(agreement_id) == REFUNDED


def test_arbiter_fee_is_per_milestone(world, escrow, stablecoin, buyer, arbiter):
    agreement_id, _ = world.create(stablecoin, amounts=(100 * USD, 200 * USD))
    for milestone in (0, 1):
        escrow.openDispute(agreement_id, milestone, sender=buyer)
        escrow.resolveDispute(agreement_id, milestone, 0, sender=arbiter)
    assert stablecoin.balanceOf(arbiter) == 3 * USD
    with ape.reverts(escrow.EscrowInvalidStatus):
        escrow.openDispute(agreement_id, 0, sender=buyer)
