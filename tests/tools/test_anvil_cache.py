"""The anvils a test run starts keep their per-block states in the run's own directory (removed when
the run ends, tests/conftest.py), not in `~/.foundry/anvil/tmp`, where anvil leaves them for good."""

from __future__ import annotations

import os
from pathlib import Path

import anvil_cache
from second_anvil import SecondAnvil


def test_the_runs_anvils_keep_their_states_in_the_runs_directory(chain):
    run_dir = Path(os.environ[anvil_cache.ENV])
    assert run_dir.is_dir() and anvil_cache.FOUNDRY_TMP not in (run_dir, *run_dir.parents)
    process = chain.provider.process  # None when ape was pointed at a running chain
    if process is not None:
        command = list(process.args)
        assert command[command.index("--cache-path") + 1] == str(run_dir)

    before = set(run_dir.iterdir())
    anvil = SecondAnvil()
    try:
        anvil.mine(600)  # anvil keeps about 400 states in memory; older ones go to the cache directory
    finally:
        anvil.stop()
    written = set(run_dir.iterdir()) - before
    assert len(written) == 1, written
    (states,) = written
    assert states.name.startswith("anvil-state-") and anvil_cache.size(states) > 0
