"""Plain helpers of the end-to-end tests (a module of its own: test modules must
not import `conftest`, whose name several test directories share)."""

from __future__ import annotations

import time
from collections.abc import Callable

from verdict_deploy import MANIFEST

__all__ = ["MANIFEST", "wait_until"]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Polls `predicate` until it holds or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
