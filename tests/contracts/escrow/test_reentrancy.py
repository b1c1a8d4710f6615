"""A malicious supplier (ETH receive) or a malicious token can neither re-enter nor block."""

import ape
import pytest
from escrow_helpers import DAY, ETH, FLAGGED, REFUNDED, RELEASED
from router_helpers import NO_TERMS

from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS

AMOUNT = 10**18


@pytest.fixture
def mal_supplier(project, deployer, escrow):
    return deployer.deploy(project.EscrowMaliciousSupplier, escrow)


@pytest.fixture
def mal_token(project, deployer, escrow, policy, buyer):
    token = deployer.deploy(project.EscrowReentrantToken)
    policy.setToken(token, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    token.mint(buyer, 10**24, sender=deployer)
    token.approve(escrow, 2**256 - 1, sender=buyer)
    return token


def _eth_agreement_with(world, escrow, buyer, supplier_contract, amounts=(AMOUNT, AMOUNT)):
    dues = [world.now() + DAY] * len(amounts)
    tx = escrow.createAgreement(supplier_contract, ETH, list(amounts), dues, sender=buyer, value=sum(amounts))
    return tx.return_value


def _gate_via(escrow, supplier_contract, buyer, agreement_id, milestone=0):
    supplier_contract.execute(escrow.requestRelease.encode_input(agreement_id, milestone), sender=buyer)
    return escrow.confirmRelease(agreement_id, milestone, sender=buyer).return_value


def test_reverting_reentrant_supplier_is_credited_and_withdraws_later(
    world, chain, escrow, buyer, mal_supplier
):
    agreement_id = _eth_agreement_with(world, escrow, buyer, mal_supplier)
    gate_id = _gate_via(escrow, mal_supplier, buyer, agreement_id)
    mal_supplier.arm(1, escrow.withdraw.encode_input(ETH), sender=buyer)

    tx = world.verdict(gate_id, 0)  # the verdict never reverts because of the supplier

    payout = AMOUNT * 99 // 100
    assert world.status(agreement_id) == RELEASED
    assert escrow.credited(mal_supplier, ETH) == payout
    credited = list(tx.decode_logs(escrow.Credited))[0]
    assert credited.account == mal_supplier.address and credited.amount == payout
    assert chain.provider.get_balance(mal_supplier.address) == 0

    mal_supplier.arm(0, b"", sender=buyer)
    mal_supplier.execute(escrow.withdraw.encode_input(ETH), sender=buyer)
    assert chain.provider.get_balance(mal_supplier.address) == payout
    assert escrow.credited(mal_supplier, ETH) == 0


def test_withdraw_cannot_be_reentered(world, chain, escrow, buyer, mal_supplier):
    agreement_id = _eth_agreement_with(world, escrow, buyer, mal_supplier)
    gate_id = _gate_via(escrow, mal_supplier, buyer, agreement_id)
    mal_supplier.arm(1, escrow.withdraw.encode_input(ETH), sender=buyer)
    world.verdict(gate_id, 0)
    # Armed, the withdraw re-enters withdraw from receive(): blocked, so the whole withdraw fails.
    with ape.reverts():
        mal_supplier.execute(escrow.withdraw.encode_input(ETH), sender=buyer)
    assert escrow.credited(mal_supplier, ETH) == AMOUNT * 99 // 100


def test_swallowing_supplier_gets_paid_once_and_reentry_fails(world, chain, escrow, buyer, mal_supplier):
    agreement_id = _eth_agreement_with(world, escrow, buyer, mal_supplier)
    gate_id = _gate_via(escrow, mal_supplier, buyer, agreement_id)
    # While being paid for milestone 0, try to dispute milestone 1.
    mal_supplier.arm(2, escrow.openDispute.encode_input(agreement_id, 1), sender=buyer)
    world.verdict(gate_id, 0)
    assert chain.provider.get_balance(mal_supplier.address) == AMOUNT * 99 // 100
    assert mal_supplier.reentryAttempts() == 1
    assert not mal_supplier.lastReentrySucceeded()
    assert world.status(agreement_id, 1) == 1  # still Funded


def test_gas_burning_supplier_cannot_block_the_verdict(world, escrow, buyer, mal_supplier):
    agreement_id = _eth_agreement_with(world, escrow, buyer, mal_supplier)
    gate_id = _gate_via(escrow, mal_supplier, buyer, agreement_id)
    mal_supplier.arm(3, b"", sender=buyer)
    tx = world.verdict(gate_id, 0)
    assert world.status(agreement_id) == RELEASED
    assert escrow.credited(mal_supplier, ETH) == AMOUNT * 99 // 100
    assert tx.gas_used < 300_000


def test_token_reentering_on_payout_is_blocked_and_credited(world, escrow, buyer, supplier, mal_token):
    agreement_id, _ = world.create(mal_token, amounts=(AMOUNT, AMOUNT))
    gate_id = world.gate(agreement_id, 0)
    mal_token.arm(escrow, 1, escrow.reclaim.encode_input(agreement_id, 1), sender=buyer)
    world.verdict(gate_id, 0)
    assert world.status(agreement_id) == RELEASED
    assert escrow.credited(supplier, mal_token) == AMOUNT * 99 // 100
    assert mal_token.balanceOf(supplier) == 0


def test_token_swallowing_reentry_pays_once(world, escrow, buyer, supplier, mal_token):
    agreement_id, _ = world.create(mal_token, amounts=(AMOUNT, AMOUNT))
    gate_id = world.gate(agreement_id, 0)
    mal_token.arm(escrow, 2, escrow.applyVerdict.encode_input(gate_id, 0, NO_TERMS), sender=buyer)
    world.verdict(gate_id, 0)
    assert mal_token.balanceOf(supplier) == AMOUNT * 99 // 100
    assert not mal_token.lastReentrySucceeded()
    assert mal_token.balanceOf(escrow) == AMOUNT + escrow.feesAccrued(mal_token)


def test_token_reentering_create_is_blocked(world, escrow, buyer, supplier, mal_token):
    dues = [world.now() + DAY]
    reenter = escrow.createAgreement.encode_input(supplier, mal_token, [1], dues)
    mal_token.arm(escrow, 1, reenter, sender=buyer)
    with ape.reverts():
        escrow.createAgreement(supplier, mal_token, [AMOUNT], dues, sender=buyer)
    mal_token.arm(escrow, 2, reenter, sender=buyer)
    escrow.createAgreement(supplier, mal_token, [AMOUNT], dues, sender=buyer)
    assert escrow.agreementCount() == 1
    assert mal_token.balanceOf(escrow) == AMOUNT


def test_token_blocking_refunds_credits_the_buyer(world, escrow, buyer, arbiter, mal_token):
    agreement_id, _ = world.create(mal_token, amounts=(AMOUNT,))
    escrow.openDispute(agreement_id, 0, sender=buyer)
    mal_token.arm(escrow, 3, b"", sender=buyer)
    escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)  # never reverts for the token
    assert world.status(agreement_id) == REFUNDED
    fee = AMOUNT // 100
    assert escrow.credited(buyer, mal_token) == AMOUNT - fee
    assert escrow.credited(arbiter, mal_token) == fee
    with ape.reverts():
        escrow.withdraw(mal_token, sender=buyer)
    mal_token.arm(escrow, 0, b"", sender=buyer)
    escrow.withdraw(mal_token, sender=buyer)
    assert mal_token.balanceOf(escrow) == fee


def test_withdraw_with_nothing_credited_reverts(escrow, outsider):
    with ape.reverts(escrow.EscrowNothingToWithdraw):
        escrow.withdraw(ETH, sender=outsider)


def test_flag_moves_no_money_even_with_a_hostile_token(world, escrow, buyer, mal_token):
    agreement_id, _ = world.create(mal_token, amounts=(AMOUNT,))
    gate_id = world.gate(agreement_id, 0)
    mal_token.arm(escrow, 3, b"", sender=buyer)
    world.verdict(gate_id, 9000)
    assert world.status(agreement_id) == FLAGGED
    assert mal_token.balanceOf(escrow) == AMOUNT
