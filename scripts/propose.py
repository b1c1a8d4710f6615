"""`ape run propose`: submit a governance proposal from the command line.

ape run propose thresholds 9800 --reject 9990 --account alice --network ethereum:local:foundry
ape run propose fee 25 --quadratic --account alice
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option

from verdict_deploy import console as gov

QUADRATIC_HELP = "Count votes quadratically among members (only calls the DAO listed for it, within bounds)."


@click.group()
def cli() -> None:
    """Submit a proposal to the CommunityGovernor (contracts from deployments/<network>.json)."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("review", type=click.IntRange(0, 10_000))
@click.option(
    "--reject", type=click.IntRange(0, 10_000), default=None, help="Reject threshold (default: unchanged)."
)
@click.option("--quadratic", is_flag=True, help=QUADRATIC_HELP)
def thresholds(account, review: int, reject: int | None, quadratic: bool) -> None:
    """Propose new PaymentRouter review/reject thresholds (basis points)."""
    _run(lambda: gov.propose_thresholds(review, reject, sender=account, quadratic=quadratic))


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("fee_bps", type=click.IntRange(0, 10_000))
@click.option("--quadratic", is_flag=True, help=QUADRATIC_HELP)
def fee(account, fee_bps: int, quadratic: bool) -> None:
    """Propose a new PaymentRouter fee (basis points)."""
    _run(lambda: gov.propose_fee(fee_bps, sender=account, quadratic=quadratic))


def _run(action) -> None:
    try:
        pid = action()
    except (RuntimeError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"proposal id: {pid}")
    click.echo(gov.proposal_state(pid))
