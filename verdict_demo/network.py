"""The demo's oracle: a network of 4 nodes with f = 1 (threshold 3), one of which is killed
mid-run (issue 17). Each node is its own `verdict run` process with its own key, store (a copy of
the primed one) and model copy; the `oracle` section of demo-summary.json comes from the chain."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ape import accounts
from web3.logs import DISCARD

from oracle.network.cluster import NetworkCluster
from verdict_deploy import Roles

NODES = 4
THRESHOLD = 3  # n = 3f + 1 with f = 1: 2f + 1 signatures keep one liar inside the honest range
KILLED = 1  # not node 0: the demo's screen reads node 0's store
SETTINGS = {
    "VERDICT_POLL_INTERVAL": "0.01",
    # automine: one block per payment, so a one-block window closes as soon as the payment is mined
    "VERDICT_NETWORK_ROUND_BLOCKS": "1",
    "VERDICT_NETWORK_TRANSMIT_TIMEOUT": "2.0",
}


def network_roles(roles: Roles) -> Roles:
    """`roles` with four oracle nodes (the usual node and test accounts 16-18, which hold no other
    role) and a threshold of 3."""
    test = accounts.test_accounts
    return Roles(
        **{**roles.__dict__, "nodes": (roles.node, test[16], test[17], test[18]), "quorum": THRESHOLD}
    )


class DemoNetwork:
    """The demo's running network: start, kill one node, stop, and summarize from the chain."""

    def __init__(self, cluster: NetworkCluster) -> None:
        self.cluster = cluster
        self.killed: str | None = None

    @classmethod
    def start(cls, env: dict[str, str], roles: Roles, work: Path, store_path: Path) -> DemoNetwork:
        """Node 0 uses the demo's primed store (the screen and the dashboard read it); the others
        start from a copy of it, so that every node scores with the same history."""
        stores = [store_path]
        for i in range(1, NODES):
            copy = work / "network" / f"node-{i}" / "store.sqlite"
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(store_path, copy)
            stores.append(copy)
        keys = [(n.address, n.private_key) for n in roles.nodes]
        cluster = NetworkCluster.start(
            {**env, **SETTINGS},
            keys,
            Path(env["VERDICT_MODEL_DIR"]),
            work / "network",
            stores=stores,
            wait=False,
        )
        return cls(cluster)

    @property
    def store_urls(self) -> list[str]:
        """Every node's store, node 0's (the demo's) first."""
        return [f"sqlite:///{node.store}" for node in self.cluster.nodes]

    def wait_ready(self) -> None:
        self.cluster.wait_ready()

    def kill_one(self) -> str:
        self.killed = self.cluster.kill(KILLED).address
        return self.killed

    def stop(self) -> None:
        self.cluster.stop()

    def summary(self, client: Any) -> dict[str, Any]:
        """demo-summary.json's `oracle` section, from the RiskOracle's ReportTransmitted logs."""
        oracle = client.oracle
        logs = oracle.events.ReportTransmitted().get_logs(from_block=client.deployment.block)
        signatures = [len(log["args"]["signers"]) for log in logs]
        receipts = [client.w3.eth.get_transaction_receipt(log["transactionHash"]) for log in logs]
        finalized_event = oracle.events.VerdictFinalized()
        finalized = sum(len(finalized_event.process_receipt(r, errors=DISCARD)) for r in receipts)
        gas = sum(int(r["gasUsed"]) for r in receipts)
        return {
            "nodes": NODES,
            "threshold": THRESHOLD,
            "killed_node": self.killed,
            "reports": len(logs),
            "signatures_per_report": round(sum(signatures) / len(signatures), 2) if signatures else 0,
            "gas_per_verdict": round(gas / finalized) if finalized else None,
        }


def describe(section: dict[str, Any]) -> str:
    """The `oracle` section in one line for the demo's screen."""
    gas = section.get("gas_per_verdict")
    return (
        f"oracle network: {section['nodes']} nodes, threshold {section['threshold']}, node "
        f"{section['killed_node']} killed mid-run; {section['reports']} signed reports, "
        f"{section['signatures_per_report']} signatures each, "
        f"{f'{gas:,}' if gas is not None else '-'} gas per verdict"
    )
