"""`ape run roles`: who holds which role on a local chain, and the keys the operator's processes need.

ape run roles --network ethereum:local:foundry            # role, test-account index, address
ape run roles --export      # as comments, then `export VERDICT_NODE_KEY=...` and the reviewer's, relayer's
eval "$(ape run roles --network ethereum:local:foundry --export)"   # sets the three

On a local chain `ape run deploy` deals the roles to ape's test accounts (`Roles.local()`): their keys
come from the public test mnemonic, so they are printed here; never use them on a real network. On any
other network the roles are the addresses given to `ape run deploy`, and their keys are the operator's.
"""

from __future__ import annotations

import shlex

import click
from ape.cli import ConnectedProviderCommand

from verdict_deploy import is_local_network
from verdict_deploy.operator import local_role_accounts, test_account_index

# The settings each process reads its key from.
KEY_VARIABLES = {
    "node": "VERDICT_NODE_KEY",
    "reviewer": "VERDICT_REVIEWER_KEY",
    "relayer": "VERDICT_RELAY_KEY",
}


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--export", "as_export", is_flag=True, help="Print `export VERDICT_..._KEY=...` lines for eval."
)
def cli(as_export: bool) -> None:
    """List a local chain's role holders (test accounts); --export: their keys as VERDICT_* lines."""
    if not is_local_network():
        raise click.ClickException(
            "roles are test accounts only on a local chain; "
            "elsewhere they are the addresses given to `ape run deploy`"
        )
    roles = local_role_accounts()
    # With --export the listing comes as shell comments, so `eval "$(...)"` shows nothing but sets the keys.
    prefix = "# " if as_export else ""
    for role, account in roles.items():
        click.echo(f"{prefix}{role:<10} test account {test_account_index(account):>2}  {account.address}")
    if as_export:
        for role, variable in KEY_VARIABLES.items():
            click.echo(f"export {variable}={shlex.quote(roles[role].private_key)}")
        return
    click.echo(
        "keys: `ape run roles --export` (VERDICT_NODE_KEY, VERDICT_REVIEWER_KEY, VERDICT_RELAY_KEY); "
        "--account takes the role names"
    )
