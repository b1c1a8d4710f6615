"""Fault injection: the end-to-end fixtures (tests/e2e/conftest.py: a trained model, the suite
deployed per test, real `verdict run` processes) reused under their own module name, so that the
two directories' conftest modules never shadow each other."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_E2E = Path(__file__).parents[1] / "e2e" / "conftest.py"
if str(_E2E.parent) not in sys.path:
    sys.path.append(str(_E2E.parent))  # for the helper modules the e2e conftest imports
_spec = importlib.util.spec_from_file_location("e2e_fixtures", _E2E)
assert _spec is not None and _spec.loader is not None
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)

# Every fixture the e2e conftest defines (model_dir, artifact, world, client, start_daemon, ...).
globals().update(
    {name: value for name, value in vars(_e2e).items() if type(value).__name__ == "FixtureFunctionDefinition"}
)
