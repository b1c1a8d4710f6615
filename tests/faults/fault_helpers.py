"""Helpers of the fault-injection tests: payments, outcomes read from the chain, a TCP proxy that
can cut the daemon off its RPC, and a private anvil whose state survives a restart."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from verdict_deploy import anvil_states as anvil_cache

ETH = "0x0000000000000000000000000000000000000000"
PENDING, HELD, SETTLED, REFUNDED = 1, 2, 3, 4


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def pay_eth(router, payer, payees, count: int, start: int = 0) -> list[int]:
    """`count` small ETH payments from payer, round-robin over payees; returns their ids."""
    ids = []
    for i in range(start, start + count):
        amount = 10**15 * (i % 7 + 1)
        router.pay(payees[i % len(payees)], ETH, amount, i.to_bytes(32, "big"), sender=payer, value=amount)
        ids.append(router.paymentCount())
    return ids


def finalized_counts(oracle) -> Counter:
    """Payment id -> how many final verdicts the RiskOracle emitted for it: VerdictFinalized events,
    and under quorum 1 the node's VerdictPosted (its one vote is final; no VerdictFinalized follows)."""
    events = [oracle.VerdictFinalized] + ([oracle.VerdictPosted] if int(oracle.quorum()) == 1 else [])
    counts: Counter = Counter()
    for event in events:
        logs = event.query("event_arguments", start_block=0)
        counts.update(int(args["id"]) for args in logs["event_arguments"])
    return counts


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768+): a client retrying a dead local port in
    that range can end up connected to itself and hold the port, so the server could not come back."""
    for _ in range(200):
        port = random.randint(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


class TcpProxy:
    """127.0.0.1:port -> target; `down()` closes the listener and every open connection, `up()`
    listens again on the same port. The daemon sees connection refused while it is down."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> TcpProxy:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread; close() alone does not
            server.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()


class PrivateAnvil:
    """An anvil process of our own on a free port, started from a state file (`--load-state`) and
    saving its state back to that file when it stops.

    The state is taken with `anvil_dumpState` just before SIGTERM rather than by `--dump-state` on
    exit: with a large state (a whole test session's contracts, tens of MB) the exit-time dump was
    seen cut short on a loaded machine, leaving a file the next start cannot parse."""

    def __init__(self, state: Path, log: Path) -> None:
        self.state = state
        self.log = log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PrivateAnvil:
        binary = shutil.which("anvil") or str(Path(__file__).parents[2] / "node_modules" / ".bin" / "anvil")
        args = [binary, "--port", str(self.port), "--silent", *anvil_cache.args()]
        if self.state.exists():
            args += ["--load-state", str(self.state)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_until(self._answers, timeout=30):
            raise RuntimeError(f"anvil did not start: {self.log.read_text()[-500:]}")
        return self

    def _answers(self) -> bool:
        import requests

        try:
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
            return requests.post(self.url, json=body, timeout=1).ok
        except requests.RequestException:
            return False

    def rpc(self, method: str, params: list) -> object:
        import requests

        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        reply = requests.post(self.url, json=body, timeout=30).json()
        if "error" in reply:
            raise RuntimeError(json.dumps(reply["error"]))
        return reply["result"]

    def stop(self) -> None:
        """Saves the node's state to the state file, then SIGTERM."""
        if self.proc is not None and self.proc.poll() is None:
            dumped = str(self.rpc("anvil_dumpState", []))
            self.state.write_bytes(gzip.decompress(bytes.fromhex(dumped.removeprefix("0x"))))
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


class FlakyRpc:
    """An HTTP JSON-RPC front to a real node that can go bad without going away: while `broken`,
    every request gets `200 OK` with an HTML error page (a load balancer or captive proxy in the
    way), which no JSON parser accepts. Otherwise requests are forwarded unchanged. `methods` counts
    the JSON-RPC methods that went through (batches counted call by call)."""

    def __init__(self, target_url: str) -> None:
        import http.server

        import requests

        self.broken = False
        self.methods: Counter = Counter()
        session = requests.Session()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    calls = json.loads(body)
                    for call in calls if isinstance(calls, list) else [calls]:
                        outer.methods[str(call.get("method"))] += 1
                except (ValueError, AttributeError):
                    pass
                if outer.broken:
                    reply, kind = b"<html><body>502 Bad Gateway</body></html>", "text/html"
                else:
                    upstream = session.post(
                        target_url, data=body, headers={"content-type": "application/json"}
                    )
                    reply, kind = upstream.content, "application/json"
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class PrivateWorld:
    """The test's deployed world on a PrivateAnvil of its own, driven with raw transactions.

    `ChainClient` reads it; `Sender` signs payments locally, so nonces and chain id come from the
    private node (they are read again with `resync`, e.g. after a restart or a reorganisation)."""

    def __init__(self, anvil: PrivateAnvil, client, payer_key: str, payees: list[str]) -> None:
        from eth_account import Account

        self.anvil = anvil
        self.client = client
        self.payer = Account.from_key(payer_key)
        self.payees = payees
        self.resync()

    def resync(self) -> None:
        from oracle.traffic import Sender

        self.sender = Sender(self.client.w3, self.client.chain_id())

    def pay(
        self, count: int, start: int = 0, *, payee: int | None = None, amount: int | None = None
    ) -> list[int]:
        """`count` ETH payments, round-robin over the payees unless one is named; their ids."""
        from oracle.traffic import pay_tx

        hashes = [
            self.sender.send(
                self.payer,
                pay_tx(
                    self.client,
                    self.payees[i % len(self.payees) if payee is None else payee],
                    ETH,
                    amount or 10**15 * (i + 1),
                    i.to_bytes(32, "big"),
                ),
            )
            for i in range(start, start + count)
        ]
        receipts = [self.sender.wait(h) for h in hashes]
        topic = self.client.topic(self.client.router, "PaymentRequested")
        return [
            int.from_bytes(bytes(log["topics"][1]), "big")
            for r in receipts
            for log in r["logs"]
            if bytes(log["topics"][0]) == topic
        ]

    def status(self, payment_id: int) -> int:
        return int(self.client.router.functions.payment(payment_id).call()[5])

    def decided(self, ids: list[int]) -> bool:
        try:
            return all(self.status(i) != PENDING for i in ids)
        except Exception:  # noqa: BLE001 - the node may be between stop and start
            return False

    def finals(self) -> Counter:
        """Payment id -> final verdicts on the private chain (VerdictFinalized, and VerdictPosted
        under quorum 1, whose one vote is final)."""
        oracle = self.client.oracle
        logs = list(oracle.events.VerdictFinalized().get_logs(from_block=0))
        if int(oracle.functions.quorum().call()) == 1:
            logs += list(oracle.events.VerdictPosted().get_logs(from_block=0))
        return Counter(int(log["args"]["id"]) for log in logs)
