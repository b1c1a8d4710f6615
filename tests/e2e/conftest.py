"""The whole path on a real chain: ape's anvil, the deployed suite, a trained model and oracle
daemons running as separate `verdict run` processes (fixtures in tests/chain_fixtures.py).

Every test deploys its own suite and gives its daemons a fresh store, so ape's snapshot and revert
around each test cannot confuse a daemon: its contracts never existed before the test. The chain
is ape's automining anvil: these tests check outcomes, not timing; interval mining is `make bench`'s.
"""

from chain_fixtures import client, sender, start_daemon, watcher, world

# The model (`model_dir`, `artifact`) comes from tests/conftest.py: one session fixture there is
# trained once; imported into each directory's conftest it was trained once per directory.
__all__ = ["client", "sender", "start_daemon", "watcher", "world"]
