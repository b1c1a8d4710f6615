"""Helpers for the governance tests: build, pass, queue and execute proposals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verdict_deploy.governance import SUPPORT, Proposal, advance_past, encode_call, propose, state_name

__all__ = ["encode_call", "make_proposal", "vote_through", "queue_execute", "state_name"]

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
