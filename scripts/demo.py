"""`ape run demo`: Verdict's main job end to end on a fresh local chain (the story is told in
`verdict_demo.story`): train a model, deploy the suite and the DAO, start the oracle daemon, replay a
few hundred payments, one DAO vote and an escrow, and write `demo-summary.json`. The demo's chain is
always one it started itself, and its deployment record is `var/demo/deployment.json`, never the
long-lived chain's `deployments/local.json`."""

from __future__ import annotations

import click
from ape import networks
from ape.cli import ConnectedProviderCommand

from verdict_demo.story import DemoError, run_demo
from verdict_deploy import anvil_states

# Before ape connects (when the command runs): the anvil ape starts for the demo writes its per-block
# states to a directory of this run's, removed at exit, not to ~/.foundry/anvil/tmp for good.
anvil_states.for_this_process()


@click.command(cls=ConnectedProviderCommand)
@click.option("--payments", default=300, show_default=True, type=click.IntRange(min=60, max=5000))
@click.option(
    "--accounts", "n_accounts", default=60, show_default=True, type=click.IntRange(min=10, max=2000)
)
@click.option("--seed", default=7, show_default=True, help="Seed of the synthetic data and traffic.")
@click.option("--workdir", default="var/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--summary", default="demo-summary.json", show_default=True, type=click.Path(dir_okay=False))
@click.option(
    "--dashboard", is_flag=True, help="Afterwards keep the chain up and serve the dashboard until Ctrl-C."
)
@click.option(
    "--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Dashboard port."
)
def cli(
    payments: int, n_accounts: int, seed: int, workdir: str, summary: str, dashboard: bool, port: int
) -> None:
    """Run the Verdict demo on a local chain."""
    if not networks.provider.network.is_local:
        raise click.ClickException("the demo mints test tokens and moves chain time: use a local network")
    if getattr(networks.provider, "process", None) is None:
        # ape connected to a chain that was already running (APE_FOUNDRY_HOST): the demo would move
        # its time, fill it with payments and hand its policy to a fresh DAO.
        raise click.ClickException(
            f"the demo runs on a chain of its own, but {networks.provider.uri} was already running "
            "(APE_FOUNDRY_HOST is set?): unset APE_FOUNDRY_HOST, or run `make demo`"
        )
    try:
        run_demo(payments, n_accounts, seed, workdir, summary, dashboard, port)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
