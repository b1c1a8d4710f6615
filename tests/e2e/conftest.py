"""The whole path on a real chain: ape's anvil, the deployed suite, a trained model and oracle
daemons running as separate `verdict run` processes (fixtures in tests/chain_fixtures.py).

Every test deploys its own suite and gives its daemons a fresh store, so ape's snapshot and revert
around each test cannot confuse a daemon: its contracts never existed before the test. The chain
is ape's automining anvil: these tests check outcomes, not timing; interval mining is `make bench`'s.
"""

from chain_fixtures import artifact, client, model_dir, sender, start_daemon, watcher, world

__all__ = ["artifact", "client", "model_dir", "sender", "start_daemon", "watcher", "world"]
