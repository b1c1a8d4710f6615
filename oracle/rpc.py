"""A lean JSON-RPC transport for the daemon's hot reads (issue 16).

The loop asks for the head every few milliseconds and for logs and receipts every block. Through
web3's HTTPProvider and requests each call cost about half a millisecond of CPU on this machine
(request and session objects, header dicts, web3's caching wrapper and JSON encoder), the largest
share of the node's own work under load. `http.client` on a kept-alive connection cost a third of
that, most of it in its header handling (the `email` package parses every response's headers).
This speaks the little of HTTP/1.1 a JSON-RPC POST needs on a kept-alive socket per thread
instead: one prepared request head, and a response read by its status line, Content-Length,
Transfer-Encoding and Connection headers. Failures are the same ChainErrors the web3 path
raised, so the daemon backs off exactly as before.
"""

from __future__ import annotations

import itertools
import json
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

from oracle.errors import ChainError

MAX_HEAD = 65_536  # bytes: a response head longer than this is no JSON-RPC node's


class HttpError(Exception):
    """A response that is not HTTP/1.x as a JSON-RPC node speaks it (the transport's fault)."""


class Disconnected(HttpError):
    """The server closed a kept-alive connection before answering (it timed it out meanwhile)."""


def _header(head: bytes, name: bytes) -> bytes | None:
    """The value of header `name` in a lowercased response head, stripped; None if absent."""
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()


class _Connection:
    """One kept-alive socket and the bytes read past the last response."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> None:
        chunk = self.sock.recv(262_144)
        if not chunk:
            raise HttpError("connection closed mid-response")
        self.buffer += chunk

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_HEAD:
                raise HttpError("line too long")
            self._fill()
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _chunk_size(self) -> int:
        digits = self._line().split(b";", 1)[0].strip()
        try:
            return int(digits, 16)
        except ValueError:
            raise HttpError("bad chunk size") from None

    def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """Sends `request` and reads its response: (status, body, whether to keep the socket)."""
        self.sock.sendall(request)
        while True:
            while (end := self.buffer.find(b"\r\n\r\n")) < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise HttpError("response head too long")
                chunk = self.sock.recv(262_144)
                if not chunk:
                    raise (
                        Disconnected("closed before answering")
                        if not self.buffer
                        else HttpError("connection closed mid-response")
                    )
                self.buffer += chunk
            if end > MAX_HEAD:
                raise HttpError("response head too long")
            head = bytes(self.buffer[:end]).lower()
            del self.buffer[: end + 4]
            version, _, rest = head.partition(b"\r\n")[0].partition(b" ")
            code = rest[:3]
            if not version.startswith(b"http/1.") or not code.isdigit():
                raise HttpError(f"bad status line {head[:40]!r}")
            status = int(code)
            if status != 100:  # "100 Continue" comes before the real answer
                break
        # Three headers matter; found in the lowercased head rather than parsed one by one.
        length: int | None = None
        value = _header(head, b"content-length")
        if value is not None:
            if not value.isdigit():
                raise HttpError("bad Content-Length")
            length = int(value)
        chunked = b"chunked" in (_header(head, b"transfer-encoding") or b"")
        keep = version != b"http/1.0"
        value = _header(head, b"connection")
        if value is not None:
            keep = b"close" not in value and (keep or b"keep-alive" in value)
        if chunked:
            parts = []
            while (size := self._chunk_size()) > 0:
                parts.append(self._exactly(size))
                self._exactly(2)
            while self._line():  # trailers, up to the empty line
                pass
            body = b"".join(parts)
        elif length is not None:
            body = self._exactly(length)
        else:  # no length: the body runs to the end of the connection
            while chunk := self.sock.recv(262_144):
                self.buffer += chunk
            body, keep = bytes(self.buffer), False
            self.buffer.clear()
        return status, body, keep and not self.buffer


class RawRpc:
    """POSTs JSON-RPC requests and batches to one HTTP(S) endpoint; one connection per thread."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an HTTP JSON-RPC URL: {url}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{self._host}]" if ":" in self._host else self._host
        if parts.port is not None:
            host += f":{parts.port}"
        # The request head is the same every time but for the length: built once.
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Accept: application/json\r\nContent-Length: "
        ).encode("latin-1")
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

    def _connection(self) -> _Connection:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._host)
            conn = _Connection(sock)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn: _Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.sock.close()

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        request = b"%s%d\r\n\r\n%s" % (self._head, len(body), body)
        for attempt in (0, 1):
            try:
                conn = self._connection()
                status, data, keep = conn.exchange(request)
            except (OSError, HttpError) as exc:
                self._drop()
                # A kept-alive connection the server closed meanwhile fails at once: one fresh try.
                stale = (Disconnected, BrokenPipeError, ConnectionResetError)
                if attempt == 0 and isinstance(exc, stale):
                    continue
                raise ChainError(f"RPC {self.url} unreachable: {type(exc).__name__}") from None
            if not keep:
                self._drop()
            break
        if status >= 400:  # as web3's provider did (raise_for_status): an outage, not an answer
            raise ChainError(f"RPC {self.url} unreachable: HTTP {status}")
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ChainError(f"RPC {self.url} sent a malformed response: {type(exc).__name__}") from None
