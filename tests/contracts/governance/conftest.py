"""Governance fixtures: the real PaymentRouter + RiskOracle handed to a freshly deployed DAO.

The world is deployed once per session; ape snapshots the chain around every fixture scope, so each
test starts from the state below and nothing a test does leaks into the next.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from _governance import GovernanceConfig, advance, deploy_governance  # noqa: E402
from _suite import deploy_suite  # noqa: E402

MODEL_ID = b"\x11" * 32


@pytest.fixture(scope="session")
def members(accounts):
    """The five founding members; each holds 400,000 VCT (4% of the supply) and self-delegates."""
    return [accounts[i] for i in range(10, 15)]


@pytest.fixture(scope="session")
def founders(accounts):
    return [accounts[15], accounts[16]]


@pytest.fixture(scope="session")
def gov_config():
    return GovernanceConfig.local()


@pytest.fixture(scope="session")
def dao(deployer, guardian, node, reviewer, members, founders, gov_config):
    """{PaymentRouter, RiskOracle, CommunityToken, CommunityTimelock, CommunityGovernor, Membership, Polls,
    VestingGrant1, VestingGrant2}, with the members delegated."""
    suite = deploy_suite(
        deployer,
        nodes=[node],
        reviewers=[reviewer],
        guardian=guardian,
        models=[MODEL_ID],
        with_stablecoin=False,
    )
    gov = deploy_governance(
        deployer,
        policy_contracts=[suite["PaymentRouter"], suite["RiskOracle"]],
        guardian=guardian,
        founders=founders,
        members=members,
        config=gov_config,
    )
    token = gov["CommunityToken"]
    for member in members:
        token.invoke_transaction("delegate", member, sender=member)
    advance(1)
    return {**suite, **gov}


@pytest.fixture(scope="session")
def router(dao):
    return dao["PaymentRouter"]


@pytest.fixture(scope="session")
def risk_oracle(dao):
    return dao["RiskOracle"]


@pytest.fixture(scope="session")
def token(dao):
    return dao["CommunityToken"]


@pytest.fixture(scope="session")
def timelock(dao):
    return dao["CommunityTimelock"]


@pytest.fixture(scope="session")
def governor(dao):
    return dao["CommunityGovernor"]


@pytest.fixture(scope="session")
def membership(dao):
    return dao["Membership"]


@pytest.fixture(scope="session")
def polls(dao):
    return dao["Polls"]
