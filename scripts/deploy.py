"""`ape run deploy --network ...`: deploys and wires the Verdict suite, records the addresses.

On a local network the test accounts play every role (deployer, treasury, nodes, reviewer,
guardian). On any other network `--account` is the deployer and the admin of everything; pass the
other roles as options. An existing `deployments/<network>.json` on a non-local network is only
overwritten after a confirmation. The record binds the deployment to this chain (chain id and the
hash of its first block), lists the role holders (printed too) and points at an ABI file per contract.
"""

from __future__ import annotations

import click
from ape.api.address import Address
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from oracle.deployment import Deployment
from oracle.errors import VerdictError
from oracle.model import load as load_model
from verdict_deploy import (
    Dao,
    Roles,
    deploy_world,
    deployment_path,
    is_local_network,
    model_id_bytes,
    thresholds_of,
)
from verdict_deploy.suite import abi_dir_of


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
@click.option(
    "--relayer", default=None, help="Relayer address: submits members' signed votes (with the DAO only)."
)
@click.option("--no-dao", is_flag=True, help="Keep the deployer as admin instead of handing over to the DAO.")
@click.option(
    "--fx",
    is_flag=True,
    help="Also deploy cross-border payments (local networks): Uniswap v2 pools, currency tokens, price "
    "feeds and the CrossBorderRouter (docs/cross-border.md).",
)
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
    relayer,
    no_dao,
    fx,
    yes,
):
    """Deploy the suite: RiskOracle, PaymentRouter, Escrow and the DAO that governs them."""
    network_name = network.name if hasattr(network, "name") else str(network)
    local = is_local_network()
    if not local and account is None:
        raise click.UsageError("--account is required on a non-local network")
    # Role holders given as addresses on the command line act like accounts for the deployment.
    given = {
        "treasury": treasury,
        "nodes": nodes,
        "reviewers": reviewers,
        "guardian": guardian,
        "arbiters": arbiters,
        "members": tuple(Address(m) for m in members),
        "founders": tuple(Address(f) for f in founders),
        "relayer": relayer,
    }
    given = {role: value for role, value in given.items() if value}
    given["quorum"] = quorum
    if account is not None:
        given["deployer"] = account
    # On a local chain the test accounts play every role not given.
    roles = Roles.local(**given) if local else Roles(**given)

    model_ids = [_parse_model_id(model) for model in models]
    thresholds = None
    if model_dir is not None:
        try:
            artifact = load_model(model_dir)
        except VerdictError as exc:
            raise click.BadParameter(str(exc), param_hint="--model-dir") from None
        model_ids.append(model_id_bytes(artifact.model_id))
        thresholds = thresholds_of(artifact)
    path = deployment_path(network_name)
    if path.exists() and not local and not yes:
        click.confirm(f"{path} already records a deployment on {network_name}; overwrite it?", abort=True)

    if fx and not local:
        raise click.BadParameter(
            "cross-border payments deploy mock currencies: local networks only", param_hint="--fx"
        )
    if len(roles.nodes) < quorum:
        raise click.BadParameter(f"quorum {quorum} needs at least {quorum} nodes", param_hint="--quorum")

    # Unless --no-dao the DAO comes last and takes the policy contracts over: from then on only
    # executed proposals change the policy, and the deployer keeps no role.
    world = deploy_world(
        roles,
        models=model_ids,
        thresholds=thresholds,
        escrow=True,
        dao=Dao.NONE if no_dao else Dao.GOVERNS,
        network=network_name,
        fx=fx,
    )
    if thresholds is not None:
        cli_ctx.logger.success(
            f"Genesis policy from the model: review {thresholds[0]} bps, reject {thresholds[1]} bps"
        )
    for name, address in world.addresses.items():
        cli_ctx.logger.success(f"{name} deployed at {click.style(address, bold=True)}")
    record = Deployment.load(world.deployment)
    for role, holder in record.roles.items():
        shown = ", ".join(holder) if isinstance(holder, list) else str(holder)
        click.echo(f"  {role:>9}: {shown or '-'}")
    cli_ctx.logger.success(
        f"Deployment recorded in {world.deployment} (chain id {record.chain_id}, block {record.block} "
        f"{record.block_hash}); ABIs in {abi_dir_of(world.deployment)}"
    )


def _parse_model_id(value: str) -> bytes:
    text = value.removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise click.BadParameter(f"{value!r} is not 32 bytes of hex", param_hint="--model")
    return raw
