"""Accounts named by role, shared by every test directory."""

import pytest


@pytest.fixture(scope="session")
def deployer(accounts):
    """Deploys the suite and holds the admin role until governance takes it over."""
    return accounts[0]


@pytest.fixture(scope="session")
def payer(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def payee(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def node(accounts):
    """The first registered oracle node."""
    return accounts[3]


@pytest.fixture(scope="session")
def reviewer(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def outsider(accounts):
    """Holds no role at all."""
    return accounts[7]


@pytest.fixture(scope="session")
def extra_nodes(accounts):
    """Two more oracle nodes for quorum tests."""
    return [accounts[8], accounts[9]]
