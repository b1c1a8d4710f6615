"""Start a whole network of nodes on one host: each node a separate `verdict run` process with its
own key, store, model copy and loopback port, as an operator would run them on separate hosts.
The demo and the tests use it; production runs each node on its own (docs/operator-guide.md)."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from oracle.launch import DaemonProcess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def precompile(model_dir: Path) -> None:
    """Compiles the model's forest once into `model_dir`, so that every node's copy carries the
    cache: n nodes on one host compiling at once starved each other of CPU at start."""
    from oracle.forest import ForestPredictor
    from oracle.model import load

    ForestPredictor(load(model_dir)).wait(timeout=600)


@dataclass
class NodeHandle:
    """One running node: its process, address, board URL and files."""

    index: int  # position in the order nodes were given (not the on-chain rotation)
    address: str
    url: str
    process: DaemonProcess
    store: Path


@dataclass
class NetworkCluster:
    nodes: list[NodeHandle]

    @classmethod
    def start(
        cls,
        settings: Mapping[str, str],
        keys: Sequence[tuple[str, str]],
        model_dir: Path,
        root: Path,
        *,
        stores: Sequence[Path] | None = None,
        wait: bool = True,
    ) -> NetworkCluster:
        """Starts one node per (address, hex key) of `keys` with the shared VERDICT_* `settings`
        (RPC, deployment, round settings); each gets its own store (`stores`, else a new one in its
        directory), model copy, port and peer list."""
        root.mkdir(parents=True, exist_ok=True)
        precompile(model_dir)
        ports = [free_port() for _ in keys]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        nodes = []
        for i, ((address, key), port) in enumerate(zip(keys, ports, strict=True)):
            home = root / f"node-{i}"
            model = home / "model"
            if model.exists():
                shutil.rmtree(model)
            shutil.copytree(model_dir, model)
            store = stores[i] if stores is not None else home / "store.sqlite"
            env = {
                "VERDICT_METRICS_PORT": "0",
                **settings,
                "VERDICT_NODE_KEY": key,
                "VERDICT_STORE_URL": f"sqlite:///{store}",
                "VERDICT_MODEL_DIR": str(model),
                "VERDICT_NETWORK_LISTEN": f"127.0.0.1:{port}",
                "VERDICT_NETWORK_PEERS": json.dumps([u for j, u in enumerate(urls) if j != i]),
            }
            (home / "node.log").unlink(missing_ok=True)  # a rerun's log starts empty
            process = DaemonProcess.start(env, home / "node.log")
            nodes.append(NodeHandle(i, address, urls[i], process, store))
        cluster = cls(nodes)
        if wait:
            try:
                cluster.wait_ready()
            except RuntimeError:
                cluster.stop()
                raise
        return cluster

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Every node ready and scoring with its model; RuntimeError (with the log's tail) if not."""
        for node in self.nodes:
            node.process.wait_ready(timeout=timeout)
            if not node.process.wait_for("model loaded", timeout):
                tail = "\n".join(node.process.log_text().splitlines()[-8:])
                raise RuntimeError(f"oracle node {node.address} did not load its model:\n{tail}")

    def kill(self, index: int) -> NodeHandle:
        """kill -9 of node `index`: no goodbye to its peers, its board gone mid-round."""
        node = self.nodes[index]
        node.process.kill()
        return node

    def stop(self) -> None:
        for node in self.nodes:
            node.process.stop()

    def log_text(self) -> str:
        return "\n".join(n.process.log_text() for n in self.nodes)
