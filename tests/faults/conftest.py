"""Fault injection: the end-to-end fixtures (tests/e2e/conftest.py: a trained model, the suite
deployed per test, real `verdict run` processes) reused under their own module name, so that the
two directories' conftest modules never shadow each other."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_E2E = Path(__file__).parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("e2e_fixtures", _E2E)
assert _spec is not None and _spec.loader is not None
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)

model_dir = _e2e.model_dir
artifact = _e2e.artifact
world = _e2e.world
client = _e2e.client
start_daemon = _e2e.start_daemon
watcher = _e2e.watcher
sender = _e2e.sender
