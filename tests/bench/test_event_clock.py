"""The bench's event clock times each payment by when its request's and its outcome's blocks were
first seen, reads each block's logs once (not on every head poll), and a failed log read skips
nothing. Against a scripted JSON-RPC node: the clock's contract is the node's answers, and a real
anvil cannot be made to fail one `eth_getLogs` on cue."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from bench.chain import EventClock

ROUTER = "0x" + "ab" * 20
REQUESTED, SETTLED, HELD = ("0x" + c * 64 for c in "123")


class Node:
    """A chain whose head and logs the test moves; counts the calls it answers."""

    def __init__(self) -> None:
        self.head = 5
        self.logs: list[dict[str, Any]] = []
        self.calls = {"eth_blockNumber": 0, "eth_getLogs": 0}
        self.fail_logs_reaching: int | None = None  # refuse the first read whose range reaches it

    def log(self, topic: str, payment: int, block: int) -> None:
        self.logs.append(
            {"address": ROUTER, "blockNumber": hex(block), "topics": [topic, hex(payment)], "data": "0x"}
        )

    def answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        self.calls[method] += 1
        if method == "eth_blockNumber":
            return {"result": hex(self.head)}
        query = params[0]
        low, high = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        if self.fail_logs_reaching is not None and high >= self.fail_logs_reaching:
            self.fail_logs_reaching = None
            return {"error": {"code": -32000, "message": "backend busy"}}
        wanted = set(query["topics"][0])
        found = [
            x for x in self.logs if low <= int(x["blockNumber"], 16) <= high and x["topics"][0] in wanted
        ]
        return {"result": found}


@pytest.fixture
def node() -> Iterator[tuple[Node, str]]:
    chain = Node()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            out = json.dumps(
                {"jsonrpc": "2.0", "id": body["id"], **chain.answer(body["method"], body["params"])}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield chain, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the event clock did not see it in time"
        time.sleep(0.005)


def test_payments_are_timed_by_their_blocks_and_each_block_is_read_once(node):
    chain, url = node
    clock = EventClock(url, ROUTER, REQUESTED, {SETTLED: "settled", HELD: "held"}, 6, 0.002, 0.05)
    clock.start()
    try:
        chain.log(REQUESTED, 1, 6)
        chain.head = 6
        wait_for(lambda: 6 in clock.seen)
        chain.log(HELD, 1, 7)  # held first, settled a block later: the first outcome is the one timed
        chain.head = 7
        wait_for(lambda: 7 in clock.seen)
        chain.fail_logs_reaching = 8  # the read that reaches block 8 fails once: read again, not skipped
        chain.log(SETTLED, 1, 8)
        chain.log(REQUESTED, 2, 8)
        chain.log(SETTLED, 2, 9)
        chain.head = 9
        wait_for(lambda: 2 in clock.outcomes)
    finally:
        clock.stop()
    seen = clock.seen
    assert seen[7] > seen[6]
    assert clock.requested == {1: seen[6], 2: seen[8]}
    assert clock.outcomes == {1: ("held", seen[7]), 2: ("settled", seen[9])}
    assert clock.blocks == {1: (6, 7), 2: (8, 9)}
    assert clock.latencies_blocks(range(1, 3)) == [1, 1]
    assert clock.latencies_ms(range(1, 2)) == [(seen[7] - seen[6]) * 1000]
    # The head is polled often and the logs only every `fetch_every`: the old clock fetched and
    # decoded logs on every poll, at a cost of more CPU per payment than the daemon it timed.
    assert chain.calls["eth_blockNumber"] >= 3 * chain.calls["eth_getLogs"]
