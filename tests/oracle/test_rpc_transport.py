"""The lean JSON-RPC transport (oracle.rpc) speaks just enough HTTP/1.1: it reads a body by its
length, in chunks, or to the end of the connection, keeps the socket for the next call, tries once
more when a kept-alive socket was closed meanwhile, and turns anything that is not HTTP into a
ChainError (an outage), never a wrong answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from oracle.errors import ChainError
from oracle.rpc import RawRpc

ANSWER = b'{"jsonrpc":"2.0","id":1,"result":"0x2a"}'


def _read_request(conn: socket.socket, buffer: bytearray) -> bool:
    """Reads one POST (head and Content-Length body) off `conn`; False if the client closed it."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    fields = (h.partition(b":") for h in head.split(b"\r\n"))
    length = int(next(v for k, _, v in fields if k.lower() == b"content-length"))
    while len(rest) < length:
        rest += conn.recv(65536)
    buffer[:] = rest[length:]
    return True


@contextmanager
def node(reply: Callable[[int], bytes | None], close_after: bool = False) -> Iterator[tuple[str, list[int]]]:
    """A TCP server that answers the n-th request on a connection with `reply(n)` (raw bytes;
    None closes the connection without answering; `close_after`: closes it after every answer).
    Yields its URL and the connections it took."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def serve(conn: socket.socket) -> None:
        buffer = bytearray()
        with conn:
            n = 0
            while _read_request(conn, buffer):
                answer = reply(n)
                n += 1
                if answer is None:
                    return
                conn.sendall(answer)
                if close_after:
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    finally:
        server.close()


def fixed(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        extra,
        len(body),
        body,
    )


def test_answers_by_length_are_read_on_one_kept_alive_connection():
    with node(lambda n: fixed(ANSWER)) as (url, accepted):
        rpc = RawRpc(url)
        assert [rpc.call("eth_blockNumber", [])["result"] for _ in range(3)] == ["0x2a"] * 3
        assert len(accepted) == 1


def test_a_chunked_answer_is_joined_and_the_connection_kept():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n"
        + ANSWER[:5]
        + (b"\r\n%x;ext=1\r\n%s\r\n0\r\n\r\n" % (len(ANSWER) - 5, ANSWER[5:]))
    )
    with node(lambda n: chunked) as (url, accepted):
        rpc = RawRpc(url)
        assert rpc.call("eth_blockNumber", [])["result"] == "0x2a"
        assert rpc.call("eth_blockNumber", [])["result"] == "0x2a"
        assert len(accepted) == 1


def test_an_http_1_0_answer_without_length_is_read_to_the_close():
    with node(lambda n: b"HTTP/1.0 200 OK\r\n\r\n" + ANSWER, close_after=True) as (url, accepted):
        rpc = RawRpc(url, timeout=5)
        assert rpc.call("eth_blockNumber", [])["result"] == "0x2a"
        assert rpc.call("eth_blockNumber", [])["result"] == "0x2a"
        assert len(accepted) == 2  # HTTP/1.0: a connection per answer


def test_a_node_that_closes_unanswered_is_an_outage_after_one_fresh_try():
    with node(lambda n: None) as (url, accepted):
        with pytest.raises(ChainError, match="unreachable"):
            RawRpc(url, timeout=5).call("eth_blockNumber", [])
        assert len(accepted) == 2


def test_a_kept_alive_connection_closed_meanwhile_is_retried_once_on_a_fresh_one():
    with node(lambda n: fixed(ANSWER) if n == 0 else None) as (url, accepted):
        rpc = RawRpc(url)
        assert rpc.call("eth_blockNumber", [])["result"] == "0x2a"
        assert rpc.call("eth_blockNumber", [])["result"] == "0x2a"  # the first socket closed: a second
        assert len(accepted) == 2


def test_connection_close_is_honoured():
    with node(lambda n: fixed(ANSWER, b"Connection: close\r\n")) as (url, accepted):
        rpc = RawRpc(url)
        rpc.call("eth_blockNumber", [])
        rpc.call("eth_blockNumber", [])
        assert len(accepted) == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "unreachable"),  # not HTTP at all
        (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", "unreachable: HTTP 502"),
        (fixed(b"<html>bad gateway</html>"), "malformed response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{", "unreachable"),  # cut short, then closed
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "unreachable"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "unreachable"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "unreachable"),  # an endless head
    ],
    ids=["not-http", "502", "html", "cut-short", "bad-chunk", "bad-length", "endless-head"],
)
def test_what_is_not_a_json_rpc_answer_is_a_chain_error(reply: bytes, error: str):
    with node(lambda n: reply, close_after=True) as (url, _):
        rpc = RawRpc(url, timeout=5)
        with pytest.raises(ChainError, match=error):
            rpc.call("eth_blockNumber", [])
