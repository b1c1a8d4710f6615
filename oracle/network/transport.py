"""How nodes exchange signed observations: plain HTTP on each node's own port.

HTTP rather than NATS: a network of a few nodes exchanges one small signed message per node per
round, and a node must keep working when any other is down. With HTTP each node serves only its
own observations and the round's transmitter pulls them (GET is idempotent: a retry or a duplicate
costs nothing); there is no broker to run, secure or lose, and a node on another host needs only a
reachable URL. A message is trusted for its signature, never for where it came from, so the
transport needs no authentication of its own (a TLS proxy in front of it hides it, if wanted)."""

from __future__ import annotations

import json
import sys
import threading
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from oracle.network.report import Observation, Report

KEEP_ROUNDS = 512  # observations served for this many recent rounds (slow peers still find them)


def observation_json(report: Report, observation: Observation) -> dict[str, Any]:
    return {
        "report": {
            "config_digest": "0x" + report.config_digest.hex(),
            "target": report.target,
            "model_id": "0x" + report.model_id.hex(),
            "round": report.round,
            "ids": list(report.ids),
            "content_hashes": ["0x" + h.hex() for h in report.content_hashes],
        },
        "signer": observation.signer,
        "scores": list(observation.scores),
        "reasons_hashes": ["0x" + h.hex() for h in observation.reasons_hashes],
        "signature": "0x" + observation.signature.hex(),
    }


def _hex(value: str) -> bytes:
    return bytes.fromhex(str(value).removeprefix("0x"))


def parse_observation(data: dict[str, Any]) -> tuple[Report, Observation]:
    """The report and observation of a peer's JSON; ValueError/KeyError/TypeError if malformed."""
    r = data["report"]
    report = Report(
        config_digest=_hex(r["config_digest"]),
        target=str(r["target"]),
        model_id=_hex(r["model_id"]),
        round=int(r["round"]),
        ids=tuple(int(i) for i in r["ids"]),
        content_hashes=tuple(_hex(h) for h in r["content_hashes"]),
    )
    observation = Observation(
        signer=str(data["signer"]),
        scores=tuple(int(s) for s in data["scores"]),
        reasons_hashes=tuple(_hex(h) for h in data["reasons_hashes"]),
        signature=_hex(data["signature"]),
    )
    return report, observation


class ObservationBoard:
    """This node's own signed observations by (target, round), and its status, for its peers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._status: dict[str, Any] = {}

    def put(self, report: Report, observation: Observation) -> None:
        with self._lock:
            self._items[(report.target.lower(), report.round)] = observation_json(report, observation)
            while len(self._items) > KEEP_ROUNDS:
                self._items.popitem(last=False)

    def get(self, target: str, round_: int) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get((target.lower(), round_))

    def set_status(self, **fields: Any) -> None:
        with self._lock:
            self._status.update(fields)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._status)


def serve(board: ObservationBoard, host: str, port: int) -> ThreadingHTTPServer:
    """Serves `board` on host:port in a daemon thread: GET /observation/<target>/<round>, GET /status."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = self.path.strip("/").split("/")
            body: dict[str, Any] | None = None
            if parts == ["status"]:
                body = board.status()
            elif len(parts) == 3 and parts[0] == "observation" and parts[2].isdigit():
                body = board.get(parts[1], int(parts[2]))
            payload = json.dumps(body).encode() if body is not None else b"{}"
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:  # one line per poll would drown the node's log
            return

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A peer that gave up on its request (its timeout) leaves a closed socket behind: not
            # worth a traceback in the node's log. Anything else is still reported.
            if isinstance(sys.exc_info()[1], ConnectionError):
                return
            super().handle_error(request, client_address)

    server = Server((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="verdict-network-http", daemon=True).start()
    return server


class PeerClient:
    """Pulls observations and status from the peers' boards, and remembers which peers did not
    answer their last status probe (so a round skips a dead transmitter at once, see node.py)."""

    def __init__(self, peers: list[str], timeout: float = 2.0) -> None:
        self._peers = [p.rstrip("/") for p in peers]
        self._timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # loopback and LAN peers: never through a proxy
        self._address: dict[str, str] = {}  # peer URL -> node address, from its status
        self._down: set[str] = set()  # peer URLs whose last probe failed
        self.statuses: dict[str, dict[str, Any]] = {}  # peer URL -> last status it served

    def probe(self) -> None:
        """Asks every peer for its status; who answered is alive until the next probe."""
        for peer in self._peers:
            status = self._get(f"{peer}/status")
            if status is None:
                self._down.add(peer)
                continue
            self._down.discard(peer)
            self.statuses[peer] = status
            if isinstance(status.get("node"), str):
                self._address[peer] = status["node"]

    def down(self) -> set[str]:
        """Addresses of the peers that did not answer the last probe (known by address only once
        they answered at least once: a peer never seen is not skipped)."""
        return {self._address[p] for p in self._down if p in self._address}

    @property
    def peers(self) -> list[str]:
        return list(self._peers)

    def _get(self, url: str) -> dict[str, Any] | None:
        try:
            answer = self._session.get(url, timeout=self._timeout)
        except requests.RequestException:
            return None  # a dead peer is what the threshold is for
        if answer.status_code != 200:
            return None
        try:
            data = answer.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def observations(self, target: str, round_: int) -> list[tuple[Report, Observation]]:
        """Every peer's observation for (target, round) that parses; unverified."""
        out = []
        for peer in self._peers:
            data = self._get(f"{peer}/observation/{target}/{round_}")
            if data is None:
                continue
            try:
                out.append(parse_observation(data))
            except (KeyError, TypeError, ValueError):
                continue
        return out

    def status(self, peer: str) -> dict[str, Any] | None:
        return self._get(f"{peer.rstrip('/')}/status")
