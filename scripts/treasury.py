"""`ape run treasury`: the DAO treasury's balances and every outflow with the proposal behind it
(see `verdict_deploy.treasury`)."""

from __future__ import annotations

import json

import click
from ape import networks
from ape.cli import ConnectedProviderCommand

from verdict_deploy import deployment_path, require_deployment
from verdict_deploy.operator import one_line_errors
from verdict_deploy.treasury import format_report, treasury_of_record


@click.command(cls=ConnectedProviderCommand)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def cli(as_json: bool) -> None:
    """Print the treasury's balances and outflows (reads deployments/<network>.json)."""
    path = deployment_path(networks.provider.network.name)  # "local", as `ape run deploy` names it
    require_deployment(path)  # missing, or recorded on another chain: one line, exit 1
    with one_line_errors():
        report = treasury_of_record(path)
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))
