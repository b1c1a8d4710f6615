"""Fixtures for the whole path on a real chain, shared by tests/e2e and tests/faults (each conftest
imports them; the session-scoped model, `model_dir` and `artifact`, is imported once by
tests/conftest.py instead, so that it is trained once per run): ape's anvil, the deployed suite, a
trained model and oracle daemons running as separate `verdict run` processes.

Every test deploys its own suite and gives its daemons a fresh store, so ape's snapshot and revert
around each test cannot confuse a daemon: its contracts never existed before the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ape import chain, networks

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.datagen import generate
from oracle.launch import DaemonProcess
from oracle.model import ModelArtifact
from oracle.traffic import OutcomeWatcher, Sender
from oracle.train import train
from verdict_deploy import MANIFEST, deploy_world, verdict_settings


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A real LightGBM model trained on synthetic payments (a few seconds), with its metrics.json and
    PR curve as `verdict train --out` writes them; tests/dashboard uses the same one."""
    frame = generate(rows=30_000, seed=11, fraud_rate=0.02)
    directory = tmp_path_factory.mktemp("model")
    train(frame, label="is_fraud", time_col="timestamp", seed=11, out=directory)
    return directory


@pytest.fixture(scope="session")
def artifact(model_dir) -> ModelArtifact:
    from oracle.model import load

    return load(model_dir)


@pytest.fixture
def world(local_roles, artifact, tmp_path):
    """The suite deployed for this test, with the model approved; returns (contracts, deployment file)."""
    deployed = deploy_world(local_roles, models=[artifact.model_id], root=tmp_path)
    return deployed.contracts, deployed.deployment


@pytest.fixture
def client(world) -> ChainClient:
    _, path = world
    return ChainClient(networks.provider.uri, Deployment.load(path), load_abis(MANIFEST))


@pytest.fixture
def start_daemon(world, model_dir, node, tmp_path) -> Iterator[Callable[..., DaemonProcess]]:
    """Starts `verdict run` processes; all are stopped when the test ends."""
    _, deployment = world
    started: list[DaemonProcess] = []

    def start(
        *,
        key_of=node,
        store: Path | None = None,
        model: Path | None = None,
        name: str = "node",
        wait: bool = True,
        **env: str,
    ) -> DaemonProcess:
        settings = verdict_settings(
            deployment,
            store_url=env.pop("store_url", f"sqlite:///{store or tmp_path / f'{name}.sqlite'}"),
            model_dir=model or model_dir,
            node_key=key_of.private_key,
            **{"poll_interval": "0.01", "metrics_port": "0", **env},  # a test's settings win
        )
        daemon = DaemonProcess.start(settings, tmp_path / f"{name}.log")
        started.append(daemon)
        if wait:
            daemon.wait_ready()
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def watcher(client) -> Iterator[OutcomeWatcher]:
    w = OutcomeWatcher(client, from_block=chain.blocks.height).start()
    yield w
    w.stop()


@pytest.fixture
def sender(client) -> Sender:
    return Sender(client.w3, client.chain_id())
