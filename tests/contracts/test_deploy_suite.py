"""scripts/_suite.py: the suite deploys wired both ways with its roles, and the record it writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from router_helpers import ETH, MODEL_ID, REF, SAFE_SCORE, verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from _suite import deploy_suite, write_deployment  # noqa: E402


@pytest.fixture(scope="module")
def suite(roles, deployer, treasury, node, extra_nodes, reviewer, guardian):
    return deploy_suite(
        deployer,
        treasury=treasury,
        nodes=[node, *extra_nodes],
        quorum=2,
        reviewers=[reviewer],
        guardian=guardian,
        models=[MODEL_ID],
    )


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
        oracle.submitVerdicts([verdict(router, 1, SAFE_SCORE)], sender=voter)
    assert router.payment(1).status == 3  # Settled


def test_write_deployment_records_addresses_and_block(suite, chain, tmp_path):
    path = write_deployment("local", suite, 7, root=tmp_path)

    assert path == tmp_path / "deployments" / "local.json"
    record = json.loads(path.read_text())
    assert record["network"] == "local"
    assert record["chain_id"] == chain.chain_id
    assert record["block"] == 7
    assert record["contracts"] == {name: c.address for name, c in suite.items()}
