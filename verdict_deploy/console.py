"""Governance helpers for `ape console` (re-exported by `ape_console_extras.py`) and `ape run propose|vote`.

    ape console --network ethereum:local:foundry
    In [1]: delegate(sender=alice)                      # self-delegate once, before proposing
    In [2]: pid = propose_thresholds(9800, sender=alice) # routine track: within the band
    In [3]: vote(pid, "for", sender=alice)               # "for" | "against" | "abstain"
    In [4]: queue(pid, sender=alice); execute(pid, sender=alice)
    In [5]: proposal_state(pid)
    In [6]: pid = propose_token(token, 100_000, sender=alice)  # major track: list a token
    In [7]: listed_tokens()                                  # token -> push budget

Contracts come from deployments/<network>.json (written by `ape run deploy`); `use(contracts)` points the
helpers at contracts deployed in the same session instead. Quadratic proposals: pass `quadratic=True`
to a propose helper (it appends the `#quadratic` marker; the governor accepts it only for calls on the
DAO's quadratic list within their routine bounds, e.g. the fee, and the helper says so before sending);
`vote` is the same call for both kinds.
"""

from __future__ import annotations

from typing import Any

from ape import chain, networks, project

from oracle.errors import VerdictError
from verdict_deploy import governance as _gov
from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS as _DEFAULT_TOKEN_PUSH_GAS
from verdict_deploy.suite import load_deployment as _load_deployment

_CONTRACT_TYPES = {
    "CommunityToken": "CommunityToken",
    "CommunityTimelock": "CommunityTimelock",
    "CommunityGovernor": "CommunityGovernor",
    "Membership": "Membership",
    "Polls": "Polls",
    "PaymentRouter": "PaymentRouter",
    "RiskOracle": "RiskOracle",
    "Escrow": "Escrow",
}
_session: dict[str, Any] = {}


def use(contracts: dict[str, Any]) -> None:
    """Points the helpers at `contracts` (e.g. `deploy_world(...).contracts`)."""
    _session.clear()
    _session.update(contracts)


def dao() -> dict[str, Any]:
    """The governance and policy contracts, by name."""
    if _session:
        return _session
    try:
        addresses = _load_deployment().contracts  # refused unless recorded on this very chain
    except VerdictError as exc:
        raise RuntimeError(f"{exc} (or call use(contracts))") from None
    for name, type_name in _CONTRACT_TYPES.items():
        if name in addresses:
            _session[name] = getattr(project, type_name).at(addresses[name])
    return _session


def _governor() -> Any:
    return dao()["CommunityGovernor"]


def delegate(to: Any = None, *, sender: Any) -> None:
    """Delegates the sender's votes to `to` (default: themselves). Votes count only once delegated."""
    dao()["CommunityToken"].invoke_transaction("delegate", to or sender, sender=sender)


def voting_power(account: Any) -> dict[str, int]:
    token = dao()["CommunityToken"]
    return {"balance": int(token.balanceOf(account)), "votes": int(token.getVotes(account))}


def _propose(calls: list[tuple], description: str, quadratic: bool, sender: Any) -> int:
    if quadratic:
        description = f"{description} {_gov.QUADRATIC_MARKER}"
    proposal = _gov.propose(_governor(), calls, description, sender)
    print(f"proposal {proposal.proposal_id}: {proposal_state(proposal.proposal_id)['track']} track")
    return proposal.proposal_id


def propose_thresholds(
    review: int,
    reject: int | None = None,
    *,
    sender: Any,
    description: str | None = None,
    quadratic: bool = False,
) -> int:
    """Proposes PaymentRouter.setThresholds(review, reject) (reject unchanged by default). Returns the id."""
    router = dao()["PaymentRouter"]
    reject = int(router.rejectThreshold()) if reject is None else reject
    text = description or (
        f"Set the review threshold to {review} bps and the reject threshold to {reject} bps "
        f"(now {router.reviewThreshold()} / {router.rejectThreshold()}). [{chain.blocks.head.timestamp}]"
    )
    return _propose([_gov.encode_call(router, "setThresholds", review, reject)], text, quadratic, sender)


def propose_fee(fee_bps: int, *, sender: Any, description: str | None = None, quadratic: bool = False) -> int:
    """Proposes PaymentRouter.setFeeBps(fee_bps). Returns the id."""
    router = dao()["PaymentRouter"]
    text = description or f"Set the protocol fee to {fee_bps} bps. [{chain.blocks.head.timestamp}]"
    return _propose([_gov.encode_call(router, "setFeeBps", fee_bps)], text, quadratic, sender)


def propose_token(
    token: Any,
    push_gas: int | None = None,
    *,
    sender: Any,
    description: str | None = None,
) -> int:
    """Proposes PaymentRouter.setToken(token, push_gas): payments and escrow agreements may then be
    made in `token`, and its payouts are pushed with at most `push_gas` gas (default
    `DEFAULT_TOKEN_PUSH_GAS`; the router takes 40,000 to 150,000). The Escrow reads the router's
    list, so one proposal lists a token for both. A Major-track proposal (issue 13.6). Returns the id."""
    router = dao()["PaymentRouter"]
    push_gas = _DEFAULT_TOKEN_PUSH_GAS if push_gas is None else push_gas
    low, high = int(router.MIN_TOKEN_PUSH_GAS()), int(router.MAX_TOKEN_PUSH_GAS())
    if not low <= push_gas <= high:
        raise ValueError(f"push_gas {push_gas:,} is outside the router's bounds [{low:,}, {high:,}]")
    address = getattr(token, "address", token)
    text = (
        description
        or f"List token {address} with a push budget of {push_gas:,} gas. [{chain.blocks.head.timestamp}]"
    )
    return _propose([_gov.encode_call(router, "setToken", address, push_gas)], text, False, sender)


def propose_delist_token(token: Any, *, sender: Any, description: str | None = None) -> int:
    """Proposes PaymentRouter.delistToken(token): no new payment or agreement in it; what was paid
    in it still settles, refunds and withdraws (its payouts are credited). Major track. Returns the id."""
    router = dao()["PaymentRouter"]
    address = getattr(token, "address", token)
    text = description or f"Delist token {address}. [{chain.blocks.head.timestamp}]"
    return _propose([_gov.encode_call(router, "delistToken", address)], text, False, sender)


def listed_tokens() -> dict[str, int]:
    """The router's token list: token address -> push budget (gas)."""
    tokens, budgets = dao()["PaymentRouter"].listedTokens()
    return {str(token): int(gas) for token, gas in zip(tokens, budgets, strict=True)}


def propose_calls(calls: list[tuple], description: str, *, sender: Any, quadratic: bool = False) -> int:
    """Proposes any calls: (target, value, calldata) triples, e.g. `encode_call(router, "setFeeBps", 10)`."""
    return _propose(calls, description, quadratic, sender)


encode_call = _gov.encode_call


def vote(proposal_id: int, support: str = "for", *, sender: Any, reason: str = "") -> int:
    """Votes "for", "against" or "abstain"; quadratic proposals weigh it automatically. Returns the weight."""
    governor = _governor()
    choice = _gov.SUPPORT[support.lower()]
    if reason:
        tx = governor.castVoteWithReason(proposal_id, choice, reason, sender=sender)
    else:
        tx = governor.castVote(proposal_id, choice, sender=sender)
    return int(tx.events.filter(governor.VoteCast)[0].weight)


def _proposal(proposal_id: int) -> _gov.Proposal:
    governor = _governor()
    for log in governor.ProposalCreated.range(0, None):
        if int(log.proposalId) == int(proposal_id):
            return _gov.Proposal(
                int(proposal_id),
                [str(t) for t in log.targets],
                [int(v) for v in log.values],
                [bytes(c) for c in log.calldatas],
                log.description,
            )
    raise ValueError(f"no proposal {proposal_id}")


def queue(proposal_id: int, *, sender: Any) -> None:
    """Queues a Succeeded proposal in the timelock."""
    _governor().queue(*_proposal(proposal_id).args(), sender=sender)


def execute(proposal_id: int, *, sender: Any) -> None:
    """Executes a Queued proposal whose timelock delay has passed."""
    _governor().execute(*_proposal(proposal_id).args(), sender=sender)


def cancel(proposal_id: int, *, sender: Any) -> None:
    """Cancels a proposal (the guardian: any live proposal)."""
    _governor().cancel(*_proposal(proposal_id).args(), sender=sender)


def proposal_state(proposal_id: int) -> dict[str, Any]:
    """State, track, quadratic flag, tally, quorum and timing of a proposal."""
    governor = _governor()
    against, for_, abstain = governor.proposalVotes(proposal_id)
    snapshot = int(governor.proposalSnapshot(proposal_id))
    info = {
        "state": _gov.state_name(governor, proposal_id),
        "track": _gov.TRACKS[int(governor.proposalTrack(proposal_id))],
        "quadratic": bool(governor.isQuadratic(proposal_id)),
        "for": int(for_),
        "against": int(against),
        "abstain": int(abstain),
        "snapshot": snapshot,
        "deadline": int(governor.proposalDeadline(proposal_id)),
        "eta": int(governor.proposalEta(proposal_id)),
        "now": int(chain.blocks.head.timestamp),
    }
    if snapshot < info["now"]:
        info["quorum"] = int(governor.proposalQuorum(proposal_id))
        info["participation"] = int(governor.quorumParticipation(proposal_id))
    return info


def advance_to(what: str, proposal_id: int) -> None:
    """Local chains only: moves time past the proposal's "snapshot", "deadline" or "eta"."""
    if not networks.provider.network.is_local:
        raise RuntimeError("advance_to moves chain time: local networks only")
    governor = _governor()
    timepoint = {
        "snapshot": governor.proposalSnapshot,
        "deadline": governor.proposalDeadline,
        "eta": lambda pid: int(governor.proposalEta(pid)) - 1,
    }[what](proposal_id)
    _gov.advance_past(int(timepoint))
