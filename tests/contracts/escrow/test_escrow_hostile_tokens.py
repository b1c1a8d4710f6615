"""Escrow payouts against hostile tokens and suppliers (the gas-capped pushes of SafePush).

A release, a ruling or a refund pushes with a bounded amount of gas and credits a push that
fails, so a token whose `transfer` burns all its gas cannot starve the other releases of a
RiskOracle verdict batch.
"""

import pytest
from escrow_helpers import DAY, ETH, REFUNDED, RELEASED, USD
from router_helpers import NO_TERMS, submit

from verdict_deploy.suite import list_token

MODEL_ID = b"\x11" * 32
REASONS = b"\x22" * 32
TOKEN_PUSH_GAS = 150_000

# GasBurningToken.Mode
NORMAL, BURN_ALL_GAS, BURN_GAS, RETURN_BOMB, RETURN_NOTHING = range(5)

BATCH = 20
STABLE_MILESTONES = BATCH - 2
HOSTILE_TOKEN_AT = 10  # positions of the two hostile items in the verdict batch
HOSTILE_ETH_AT = 15
BATCH_GAS_LIMIT = 1_500_000  # the batch takes about 1.1M gas; without the cap it ran out at item 10


@pytest.fixture(scope="module")
def real(project, deployer, treasury, node, buyer):
    """The real RiskOracle and PaymentRouter policy in front of a fresh Escrow."""
    oracle = deployer.deploy(project.RiskOracle, deployer)
    router = deployer.deploy(project.PaymentRouter, deployer, oracle, treasury)
    escrow = deployer.deploy(project.Escrow, deployer, router, oracle, treasury)
    oracle.addTarget(escrow, sender=deployer)
    oracle.approveModel(MODEL_ID, sender=deployer)
    oracle.addNode(node, sender=deployer)
    token = deployer.deploy(project.MockStablecoin)
    token.mint(buyer, 1_000_000 * USD, sender=deployer)
    token.approve(escrow, 2**256 - 1, sender=buyer)
    burner = deployer.deploy(project.GasBurningToken)
    burner.mint(buyer, 1_000_000 * USD, sender=deployer)
    burner.approve(escrow, 2**256 - 1, sender=buyer)
    list_token(router, token, deployer)
    list_token(router, burner, deployer, TOKEN_PUSH_GAS)  # listed at the most a budget may be
    supplier_contract = deployer.deploy(project.EscrowMaliciousSupplier, escrow)
    return {
        "oracle": oracle,
        "router": router,
        "escrow": escrow,
        "token": token,
        "burner": burner,
        "mal_supplier": supplier_contract,
    }


@pytest.fixture(scope="module", autouse=True)
def everyone_first(real, deployer, node, buyer, supplier, arbiter, outsider):
    """Module- and session-scoped fixtures before the first test's snapshot (ape isolation)."""


@pytest.fixture
def burner(project, deployer, escrow, policy, buyer):
    """A GasBurningToken for the session escrow, listed at the largest budget (the cap these tests
    measure against); it behaves until a test arms it."""
    token = deployer.deploy(project.GasBurningToken)
    policy.setToken(token, TOKEN_PUSH_GAS, sender=deployer)
    token.mint(buyer, 1_000_000 * USD, sender=deployer)
    token.approve(escrow, 2**256 - 1, sender=buyer)
    return token


def _create(escrow, chain, buyer, supplier, token, amounts, value=0):
    dues = [chain.pending_timestamp + 30 * DAY] * len(amounts)
    return escrow.createAgreement(
        supplier, token, list(amounts), dues, sender=buyer, value=value
    ).return_value


def _gate_all(escrow, buyer, supplier, agreement_id, count) -> list[int]:
    gates = []
    for milestone in range(count):
        escrow.requestRelease(agreement_id, milestone, sender=supplier)
        gates.append(escrow.confirmRelease(agreement_id, milestone, sender=buyer).return_value)
    return gates


def test_escrow_exposes_the_token_push_gas_cap(escrow):
    assert escrow.TOKEN_PUSH_GAS() == TOKEN_PUSH_GAS


def test_hostile_token_and_supplier_cannot_starve_an_escrow_verdict_batch(
    real, chain, deployer, node, buyer, supplier
):
    escrow, token, burner, mal = real["escrow"], real["token"], real["burner"], real["mal_supplier"]
    amount = 100 * USD
    stable_id = _create(escrow, chain, buyer, supplier, token, [amount] * STABLE_MILESTONES)
    stable_gates = _gate_all(escrow, buyer, supplier, stable_id, STABLE_MILESTONES)
    burner_id = _create(escrow, chain, buyer, supplier, burner, [amount])
    (burner_gate,) = _gate_all(escrow, buyer, supplier, burner_id, 1)
    eth_id = _create(escrow, chain, buyer, mal, ETH, [10**18], value=10**18)
    mal.execute(escrow.requestRelease.encode_input(eth_id, 0), sender=deployer)
    eth_gate = escrow.confirmRelease(eth_id, 0, sender=buyer).return_value

    gates = list(stable_gates)
    gates.insert(HOSTILE_TOKEN_AT, burner_gate)
    gates.insert(HOSTILE_ETH_AT, eth_gate)
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)
    mal.arm(3, b"", sender=deployer)  # its receive burns all the gas it is given

    receipt = submit(
        real["oracle"],
        [(escrow.address, g, 100, MODEL_ID, REASONS, NO_TERMS) for g in gates],
        sender=node,
        gas_limit=BATCH_GAS_LIMIT,
    )

    fee_bps = real["router"].feeBps()
    payout = amount - amount * fee_bps // 10_000
    eth_payout = 10**18 - 10**18 * fee_bps // 10_000
    statuses = [escrow.milestoneOf(stable_id, m).status for m in range(STABLE_MILESTONES)]
    assert statuses == [RELEASED] * STABLE_MILESTONES
    assert escrow.milestoneOf(burner_id, 0).status == RELEASED
    assert escrow.milestoneOf(eth_id, 0).status == RELEASED
    assert token.balanceOf(supplier) == payout * STABLE_MILESTONES
    assert escrow.credited(supplier, burner) == payout and burner.balanceOf(supplier) == 0
    assert escrow.credited(mal, ETH) == eth_payout
    credited = [(c.account, c.token, c.amount) for c in receipt.decode_logs(escrow.Credited)]
    assert credited == [(supplier.address, burner.address, payout), (mal.address, ETH, eth_payout)]
    print(
        f"\nescrow verdict batch of {BATCH} with a gas-burning token and supplier: {receipt.gas_used:,} gas"
    )
    assert receipt.gas_used < BATCH * 60_000 + TOKEN_PUSH_GAS + 50_000 + 60_000


def test_hostile_token_in_a_ruling_credits_the_arbiter_and_the_buyer(
    world, escrow, burner, buyer, arbiter, deployer
):
    agreement_id, _ = world.create(burner, amounts=(100 * USD,))
    escrow.openDispute(agreement_id, 0, sender=buyer)
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)

    receipt = escrow.resolveDispute(agreement_id, 0, 0, sender=arbiter)  # all to the buyer

    fee = 100 * USD * escrow.arbiterFeeBps() // 10_000
    assert world.status(agreement_id) == REFUNDED
    assert escrow.credited(arbiter, burner) == fee
    assert escrow.credited(buyer, burner) == 100 * USD - fee
    assert receipt.gas_used < 2 * TOKEN_PUSH_GAS + 150_000


def test_hostile_token_reclaim_credits_the_buyer(world, escrow, burner, buyer, supplier, outsider, deployer):
    agreement_id, _ = world.create(burner, amounts=(100 * USD,))
    escrow.openDispute(agreement_id, 0, sender=supplier)
    world.warp(escrow.windows().ruling + 1)
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)

    receipt = escrow.reclaim(agreement_id, 0, sender=outsider)

    assert world.status(agreement_id) == REFUNDED
    assert escrow.credited(buyer, burner) == 100 * USD
    assert receipt.gas_used < TOKEN_PUSH_GAS + 100_000


def test_return_bomb_token_release_pays_the_supplier(world, escrow, burner, supplier, deployer):
    agreement_id, _ = world.create(burner, amounts=(100 * USD,))
    gate_id = world.gate(agreement_id)
    burner.setMode(RETURN_BOMB, 64 * 1024, sender=deployer)  # `true` followed by 64 KiB

    receipt = world.verdict(gate_id, 0)

    assert world.status(agreement_id) == RELEASED
    assert burner.balanceOf(supplier) == 100 * USD - escrow.feesAccrued(burner)
    assert escrow.credited(supplier, burner) == 0
    assert receipt.gas_used < TOKEN_PUSH_GAS + 150_000


def test_token_needing_more_than_the_cap_is_credited_then_withdrawn(
    world, escrow, burner, supplier, deployer
):
    agreement_id, _ = world.create(burner, amounts=(100 * USD,))
    gate_id = world.gate(agreement_id)
    burner.setMode(BURN_GAS, 200_000, sender=deployer)  # honest, but dearer than the cap

    world.verdict(gate_id, 0)
    owed = escrow.credited(supplier, burner)
    assert owed > 0 and burner.balanceOf(supplier) == 0

    escrow.withdraw(burner, sender=supplier)  # the pull sends all remaining gas
    assert burner.balanceOf(supplier) == owed
    assert escrow.credited(supplier, burner) == 0
    assert world.status(agreement_id) == RELEASED
