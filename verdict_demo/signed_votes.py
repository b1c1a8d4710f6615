"""The demo's governance round with gasless votes: some members vote with a transaction, the others sign
their delegation and ballot (EIP-712) and the DAO's relayer (`verdict relay`, its own process) submits
them through the VoteRelay, which reimburses its gas.

    with relayer_running(env, work, roles.relayer) as relay_url:
        governance = run_signed_round(contracts, direct=members[:2], signed=members[2:], ...)
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ape import chain

from oracle.errors import ChainError
from oracle.launch import DaemonProcess
from oracle.relay.signing import post_signed, sign_delegation, sign_vote
from verdict_demo.dashboard import free_port, wait_healthy
from verdict_deploy.governance import (
    PROPOSAL_STATES,
    SUPPORT,
    TRACKS,
    ZERO_ADDRESS,
    advance,
    advance_past,
    encode_call,
    ensure_delegated,
    propose,
)
from verdict_deploy.relay import dao_contracts


def start_relayer(env: Mapping[str, str], log_path: Path, port: int) -> DaemonProcess:
    """`verdict relay --port PORT` with the VERDICT_* settings `env` over this process's environment,
    its output appended to `log_path`; `.stop()` ends it."""
    return DaemonProcess.start(env, log_path, args=("relay", "--port", str(port)))


@contextlib.contextmanager
def relayer_running(env: Mapping[str, str], work: Path, relayer: Any, **settings: str) -> Iterator[str]:
    """A relayer process for the block, with `relayer`'s key and `env`'s chain settings; yields its URL.
    `settings` add VERDICT_* values (batch_interval="0.2" sets VERDICT_RELAY_BATCH_INTERVAL)."""
    port = free_port()
    extra = {f"VERDICT_RELAY_{k.upper()}": v for k, v in settings.items()}
    process = start_relayer(
        {
            **env,
            "VERDICT_RELAY_KEY": relayer.private_key,
            "VERDICT_RELAY_METRICS_PORT": "0",
            "VERDICT_RELAY_BATCH_INTERVAL": "0.2",
            **extra,
        },
        work / "relay.log",
        port,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, process, timeout=60):
            tail = "\n".join(process.log_text().splitlines()[-8:])
            raise ChainError(f"the relayer did not start:\n{tail}")
        yield url
    finally:
        process.stop()


def item_status(relay_url: str, item_id: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"{relay_url}/items/{item_id}", timeout=10) as response:
        return dict(json.loads(response.read()))


def wait_items(
    relay_url: str, items: Sequence[dict[str, Any]], timeout: float = 120.0
) -> list[dict[str, Any]]:
    """Waits until every accepted item is cast or failed; returns their final states."""
    deadline = time.monotonic() + timeout
    final: dict[int, dict[str, Any]] = {}
    while len(final) < len(items) and time.monotonic() < deadline:
        for item in items:
            if item["id"] not in final:
                now = item_status(relay_url, item["id"])
                if now["status"] in ("cast", "failed"):
                    final[item["id"]] = now
        time.sleep(0.1)
    missing = [item["id"] for item in items if item["id"] not in final]
    if missing:
        raise ChainError(f"the relayer did not land items {missing} within {timeout:.0f} s")
    return [final[item["id"]] for item in items]


def relayed_gas(states: Sequence[dict[str, Any]]) -> int:
    """Gas used by the relay transactions the items landed in (each transaction once)."""
    w3 = chain.provider.web3
    hashes = {s["tx_hash"] for s in states if s.get("tx_hash")}
    return sum(int(w3.eth.get_transaction_receipt(h)["gasUsed"]) for h in hashes)


def run_signed_round(
    contracts: dict[str, Any],
    direct: Sequence[Any],
    signed: Sequence[Any],
    new_review: int,
    relay_url: str,
) -> dict[str, Any]:
    """One routine-track threshold round on a local chain where `direct` vote with transactions (the
    first proposes) and `signed` only sign: their delegation (if they have none) and their ballot go
    through the relayer. Returns {proposal_id, state, track, threshold_before, threshold_after,
    reject_threshold, signed_votes, relayer_gas_spent}."""
    governor, token, router = (
        contracts["CommunityGovernor"],
        contracts["CommunityToken"],
        contracts["PaymentRouter"],
    )
    signer = dao_contracts(contracts)
    before, reject = int(router.reviewThreshold()), int(router.rejectThreshold())
    ensure_delegated(token, direct)
    expiry = int(chain.blocks.head.timestamp) + 3600
    delegations = [
        post_signed(relay_url, "delegations", sign_delegation(signer, m.private_key, m.address, expiry))
        for m in signed
        if str(token.delegates(m)) == ZERO_ADDRESS
    ]
    states = wait_items(relay_url, delegations)
    advance(1)  # votes are read at clock() - 1
    description = (
        f"Set the review threshold to {new_review} bps (was {before}); reject stays at {reject} bps; "
        f"{len(signed)} members vote by signature.\n\nround at {chain.blocks.head.timestamp}"
    )
    proposal = propose(
        governor, [encode_call(router, "setThresholds", new_review, reject)], description, direct[0]
    )
    pid = proposal.proposal_id
    advance_past(int(governor.proposalSnapshot(pid)))
    for voter in direct:
        governor.castVote(pid, SUPPORT["for"], sender=voter)
    ballots = [post_signed(relay_url, "votes", sign_vote(signer, m.private_key, pid, "for")) for m in signed]
    ballot_states = wait_items(relay_url, ballots)
    states += ballot_states
    advance_past(int(governor.proposalDeadline(pid)))
    if PROPOSAL_STATES[int(governor.state(pid))] == "Succeeded":
        governor.queue(*proposal.args(), sender=direct[0])
        advance_past(int(governor.proposalEta(pid)) - 1)
        governor.execute(*proposal.args(), sender=direct[0])
    return {
        "proposal_id": pid,
        "state": PROPOSAL_STATES[int(governor.state(pid))],
        "track": TRACKS[int(governor.proposalTrack(pid))],
        "threshold_before": before,
        "threshold_after": int(router.reviewThreshold()),
        "reject_threshold": int(router.rejectThreshold()),
        "signed_votes": sum(1 for s in ballot_states if s["status"] == "cast"),
        "relayer_gas_spent": relayed_gas(states),
    }
