"""`verdict explain ID`: why a payment was decided the way it was, in plain sentences.

The store holds what this node scored (score, model, reasons); the chain holds what was posted
(the `VerdictPosted` event with its reasons hash) and where the payment stands now. The two are
checked against each other: a reasons hash that does not match means the store and the chain
disagree about why.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from web3 import Web3

from oracle.chain import ChainClient
from oracle.config import Settings
from oracle.deployment import DeploymentRecordError
from oracle.errors import ChainError, VerdictError
from oracle.gate import ROUTER, ROUTER_STATUS, key_of
from oracle.scoring import reasons_hash
from oracle.verdicts import VerdictLog


def posted_verdicts(chain: ChainClient, target: str, item_id: int) -> list[dict[str, Any]]:
    """Every `VerdictPosted` for (target, id): node, score, model id, reasons hash, tx."""
    event = chain.oracle.events.VerdictPosted()
    logs = chain.w3.eth.get_logs(
        {
            "fromBlock": chain.deployment.block,
            "toBlock": "latest",
            "address": chain.oracle.address,
            "topics": [
                Web3.to_hex(ChainClient.topic(chain.oracle, "VerdictPosted")),
                "0x" + "00" * 12 + target[2:].lower(),
                "0x" + item_id.to_bytes(32, "big").hex(),
            ],
        }
    )
    out = []
    for log in logs:
        args = event.process_log(log)["args"]
        out.append(
            {
                "node": args["node"],
                "score": int(args["score"]),
                "model_id": Web3.to_hex(args["modelId"]),
                "reasons_hash": Web3.to_hex(args["reasonsHash"]),
                "tx": Web3.to_hex(log["transactionHash"]),
            }
        )
    return out


def _percent(p: float) -> str:
    return f"{100 * p:.2f}%" if p >= 0.0001 else "below 0.01%"


def explain_payment(settings: Settings, source: str, item_id: int) -> Group:
    verdicts = VerdictLog(settings.store_url)
    try:
        row = verdicts.scored(key_of(source, item_id))
        parked = verdicts.parked_reason(row.key) if row is not None and row.final_status == "parked" else None
    finally:
        verdicts.close()
    if row is None:
        raise VerdictError(
            f"{source} item {item_id} was never scored by this node (store: {settings.store_url}); "
            "is VERDICT_STORE_URL the daemon's store?"
        )
    lines: list[Text] = []
    title = "Payment" if source == ROUTER else "Escrow release"
    lines.append(Text(f"{title} {item_id}", style="bold"))
    lines.append(
        Text(
            f"Score {row.score_bps:,} of 10,000 (riskier than {row.score_bps / 100:.2f}% of legitimate "
            f"payments); the policy at scoring time said: {row.decision}."
        )
    )
    if row.probability is not None:
        lines.append(Text(f"Calibrated fraud probability {_percent(row.probability)}."))
    lines.append(Text(f"Model {row.model_id}."))
    lines.append(Text("Why:", style="bold"))
    for n, reason in enumerate(row.reasons, 1):
        lines.append(Text(f"  {n}. {reason.get('text', reason.get('feature', '?'))}"))
    expected = reasons_hash(row.reasons)
    if parked is not None:
        lines.append(
            Text(
                f"The node parked this verdict: the chain refused it on its own ({parked}). It is not "
                "sent again; see 'Parked verdicts' in docs/operator-guide.md.",
                style="yellow",
            )
        )

    try:
        chain = ChainClient.from_settings(settings, with_key=False)
        posted = posted_verdicts(chain, row.target, item_id)
        state = ROUTER_STATUS[chain.payment(item_id).status] if source == ROUTER else None
        approved = chain.is_model_approved(row.model_id)
    except DeploymentRecordError:
        raise  # a record of another chain: what it would say about this payment is not true here
    except (ChainError, VerdictError) as exc:
        lines.append(Text(f"Could not check the chain: {exc}", style="yellow"))
        return Group(*lines)

    if state is not None:
        lines.append(Text(f"On-chain status now: {state}.", style="bold"))
    lines.append(Text(f"The model is {'still' if approved else 'no longer'} approved by governance."))
    if not posted:
        lines.append(Text("No verdict for it is on-chain yet.", style="yellow"))
    for verdict in posted:
        match = verdict["reasons_hash"] == expected
        lines.append(
            Text(
                f"Node {verdict['node']} posted score {verdict['score']:,} in {verdict['tx']}; "
                + (
                    "its reasons hash matches the reasons above."
                    if match
                    else f"its reasons hash {verdict['reasons_hash']} does NOT match "
                    f"the reasons above ({expected})."
                ),
                style="green" if match else "bold red",
            )
        )
    return Group(*lines)
