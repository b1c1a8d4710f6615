"""The DAO treasury's balances and every outflow with the proposal behind it (`ape run treasury`).

The treasury is the CommunityTimelock. An outflow is an ETH call value sent by the timelock
(`CallExecuted`) or a token `Transfer` out of it; each is matched to the `ProposalExecuted` event of
the same transaction, so every line names the proposal that paid it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ape import chain, project

from oracle.deployment import Deployment
from oracle.errors import ConfigError

GOVERNANCE_CONTRACTS = ("CommunityTimelock", "CommunityGovernor", "CommunityToken")


def treasury_report(timelock: Any, governor: Any, tokens: list[Any], start_block: int = 0) -> dict[str, Any]:
    """Balances of the treasury and its outflows, each with the proposal id and description behind it."""
    stop = chain.blocks.height + 1  # ape reads range(n, None) as range(0, n): name both ends
    descriptions = {
        int(log.proposalId): log.description for log in governor.ProposalCreated.range(start_block, stop)
    }
    executed = {
        log.transaction_hash: int(log.proposalId)
        for log in governor.ProposalExecuted.range(start_block, stop)
    }

    outflows: list[dict[str, Any]] = []
    for log in timelock.CallExecuted.range(start_block, stop):
        if int(log.value) > 0:
            outflows.append(_outflow(log, "ETH", str(log.target), int(log.value), executed, descriptions))
    for token in tokens:
        symbol = token.symbol()
        for log in token.Transfer.range(start_block, stop, search_topics={"from": timelock.address}):
            outflows.append(_outflow(log, symbol, str(log.to), int(log.value), executed, descriptions))
    outflows.sort(key=lambda o: (o["block"], o["log_index"]))
    return {
        "treasury": timelock.address,
        "balances": {
            "ETH": int(timelock.balance),
            **{t.symbol(): int(t.balanceOf(timelock)) for t in tokens},
        },
        "outflows": outflows,
    }


def _outflow(
    log: Any, asset: str, to: str, amount: int, executed: dict, descriptions: dict
) -> dict[str, Any]:
    proposal_id = executed.get(log.transaction_hash)
    return {
        "block": int(log.block_number),
        "log_index": int(log.log_index),
        "tx": str(log.transaction_hash),
        "asset": asset,
        "to": to,
        "amount": amount,
        "proposal_id": proposal_id,
        "proposal": (descriptions.get(proposal_id, "") or "").splitlines()[0] if proposal_id else None,
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [f"treasury {report['treasury']}", "balances:"]
    lines += [f"  {asset:>6} {amount / 1e18:,.6f}" for asset, amount in report["balances"].items()]
    lines.append(f"outflows ({len(report['outflows'])}):")
    for o in report["outflows"]:
        who = f"proposal {o['proposal_id']} ({o['proposal']})" if o["proposal_id"] else "NO PROPOSAL"
        lines.append(f"  block {o['block']}: {o['amount'] / 1e18:,.6f} {o['asset']} -> {o['to']}  by {who}")
    return "\n".join(lines)


def treasury_of_record(path: Path) -> dict[str, Any]:
    """The treasury report of the deployment recorded at `path`: the community token, and the
    MockStablecoin when the record has one. Raises ValueError when the record has no DAO."""
    try:
        record = Deployment.load(path)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    addresses = record.contracts
    missing = [n for n in GOVERNANCE_CONTRACTS if n not in addresses]
    if missing:
        raise ValueError(f"the deployment has no {', '.join(missing)}: deploy governance first")
    timelock = project.CommunityTimelock.at(addresses["CommunityTimelock"])
    governor = project.CommunityGovernor.at(addresses["CommunityGovernor"])
    tokens = [project.CommunityToken.at(addresses["CommunityToken"])]
    if "MockStablecoin" in addresses:
        tokens.append(project.MockStablecoin.at(addresses["MockStablecoin"]))
    return treasury_report(timelock, governor, tokens, record.block)
