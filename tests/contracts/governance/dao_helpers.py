"""Helpers for the governance tests: build, pass, queue and execute proposals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from verdict_deploy.governance import SUPPORT, Proposal, advance_past, encode_call, propose, state_name

__all__ = [
    "ballot_signature",
    "build_invite_tree",
    "encode_call",
    "extended_ballot_signature",
    "fresh_accounts",
    "make_proposal",
    "queue_execute",
    "sign_typed",
    "state_name",
    "vote_through",
]

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
BALLOT_FIELDS = [
    {"name": "proposalId", "type": "uint256"},
    {"name": "support", "type": "uint8"},
    {"name": "voter", "type": "address"},
    {"name": "nonce", "type": "uint256"},
]
EXTENDED_BALLOT_FIELDS = [
    *BALLOT_FIELDS,
    {"name": "reason", "type": "string"},
    {"name": "params", "type": "bytes"},
]

_counter = iter(range(1, 10**9))


def make_proposal(
    governor: Any, calls: Sequence[tuple], proposer: Any, description: str | None = None
) -> Proposal:
    """Proposes `calls` with a unique description (so the same calls can be proposed again)."""
    text = description if description is not None else f"proposal {next(_counter)}"
    return propose(governor, calls, text, proposer)


def vote_through(
    governor: Any, proposal: Proposal, votes: dict[Any, str] | Sequence[Any], end: bool = True
) -> None:
    """Waits for voting to open, casts `votes` ({voter: "for"|"against"|"abstain"} or voters voting For)
    and, if `end`, waits until the deadline has passed."""
    pid = proposal.proposal_id
    advance_past(int(governor.proposalSnapshot(pid)))
    ballots = votes.items() if isinstance(votes, dict) else [(v, "for") for v in votes]
    for voter, support in ballots:
        governor.castVote(pid, SUPPORT[support], sender=voter)
    if end:
        advance_past(int(governor.proposalDeadline(pid)))


def queue_execute(governor: Any, proposal: Proposal, sender: Any) -> None:
    governor.queue(*proposal.args(), sender=sender)
    advance_past(int(governor.proposalEta(proposal.proposal_id)) - 1)
    governor.execute(*proposal.args(), sender=sender)


def sign_typed(contract: Any, key: Any, primary: str, fields: list, message: dict, version: str) -> Any:
    """EIP-712 signature of `message` (type `primary` with `fields`) for `contract`'s domain."""
    from ape import chain

    typed = encode_typed_data(
        full_message={
            "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
            "primaryType": primary,
            "domain": {
                "name": contract.name(),
                "version": version,
                "chainId": chain.chain_id,
                "verifyingContract": contract.address,
            },
            "message": message,
        }
    )
    return Account.sign_message(typed, key)


def ballot_signature(governor: Any, voter: Any, proposal_id: int, support: int, nonce: int) -> bytes:
    """A `Ballot` signature for `castVoteBySig` with `nonce` (keyed or the voter's plain nonce)."""
    message = {"proposalId": proposal_id, "support": support, "voter": voter.address, "nonce": nonce}
    signed = sign_typed(governor, voter.key, "Ballot", BALLOT_FIELDS, message, governor.version())
    return bytes(signed.signature)


def extended_ballot_signature(
    governor: Any, voter: Any, proposal_id: int, support: int, nonce: int, reason: str, params: bytes = b""
) -> bytes:
    """An `ExtendedBallot` signature for `castVoteWithReasonAndParamsBySig`."""
    message = {
        "proposalId": proposal_id,
        "support": support,
        "voter": voter.address,
        "nonce": nonce,
        "reason": reason,
        "params": params,
    }
    fields = EXTENDED_BALLOT_FIELDS
    signed = sign_typed(governor, voter.key, "ExtendedBallot", fields, message, governor.version())
    return bytes(signed.signature)


def fresh_accounts(accounts: Any, n: int) -> list:
    """`n` new funded accounts (the 20 test accounts are not enough for a sock-puppet tree)."""
    fresh = [accounts.generate_test_account() for _ in range(n)]
    for account in fresh:
        accounts[0].transfer(account, 10**18)
    return fresh


def build_invite_tree(membership: Any, root: Any, puppets: Sequence[Any], levels: int) -> list:
    """`root` invites up to 3 puppets, each of them up to 3 more, for `levels` levels; returns the
    identities in the tree, root first."""
    identities = [root]
    frontier = [root]
    remaining = list(puppets)
    for _ in range(levels):
        next_frontier = []
        for inviter in frontier:
            for _ in range(3):
                if not remaining:
                    break
                invitee = remaining.pop(0)
                membership.invite(invitee, sender=inviter)
                next_frontier.append(invitee)
        frontier = next_frontier
    identities.extend(p for p in puppets if p not in remaining)
    return identities
