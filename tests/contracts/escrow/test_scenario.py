"""verdict_deploy.escrow: deploy_escrow wires the escrow into the suite; the demo scenario runs."""

import pytest
from router_helpers import NO_TERMS, submit

from verdict_deploy import deploy_world
from verdict_deploy.escrow import deploy_escrow, gate_waiter, run_escrow_scenario

MODEL_ID = b"\x33" * 32


@pytest.fixture(scope="module")
def suite(local_roles, buyer, supplier, arbiter, tmp_path_factory):
    """The suite without an escrow: the tests deploy theirs with `deploy_escrow`. (Requests the
    session-scoped roles first, so that none is created after this module's snapshot.)"""
    world = deploy_world(local_roles, models=[MODEL_ID], root=tmp_path_factory.mktemp("escrow-suite"))
    return world.oracle, world.router, world.stablecoin


def test_deploy_escrow_registers_roles_and_oracle_target(
    suite, deployer, arbiter, reviewer, guardian, treasury
):
    oracle, router, _ = suite
    escrow = deploy_escrow(
        deployer, router, oracle, arbiters=[arbiter], reviewers=[reviewer], guardian=guardian
    )
    assert oracle.isTarget(escrow)
    assert escrow.router() == router.address and escrow.oracle() == oracle.address
    assert escrow.treasury() == treasury.address
    assert escrow.hasRole(escrow.ARBITER_ROLE(), arbiter)
    assert escrow.hasRole(escrow.REVIEWER_ROLE(), reviewer)
    assert escrow.hasRole(escrow.GUARDIAN_ROLE(), guardian)


def test_scenario_three_milestones_one_disputed(suite, deployer, node, buyer, supplier, arbiter):
    oracle, router, stablecoin = suite
    escrow = deploy_escrow(deployer, router, oracle, arbiters=[arbiter])
    waiter = gate_waiter(escrow, timeout=1)

    def daemon_then_wait(gate_id):
        """Stands in for the oracle daemon: a low score through the real RiskOracle."""
        item = (escrow.address, gate_id, 1200, MODEL_ID, b"\x00" * 32, NO_TERMS)
        submit(oracle, [item], sender=node)
        waiter(gate_id)

    summary = run_escrow_scenario(escrow, stablecoin, buyer, supplier, arbiter, daemon_then_wait)

    assert [m["status"] for m in summary["milestones"]] == ["Released", "Released", "Released"]
    assert all(m["score"] == 1200 for m in summary["milestones"])
    dispute = summary["dispute"]
    assert dispute["milestone"] == 1 and dispute["supplier_bps"] == 7000
    assert dispute["supplier_amount"] + dispute["buyer_refund"] + dispute["arbiter_fee"] == 2500 * 10**6
    # Conservation: everything funded went to the supplier, back to the buyer, the arbiter or fees.
    total_out = (
        summary["supplier_received"]
        + summary["buyer_refunded"]
        + summary["arbiter_paid"]
        + summary["protocol_fees_accrued"]
    )
    assert total_out == summary["funded"] == 5000 * 10**6
    assert summary["still_escrowed"] == 0
    assert stablecoin.balanceOf(escrow) == summary["protocol_fees_accrued"]


def test_a_held_release_is_approved_by_the_reviewer(
    suite, deployer, node, buyer, supplier, arbiter, reviewer
):
    """`ape run escrow --review`: the last release scores in the review band and is held; the reviewer
    approves it, so every milestone is paid out (the docs walkthrough checks exactly that)."""
    oracle, router, stablecoin = suite
    escrow = deploy_escrow(deployer, router, oracle, arbiters=[arbiter], reviewers=[reviewer])
    waiter = gate_waiter(escrow, timeout=1)

    def daemon_then_wait(gate_id):
        score = 9_950 if gate_id == 3 else 1200  # gate 3: the last milestone's release
        submit(oracle, [(escrow.address, gate_id, score, MODEL_ID, b"\x00" * 32, NO_TERMS)], sender=node)
        waiter(gate_id)

    summary = run_escrow_scenario(
        escrow, stablecoin, buyer, supplier, arbiter, daemon_then_wait, reviewer=reviewer
    )
    assert summary["reviewed"] == [3]
    assert [m["status"] for m in summary["milestones"]] == ["Released", "Released", "Released"]
    assert summary["still_escrowed"] == 0
    settled = list(escrow.ReleaseSettled.query("event_arguments")["event_arguments"])
    assert sorted(int(e["gateId"]) for e in settled) == [1, 2, 3]
    assert sum(int(e["supplierAmount"]) for e in settled) == summary["supplier_received"]
