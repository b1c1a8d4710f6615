"""Deploys and wires the Verdict contract suite; shared by `ape run deploy`, the demo and tests.

`deploy_suite` returns the deployed contracts by name so that later parts of the suite (escrow,
governance) can be deployed on top of them and handed to `write_deployment` together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ape import chain, networks, project
from ape.contracts import ContractInstance

DEPLOYMENTS_DIR = "deployments"

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
    """Where the deployment of `network_name` is recorded."""
    safe_name = network_name.replace(":", "-").replace("/", "-")
    return (root or project.path) / DEPLOYMENTS_DIR / f"{safe_name}.json"


def write_deployment(
    network_name: str,
    contracts: Mapping[str, Any],
    block: int,
    root: Path | None = None,
) -> Path:
    """Writes `deployments/<network>.json`: network, chain id, deployment block, name -> address."""
    path = deployment_path(network_name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "network": network_name,
        "chain_id": chain.chain_id,
        "block": int(block),
        "contracts": {name: str(contract.address) for name, contract in contracts.items()},
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
