"""Accounts named by role, shared by every test directory: the one role map, `Roles.local()` from
verdict_deploy, which also gives `ape run deploy` and the demo their roles. The payer, payee and the
extra oracle nodes are accounts that map leaves without a role.

Test sizes (tests/profiles.py): `VERDICT_HYPOTHESIS_PROFILE` names the run's profile, loaded here into
Hypothesis under the same name; tests marked `@pytest.mark.soak` run only under the soak profiles
(`make test-soak`) or when `-m` selects them."""

import sys
from pathlib import Path

import pytest
from chain_fixtures import artifact, model_dir
from hypothesis import settings
from profiles import MACHINE_SIZES, UnknownProfile, current, is_soak

from verdict_deploy import Roles
from verdict_deploy import anvil_states as anvil_cache

# The chain tests' trained model, here so that one session fixture serves every directory (tests/e2e,
# tests/faults, tests/dashboard): a fixture imported into several conftests runs once per conftest.
__all__ = ["artifact", "model_dir"]

# max_examples of a @given test that sets none, per profile; `soak` keeps Hypothesis's own 100. Each
# builds on the profile Hypothesis loaded itself (in CI its `ci` one: derandomized, no example
# database), as before.
UNSET_EXAMPLES = {"smoke": 10, "default": 50, "soak": 100, "deep": 500, "long": 2000}
assert set(UNSET_EXAMPLES) == set(MACHINE_SIZES)
_BASE = settings.default
for _name, _count in UNSET_EXAMPLES.items():
    settings.register_profile(_name, parent=_BASE, max_examples=_count)


ANVIL_STATES = pytest.StashKey[Path]()


def pytest_configure(config):
    try:
        settings.load_profile(current())
    except UnknownProfile as error:
        raise pytest.UsageError(str(error)) from None
    # Every anvil this run starts keeps its per-block states in one directory of the run's
    # (verdict_deploy/anvil_states.py says why), removed once ape has stopped its anvil.
    anvil_states = anvil_cache.start_run()
    if anvil_states is not None:
        config.stash[ANVIL_STATES] = anvil_states
    anvil_cache.wrap_ape_provider()


@pytest.hookimpl(trylast=True)  # after ape's own pytest_unconfigure has stopped its anvil
def pytest_unconfigure(config):
    anvil_states = config.stash.get(ANVIL_STATES, None)
    if anvil_states is not None:
        print(anvil_cache.end_run(anvil_states), file=sys.stderr)


def pytest_collection_modifyitems(config, items):
    """Soak tests leave the default run (deselected, so the summary counts them) unless the profile
    is a soak one or the command line chose tests by marker itself (`-m soak`)."""
    if is_soak() or config.option.markexpr:
        return
    keep = [item for item in items if item.get_closest_marker("soak") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


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
