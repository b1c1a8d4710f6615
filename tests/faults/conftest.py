"""Fault injection on the end-to-end fixtures (tests/chain_fixtures.py: a trained model, the
suite deployed per test, real `verdict run` processes).

Chain mode: ape's automining anvil (one block per transaction, with `--steps-tracing`), because
these tests assert what happens, not how fast: automine makes every step observable at once and
keeps the tests short; speed on an interval-mined chain is `make bench`'s (docs/benchmarks.md)."""

from chain_fixtures import artifact, client, model_dir, sender, start_daemon, watcher, world

__all__ = ["artifact", "client", "model_dir", "sender", "start_daemon", "watcher", "world"]
