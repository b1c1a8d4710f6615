"""The whole path on a real chain: ape's anvil, the deployed suite, a trained model and oracle
daemons running as separate `verdict run` processes.

Every test deploys its own suite and gives its daemons a fresh store, so ape's snapshot and revert
around each test cannot confuse a daemon: its contracts never existed before the test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ape import chain, networks

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from _world import MANIFEST, Roles, deploy_world, verdict_settings  # noqa: E402

from oracle.chain import ChainClient, Deployment, load_abis  # noqa: E402
from oracle.datagen import generate  # noqa: E402
from oracle.launch import DaemonProcess  # noqa: E402
from oracle.model import ModelArtifact, save  # noqa: E402
from oracle.traffic import OutcomeWatcher, Sender  # noqa: E402
from oracle.train import train  # noqa: E402


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A real LightGBM model trained on synthetic payments (a few seconds)."""
    frame = generate(rows=30_000, seed=11, fraud_rate=0.02)
    artifact, _ = train(frame, label="is_fraud", time_col="timestamp", seed=11)
    directory = tmp_path_factory.mktemp("model")
    save(artifact, directory)
    return directory


@pytest.fixture(scope="session")
def artifact(model_dir) -> ModelArtifact:
    from oracle.model import load

    return load(model_dir)


@pytest.fixture
def world(deployer, node, reviewer, guardian, treasury, artifact, tmp_path):
    """The suite deployed for this test, with the model approved; returns (contracts, deployment file)."""
    roles = Roles(deployer, treasury=treasury, nodes=[node], reviewers=[reviewer], guardian=guardian)
    deployed = deploy_world(roles, models=[artifact.model_id], root=tmp_path)
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
