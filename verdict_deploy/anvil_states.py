"""Where the anvils a test run or `make demo` starts keep their per-block states, and their removal
when it ends.

Anvil keeps a few hundred recent states in memory and writes every older one to a directory
`anvil-state-*` under `~/.foundry/anvil/tmp` (about 1 MB a block), which it never removes, not even
on a clean exit: each session anvil used to leave 0.8-2.8 GB there, and they once filled the disk.
So every anvil of a run (ape's, through a wrapped `FoundryProvider.build_command`; the tests' own
second and private anvils, through `args()`) gets `--cache-path` to one directory of the run's, made
in `pytest_configure` and removed in `pytest_unconfigure` once ape has stopped its anvil; `ape run
demo` does the same (`for_this_process`: one `make demo` left 1.2 GB there). Other processes'
anvils, and a concurrent run's, keep their own directories.

`--prune-history` would write nothing but drops the state of every past block (a balance or
`eth_call` one block back fails), which the daemon's and the tests' reads at a block tag need."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ENV = "VERDICT_TEST_ANVIL_CACHE"  # the name predates the demo's use
FOUNDRY_TMP = Path.home() / ".foundry" / "anvil" / "tmp"


def args() -> list[str]:
    """The options that put an anvil's states in the run's directory (none outside a test run)."""
    path = os.environ.get(ENV)
    return ["--cache-path", path] if path else []


def size(path: Path) -> int:
    """Bytes in the files below `path`."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def start_run() -> Path | None:
    """Makes the run's directory and names it in the environment (inherited by the processes the
    tests start); None when a parent process's run already made one (it removes it)."""
    if os.environ.get(ENV):
        return None
    path = Path(tempfile.mkdtemp(prefix="verdict-anvil-states-"))
    os.environ[ENV] = str(path)
    return path


def wrap_ape_provider() -> None:
    """ape-foundry has no setting for extra anvil options: its command gets `args()` appended."""
    from ape_foundry.provider import FoundryProvider

    build = FoundryProvider.build_command
    if getattr(build, "_with_anvil_cache", False):
        return

    def build_command(self) -> list[str]:  # noqa: ANN001 - ape's provider
        return [*build(self), *args()]

    build_command._with_anvil_cache = True  # type: ignore[attr-defined]
    FoundryProvider.build_command = build_command  # type: ignore[method-assign]


def end_run(path: Path) -> str:
    """Removes the run's directory (its anvils have stopped); says how much it held."""
    held = size(path)
    shutil.rmtree(path, ignore_errors=True)
    os.environ.pop(ENV, None)
    return f"anvil states: {held / 2**20:.0f} MB written by this run's anvils, removed ({path})"


def for_this_process() -> None:
    """`start_run` and `wrap_ape_provider` for a script that ape runs on an anvil of its own (the
    demo): the directory is removed at exit, after ape has stopped that anvil (ape's own exit
    handler, registered when it connects, later than this one, runs first). Under a test run the
    run's directory is used and left to the run."""
    path = start_run()
    wrap_ape_provider()
    if path is not None:
        atexit.register(end_run, path)
