"""`ape run vote`: delegate, vote on, queue, execute or inspect a proposal.

ape run vote delegate --account member1 --account member2   # rarely needed: see below
ape run vote cast <proposal-id> for --account member1        # for | against | abstain
ape run vote advance <proposal-id> deadline                 # local chains: snapshot | deadline | eta
ape run vote queue <proposal-id> --account member1
ape run vote execute <proposal-id> --account member1
ape run vote state <proposal-id>

<proposal-id> is the number `ape run propose` printed, or `latest` (the most recent proposal). On a
local chain `--advance` on cast, queue and execute first moves chain time to where the step is allowed
(the snapshot, the deadline, the eta), as `advance` would.

`delegate` is not a step of voting: CommunityToken delegates an account without code (an EOA) to itself
when it first receives tokens, so a member's votes equal their balance without any `delegate`
transaction (docs/governance.md, "Votes without a delegate step"). It is for an account that chose
another delegate or declined one (delegated to address(0)), for `--to` someone else, and for a
contract, whose tokens carry no votes until it delegates. Only votes held at a proposal's snapshot
count, whichever way they were delegated.
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand

from verdict_deploy import console as gov
from verdict_deploy.operator import account_argument, accounts_argument, one_line_errors, resolve_account

ADVANCE_HELP = "Local chains: first move chain time past the proposal's {} (on a live chain, wait instead)."


@click.group()
def cli() -> None:
    """Vote and follow proposals on the CommunityGovernor."""


@cli.command(cls=ConnectedProviderCommand)
@accounts_argument
@click.option(
    "--to", "delegatee", default=None, help="Delegate to this address (default: each account itself)."
)
def delegate(account_names: tuple[str, ...], delegatee: str | None) -> None:
    """Delegate each account's votes (to itself by default). EOAs delegate to themselves on their
    first receipt; this is for an account that chose another delegate, declined one, or is a contract."""
    for name in account_names:
        with one_line_errors():
            account = resolve_account(name)
            gov.delegate(delegatee, sender=account)
            power = gov.voting_power(account)
        click.echo(
            f"{name} ({account.address}) delegated to {delegatee or 'itself'}; votes {power['votes']:,}"
        )


@cli.command(cls=ConnectedProviderCommand)
@accounts_argument
@click.argument("proposal", metavar="PROPOSAL_ID")
@click.argument("support", type=click.Choice(["for", "against", "abstain"], case_sensitive=False))
@click.option("--reason", default="", help="A reason recorded with the vote.")
@click.option("--advance", "advance_first", is_flag=True, help=ADVANCE_HELP.format("snapshot (voting opens)"))
def cast(
    account_names: tuple[str, ...], proposal: str, support: str, reason: str, advance_first: bool
) -> None:
    """Cast each account's vote (quadratic proposals are weighted automatically; a vote that would
    weigh 0 is refused with the reason)."""
    with one_line_errors():
        pid = gov.proposal_id_of(proposal)
        if advance_first:
            _advance_if_before(pid, "snapshot", "Pending")
    for name in account_names:
        with one_line_errors():
            weight = gov.vote(pid, support, sender=resolve_account(name), reason=reason)
        click.echo(f"{name} voted {support} on {pid} with weight {weight:,}")


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
@click.option(
    "--advance", "advance_first", is_flag=True, help=ADVANCE_HELP.format("deadline (voting closes)")
)
def queue(account_name: str, proposal: str, advance_first: bool) -> None:
    """Queue a Succeeded proposal in the timelock."""
    with one_line_errors():
        account = resolve_account(account_name)
        pid = gov.proposal_id_of(proposal)
        if advance_first:
            _advance_if_before(pid, "deadline", "Pending", "Active")
        gov.queue(pid, sender=account)
        state = gov.proposal_state(pid)
    click.echo(f"proposal {pid}: {state['state']}, executable after {state['eta']}")


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.argument("proposal", metavar="PROPOSAL_ID")
@click.option(
    "--advance", "advance_first", is_flag=True, help=ADVANCE_HELP.format("eta (the timelock delay)")
)
def execute(account_name: str, proposal: str, advance_first: bool) -> None:
    """Execute a Queued proposal after the timelock delay."""
    with one_line_errors():
        account = resolve_account(account_name)
        pid = gov.proposal_id_of(proposal)
        if advance_first:
            _advance_if_before(pid, "eta", "Queued")
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


def _advance_if_before(pid: int, point: str, *states: str) -> None:
    if gov.proposal_state(pid)["state"] in states:
        gov.advance_to(point, pid)
