"""`ape run bench`: the ape half of `make bench` (`bench.prepare`: model, scoring, suite, funded
accounts, gas). `make bench` runs it against an anvil of its own (`bench.run`); on its own it needs
APE_FOUNDRY_HOST to name a running anvil, or it uses ape's (which traces every step: slower)."""

from __future__ import annotations

from pathlib import Path

import click
from ape import networks
from ape.cli import ConnectedProviderCommand

from bench.prepare import prepare

ROOT = Path(__file__).resolve().parents[1]


@click.command(cls=ConnectedProviderCommand)
@click.option("--scoring/--no-scoring", default=True, show_default=True, help="Measure scoring speed.")
@click.option("--gas/--no-gas", default=True, show_default=True, help="Measure gas.")
def cli(scoring: bool, gas: bool) -> None:
    """Prepare the benchmark's chain state and the figures that need ape."""
    if not networks.provider.network.is_local:
        raise click.ClickException(
            "the benchmark mints test tokens and moves chain time: use a local network"
        )
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    prepare(work, with_scoring=scoring, with_gas=gas)
