"""Whether the dashboard can listen on a port: asked by `verdict dashboard` before it starts and by
`make demo-dashboard` before the demo (python -m verdict_demo.dashboard PORT)."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"  # the dashboard listens on the loopback interface only


def port_in_use(port: int, host: str = HOST) -> str | None:
    """Why `host`:`port` cannot be listened on (the OS's words), or None when it is free.
    SO_REUSEADDR as uvicorn sets it: a port left in TIME_WAIT counts as free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None
