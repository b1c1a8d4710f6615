"""Fault injection on the end-to-end fixtures (tests/chain_fixtures.py: a trained model, the
suite deployed per test, real `verdict run` processes).

Chain mode: ape's automining anvil (one block per transaction, with `--steps-tracing`), because
these tests assert what happens, not how fast: automine makes every step observable at once and
keeps the tests short; speed on an interval-mined chain is `make bench`'s (docs/benchmarks.md)."""

from chain_fixtures import client, sender, start_daemon, watcher, world

# The model (`model_dir`, `artifact`) comes from tests/conftest.py: one session fixture there is
# trained once; imported into each directory's conftest it was trained once per directory.
__all__ = ["client", "sender", "start_daemon", "watcher", "world"]
