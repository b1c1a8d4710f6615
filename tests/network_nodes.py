"""Oracle network nodes in the test's own process (real NetworkNodes: real chain, model and stores,
each node's board on loopback HTTP), for tests that must decide who quotes and transmits when
(`step`), or that want a network without four processes' start-up (`running`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ape import chain, networks

from oracle.chain import ChainClient
from oracle.config import Settings
from oracle.network.cluster import free_port
from oracle.network.node import NetworkNode
from oracle.network.transport import serve
from oracle.store import Store
from verdict_demo.replay import prime_trading_partners
from verdict_deploy import MANIFEST

PRICES = {"ETH": 3000.0, "mUSD": 1.0, "mEUR": 1.07, "mGBP": 1.26, "WETH": 3400.0, "BURN": 1.0}


def start_nodes(
    deployment: Path,
    members: Sequence[Any],
    model_dir: Path,
    root: Path,
    partners: tuple[str, str],
    **settings: Any,
) -> list[NetworkNode]:
    """One node per member (ape test account), one-block rounds; `partners` (payer, payee) have two
    years of history in every node's store, so their payments look ordinary to the model."""
    ports = [free_port() for _ in members]
    nodes = []
    for i, member in enumerate(members):
        config = Settings(
            rpc_url=networks.provider.uri,
            deployment=deployment,
            build_manifest=MANIFEST,
            store_url=f"sqlite:///{root / f'node-{i}.sqlite'}",
            model_dir=model_dir,
            node_key=member.private_key,
            metrics_port=None,
            network_listen=f"127.0.0.1:{ports[i]}",
            network_peers=[f"http://127.0.0.1:{p}" for j, p in enumerate(ports) if j != i],
            network_round_blocks=1,
            usd_prices=PRICES,
            poll_interval=0.01,
            **settings,
        )
        prime_trading_partners(config.store_url, *partners, chain.blocks.head.timestamp)
        node = NetworkNode(config, ChainClient.from_settings(config, verify=False), Store(config.store_url))
        node.preflight()
        serve(node.board, "127.0.0.1", ports[i])
        nodes.append(node)
    return nodes


@contextmanager
def running(nodes: Sequence[NetworkNode]) -> Iterator[None]:
    """The nodes' own loops, each in a thread, until the block exits."""
    stop = threading.Event()
    threads = [threading.Thread(target=node.run, args=(stop,), daemon=True) for node in nodes]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def close(nodes: Sequence[NetworkNode]) -> None:
    for node in nodes:
        node.store.close()
