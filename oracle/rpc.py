"""A lean JSON-RPC transport for the daemon's hot reads (issue 16).

The loop asks for the head every few milliseconds and for logs and receipts every block. Through
web3's HTTPProvider and requests each call cost about half a millisecond of CPU on this machine
(request and session objects, header dicts, web3's caching wrapper and JSON encoder), the largest
share of the node's own work under load. This posts the JSON body on a kept-alive
`http.client` connection per thread instead: a tenth of that. Failures are the same ChainErrors
the web3 path raised, so the daemon backs off exactly as before.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from typing import Any
from urllib.parse import urlsplit

from oracle.errors import ChainError

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class RawRpc:
    """POSTs JSON-RPC requests and batches to one HTTP(S) endpoint; one connection per thread."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an HTTP JSON-RPC URL: {url}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._local = threading.local()
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        """The whole JSON-RPC answer object of one call (a dict, unless the node is broken)."""
        return self._post({"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)})

    def batch(self, calls: list[tuple[str, list[Any]]]) -> Any:
        """The answers of a JSON-RPC batch, in the order of `calls` (the node may send them in any)."""
        ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "method": m, "params": p, "id": i}
            for (m, p), i in zip(calls, ids, strict=True)
        ]
        answers = self._post(body)
        if not isinstance(answers, list):
            return answers
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        return [by_id.get(i, {"error": {"message": "no answer in the batch"}}) for i in ids]

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = kind(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request("POST", self._path, body, _HEADERS)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                # A kept-alive connection the server closed meanwhile fails at once: one fresh try.
                stale = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                if attempt == 0 and isinstance(exc, stale):
                    continue
                raise ChainError(f"RPC {self.url} unreachable: {type(exc).__name__}") from None
            if response.getheader("Connection", "").lower() == "close":
                self._drop()
            break
        if status >= 400:  # as web3's provider did (raise_for_status): an outage, not an answer
            raise ChainError(f"RPC {self.url} unreachable: HTTP {status}")
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ChainError(f"RPC {self.url} sent a malformed response: {type(exc).__name__}") from None
