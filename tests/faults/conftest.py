"""Fault injection on the end-to-end fixtures (tests/chain_fixtures.py: a trained model, the
suite deployed per test, real `verdict run` processes)."""

from chain_fixtures import artifact, client, model_dir, sender, start_daemon, watcher, world

__all__ = ["artifact", "client", "model_dir", "sender", "start_daemon", "watcher", "world"]
