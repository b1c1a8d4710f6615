"""`ape run escrow --network ...`: the milestone-escrow scenario against a deployed suite.

Reads `deployments/<network>.json` (written by `ape run deploy`). If it records no `Escrow`, one is
deployed under the recorded PaymentRouter and RiskOracle and added to the record. Then a buyer
funds three milestones for a supplier, the second is disputed and ruled on, and every release waits
for the oracle daemon's verdict (start it first: `verdict daemon`). Prints the summary as JSON.

On a local network the test accounts play the roles `Roles.local()` gives them (the same arbiter
`ape run deploy` grants); elsewhere pass account aliases with --deployer/--buyer/--supplier/--arbiter.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand, ape_cli_context

from oracle.config import Settings
from verdict_demo.replay import prime_trading_partners
from verdict_deploy import Roles, deployment_path, is_local_network, require_deployment
from verdict_deploy.escrow import EscrowScenarioError, escrow_of_record, gate_waiter, run_escrow_scenario


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@click.option(
    "--deployer", "deployer_alias", default=None, help="Account alias that deploys the Escrow if needed."
)
@click.option("--buyer", "buyer_alias", default=None, help="Account alias of the buyer.")
@click.option("--supplier", "supplier_alias", default=None, help="Account alias of the supplier.")
@click.option("--arbiter", "arbiter_alias", default=None, help="Account alias of an arbiter (ARBITER_ROLE).")
@click.option(
    "--reviewer", "reviewer_alias", default=None, help="Account alias of a reviewer (with --review)."
)
@click.option(
    "--review/--no-review",
    default=False,
    show_default=True,
    help="Then approve, as the reviewer, every release the node held for review (the review queue's job).",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for each verdict.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Also write the summary here.")
@click.option(
    "--onboard/--no-onboard",
    default=True,
    show_default=True,
    help="Load the buyer's and supplier's KYC profiles and two years of their trade into the node's store "
    "(VERDICT_STORE_URL) first; without them the node reads two brand-new accounts.",
)
def cli(
    cli_ctx,
    network,
    deployer_alias,
    buyer_alias,
    supplier_alias,
    arbiter_alias,
    reviewer_alias,
    review,
    timeout,
    out,
    onboard,
):
    """Run the escrow scenario: three milestones, one disputed, every release risk-gated."""
    network_name = network.name if hasattr(network, "name") else str(network)
    path = deployment_path(network_name)
    require_deployment(path)  # missing, or recorded on another chain: one line, exit 1
    if is_local_network():
        roles = Roles.local()
        deployer, buyer, supplier, arbiter = roles.deployer, roles.buyer, roles.supplier, roles.arbiters[0]
        reviewer = roles.reviewer
    else:
        aliases = {
            "--deployer": deployer_alias,
            "--buyer": buyer_alias,
            "--supplier": supplier_alias,
            "--arbiter": arbiter_alias,
        }
        missing = [flag for flag, alias in aliases.items() if not alias]
        if missing:
            raise click.UsageError(f"on a non-local network pass {', '.join(missing)}")
        deployer, buyer, supplier, arbiter = (accounts.load(alias) for alias in aliases.values())
        if review and not reviewer_alias:
            raise click.UsageError("on a non-local network --review needs --reviewer")
        reviewer = accounts.load(reviewer_alias) if reviewer_alias else None

    try:
        escrow, stablecoin, deployed = escrow_of_record(path, deployer, arbiter)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if deployed:
        cli_ctx.logger.success(f"Escrow deployed at {escrow.address} and recorded in {path}")

    if onboard:
        now = int(chain.blocks.head.timestamp)
        prime_trading_partners(Settings().store_url, str(buyer.address), str(supplier.address), now)
    try:
        summary = run_escrow_scenario(
            escrow,
            stablecoin,
            buyer,
            supplier,
            arbiter,
            wait_for_verdict=gate_waiter(escrow, timeout=timeout),
            reviewer=reviewer if review else None,
        )
    except EscrowScenarioError as error:
        raise click.ClickException(f"{error} (is the oracle daemon running?)") from error

    text = json.dumps(summary, indent=2)
    click.echo(text)
    if out:
        Path(out).write_text(text + "\n")
        cli_ctx.logger.success(f"Summary written to {out}")
