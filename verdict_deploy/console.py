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

from pathlib import Path
from typing import Any

from ape import chain, networks, project

from oracle.errors import VerdictError
from oracle.model import load as _load_model
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
_record: dict[str, int] = {}  # the deployment record's first block: where event scans start


def use(contracts: dict[str, Any]) -> None:
    """Points the helpers at `contracts` (e.g. `deploy_world(...).contracts`)."""
    _session.clear()
    _session.update(contracts)
    _record.clear()


def dao() -> dict[str, Any]:
    """The governance and policy contracts, by name."""
    if _session:
        return _session
    try:
        record = _load_deployment()  # refused unless recorded on this very chain
    except VerdictError as exc:
        raise RuntimeError(f"{exc} (or call use(contracts))") from None
    addresses = record.contracts
    for name, type_name in _CONTRACT_TYPES.items():
        if name in addresses:
            _session[name] = getattr(project, type_name).at(addresses[name])
    _record["block"] = record.block
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
    _check_proposer(sender)
    if quadratic:
        description = f"{description} {_gov.QUADRATIC_MARKER}"
    proposal = _gov.propose(_governor(), calls, description, sender)
    print(f"proposal {proposal.proposal_id}: {proposal_state(proposal.proposal_id)['track']} track")
    return proposal.proposal_id


def _check_proposer(sender: Any) -> None:
    """The governor counts the proposer's votes one second back: say why a proposal would revert, and
    on a local chain let a delegation made this very second count (mine one block)."""
    governor, token = _governor(), dao()["CommunityToken"]
    address = getattr(sender, "address", sender)
    threshold = int(governor.proposalThreshold())
    if int(token.getVotes(address)) < threshold:
        raise ValueError(
            f"{address} has {int(token.getVotes(address)) / 10**18:,.0f} delegated votes, fewer than the "
            f"{threshold / 10**18:,.0f} a proposal needs: delegate first (`ape run vote delegate`)"
        )
    now = int(chain.blocks.head.timestamp)
    if int(governor.getVotes(address, now - 1)) < threshold:
        if not _local():
            raise ValueError("the delegation counts from the next second's block: propose again shortly")
        _gov.advance(1)


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


def propose_approve_model(
    model: str | Path,
    *,
    sender: Any,
    description: str | None = None,
    comparison: str | Path | None = None,
) -> int:
    """Proposes RiskOracle.approveModel(id) for a trained model: `model` is its directory (`verdict
    train --out DIR`; the id is checked against the files) or its id (0x + 64 hex). Until it is
    executed, `verdict run` posts nothing for that model. A Major-track proposal. Returns the id.

    comparison: a `verdict compare --out FILE` of this model as the shadow challenger; its sha256
    and both model ids go into the description as a line of the body (refused if the file was
    edited or compares another model)."""
    model_id = _model_id(model)
    evidence = _comparison_line(comparison, model_id) if comparison is not None else None
    oracle = dao()["RiskOracle"]
    if oracle.isModelApproved(model_id):
        raise ValueError(f"model 0x{model_id.hex()} is already approved")
    title = f"Approve model 0x{model_id.hex()} for the oracle nodes."
    stamp = f"[{chain.blocks.head.timestamp}]"
    text = description or (f"{title}\n{evidence}\n{stamp}" if evidence else f"{title} {stamp}")
    return _propose([_gov.encode_call(oracle, "approveModel", model_id)], text, False, sender)


def _model_id(model: str | Path) -> bytes:
    """A model id from a model directory (verified against its files) or from 0x + 64 hex."""
    text = str(model)
    if text.startswith("0x") and not Path(text).exists():
        try:
            raw = bytes.fromhex(text[2:])
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"{text!r} is neither a model directory nor a model id (0x + 64 hex digits)")
        return raw
    try:
        return bytes.fromhex(_load_model(text).model_id.removeprefix("0x"))
    except VerdictError as error:
        raise ValueError(str(error)) from None


def _comparison_line(comparison: str | Path, model_id: bytes) -> str:
    from oracle.compare import comparison_line

    try:
        return comparison_line(Path(comparison), "0x" + model_id.hex())
    except VerdictError as error:
        raise ValueError(str(error)) from None


def listed_tokens() -> dict[str, int]:
    """The router's token list: token address -> push budget (gas)."""
    tokens, budgets = dao()["PaymentRouter"].listedTokens()
    return {str(token): int(gas) for token, gas in zip(tokens, budgets, strict=True)}


def propose_calls(calls: list[tuple], description: str, *, sender: Any, quadratic: bool = False) -> int:
    """Proposes any calls: (target, value, calldata) triples, e.g. `encode_call(router, "setFeeBps", 10)`."""
    return _propose(calls, description, quadratic, sender)


encode_call = _gov.encode_call


def vote(proposal_id: int, support: str = "for", *, sender: Any, reason: str = "") -> int:
    """Votes "for", "against" or "abstain"; quadratic proposals weigh it automatically. Returns the weight.

    Refuses (ValueError, nothing sent) a vote that would weigh 0: a voter who had not delegated by the
    proposal's snapshot, or a non-member on a quadratic proposal, would otherwise count for nothing."""
    governor = _governor()
    try:
        choice = _gov.SUPPORT[support.lower()]
    except KeyError:
        raise ValueError(f"support must be one of {', '.join(_gov.SUPPORT)}, not {support!r}") from None
    _expect_state(proposal_id, "Active", "votes are taken only while it is Active", "snapshot")
    weight = vote_weight(proposal_id, sender)
    if weight == 0:
        raise ValueError(_zero_weight_reason(proposal_id, sender))
    if reason:
        tx = governor.castVoteWithReason(proposal_id, choice, reason, sender=sender)
    else:
        tx = governor.castVote(proposal_id, choice, sender=sender)
    return int(tx.events.filter(governor.VoteCast)[0].weight)


def vote_weight(proposal_id: int, voter: Any) -> int | None:
    """What `voter`'s ballot on the proposal would weigh: the delegated votes at its snapshot (the
    quadratic weight on a quadratic proposal); None before the snapshot, when it is not known yet."""
    governor = _governor()
    snapshot = int(governor.proposalSnapshot(proposal_id))
    if snapshot == 0:
        raise ValueError(f"no proposal {proposal_id}")
    if snapshot >= int(chain.blocks.head.timestamp):
        return None  # the vote is not open yet: the governor's own error says so
    address = getattr(voter, "address", voter)
    if governor.isQuadratic(proposal_id):
        return int(governor.quadraticWeight(address, snapshot))
    return int(governor.getVotes(address, snapshot))


def _zero_weight_reason(proposal_id: int, voter: Any) -> str:
    address = getattr(voter, "address", voter)
    token = dao()["CommunityToken"]
    if _governor().isQuadratic(proposal_id):
        why = (
            "it was not a member with delegated votes at the proposal's snapshot "
            "(quadratic proposals count members only)"
        )
    elif str(token.delegates(address)) == _gov.ZERO_ADDRESS:
        why = (
            "it has no delegate (it delegated to nobody, or is a contract: tokens delegate to their holder "
            "on receipt otherwise): call delegate(sender=...) (or `ape run vote delegate`) before the next "
            "proposal"
        )
    else:
        why = (
            "it held no delegated votes at the proposal's snapshot "
            "(votes delegated later count from the next proposal)"
        )
    return f"{address}'s vote on proposal {proposal_id} would weigh 0, so it was not sent: {why}"


def latest_proposal() -> int:
    """The id of the most recent proposal (what `ape run vote ... latest` means)."""
    logs = list(_governor().ProposalCreated.range(_record_block(), chain.blocks.height + 1))
    if not logs:
        raise ValueError("no proposal has been made on this deployment yet")
    return int(logs[-1].proposalId)


def proposal_id_of(value: int | str) -> int:
    """A proposal id from user input: the number, or "latest"."""
    if isinstance(value, str) and value.strip().lower() == "latest":
        return latest_proposal()
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a proposal id (a number or 'latest')") from None


def _record_block() -> int:
    return _record.get("block", 0)


def _proposal(proposal_id: int) -> _gov.Proposal:
    governor = _governor()
    for log in governor.ProposalCreated.range(_record_block(), chain.blocks.height + 1):
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
    _expect_state(proposal_id, "Succeeded", "only a Succeeded proposal can be queued", "deadline")
    _governor().queue(*_proposal(proposal_id).args(), sender=sender)


def execute(proposal_id: int, *, sender: Any) -> None:
    """Executes a Queued proposal whose timelock delay has passed."""
    _expect_state(proposal_id, "Queued", "only a Queued proposal can be executed", None)
    eta, now = int(_governor().proposalEta(proposal_id)), int(chain.blocks.head.timestamp)
    if now + 1 < eta:
        hint = (
            " (on a local chain: advance_to('eta', pid) or `ape run vote advance ... eta`)"
            if _local()
            else ""
        )
        raise ValueError(f"proposal {proposal_id} is executable from {eta}, {eta - now} s from now{hint}")
    _governor().execute(*_proposal(proposal_id).args(), sender=sender)


def _local() -> bool:
    return bool(networks.provider.network.is_local)


def _expect_state(proposal_id: int, wanted: str, rule: str, advance: str | None) -> None:
    """ValueError with the reason (and, on a local chain, the step that moves time) instead of a
    transaction the governor would revert."""
    state = _gov.state_name(_governor(), proposal_id)
    if state == wanted:
        return
    hint = ""
    if advance and _local() and state in ("Pending", "Active"):
        hint = f" (on a local chain: advance_to('{advance}', pid) or `ape run vote advance ... {advance}`)"
    raise ValueError(f"proposal {proposal_id} is {state}: {rule}{hint}")


def cancel(proposal_id: int, *, sender: Any) -> None:
    """Cancels a proposal (the guardian: any live proposal)."""
    _governor().cancel(*_proposal(proposal_id).args(), sender=sender)


def proposal_state(proposal_id: int) -> dict[str, Any]:
    """State, track, quadratic flag, tally, quorum and timing of a proposal."""
    governor = _governor()
    if int(governor.proposalSnapshot(proposal_id)) == 0:  # asking state() would revert
        raise ValueError(f"no proposal {proposal_id} on this deployment (`ape run vote state latest`)")
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
