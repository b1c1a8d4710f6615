"""The anvils a test run starts keep their per-block states in the run's own directory (removed when
the run ends, tests/conftest.py), not in `~/.foundry/anvil/tmp`, where anvil leaves them for good."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from second_anvil import SecondAnvil

from verdict_deploy import anvil_states as anvil_cache


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


def test_a_script_outside_a_test_run_gets_its_own_directory_removed_at_exit():
    """`ape run demo` calls `for_this_process` before ape starts its anvil: the states go to a
    directory of its own, gone once the process exits (one demo left 1.2 GB in ~/.foundry)."""
    env = {k: v for k, v in os.environ.items() if k != anvil_cache.ENV}
    code = (
        "import os; from verdict_deploy import anvil_states as a; a.for_this_process(); "
        "from ape_foundry.provider import FoundryProvider as P; "
        "d = os.environ[a.ENV]; open(os.path.join(d, 'state'), 'w').write('x'); "
        "assert getattr(P.build_command, '_with_anvil_cache', False); print(d)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    made = Path(done.stdout.strip())
    assert made.name.startswith("verdict-anvil-states-") and not made.exists()
