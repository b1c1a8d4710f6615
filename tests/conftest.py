"""Accounts named by role, shared by every test directory: the one role map, `Roles.local()` from
verdict_deploy, which also gives `ape run deploy` and the demo their roles. The payer, payee and the
extra oracle nodes are accounts that map leaves without a role."""

import pytest

from verdict_deploy import Roles


@pytest.fixture(scope="session")
def local_roles(accounts) -> Roles:
    """Roles.local(): who deploys, runs the node, reviews, guards, arbitrates, holds the treasury."""
    return Roles.local()


@pytest.fixture(scope="session")
def deployer(local_roles):
    """Deploys the suite and holds the admin role until governance takes it over."""
    return local_roles.deployer


@pytest.fixture(scope="session")
def payer(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def payee(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def node(local_roles):
    """The first registered oracle node."""
    return local_roles.node


@pytest.fixture(scope="session")
def reviewer(local_roles):
    return local_roles.reviewer


@pytest.fixture(scope="session")
def guardian(local_roles):
    return local_roles.guardian


@pytest.fixture(scope="session")
def treasury(local_roles):
    return local_roles.treasury


@pytest.fixture(scope="session")
def outsider(local_roles):
    """Holds no role at all."""
    return local_roles.outsider


@pytest.fixture(scope="session")
def extra_nodes(accounts):
    """Two more oracle nodes for quorum tests (no role in Roles.local())."""
    return [accounts[17], accounts[18]]
