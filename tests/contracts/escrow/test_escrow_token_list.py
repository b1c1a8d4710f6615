"""Issue 13, item 6 (contract side), in the Escrow: agreements only in tokens the DAO lists.

The Escrow reads the router's one token list (`tokenPushGas`): an agreement in an unlisted token is
refused, a release pushes with the token's listed budget (capped at the escrow's own maximum
whatever the router answers), and a delisted token's escrowed money still leaves: its payouts are
credited for `withdraw`. Here the router is the policy stub (`PolicyStub.setToken`, unchecked like
a hostile router); the last test runs the real router.
"""

import ape
import pytest
from escrow_helpers import DAY, ETH, FLAGGED, REFUNDED, RELEASED, USD, agreement_state
from router_helpers import NO_TERMS

from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS, list_token

# GasBurningToken.Mode
NORMAL, BURN_ALL_GAS = range(2)
MIN_TOKEN_PUSH_GAS = 40_000
TOKEN_PUSH_GAS = 150_000
REJECT = 9000  # at or above the stub's reject threshold (8000)


def _burner(project, deployer, escrow, buyer):
    token = deployer.deploy(project.GasBurningToken)
    token.mint(buyer, 1_000_000 * USD, sender=deployer)
    token.approve(escrow, 2**256 - 1, sender=buyer)
    return token


@pytest.fixture
def burner(project, deployer, escrow, buyer):
    """A GasBurningToken the buyer holds and has approved; not listed; behaves until armed."""
    return _burner(project, deployer, escrow, buyer)


def test_unlisted_hostile_token_cannot_fund_an_agreement(world, escrow, burner, supplier, buyer, chain):
    with ape.reverts(escrow.EscrowTokenNotListed, token=burner.address):
        escrow.createAgreement(supplier, burner, [100 * USD], [chain.pending_timestamp + DAY], sender=buyer)
    assert escrow.agreementCount() == 0


def test_eth_agreements_need_no_listing(world, escrow):
    agreement_id, _ = world.create(None, amounts=(10**18,))
    assert agreement_state(escrow, agreement_id)[0].token == ETH


def test_escrow_release_push_uses_the_tokens_listed_budget(
    project, world, escrow, policy, buyer, supplier, deployer
):
    cheap = _burner(project, deployer, escrow, buyer)
    dear = _burner(project, deployer, escrow, buyer)
    policy.setToken(cheap, MIN_TOKEN_PUSH_GAS, sender=deployer)
    policy.setToken(dear, TOKEN_PUSH_GAS, sender=deployer)
    cheap_id, _ = world.create(cheap, amounts=(100 * USD,))
    dear_id, _ = world.create(dear, amounts=(100 * USD,))
    cheap_gate, dear_gate = world.gate(cheap_id), world.gate(dear_id)
    cheap.setMode(BURN_ALL_GAS, 0, sender=deployer)
    dear.setMode(BURN_ALL_GAS, 0, sender=deployer)

    at_min = world.verdict(cheap_gate, 0)
    at_max = world.verdict(dear_gate, 0)

    assert world.status(cheap_id) == world.status(dear_id) == RELEASED
    assert escrow.credited(supplier, cheap) > 0 and cheap.balanceOf(supplier) == 0
    print(f"\nhostile release: {at_min.gas_used:,} gas at a 40k budget, {at_max.gas_used:,} at 150k")
    assert at_max.gas_used - at_min.gas_used > (TOKEN_PUSH_GAS - MIN_TOKEN_PUSH_GAS) * 3 // 4


def test_a_router_answering_a_huge_budget_is_capped_by_the_escrow(
    world, escrow, policy, burner, supplier, deployer
):
    """Like the fee (issue 13.3), the escrow does not trust the router's number: at most 150,000."""
    policy.setToken(burner, 2**32 - 1, sender=deployer)
    agreement_id, _ = world.create(burner, amounts=(100 * USD,))
    gate_id = world.gate(agreement_id)
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)

    receipt = world.verdict(gate_id, 0)

    assert world.status(agreement_id) == RELEASED
    assert escrow.credited(supplier, burner) > 0
    assert receipt.gas_used < TOKEN_PUSH_GAS + 150_000


def test_delisting_never_traps_escrowed_funds(
    world, escrow, policy, stablecoin, buyer, supplier, outsider, deployer
):
    """Milestones funded before a delisting release, reclaim and withdraw; a new agreement is refused."""
    agreement_id, _ = world.create(stablecoin, amounts=(100 * USD, 200 * USD))
    released, flagged = world.gate(agreement_id, 0), world.gate(agreement_id, 1)
    policy.setToken(stablecoin, 0, sender=deployer)  # the router delisted it
    with ape.reverts(escrow.EscrowTokenNotListed, token=stablecoin.address):
        world.create(stablecoin, amounts=(100 * USD,))

    supplier_before, buyer_before = stablecoin.balanceOf(supplier), stablecoin.balanceOf(buyer)
    world.verdict(released, 0)
    world.verdict(flagged, REJECT)
    assert world.status(agreement_id, 1) == FLAGGED
    world.warp(escrow.windows().contest + 1)
    escrow.reclaim(agreement_id, 1, sender=outsider)

    assert world.status(agreement_id, 0) == RELEASED and world.status(agreement_id, 1) == REFUNDED
    payout = escrow.credited(supplier, stablecoin)
    assert payout == 100 * USD - escrow.feesAccrued(stablecoin)
    assert escrow.credited(buyer, stablecoin) == 200 * USD
    escrow.withdraw(stablecoin, sender=supplier)
    escrow.withdraw(stablecoin, sender=buyer)
    escrow.sweepFees(stablecoin, sender=outsider)
    assert stablecoin.balanceOf(supplier) == supplier_before + payout
    assert stablecoin.balanceOf(buyer) == buyer_before + 200 * USD
    assert stablecoin.balanceOf(escrow) == 0


def test_a_reverting_router_never_traps_escrowed_funds(
    project, world, escrow, stablecoin, buyer, outsider, deployer
):
    """A router replaced by one without the token list (it reverts) makes every payout a credit."""
    agreement_id, _ = world.create(stablecoin, amounts=(100 * USD,))
    escrow.openDispute(agreement_id, 0, sender=buyer)
    escrow.setRouter(outsider, sender=deployer)  # no code: every call to it fails
    world.warp(escrow.windows().ruling + 1)

    escrow.reclaim(agreement_id, 0, sender=outsider)

    assert world.status(agreement_id) == REFUNDED
    assert escrow.credited(buyer, stablecoin) == 100 * USD
    escrow.withdraw(stablecoin, sender=buyer)
    assert stablecoin.balanceOf(escrow) == 0


def test_escrow_reads_the_routers_one_token_list(project, chain, deployer, treasury, node, buyer, supplier):
    """With the real router: one listing serves both contracts; its budget is the escrow's too."""
    oracle = deployer.deploy(project.RiskOracle, deployer)
    router = deployer.deploy(project.PaymentRouter, deployer, oracle, treasury)
    escrow = deployer.deploy(project.Escrow, deployer, router, node, treasury)
    token = _burner(project, deployer, escrow, buyer)
    due = [chain.pending_timestamp + DAY]
    with ape.reverts(escrow.EscrowTokenNotListed, token=token.address):
        escrow.createAgreement(supplier, token, [100 * USD], due, sender=buyer)

    list_token(router, token, deployer, DEFAULT_TOKEN_PUSH_GAS)
    agreement_id = escrow.createAgreement(supplier, token, [100 * USD], due, sender=buyer).return_value
    escrow.requestRelease(agreement_id, 0, sender=supplier)
    gate_id = escrow.confirmRelease(agreement_id, 0, sender=buyer).return_value
    router.delistToken(token, sender=deployer)
    escrow.applyVerdict(gate_id, 0, NO_TERMS, sender=node)

    assert escrow.milestoneOf(agreement_id, 0).status == RELEASED
    assert token.balanceOf(supplier) == 0 and escrow.credited(supplier, token) > 0
