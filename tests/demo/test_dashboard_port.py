"""`make demo-dashboard` with its port taken fails at once, with one line and a non-zero exit, before
it starts a chain or trains a model; and the port passes through make (DASHBOARD_PORT)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from verdict_demo.dashboard import free_port, port_in_use

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def check(port: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verdict_demo.dashboard", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_taken_port_is_one_line_and_exit_1(taken_port):
    assert port_in_use(taken_port)
    done = check(str(taken_port))
    assert done.returncode == 1
    [line] = (done.stdout + done.stderr).strip().splitlines()
    assert f"port {taken_port}" in line and "DASHBOARD_PORT=" in line


def test_a_free_port_passes_silently():
    port = free_port()
    assert port_in_use(port) is None
    done = check(str(port))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize("bad", ["abc", "0", "70000", ""])
def test_a_bad_port_is_one_line_and_exit_2(bad):
    done = check(bad)
    assert done.returncode == 2
    assert len((done.stdout + done.stderr).strip().splitlines()) == 1


def test_make_passes_the_port_and_stops_before_the_demo(taken_port):
    """make's own recipe: the check runs first with DASHBOARD_PORT, so the busy port stops it before
    `ape run demo` (whose command line would show in the output)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "demo-dashboard", f"DASHBOARD_PORT={taken_port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert f"port {taken_port} on 127.0.0.1 is in use" in done.stdout
    assert "ape run demo" not in done.stdout + done.stderr
    dry = subprocess.run(
        ["make", "-n", "demo-dashboard", "DASHBOARD_PORT=8061"], cwd=ROOT, capture_output=True, text=True
    )
    assert "--dashboard --port 8061" in dry.stdout
