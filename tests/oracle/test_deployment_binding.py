"""A deployment record is bound to its chain (chain id + the hash of its first block): every reader
refuses, in one line, a record of another chain (issue 14.2), on real anvils."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from ape import networks
from second_anvil import SecondAnvil
from web3 import Web3

from oracle.chain import ChainClient
from oracle.config import Settings
from oracle.deployment import Deployment, DeploymentRecordError
from oracle.errors import ConfigError, StoreError
from oracle.gate import ROUTER
from oracle.reader import CHECKPOINT
from oracle.store import Store
from verdict_deploy import MANIFEST, Dao, Roles, deploy_world, load_deployment, require_deployment
from verdict_deploy.suite import abi_dir_of

ROOT = Path(__file__).resolve().parents[2]
APE = ROOT / ".venv" / "bin" / "ape"
VERDICT = Path(sys.executable).parent / "verdict"


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    """The suite, escrow and DAO deployed on ape's anvil; its record."""
    root = tmp_path_factory.mktemp("bound")
    world = deploy_world(Roles.local(), escrow=True, dao=Dao.GOVERNS, record=root / "deployment.json")
    return world.deployment


@pytest.fixture
def restarted() -> Iterator[SecondAnvil]:
    """A fresh anvil with ape's chain id: what a restarted long-lived chain looks like."""
    anvil = SecondAnvil(chain_id=int(networks.provider.web3.eth.chain_id))
    yield anvil
    anvil.stop()


@pytest.fixture
def other_chain() -> Iterator[SecondAnvil]:
    anvil = SecondAnvil(chain_id=4242)
    yield anvil
    anvil.stop()


def _settings(record: Path, rpc_url: str, store_url: str = "sqlite:///:memory:") -> Settings:
    return Settings(rpc_url=rpc_url, deployment=record, build_manifest=MANIFEST, store_url=store_url)


def test_the_record_binds_the_chain_and_names_roles_and_abis(record, chain, node, reviewer, guardian):
    raw = json.loads(record.read_text())
    assert raw["chain_id"] == chain.chain_id
    block = networks.provider.web3.eth.get_block(raw["block"])
    assert raw["block_hash"] == Web3.to_hex(block["hash"])
    roles = raw["roles"]
    assert roles["nodes"] == [node.address]
    assert roles["reviewers"] == [reviewer.address]
    assert roles["guardian"] == guardian.address
    assert roles["admin"] == raw["contracts"]["CommunityTimelock"]  # the DAO governs
    assert set(roles) >= {"deployer", "treasury", "arbiters", "members", "founders", "quorum"}
    # An outside client (cast, a script) reads each contract's ABI from the file the record names.
    assert set(raw["abis"]) == set(raw["contracts"])
    router_abi = json.loads((record.parent / raw["abis"]["PaymentRouter"]).read_text())
    assert {"pay", "payment", "setThresholds"} <= {e.get("name") for e in router_abi}
    assert Deployment.load(record).abi_path("Escrow") == abi_dir_of(record) / "Escrow.json"


def test_its_own_chain_accepts_the_record(record):
    client = ChainClient.from_settings(_settings(record, networks.provider.uri), with_key=False)
    assert client.deployment.contracts["PaymentRouter"]
    assert load_deployment(record).chain_id == networks.provider.web3.eth.chain_id


def test_a_chain_with_another_id_refuses_the_record(record, other_chain):
    with pytest.raises(DeploymentRecordError, match="is for chain id 31337, but .* is chain id 4242"):
        ChainClient.from_settings(_settings(record, other_chain.url), with_key=False)


def test_a_restarted_chain_refuses_the_record(record, restarted):
    """Same chain id; the record's block is missing at first, then mined with another hash."""
    settings = _settings(record, restarted.url)
    with pytest.raises(DeploymentRecordError, match="does not have"):
        ChainClient.from_settings(settings, with_key=False)
    restarted.mine(Deployment.load(record).block + 1)
    with pytest.raises(DeploymentRecordError, match="belongs to another chain"):
        ChainClient.from_settings(settings, with_key=False)


def test_a_record_without_chain_binding_says_to_redeploy(record, tmp_path):
    old = json.loads(record.read_text())
    del old["block_hash"]
    legacy = tmp_path / "local.json"
    legacy.write_text(json.dumps(old))
    with pytest.raises(DeploymentRecordError, match="not bound to a chain.*redeploy"):
        Deployment.load(legacy)


def test_ape_scripts_refuse_a_foreign_record_in_one_line(record, tmp_path):
    foreign = tmp_path / "foreign.json"
    raw = json.loads(record.read_text())
    foreign.write_text(json.dumps({**raw, "block_hash": "0x" + "ab" * 32}))
    with pytest.raises(click.ClickException, match="belongs to another chain"):
        require_deployment(foreign)
    with pytest.raises(ConfigError, match="no deployment file"):
        load_deployment(tmp_path / "missing.json")


def _one_line_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert any(expected in line for line in lines), lines


def _verdict_env(rpc_url: str, record: Path, store_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `verdict` command against `rpc_url` with this record and store."""
    return {
        **os.environ,
        "VERDICT_RPC_URL": rpc_url,
        "VERDICT_DEPLOYMENT": str(record),
        "VERDICT_BUILD_MANIFEST": str(MANIFEST),
        "VERDICT_STORE_URL": store_url,
        "VERDICT_MODEL_DIR": str(tmp_path / "no-model"),
        "VERDICT_NODE_KEY": Roles.local().node.private_key,
        "VERDICT_METRICS_PORT": "0",
    }


@pytest.fixture
def foreign_env(record, restarted, tmp_path) -> dict[str, str]:
    """`verdict` settings with the record on a restarted chain; the store knows payment 1."""
    url = f"sqlite:///{tmp_path / 'verdict.sqlite'}"
    store = Store(url)
    store.record_scored(
        key=f"{ROUTER}:1",
        target=Deployment.load(record).contracts["PaymentRouter"],
        item_id=1,
        score_bps=120,
        decision="settle",
        model_id="0x" + "ab" * 32,
        reasons=[],
        reasons_hash="0x" + "cd" * 32,
        features={},
    )
    store.close()
    return _verdict_env(restarted.url, record, url, tmp_path)


@pytest.mark.parametrize("args", [["explain", "1"], ["report", "suspicious"], ["run"]])
def test_verdict_commands_refuse_a_record_of_another_chain(foreign_env, args):
    """No facts from the wrong chain: explain, the report and the node stop with one line."""
    result = subprocess.run(
        [str(VERDICT), *args], env=foreign_env, capture_output=True, text=True, timeout=120
    )
    _one_line_failure(result, "deployment record")
    assert "On-chain status" not in result.stdout


def test_the_dashboard_refuses_a_record_of_another_chain(foreign_env):
    from oracle.dashboard.data import Dashboard

    settings = Settings(
        rpc_url=foreign_env["VERDICT_RPC_URL"],
        deployment=Path(foreign_env["VERDICT_DEPLOYMENT"]),
        build_manifest=MANIFEST,
        store_url=foreign_env["VERDICT_STORE_URL"],
    )
    with pytest.raises(DeploymentRecordError, match="does not have"):
        Dashboard(settings)


def test_an_ape_script_refuses_a_record_of_another_chain(record, restarted):
    """`ape run treasury` against a restarted chain, with the record named by VERDICT_DEPLOYMENT."""
    env = {**os.environ, "APE_FOUNDRY_HOST": restarted.url, "VERDICT_DEPLOYMENT": str(record)}
    result = subprocess.run(
        [str(APE), "run", "treasury", "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    _one_line_failure(result, "does not have")


def test_console_helpers_refuse_a_foreign_record(record, tmp_path, monkeypatch):
    """`ape console` helpers read the record VERDICT_DEPLOYMENT names, checked like the scripts'."""
    from verdict_deploy import console

    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({**json.loads(record.read_text()), "chain_id": 4242}))
    monkeypatch.setenv("VERDICT_DEPLOYMENT", str(foreign))
    console.use({})  # nothing from an earlier session
    with pytest.raises(RuntimeError, match="is for chain id 4242"):
        console.dao()
    monkeypatch.setenv("VERDICT_DEPLOYMENT", str(record))
    assert console.dao()["PaymentRouter"].address == Deployment.load(record).contracts["PaymentRouter"]
    console.use({})


# --- the store is bound to its deployment record (oracle/binding.py) -----------------------------


def _another(deployment: Deployment, **changes) -> Deployment:
    return dataclasses.replace(deployment, **changes)


def test_a_store_binds_to_its_first_deployment_and_refuses_another(record, tmp_path):
    """Another chain id, another router or another deployment block (a restarted anvil reuses the
    addresses): one line, and the store stays bound to the first; rebinding is explicit."""
    from oracle.binding import StoreBinding

    ours = Deployment.load(record)
    url = f"sqlite:///{tmp_path / 'verdict.sqlite'}"
    binding = StoreBinding(url)
    assert binding.bind(ours) == "bound"
    assert binding.bind(ours) == "same"  # every later start
    router = ours.contracts["PaymentRouter"]
    others = (
        _another(ours, chain_id=4242),
        _another(ours, contracts={**ours.contracts, "PaymentRouter": "0x" + "12" * 20}),
        _another(ours, block_hash="0x" + "ab" * 32),
    )
    for other in others:
        with pytest.raises(StoreError, match="belongs to another deployment") as refused:
            binding.bind(other)
        assert "\n" not in str(refused.value) and "--rebind-store" in str(refused.value)
        assert router.lower() in str(refused.value)
    assert binding.bind(ours) == "same"
    assert binding.bind(others[1], rebind=True) == "rebound"
    with pytest.raises(StoreError, match="belongs to another deployment"):
        binding.bind(ours)
    binding.close()


def test_verdict_run_refuses_a_store_of_another_deployment(record, tmp_path):
    """The node checks the binding after the record's own check, before it reads or posts anything."""
    from oracle.binding import StoreBinding

    url = f"sqlite:///{tmp_path / 'verdict.sqlite'}"
    ours = Deployment.load(record)
    binding = StoreBinding(url)
    binding.bind(_another(ours, contracts={**ours.contracts, "PaymentRouter": "0x" + "12" * 20}))
    binding.close()
    env = _verdict_env(networks.provider.uri, record, url, tmp_path)
    result = subprocess.run([str(VERDICT), "run"], env=env, capture_output=True, text=True, timeout=120)
    _one_line_failure(result, "belongs to another deployment")
    store = Store(url, create=False)
    assert store.get_checkpoint(CHECKPOINT) is None and store.payment_count() == 0  # nothing read into it
    store.close()
