"""`ape run screenshots --network ethereum:local:foundry`: docs/screenshots/*.png of every dashboard
page, taken by `verdict_demo.screenshots` against a demo-like local chain."""

from __future__ import annotations

from pathlib import Path

import click
from ape import networks
from ape.cli import ConnectedProviderCommand

from verdict_demo.dashboard import CHROMIUM
from verdict_demo.screenshots import take_screenshots
from verdict_demo.story import DemoError


@click.command(cls=ConnectedProviderCommand)
@click.option("--payments", default=120, show_default=True, type=click.IntRange(min=60, max=2000))
@click.option("--seed", default=7, show_default=True)
@click.option("--workdir", default="var/screenshots", show_default=True, type=click.Path(file_okay=False))
@click.option(
    "--out", "out_dir", default="docs/screenshots", show_default=True, type=click.Path(file_okay=False)
)
def cli(payments: int, seed: int, workdir: str, out_dir: str) -> None:
    """Screenshots of every dashboard page against a demo-like local chain."""
    if not networks.provider.network.is_local:
        raise click.ClickException("this script mints test tokens and moves chain time: use a local network")
    if not Path(CHROMIUM).exists():
        raise click.ClickException(f"no chromium at {CHROMIUM}: run `make browser`")
    try:
        take_screenshots(payments, seed, workdir, out_dir)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
