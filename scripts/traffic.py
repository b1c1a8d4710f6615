"""`ape run traffic`: send payments to a deployed suite at a steady rate (local chains).

ape run traffic --network ethereum:local:foundry --rate 20 --count 200 --mix default

The payments are a generated scenario's (see `verdict_deploy.traffic`): consumers paying merchants in
ETH and the mock stablecoins, and every fraud typology of docs/typologies.md (`--mix default`), only
the legitimate ones (`legit`) or only the frauds (`fraud`). Start `verdict run` first to see verdicts:
the customers' KYC profiles and a month of their history go into the node's store (VERDICT_STORE_URL)
first, as onboarding would put them there (`--no-onboard` to skip).
"""

from __future__ import annotations

import json

import click
from ape import networks
from ape.cli import ConnectedProviderCommand
from rich.console import Console
from rich.table import Table

from oracle.chain import ChainClient, load_abis
from oracle.config import Settings
from verdict_deploy import MANIFEST, deployment_path, is_local_network, require_deployment
from verdict_deploy.operator import one_line_errors
from verdict_deploy.traffic import MIXES, plan_traffic, send_traffic
from verdict_deploy.traffic import onboard as onboard_customers


@click.command(cls=ConnectedProviderCommand)
@click.option(
    "--rate", default=20.0, show_default=True, type=click.FloatRange(min=0.1), help="Payments per second."
)
@click.option("--count", default=200, show_default=True, type=click.IntRange(min=1), help="Payments to send.")
@click.option("--mix", default="default", show_default=True, type=click.Choice(MIXES), help="Which payments.")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="The scenario's seed (wallets and payments)."
)
@click.option(
    "--wait",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for verdicts.",
)
@click.option(
    "--onboard/--no-onboard",
    default=True,
    show_default=True,
    help="Load the customers' KYC profiles and a month of their history into the node's store "
    "(VERDICT_STORE_URL) first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def cli(rate: float, count: int, mix: str, seed: int, wait: float, onboard: bool, as_json: bool) -> None:
    """Send `--count` payments at `--rate` per second and report their outcomes."""
    if not is_local_network():
        raise click.ClickException(
            "ape run traffic funds throwaway wallets with anvil_setBalance: local chains only"
        )
    record = require_deployment(deployment_path(networks.provider.network.name))  # this chain's, or exit 1
    console = Console(stderr=True)
    with one_line_errors():
        client = ChainClient(networks.provider.uri, record, load_abis(MANIFEST))
        plan = plan_traffic(client, count=count, mix=mix, seed=seed)
        if onboard:
            store_url = Settings().store_url
            added = onboard_customers(store_url, plan, int(client.w3.eth.get_block("latest")["timestamp"]))
            console.print(f"onboarded {len(plan.scenario.accounts)} customers and {added} past payments")
        console.print(
            f"sending {len(plan.rows)} payments ({mix} mix) at {rate:g}/s to {client.router.address}"
        )
        summary = send_traffic(client, plan, rate=rate, wait=wait)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    outcomes = summary["outcomes"]
    click.echo(
        f"payments {summary['first_id']}..{summary['last_id']}: {summary['sent']} sent, "
        + ", ".join(f"{outcomes.get(k, 0)} {k}" for k in ("settled", "held", "refunded", "pending"))
    )
    table = Table("typology", "settled", "held", "refunded", "pending")
    for typology, counts in summary["by_typology"].items():
        table.add_row(typology, *(str(counts.get(k, 0)) for k in ("settled", "held", "refunded", "pending")))
    Console().print(table)
    if summary["frauds"]:
        click.echo(f"fraud payment ids: {' '.join(map(str, summary['frauds']))}")
    if outcomes.get("pending") and wait > 0:
        click.echo("payments still pending: is `verdict run` running with an approved model?")
