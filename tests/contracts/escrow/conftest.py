"""Escrow fixtures: the escrow under test over a policy stub, named by role (from `Roles.local()`).

The escrow is deployed on its own here because it is the contract under test; test_integration.py
and test_scenario.py run it inside the deployed world.
"""

import pytest
from escrow_helpers import USD, World

from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS


@pytest.fixture(scope="session")
def buyer(local_roles):
    return local_roles.buyer


@pytest.fixture(scope="session")
def supplier(local_roles):
    return local_roles.supplier


@pytest.fixture(scope="session")
def arbiter(local_roles):
    return local_roles.arbiters[0]


@pytest.fixture(scope="session")
def second_arbiter(accounts):
    """A second arbiter (an account `Roles.local()` leaves without a role)."""
    return accounts[16]


@pytest.fixture(scope="session")
def oracle_node(node):
    """Until the real RiskOracle is wired in, the `node` account plays the oracle."""
    return node


@pytest.fixture(scope="session", autouse=True)
def deployed(project, deployer, treasury, oracle_node, buyer, arbiter, second_arbiter, reviewer, guardian):
    """Deploys the whole escrow world once, before the first test's snapshot (ape isolation)."""
    policy = deployer.deploy(project.PolicyStub, treasury)
    escrow = deployer.deploy(project.Escrow, deployer, policy, oracle_node, treasury)
    escrow.grantRole(escrow.ARBITER_ROLE(), arbiter, sender=deployer)
    escrow.grantRole(escrow.ARBITER_ROLE(), second_arbiter, sender=deployer)
    escrow.grantRole(escrow.REVIEWER_ROLE(), reviewer, sender=deployer)
    escrow.grantRole(escrow.GUARDIAN_ROLE(), guardian, sender=deployer)
    stablecoin = deployer.deploy(project.MockStablecoin)
    policy.setToken(stablecoin, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)  # the router's token list
    stablecoin.mint(buyer, 10_000_000 * USD, sender=deployer)
    stablecoin.approve(escrow, 2**256 - 1, sender=buyer)
    return {"policy": policy, "escrow": escrow, "stablecoin": stablecoin}


@pytest.fixture(scope="session")
def policy(deployed):
    return deployed["policy"]


@pytest.fixture(scope="session")
def escrow(deployed):
    return deployed["escrow"]


@pytest.fixture(scope="session")
def stablecoin(deployed):
    return deployed["stablecoin"]


@pytest.fixture
def world(chain, escrow, buyer, supplier, oracle_node):
    return World(chain, escrow, buyer, supplier, oracle_node)
