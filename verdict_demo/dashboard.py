"""`verdict dashboard` as a child process, and the headless Chromium that looks at it; shared by the
demo, `ape run screenshots` and tests/dashboard.

The browser is Debian's chromium (/usr/bin/chromium, `make browser`), driven by Playwright: never
`playwright install`.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from oracle.dashboard.listen import port_in_use
from oracle.launch import DaemonProcess

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "free_port", "port_in_use", "start_dashboard", "wait_healthy"]

CHROMIUM = os.environ.get("VERDICT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_dashboard(env: Mapping[str, str], log_path: Path, port: int) -> DaemonProcess:
    """`verdict dashboard --port PORT` with the VERDICT_* settings `env` over this process's own
    environment, its output appended to `log_path`. `.stop()` ends it (SIGTERM, then SIGKILL)."""
    return DaemonProcess.start(env, log_path, args=("dashboard", "--port", str(port)), json_logs=False)


def wait_healthy(base_url: str, dashboard: DaemonProcess, timeout: float = 30.0) -> bool:
    """Polls `base_url`/healthz until it answers 200; False on timeout or once the process has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and dashboard.running:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as res:
                if res.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def main(argv: list[str]) -> int:
    """`python -m verdict_demo.dashboard PORT`: exit 1 with one line when 127.0.0.1:PORT is taken
    (`make demo-dashboard` asks before it starts a chain and trains a model, not minutes later)."""
    if len(argv) != 2 or not argv[1].isdigit() or not 0 < int(argv[1]) < 65536:
        print(f"error: the dashboard port must be a number from 1 to 65535, not {' '.join(argv[1:])!r}")
        return 2
    port = int(argv[1])
    if busy := port_in_use(port):
        print(
            f"error: port {port} on 127.0.0.1 is in use ({busy}): stop what listens there or pick "
            "another port: make demo-dashboard DASHBOARD_PORT=8060"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
