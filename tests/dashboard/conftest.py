"""The dashboard in a real headless Chromium against a real chain.

ape's anvil, the suite and the DAO deployed for each test (as in tests/e2e), the oracle daemon and
`verdict dashboard` as separate processes, and Debian's chromium driven by Playwright (never
`playwright install`: the browser is the system's, /usr/bin/chromium, installed by `make browser`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ape import networks

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.launch import DaemonProcess
from oracle.model import ModelArtifact, load
from oracle.store import Store
from verdict_demo.dashboard import CHROMIUM, CHROMIUM_ARGS, free_port, start_dashboard, wait_healthy
from verdict_deploy import MANIFEST, Dao, deploy_world, verdict_settings


@pytest.fixture(scope="session")
def dash_model_dir(model_dir) -> Path:
    """A real model with its metrics.json and PR curve (what `verdict train --out` writes): the one
    tests/e2e and tests/faults use, trained once per session (tests/conftest.py)."""
    return model_dir


@pytest.fixture(scope="session")
def dash_artifact(dash_model_dir) -> ModelArtifact:
    return load(dash_model_dir)


@pytest.fixture(scope="session")
def members(local_roles):
    """The DAO's founding members, who share the airdrop and vote."""
    return list(local_roles.members)


@pytest.fixture
def dao_mode() -> Dao:
    """How the test's DAO stands to the suite; a test that needs the DAO to govern the router (a
    quadratic fee proposal) overrides it: `@pytest.mark.parametrize("dao_mode", [Dao.GOVERNS])`."""
    return Dao.BESIDE


@pytest.fixture
def dao_world(local_roles, dash_artifact, dao_mode, tmp_path):
    """Suite + DAO for this test. By default the deployer keeps the router's admin role (the DAO gets
    no policy contracts), so a test can set the thresholds directly. Returns (contracts, deployment
    file)."""
    world = deploy_world(local_roles, models=[dash_artifact.model_id], dao=dao_mode, root=tmp_path)
    return world.contracts, world.deployment


@pytest.fixture
def dash_client(dao_world) -> ChainClient:
    _, path = dao_world
    return ChainClient(networks.provider.uri, Deployment.load(path), load_abis(MANIFEST))


@pytest.fixture
def verdict_env(dao_world, dash_model_dir, tmp_path) -> dict[str, str]:
    _, deployment = dao_world
    return verdict_settings(
        deployment,
        store_url=f"sqlite:///{tmp_path / 'node.sqlite'}",
        model_dir=dash_model_dir,
        poll_interval="0.01",
        metrics_port="0",
        log_format="json",
    )


@pytest.fixture
def oracle_node(verdict_env, node, tmp_path) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess.start({**verdict_env, "VERDICT_NODE_KEY": node.private_key}, tmp_path / "node.log")
    try:
        daemon.wait_ready()
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def dashboard(verdict_env, reviewer, tmp_path) -> Iterator[str]:
    """`verdict dashboard` as its own process, with the reviewer's key; yields its base URL."""
    # The node's store exists before the dashboard starts, as in operation: `verdict dashboard`
    # refuses a store URL that names no store (only `verdict run` creates one).
    Store(verdict_env["VERDICT_STORE_URL"]).close()
    port = free_port()
    log_path = tmp_path / "dashboard.log"
    process = start_dashboard({**verdict_env, "VERDICT_REVIEWER_KEY": reviewer.private_key}, log_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(url, process), log_path.read_text()
        yield url
    finally:
        process.stop()
    assert reviewer.private_key[2:] not in log_path.read_text(), "the reviewer key leaked into the log"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"no chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()
