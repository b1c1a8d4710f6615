"""Governance fixtures: the real PaymentRouter + RiskOracle handed to a freshly deployed DAO.

The world is deployed once per session through `deploy_world` (the DAO governs the policy contracts);
ape snapshots the chain around every fixture scope, so each test starts from the state below and
nothing a test does leaks into the next.
"""

from __future__ import annotations

import pytest

from verdict_deploy import Dao, Roles, deploy_world
from verdict_deploy.governance import GovernanceConfig, advance

MODEL_ID = b"\x11" * 32


@pytest.fixture(scope="session")
def members(accounts):
    """The five founding members; each holds 400,000 VCT (4% of the supply), self-delegated on receipt.
    A larger DAO than `Roles.local()`'s four, which the quorum and quadratic figures here assume."""
    return [accounts[i] for i in range(10, 15)]


@pytest.fixture(scope="session")
def founders(accounts):
    return [accounts[15], accounts[16]]


@pytest.fixture(scope="session")
def gov_config():
    return GovernanceConfig.local()


@pytest.fixture(scope="session")
def dao(members, founders, gov_config, tmp_path_factory):
    """{PaymentRouter, RiskOracle, CommunityToken, CommunityTimelock, CommunityGovernor, Membership, Polls,
    VestingGrant1, VestingGrant2}; the members' votes count from the airdrop on."""
    roles = Roles.local(members=tuple(members), founders=tuple(founders))
    world = deploy_world(
        roles,
        models=[MODEL_ID],
        dao=Dao.GOVERNS,
        governance=gov_config,
        with_stablecoin=False,
        root=tmp_path_factory.mktemp("dao"),
    )
    # No delegate transactions: the airdrop delegated each member to itself on receipt (issue 19).
    advance(1)
    return world.contracts


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
