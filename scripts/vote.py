"""`ape run vote`: vote on, queue, execute or inspect a proposal.

ape run vote cast <proposal-id> for --account alice      # for | against | abstain
ape run vote queue <proposal-id> --account alice
ape run vote execute <proposal-id> --account alice
ape run vote state <proposal-id>
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option

from verdict_deploy import console as gov


@click.group()
def cli() -> None:
    """Vote and follow proposals on the CommunityGovernor."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("proposal_id", type=int)
@click.argument("support", type=click.Choice(["for", "against", "abstain"], case_sensitive=False))
@click.option("--reason", default="", help="A reason recorded with the vote.")
def cast(account, proposal_id: int, support: str, reason: str) -> None:
    """Cast a vote (quadratic proposals are weighted automatically)."""
    weight = _guard(lambda: gov.vote(proposal_id, support, sender=account, reason=reason))
    click.echo(f"voted {support} with weight {weight}")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("proposal_id", type=int)
def queue(account, proposal_id: int) -> None:
    """Queue a Succeeded proposal in the timelock."""
    _guard(lambda: gov.queue(proposal_id, sender=account))
    click.echo(gov.proposal_state(proposal_id))


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("proposal_id", type=int)
def execute(account, proposal_id: int) -> None:
    """Execute a Queued proposal after the timelock delay."""
    _guard(lambda: gov.execute(proposal_id, sender=account))
    click.echo(gov.proposal_state(proposal_id))


@cli.command(cls=ConnectedProviderCommand)
@click.argument("proposal_id", type=int)
def state(proposal_id: int) -> None:
    """Print a proposal's state, track, tally and timing."""
    click.echo(_guard(lambda: gov.proposal_state(proposal_id)))


def _guard(action):
    try:
        return action()
    except (RuntimeError, ValueError) as err:
        raise click.ClickException(str(err)) from err
