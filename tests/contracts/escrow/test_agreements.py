"""Creating agreements: ETH, ERC-20, fee-on-transfer, and every way to get it wrong."""

import ape
import pytest
from escrow_helpers import DAY, ETH, FUNDED, USD, agreement_state, balance_of

from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS


def test_create_with_stablecoin_escrows_every_milestone(world, escrow, stablecoin, buyer, supplier):
    before = stablecoin.balanceOf(buyer)
    agreement_id, tx = world.create(stablecoin, amounts=(100 * USD, 200 * USD, 300 * USD))

    assert agreement_id == 1
    assert escrow.agreementCount() == 1
    assert stablecoin.balanceOf(escrow) == 600 * USD
    assert stablecoin.balanceOf(buyer) == before - 600 * USD
    agreement, milestones = agreement_state(escrow, agreement_id)
    assert agreement.buyer == buyer.address
    assert agreement.supplier == supplier.address
    assert agreement.token == stablecoin.address
    assert agreement.milestoneCount == 3
    assert [m.amount for m in milestones] == [100 * USD, 200 * USD, 300 * USD]
    assert all(m.status == FUNDED and m.gateId == 0 and m.deadline == 0 for m in milestones)
    assert list(tx.decode_logs(escrow.AgreementCreated))[0].funded == 600 * USD


def test_create_with_eth(world, chain, escrow):
    before = balance_of(chain, None, escrow)
    agreement_id, _ = world.create(None, amounts=(10**17, 2 * 10**17))
    assert balance_of(chain, None, escrow) - before == 3 * 10**17
    _, milestones = agreement_state(escrow, agreement_id)
    assert [m.amount for m in milestones] == [10**17, 2 * 10**17]


def test_fee_on_transfer_token_is_credited_net_pro_rata(project, deployer, world, escrow, policy, buyer):
    token = deployer.deploy(project.EscrowFeeToken)
    policy.setToken(token, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    token.mint(buyer, 10_000, sender=deployer)
    token.approve(escrow, 10_000, sender=buyer)
    agreement_id, tx = world.create(token, amounts=(1000, 2000, 3001))

    received = token.balanceOf(escrow)
    assert received == 6001 - 60  # 1% burned in transit
    _, milestones = agreement_state(escrow, agreement_id)
    amounts = [m.amount for m in milestones]
    assert sum(amounts) == received
    assert amounts[0] == 1000 * received // 6001
    assert amounts[1] == 2000 * received // 6001
    assert list(tx.decode_logs(escrow.AgreementCreated))[0].funded == received


def test_create_reverts_when_paused(world, escrow, stablecoin, guardian):
    escrow.pause(sender=guardian)
    with ape.reverts(escrow.EnforcedPause):
        world.create(stablecoin)


def test_create_reverts_for_zero_supplier(world, escrow, stablecoin, buyer):
    with ape.reverts(escrow.EscrowZeroAddress):
        escrow.createAgreement(ETH, stablecoin, [1], [world.now() + DAY], sender=buyer)


def test_create_reverts_for_self_deal(world, escrow, stablecoin, buyer):
    with ape.reverts(escrow.EscrowSelfDeal):
        escrow.createAgreement(buyer, stablecoin, [1], [world.now() + DAY], sender=buyer)


@pytest.mark.parametrize("count", [0, 65])
def test_create_reverts_for_bad_milestone_count(world, escrow, stablecoin, buyer, supplier, count):
    with ape.reverts(escrow.EscrowInvalidMilestones, count=count):
        escrow.createAgreement(supplier, stablecoin, [1] * count, [world.now() + DAY] * count, sender=buyer)


def test_create_reverts_for_length_mismatch(world, escrow, stablecoin, buyer, supplier):
    with ape.reverts(escrow.EscrowLengthMismatch):
        escrow.createAgreement(supplier, stablecoin, [1, 2], [world.now() + DAY], sender=buyer)


def test_create_reverts_for_zero_amount(world, escrow, stablecoin, buyer, supplier):
    with ape.reverts(escrow.EscrowZeroAmount, milestone=1):
        escrow.createAgreement(supplier, stablecoin, [1, 0], [world.now() + DAY] * 2, sender=buyer)


def test_create_reverts_for_past_due_date(world, chain, escrow, stablecoin, buyer, supplier):
    past = chain.blocks.head.timestamp
    with ape.reverts(escrow.EscrowInvalidDueDate):
        escrow.createAgreement(supplier, stablecoin, [1], [past], sender=buyer)


def test_create_reverts_when_total_overflows_96_bits(world, escrow, stablecoin, buyer, supplier):
    with ape.reverts(escrow.EscrowAmountTooLarge):
        escrow.createAgreement(supplier, stablecoin, [2**95, 2**95], [world.now() + DAY] * 2, sender=buyer)


def test_create_reverts_for_eth_value_mismatch(world, escrow, buyer, supplier):
    with ape.reverts(escrow.EscrowValueMismatch, expected=100, sent=99):
        escrow.createAgreement(supplier, ETH, [100], [world.now() + DAY], sender=buyer, value=99)


def test_create_reverts_for_value_with_a_token(world, escrow, stablecoin, buyer, supplier):
    with ape.reverts(escrow.EscrowUnexpectedValue):
        escrow.createAgreement(supplier, stablecoin, [100], [world.now() + DAY], sender=buyer, value=1)


def test_create_reverts_for_token_without_code(world, escrow, buyer, supplier, outsider):
    with ape.reverts(escrow.EscrowNotAToken):
        escrow.createAgreement(supplier, outsider, [100], [world.now() + DAY], sender=buyer)


def test_create_reverts_without_allowance(world, escrow, stablecoin, supplier, outsider):
    stablecoin.mint(outsider, 100, sender=outsider)
    with ape.reverts():
        escrow.createAgreement(supplier, stablecoin, [100], [world.now() + DAY], sender=outsider)


def test_unknown_agreement_and_milestone(world, escrow, stablecoin, supplier):
    with ape.reverts(escrow.EscrowUnknownAgreement, agreementId=9):
        escrow.agreementState(9)
    with ape.reverts(escrow.EscrowUnknownAgreement):
        escrow.requestRelease(9, 0, sender=supplier)
    agreement_id, _ = world.create(stablecoin)
    with ape.reverts(escrow.EscrowUnknownMilestone, milestone=3):
        escrow.requestRelease(agreement_id, 3, sender=supplier)


def test_escrow_rejects_plain_eth(escrow, buyer):
    with ape.reverts():
        buyer.transfer(escrow, 1)
