"""`ape run bench` (`make bench`): throughput, latency, gas and scoring speed, side by side, in one run
(`bench.run`). Writes `bench/results.json` and `docs/benchmarks.md`; a benchmark, not a test."""

from __future__ import annotations

import click
from ape import networks
from ape.cli import ConnectedProviderCommand

from bench.run import run_bench


@click.command(cls=ConnectedProviderCommand)
@click.option("--burst", default=2000, show_default=True, help="Payments in the end-to-end burst.")
@click.option("--transfers", default=3000, show_default=True, help="Plain transfers for the chain ceiling.")
@click.option("--rate", default=100.0, show_default=True, help="Offered load of the latency run, per second.")
@click.option("--seconds", default=10.0, show_default=True, help="Length of the latency run.")
@click.option("--poll", default="0.01", show_default=True, help="The daemon's VERDICT_POLL_INTERVAL.")
@click.option(
    "--profile",
    default=None,
    type=click.Path(dir_okay=False),
    help="Run the daemon under cProfile and write its profile here (where does its time go?).",
)
@click.option("--out", default="bench/results.json", show_default=True, type=click.Path(dir_okay=False))
@click.option("--doc", default="docs/benchmarks.md", show_default=True, type=click.Path(dir_okay=False))
def cli(
    burst: int,
    transfers: int,
    rate: float,
    seconds: float,
    poll: str,
    profile: str | None,
    out: str,
    doc: str,
) -> None:
    """Run every benchmark against a fresh local chain and write the results."""
    if not networks.provider.network.is_local:
        raise click.ClickException(
            "the benchmark mints test tokens and moves chain time: use a local network"
        )
    run_bench(burst, transfers, rate, seconds, poll, profile, out, doc)
