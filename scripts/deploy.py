"""`ape run deploy --network ...`: deploys and wires the Verdict suite, records the addresses.

On a local network the test accounts play every role (deployer, treasury, nodes, reviewer,
guardian). On any other network `--account` is the deployer and the admin of everything; pass the
other roles as options. An existing `deployments/<network>.json` on a non-local network is only
overwritten after a confirmation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ape import accounts, chain
from ape.api.address import Address
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from oracle.errors import VerdictError
from oracle.model import load as load_model

sys.path.insert(0, str(Path(__file__).parent))

from _escrow import deploy_escrow  # noqa: E402
from _governance import GovernanceConfig, deploy_governance  # noqa: E402
from _suite import deploy_suite, deployment_path, is_local_network, write_deployment  # noqa: E402


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option(prompt=False)
@click.option("--treasury", default=None, help="Treasury address (default: the deployer).")
@click.option("--node", "nodes", multiple=True, help="Oracle node address; repeat for several.")
@click.option("--quorum", default=1, show_default=True, type=click.IntRange(min=1), help="Oracle quorum k.")
@click.option("--reviewer", "reviewers", multiple=True, help="Reviewer address; repeat for several.")
@click.option("--guardian", default=None, help="Guardian address (may pause the router).")
@click.option("--model", "models", multiple=True, help="Approved model id (0x + 64 hex); repeatable.")
@click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="A trained model (verdict train --out DIR): approve its id, adopt its proposed thresholds as the "
    "genesis policy and centre the DAO's routine bands on them.",
)
@click.option("--arbiter", "arbiters", multiple=True, help="Escrow arbiter address; repeat for several.")
@click.option(
    "--member", "members", multiple=True, help="Founding DAO member (shares the airdrop); repeatable."
)
@click.option("--founder", "founders", multiple=True, help="Founder (gets a vesting grant); repeatable.")
@click.option("--no-dao", is_flag=True, help="Keep the deployer as admin instead of handing over to the DAO.")
@click.option("--yes", is_flag=True, help="Overwrite an existing deployment record without asking.")
def cli(
    cli_ctx,
    network,
    account,
    treasury,
    nodes,
    quorum,
    reviewers,
    guardian,
    models,
    model_dir,
    arbiters,
    members,
    founders,
    no_dao,
    yes,
):
    """Deploy the suite: RiskOracle, PaymentRouter, Escrow and the DAO that governs them."""
    network_name = network.name if hasattr(network, "name") else str(network)
    local = is_local_network()
    if local:
        test = accounts.test_accounts
        account = account or test[0]
        treasury = treasury or test[6]
        nodes = nodes or (test[3],)
        reviewers = reviewers or (test[4],)
        guardian = guardian or test[5]
        arbiters = arbiters or (test[13],)
        members = members or tuple(test[i] for i in (7, 8, 9, 10))
        founders = founders or (test[11], test[12])
    elif account is None:
        raise click.UsageError("--account is required on a non-local network")

    # Role holders given as addresses on the command line act like accounts for the deployment.
    members, founders = (
        tuple(Address(m) if isinstance(m, str) else m for m in ms) for ms in (members, founders)
    )
    model_ids = [_parse_model_id(model) for model in models]
    thresholds = None
    if model_dir is not None:
        try:
            artifact = load_model(model_dir)
        except VerdictError as exc:
            raise click.BadParameter(str(exc), param_hint="--model-dir") from None
        model_ids.append(bytes.fromhex(artifact.model_id[2:]))
        thresholds = (artifact.review_threshold_bps, artifact.reject_threshold_bps)
    path = deployment_path(network_name)
    if path.exists() and not local and not yes:
        click.confirm(f"{path} already records a deployment on {network_name}; overwrite it?", abort=True)

    if len(nodes) < quorum:
        raise click.BadParameter(f"quorum {quorum} needs at least {quorum} nodes", param_hint="--quorum")

    start_block = chain.blocks.height + 1
    contracts = deploy_suite(
        account,
        treasury=treasury,
        nodes=nodes,
        quorum=quorum,
        reviewers=reviewers,
        guardian=guardian,
        models=model_ids,
    )
    if thresholds is not None:
        contracts["PaymentRouter"].setThresholds(*thresholds, sender=account)
        cli_ctx.logger.success(
            f"Genesis policy from the model: review {thresholds[0]} bps, reject {thresholds[1]} bps"
        )
    contracts["Escrow"] = deploy_escrow(
        account,
        contracts["PaymentRouter"],
        contracts["RiskOracle"],
        arbiters=arbiters,
        reviewers=reviewers,
        guardian=guardian,
    )
    if not no_dao:
        # Last: from here on only executed proposals change the policy; the deployer keeps no role.
        contracts.update(
            deploy_governance(
                account,
                policy_contracts=[contracts["PaymentRouter"], contracts["RiskOracle"], contracts["Escrow"]],
                guardian=guardian,
                founders=founders,
                members=members,
                config=_governance_config(local, thresholds),
            )
        )
    written = write_deployment(network_name, contracts, start_block)
    for name, contract in contracts.items():
        cli_ctx.logger.success(f"{name} deployed at {click.style(str(contract.address), bold=True)}")
    cli_ctx.logger.success(f"Deployment recorded in {written}")


def _governance_config(local: bool, thresholds: tuple[int, int] | None) -> GovernanceConfig:
    config = GovernanceConfig.local() if local else GovernanceConfig()
    return config if thresholds is None else config.with_bands_around(*thresholds)


def _parse_model_id(value: str) -> bytes:
    text = value.removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise click.BadParameter(f"{value!r} is not 32 bytes of hex", param_hint="--model")
    return raw
