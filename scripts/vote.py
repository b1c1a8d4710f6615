"""`ape run vote`: delegate, vote on, queue, execute or inspect a proposal.

ape run vote delegate --account member1               # once: votes count only when delegated
ape run vote cast <proposal-id> for --account member1  # for | against | abstain
ape run vote advance <proposal-id> deadline           # local chains: snapshot | deadline | eta
ape run vote queue <proposal-id> --account member1
ape run vote execute <proposal-id> --account member1
ape run vote state <proposal-id>

<proposal-id> is the number `ape run propose` printed, or `latest` (the most recent proposal).
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand

from verdict_deploy import console as gov
from verdict_deploy.operator import account_argument, one_line_errors, resolve_account

PROPOSAL_HELP = "the id `ape run propose` printed, or `latest`"


@click.group()
def cli() -> None:
    """Vote and follow proposals on the CommunityGovernor."""


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.option(
    "--to", "delegatee", default=None, help="Delegate to this address (default: the account itself)."
)
def delegate(account_name: str, delegatee: str | None) -> None:
    """Delegate the account's votes (to itself by default): undelegated tokens weigh nothing."""
    with one_line_errors():
        account = resolve_account(account_name)
        gov.delegate(delegatee, sender=account)
        power = gov.voting_power(account)
    click.echo(f"{account.address} delegated to {delegatee or 'itself'}; votes now {power['votes']:,}")


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.argument("proposal", metavar="PROPOSAL_ID")
@click.argument("support", type=click.Choice(["for", "against", "abstain"], case_sensitive=False))
@click.option("--reason", default="", help="A reason recorded with the vote.")
def cast(account_name: str, proposal: str, support: str, reason: str) -> None:
    """Cast a vote (quadratic proposals are weighted automatically; a vote that would weigh 0 is refused)."""
    with one_line_errors():
        account = resolve_account(account_name)
        pid = gov.proposal_id_of(proposal)
        weight = gov.vote(pid, support, sender=account, reason=reason)
    click.echo(f"voted {support} on {pid} with weight {weight:,}")


@cli.command(cls=ConnectedProviderCommand)
@click.argument("proposal", metavar="PROPOSAL_ID")
@click.argument("point", type=click.Choice(["snapshot", "deadline", "eta"]))
def advance(proposal: str, point: str) -> None:
    """Local chains only: move chain time past the proposal's snapshot (voting opens), deadline
    (voting closes) or eta (the timelock delay ends). On a live chain, wait instead."""
    with one_line_errors():
        pid = gov.proposal_id_of(proposal)
        gov.advance_to(point, pid)
        state = gov.proposal_state(pid)
    click.echo(f"proposal {pid}: {state['state']} (chain time {state['now']})")


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.argument("proposal", metavar="PROPOSAL_ID")
def queue(account_name: str, proposal: str) -> None:
    """Queue a Succeeded proposal in the timelock."""
    with one_line_errors():
        account = resolve_account(account_name)
        pid = gov.proposal_id_of(proposal)
        gov.queue(pid, sender=account)
        state = gov.proposal_state(pid)
    click.echo(f"proposal {pid}: {state['state']}, executable after {state['eta']}")


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.argument("proposal", metavar="PROPOSAL_ID")
def execute(account_name: str, proposal: str) -> None:
    """Execute a Queued proposal after the timelock delay."""
    with one_line_errors():
        account = resolve_account(account_name)
        pid = gov.proposal_id_of(proposal)
        gov.execute(pid, sender=account)
        state = gov.proposal_state(pid)
    click.echo(f"proposal {pid}: {state['state']}")


@cli.command(cls=ConnectedProviderCommand)
@click.argument("proposal", metavar="PROPOSAL_ID")
def state(proposal: str) -> None:
    """Print a proposal's state, track, tally and timing."""
    with one_line_errors():
        info = gov.proposal_state(gov.proposal_id_of(proposal))
    click.echo(info)
