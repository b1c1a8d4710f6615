"""Escrow releases through the real RiskOracle (submitVerdicts) under the real PaymentRouter policy."""

import pytest
from escrow_helpers import DAY, DECIDED, EXPIRED, FLAGGED, HELD, RELEASED, USD
from router_helpers import NO_TERMS, submit

from verdict_deploy import Roles, deploy_world

MODEL_ID = b"\x11" * 32
REASONS = b"\x22" * 32


@pytest.fixture(scope="module")
def real(deployer, node, extra_nodes, buyer, supplier, arbiter, tmp_path_factory):
    """The deployed world with the escrow: three nodes (quorum 1), the arbiter from Roles.local()."""
    roles = Roles.local(nodes=(node, *extra_nodes))
    world = deploy_world(roles, models=[MODEL_ID], escrow=True, root=tmp_path_factory.mktemp("escrow-world"))
    token, escrow = world.stablecoin, world.escrow
    token.mint(buyer, 1_000_000 * USD, sender=deployer)
    token.approve(escrow, 2**256 - 1, sender=buyer)
    return {"oracle": world.oracle, "router": world.router, "escrow": escrow, "token": token}


def _gated(real, chain, buyer, supplier, amounts=(100 * USD, 200 * USD)):
    escrow = real["escrow"]
    dues = [chain.pending_timestamp + 30 * DAY] * len(amounts)
    agreement_id = escrow.createAgreement(
        supplier, real["token"], list(amounts), dues, sender=buyer
    ).return_value
    gates = []
    for milestone in range(len(amounts)):
        escrow.requestRelease(agreement_id, milestone, sender=supplier)
        gates.append(escrow.confirmRelease(agreement_id, milestone, sender=buyer).return_value)
    return agreement_id, gates


def _verdict(real, gate_id, score):
    return (real["escrow"].address, gate_id, score, MODEL_ID, REASONS, NO_TERMS)


def test_submit_verdicts_settles_and_flags_escrow_releases(real, chain, node, buyer, supplier):
    escrow, token, router = real["escrow"], real["token"], real["router"]
    agreement_id, (gate_a, gate_b) = _gated(real, chain, buyer, supplier)

    submit(
        real["oracle"],
        [_verdict(real, gate_a, 100), _verdict(real, gate_b, router.rejectThreshold())],
        sender=node,
    )

    fee = 100 * USD * router.feeBps() // 10_000
    assert token.balanceOf(supplier) == 100 * USD - fee
    assert escrow.milestoneOf(agreement_id, 0).status == RELEASED
    assert escrow.milestoneOf(agreement_id, 1).status == FLAGGED
    assert escrow.gateStatus(gate_a) == DECIDED
    assert real["oracle"].finalScore(escrow, gate_a) == (True, 100)


def test_quorum_of_three_takes_the_median(real, chain, deployer, node, extra_nodes, buyer, supplier):
    escrow, oracle, router = real["escrow"], real["oracle"], real["router"]
    oracle.setQuorum(3, sender=deployer)
    agreement_id, (gate_id, _) = _gated(real, chain, buyer, supplier)
    review = router.reviewThreshold()
    for account, score in zip((node, *extra_nodes), (0, review + 1, 10_000), strict=True):
        submit(oracle, [_verdict(real, gate_id, score)], sender=account)
    assert escrow.milestoneOf(agreement_id, 0).status == HELD  # median = review + 1


def test_oracle_skips_an_expired_escrow_gate(real, chain, node, buyer, supplier):
    escrow = real["escrow"]
    agreement_id, (gate_id, _) = _gated(real, chain, buyer, supplier)
    chain.pending_timestamp += escrow.windows().verdict + 1
    chain.mine()
    assert escrow.gateStatus(gate_id) == EXPIRED
    tx = submit(real["oracle"], [_verdict(real, gate_id, 0)], sender=node)
    assert len(list(tx.decode_logs(real["oracle"].VerdictSkipped))) == 1
    assert real["token"].balanceOf(supplier) == 0


def test_release_gas_through_the_real_oracle(real, chain, node, buyer, supplier):
    escrow = real["escrow"]
    dues = [chain.pending_timestamp + 30 * DAY]
    agreement_id = escrow.createAgreement(
        supplier, real["token"], [100 * USD], dues, sender=buyer
    ).return_value
    request = escrow.requestRelease(agreement_id, 0, sender=supplier)
    confirm = escrow.confirmRelease(agreement_id, 0, sender=buyer)
    verdict = submit(real["oracle"], [_verdict(real, confirm.return_value, 100)], sender=node)
    total = request.gas_used + confirm.gas_used + verdict.gas_used
    print(
        f"\nGAS release via RiskOracle: request={request.gas_used} confirm={confirm.gas_used} "
        f"submitVerdicts+paid={verdict.gas_used} total={total}"
    )
    assert escrow.milestoneOf(agreement_id, 0).status == RELEASED
