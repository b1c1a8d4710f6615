"""Each node's part in the network's recent reports, read from the chain (the RiskOracle's
`ReportTransmitted` logs), for the dashboard's health page: a dead or lagging node shows as one
whose signatures stop, whatever its own process would say about itself."""

from __future__ import annotations

from typing import Any

from oracle.chain import ChainClient
from oracle.network.node import CHUNKS_PER_WINDOW

LOOKBACK_BLOCKS = 5_000  # the reports looked at: the most recent blocks, bounded for a long chain


def node_table(chain: ChainClient, head: int, lookback: int = LOOKBACK_BLOCKS) -> list[dict[str, Any]]:
    """One row per registered node: reports it signed and transmitted in the lookback, the block
    of the last report it signed, and its lag (head less that block). Empty without reports."""
    oracle = chain.oracle
    nodes = chain.rpc(lambda: oracle.functions.nodes().call())
    start = max(chain.deployment.block, head - lookback)
    logs = chain.rpc(lambda: oracle.events.ReportTransmitted().get_logs(from_block=start, to_block=head))
    if not logs:
        return []
    rows = []
    for node in sorted((str(n) for n in nodes), key=lambda a: int(a, 16)):
        signed = [log for log in logs if node in log["args"]["signers"]]
        sent = [log for log in logs if log["args"]["transmitter"] == node]
        last = max((int(log["args"]["round"]) // CHUNKS_PER_WINDOW for log in signed), default=None)
        rows.append(
            {
                "node": node,
                "signed": len(signed),
                "transmitted": len(sent),
                "reports": len(logs),
                "last_report_block": last,
                "lag_blocks": head - last if last is not None else None,
                "signatures": round(sum(len(log["args"]["signers"]) for log in signed) / len(signed), 2)
                if signed
                else None,
            }
        )
    return rows
