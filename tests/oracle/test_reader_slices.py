"""The reader hands a block that holds more requests than a turn takes out over several turns,
without moving the checkpoint into the block until its last request is taken; a turn that fails
drops what was fetched, so nothing is skipped. And the lean JSON-RPC transport fails like an outage."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from eth_account import Account

from oracle.chain import GateRequest
from oracle.config import Settings
from oracle.errors import ChainError
from oracle.reader import BlockPace, RequestReader
from oracle.rpc import RawRpc
from oracle.sender import TxSender


def request(item_id: int, block: int) -> GateRequest:
    return GateRequest("router", "0x" + "11" * 20, item_id, "0xa", "0xb", "0x0", 1, 0, block, "0x")


class Chain:
    """Block 10 holds seven requests, block 11 two; the head is 11."""

    def __init__(self) -> None:
        self.fetches: list[tuple[int, int | str]] = []
        self.requests = [request(i, 10) for i in range(1, 8)] + [request(8, 11), request(9, 11)]

    def block_number(self) -> int:
        return 11

    def gate_requests(self, from_block: int, to_block: int | str) -> list[GateRequest]:
        self.fetches.append((from_block, to_block))
        return [r for r in self.requests if from_block <= r.block_number <= int(to_block)]


class Checkpoints:
    def __init__(self) -> None:
        self.stored: int | None = None
        self.writes = 0

    def get_checkpoint(self, name: str) -> int | None:
        return self.stored

    def set_checkpoint(self, name: str, block: int) -> None:
        self.stored, self.writes = block, self.writes + 1


def test_a_block_larger_than_a_turn_is_handed_out_over_turns_and_checkpointed_once_whole(tmp_path: Path):
    chain, points = Chain(), Checkpoints()
    reader = RequestReader(Settings(model_dir=tmp_path, metrics_port=None), chain, points, first_block=10)
    taken, ends = [], []
    while (piece := reader.next_slice(3)) is not None:
        taken += [r.item_id for r in piece.requests]
        ends.append(piece.end)
        reader.commit(piece.end)
    assert taken == list(range(1, 10))  # each once, in chain order
    assert ends == [9, 9, 11]  # the checkpoint stays before block 10 until its last request is taken
    assert points.stored == 11 and points.writes == 1  # no write for a turn that does not move it
    assert chain.fetches == [(10, 11)]  # one fetch for the three turns


def test_the_reader_says_the_node_is_behind_until_it_has_taken_every_block_it_has_seen(tmp_path: Path):
    """`behind` (the daemon's larger turns, `turn_budget_behind`): requests fetched and not taken,
    or blocks up to the head read that the fetch did not reach; not once all are checkpointed."""
    chain, points = Chain(), Checkpoints()
    settings = Settings(model_dir=tmp_path, metrics_port=None, log_batch_blocks=1)
    reader = RequestReader(settings, chain, points, first_block=10)
    assert not reader.behind  # nothing read yet
    first = reader.next_slice(3)  # three of block 10's seven; one block fetched of the two
    assert first is not None and reader.behind
    reader.commit(first.end)
    rest = reader.next_slice(10)  # the rest of block 10: nothing fetched left, block 11 not read
    assert rest is not None and [r.item_id for r in rest.requests] == [4, 5, 6, 7]
    reader.commit(rest.end)
    assert reader.behind  # the head is 11, the checkpoint 10
    last = reader.next_slice(10)
    assert last is not None and [r.item_id for r in last.requests] == [8, 9]
    reader.commit(last.end)
    assert not reader.behind


def test_a_failed_turn_reads_again_from_the_checkpoint(tmp_path: Path):
    chain, points = Chain(), Checkpoints()
    reader = RequestReader(Settings(model_dir=tmp_path, metrics_port=None), chain, points, first_block=10)
    first = reader.next_slice(3)
    assert first is not None
    reader.commit(first.end)
    lost = reader.next_slice(3)  # scoring this one fails: the daemon forgets the fetched rest
    assert lost is not None
    reader.forget()
    again = reader.next_slice(3)
    assert again is not None
    assert [r.item_id for r in again.requests] == [1, 2, 3]  # from the checkpoint, nothing skipped


def _replying(body: bytes) -> type[BaseHTTPRequestHandler]:
    """An HTTP handler that answers every POST with `body`: a node that is not quite a node."""

    class Fixed(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Fixed


def test_the_lean_transport_turns_outages_and_garbage_into_chain_errors():
    server = HTTPServer(("127.0.0.1", 0), _replying(b"<html>bad gateway</html>"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ChainError, match="malformed response"):
            RawRpc(f"http://127.0.0.1:{server.server_port}").call("eth_blockNumber", [])
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ChainError, match="unreachable"):
        RawRpc(f"http://127.0.0.1:{server.server_port}", timeout=2).call("eth_blockNumber", [])


def test_the_idle_wait_follows_a_steady_chain_and_never_an_irregular_one():
    steady = BlockPace()
    for n in range(1, 12):  # 0.1 s blocks, seen at once
        steady.observe(n, n * 0.1)
    assert steady.interval() == pytest.approx(0.1)
    assert steady.until_next(1.1) == pytest.approx(0.085)  # woken 15% of a block early
    assert steady.until_next(1.25) == 0.0  # overdue: poll as usual
    steady.observe(13, 1.3)  # a block missed between reads: its time is unknown, so no pace
    assert steady.until_next(1.3) == 0.0

    automine = BlockPace()  # a block per transaction: intervals anything
    for n, at in enumerate([0.0, 0.1, 0.9, 1.0, 3.0, 3.05, 3.1, 5.0, 5.2, 5.3], start=1):
        automine.observe(n, at)
    assert automine.interval() is None
    assert automine.until_next(5.3) == 0.0


def test_the_lean_transport_sends_a_raw_transaction_and_reports_a_refusal_like_web3():
    refusal = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"nonce too low"}}'
    server = HTTPServer(("127.0.0.1", 0), _replying(refusal))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sender = TxSender(
        None,  # type: ignore[arg-type]  # never used: everything goes through the raw transport
        Account.create(),
        lambda: 1,
        lambda fn: fn(),
        raw=RawRpc(f"http://127.0.0.1:{server.server_port}"),
    )
    try:
        with pytest.raises(ValueError, match="nonce too low"):
            sender._broadcast(b"\x02\x01")  # noqa: SLF001 - `send` turns it into a nonce resync
    finally:
        server.shutdown()
        server.server_close()
