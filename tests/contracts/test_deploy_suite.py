"""deploy_world: the suite deployed wired both ways with its roles, and the record it writes."""

from __future__ import annotations

import json

import pytest
from router_helpers import ETH, MODEL_ID, REF, SAFE_SCORE, submit, verdict

from verdict_deploy import Roles, deploy_world, write_deployment


@pytest.fixture(scope="module")
def world(roles, node, extra_nodes, tmp_path_factory):
    """Three nodes, a quorum of two, every other role from Roles.local()."""
    three_nodes = Roles.local(nodes=(node, *extra_nodes), quorum=2)
    return deploy_world(three_nodes, models=[MODEL_ID], root=tmp_path_factory.mktemp("suite"))


@pytest.fixture(scope="module")
def suite(world):
    return world.contracts


def test_deploy_suite_wires_router_and_oracle(
    suite, deployer, treasury, node, extra_nodes, reviewer, guardian
):
    oracle, router = suite["RiskOracle"], suite["PaymentRouter"]

    assert set(suite) == {"RiskOracle", "PaymentRouter", "MockStablecoin"}
    assert router.oracle() == oracle.address
    assert oracle.isTarget(router)
    assert router.treasury() == treasury.address
    assert set(oracle.nodes()) == {a.address for a in (node, *extra_nodes)}
    assert oracle.quorum() == 2
    assert oracle.isModelApproved(MODEL_ID)
    assert router.hasRole(router.REVIEWER_ROLE(), reviewer)
    assert router.hasRole(router.GUARDIAN_ROLE(), guardian)
    assert router.hasRole(router.DEFAULT_ADMIN_ROLE(), deployer)
    assert oracle.hasRole(oracle.DEFAULT_ADMIN_ROLE(), deployer)


def test_deployed_suite_settles_a_payment(suite, payer, payee, node, extra_nodes):
    oracle, router = suite["RiskOracle"], suite["PaymentRouter"]
    router.pay(payee, ETH, 10**18, REF, sender=payer, value=10**18)
    for voter in (node, extra_nodes[0]):
        submit(oracle, [verdict(router, 1, SAFE_SCORE)], sender=voter)
    assert router.payment(1).status == 3  # Settled


def test_write_deployment_records_addresses_and_block(suite, chain, tmp_path):
    path = write_deployment("local", suite, 7, root=tmp_path)

    assert path == tmp_path / "deployments" / "local.json"
    record = json.loads(path.read_text())
    assert record["network"] == "local"
    assert record["chain_id"] == chain.chain_id
    assert record["block"] == 7
    assert record["contracts"] == {name: c.address for name, c in suite.items()}


def test_deploy_world_records_its_own_deployment(world, chain):
    record = json.loads(world.deployment.read_text())
    assert world.deployment.name == "local.json"
    assert record["contracts"] == world.addresses
    assert record["block"] == world.start_block <= chain.blocks.height
