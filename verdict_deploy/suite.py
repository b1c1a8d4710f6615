"""Deploys and wires the Verdict contract suite; shared by `ape run deploy`, the demo and tests.

`deploy_suite` returns the deployed contracts by name so that later parts of the suite (escrow,
governance) can be deployed on top of them and handed to `write_deployment` together.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click
from ape import chain, networks, project
from ape.contracts import ContractInstance
from eth_utils import to_hex

from oracle.deployment import RECORD_VERSION, Deployment
from oracle.errors import VerdictError

DEPLOYMENTS_DIR = "deployments"
DEPLOYMENT_ENV = "VERDICT_DEPLOYMENT"

# The push budget the deploy lists the mock stablecoins with (gas; the router bounds it to
# [MIN_TOKEN_PUSH_GAS, MAX_TOKEN_PUSH_GAS] = [40,000, 150,000]). A plain OpenZeppelin ERC20 push
# costs about 33,000 and an ERC20Votes push to a delegated recipient 85,000; 100,000 pays both.
DEFAULT_TOKEN_PUSH_GAS = 100_000


def list_token(router: Any, token: Any, admin: Any, push_gas: int = DEFAULT_TOKEN_PUSH_GAS) -> None:
    """Puts `token` on the router's token list (read by the Escrow too) with a push budget of
    `push_gas`: only listed tokens may be paid in (issue 13.6). `admin` holds DEFAULT_ADMIN_ROLE
    (the deployer before the governance handover; afterwards a Major-track proposal does it, see
    `verdict_deploy.console.propose_token`)."""
    router.setToken(token, push_gas, sender=admin)


def is_local_network() -> bool:
    """Whether the connected network is a throwaway local chain (anvil, the test provider)."""
    return bool(networks.provider.network.is_local)


def deploy_suite(
    deployer: Any,
    *,
    treasury: Any = None,
    nodes: Iterable[Any] = (),
    quorum: int = 1,
    reviewers: Iterable[Any] = (),
    guardian: Any = None,
    models: Iterable[bytes] = (),
    with_stablecoin: bool | None = None,
) -> dict[str, ContractInstance]:
    """Deploys RiskOracle and PaymentRouter, wires them both ways and grants the roles.

    `deployer` keeps DEFAULT_ADMIN_ROLE on both contracts (the governance deployment hands it to
    the DAO timelock later). `treasury` defaults to the deployer. `nodes` are registered with the
    oracle and `quorum` set after them; `models` are approved model ids. A MockStablecoin is
    deployed on local networks unless `with_stablecoin` says otherwise, and listed on the router
    with `DEFAULT_TOKEN_PUSH_GAS`.
    """
    treasury = treasury or deployer
    oracle = deployer.deploy(project.RiskOracle, deployer)
    router = deployer.deploy(project.PaymentRouter, deployer, oracle, treasury)
    oracle.addTarget(router, sender=deployer)

    for node in nodes:
        oracle.addNode(node, sender=deployer)
    if quorum != oracle.quorum():
        oracle.setQuorum(quorum, sender=deployer)
    for model_id in models:
        oracle.approveModel(model_id, sender=deployer)

    reviewer_role = router.REVIEWER_ROLE()
    for reviewer in reviewers:
        router.grantRole(reviewer_role, reviewer, sender=deployer)
    if guardian is not None:
        router.grantRole(router.GUARDIAN_ROLE(), guardian, sender=deployer)

    contracts: dict[str, ContractInstance] = {"RiskOracle": oracle, "PaymentRouter": router}
    if is_local_network() if with_stablecoin is None else with_stablecoin:
        contracts["MockStablecoin"] = deployer.deploy(project.MockStablecoin)
        list_token(router, contracts["MockStablecoin"], deployer)
    return contracts


def deployment_path(network_name: str, root: Path | None = None) -> Path:
    """Where the deployment of `network_name` is recorded: `deployments/<network>.json` under `root`
    (default: the project), unless no `root` is given and VERDICT_DEPLOYMENT names the record (the
    same setting `verdict run` reads, so the ape scripts and the node agree on one file)."""
    if root is None and (override := os.environ.get(DEPLOYMENT_ENV)):
        return Path(override)
    safe_name = network_name.replace(":", "-").replace("/", "-")
    return (root or project.path) / DEPLOYMENTS_DIR / f"{safe_name}.json"


def abi_dir_of(record: Path) -> Path:
    """The folder of ABI files next to a record: `deployments/local.json` -> `deployments/local.abi/`."""
    return record.with_suffix(".abi")


def write_abi(record: Path, name: str, contract: Any) -> str | None:
    """Writes `contract`'s full ABI to `<record>.abi/<name>.json` and returns that file's path relative
    to the record, or None for an object without a contract type (a plain account)."""
    contract_type = getattr(contract, "contract_type", None)
    if contract_type is None:
        return None
    abi_dir = abi_dir_of(record)
    abi_dir.mkdir(parents=True, exist_ok=True)
    abi = contract_type.model_dump(mode="json", by_alias=True, exclude_none=True)["abi"]
    (abi_dir / f"{name}.json").write_text(json.dumps(abi, indent=2) + "\n")
    return f"{abi_dir.name}/{name}.json"


def write_deployment(
    network_name: str,
    contracts: Mapping[str, Any],
    block: int,
    root: Path | None = None,
    *,
    roles: Mapping[str, Any] | None = None,
    path: Path | None = None,
    sections: Mapping[str, Any] | None = None,
) -> Path:
    """Writes the deployment record (`deployments/<network>.json` under `root`, or `path`) and an ABI
    file per contract in `<record>.abi/`, and returns the record's path. The record holds the network,
    the chain binding (chain id, and `block` with its hash: the first block of the deployment), the
    role holders (`roles`, already addresses), name -> address and name -> ABI file (relative to the
    record), and any optional `sections` (the `fx` section of a cross-border deploy).
    `oracle.deployment.Deployment` reads it."""
    path = path or deployment_path(network_name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    abi_dir = abi_dir_of(path)
    if abi_dir.is_dir():
        shutil.rmtree(abi_dir)  # a contract of the previous deployment must not linger
    abi_dir.mkdir()
    abis: dict[str, str] = {}
    for name, contract in contracts.items():
        written = write_abi(path, name, contract)
        if written is not None:
            abis[name] = written
    block_hash = networks.provider.web3.eth.get_block(int(block))["hash"]
    record = {
        "format": RECORD_VERSION,
        "network": network_name,
        "chain_id": chain.chain_id,
        "block": int(block),
        "block_hash": to_hex(block_hash),
        "rpc_url": networks.provider.uri,
        "roles": dict(roles or {}),
        "contracts": {name: str(contract.address) for name, contract in contracts.items()},
        "abis": abis,
        **dict(sections or {}),
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_deployment(path: Path | None = None) -> Deployment:
    """The deployment record at `path` (default: the connected network's `deployments/<network>.json`),
    checked against the connected chain: a DeploymentRecordError (one line: redeploy) when it is not
    this chain's, a ConfigError when it is missing or unreadable."""
    path = path or deployment_path(networks.provider.network.name)
    record = Deployment.load(path)
    record.verify(networks.provider.web3, networks.provider.uri)
    return record


def require_deployment(path: Path | None = None) -> Deployment:
    """`load_deployment` for `ape run` scripts: a missing, unreadable or foreign record is a click
    error (one line, exit 1)."""
    try:
        return load_deployment(path)
    except VerdictError as exc:
        raise click.ClickException(str(exc)) from None
