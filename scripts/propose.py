"""`ape run propose`: submit a governance proposal from the command line.

ape run propose thresholds 9800 --reject 9990 --account member1 --network ethereum:local:foundry
ape run propose fee 25 --quadratic --account member1
ape run propose approve-model --model-dir var/model --account member1
ape run propose approve-model --model-dir var/challenger --comparison var/compare.json --account member1

`--account` is an ape alias; on a local chain also a role name (member1..member4, guardian...) or a
test-account index (see `verdict_deploy.operator`).
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand

from verdict_deploy import console as gov
from verdict_deploy.operator import account_argument, one_line_errors, resolve_account

QUADRATIC_HELP = "Count votes quadratically among members (only calls the DAO listed for it, within bounds)."


@click.group()
def cli() -> None:
    """Submit a proposal to the CommunityGovernor (contracts from deployments/<network>.json)."""


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.argument("review", type=click.IntRange(0, 10_000))
@click.option(
    "--reject", type=click.IntRange(0, 10_000), default=None, help="Reject threshold (default: unchanged)."
)
@click.option("--quadratic", is_flag=True, help=QUADRATIC_HELP)
def thresholds(account_name: str, review: int, reject: int | None, quadratic: bool) -> None:
    """Propose new PaymentRouter review/reject thresholds (basis points)."""
    _run(
        account_name,
        lambda account: gov.propose_thresholds(review, reject, sender=account, quadratic=quadratic),
    )


@cli.command(cls=ConnectedProviderCommand)
@account_argument
@click.argument("fee_bps", type=click.IntRange(0, 10_000))
@click.option("--quadratic", is_flag=True, help=QUADRATIC_HELP)
def fee(account_name: str, fee_bps: int, quadratic: bool) -> None:
    """Propose a new PaymentRouter fee (basis points)."""
    _run(account_name, lambda account: gov.propose_fee(fee_bps, sender=account, quadratic=quadratic))


@cli.command("approve-model", cls=ConnectedProviderCommand)
@account_argument
@click.option(
    "--model-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="A trained model (`verdict train --out DIR`): its id, checked against its files.",
)
@click.option("--model", "model_id", default=None, help="Or the model id itself (0x + 64 hex).")
@click.option(
    "--comparison",
    type=click.Path(dir_okay=False),
    default=None,
    help="`verdict compare --out FILE` of this model as the challenger: its sha256 goes in the description.",
)
def approve_model(
    account_name: str, model_dir: str | None, model_id: str | None, comparison: str | None
) -> None:
    """Propose RiskOracle.approveModel for a trained model (Major track): nodes post verdicts only
    under an approved model."""
    if (model_dir is None) == (model_id is None):
        raise click.UsageError("give exactly one of --model-dir DIR or --model 0xID")
    model = model_dir if model_dir is not None else model_id
    _run(
        account_name,
        lambda account: gov.propose_approve_model(model, sender=account, comparison=comparison),
    )


def _run(account_name: str, action) -> None:
    with one_line_errors():
        account = resolve_account(account_name)
        pid = action(account)
        state = gov.proposal_state(pid)
    click.echo(f"proposal id: {pid}")
    click.echo(
        f"state {state['state']}, {state['track']} track; "
        f"votes open after the snapshot at {state['snapshot']}"
    )
