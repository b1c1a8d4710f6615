"""Deploys the community DAO and drives governance rounds; shared by deploy, demo, tests and the console.

`deploy_governance` deploys CommunityToken, the TimelockController (treasury and policy owner),
CommunityGovernor, Membership, Polls and the founders' VestingGrants, distributes the supply
(docs/tokenomics.md), and hands DEFAULT_ADMIN_ROLE of the given policy contracts to the timelock.

`run_threshold_round` runs one full routine-track round on a local chain: propose a new review
threshold, vote, advance time, queue, execute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ape import chain, project
from eth_utils import keccak, to_checksum_address

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
TOKEN = 10**18

# IGovernor.ProposalState, in enum order.
PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
SUPPORT = {"against": 0, "for": 1, "abstain": 2}
TRACKS = ("Major", "Routine")
QUADRATIC_MARKER = "#quadratic"
# OpenZeppelin's front-running guard: a description ending in `#proposer=0x<40 hex>` may only be proposed
# by that address (Governor._isValidDescriptionForProposer), so nobody can submit the same proposal first.
PROPOSER_SUFFIX = "#proposer="
_PROPOSER_SUFFIX_RE = re.compile(r"#proposer=(0x[0-9a-fA-F]{40})\Z")


@dataclass(frozen=True)
class GovernanceConfig:
    """Every governance parameter in one place. Durations are seconds (the token's clock).

    `local()` has short periods for tests and the demo; the defaults suit a live network.
    """

    name: str = "Verdict Governor"
    token_name: str = "Verdict Community"
    token_symbol: str = "VCT"
    supply: int = 10_000_000 * TOKEN
    # Distribution, basis points of the supply (must add up to 10_000).
    community_bps: int = 5_500  # treasury: the timelock
    founders_bps: int = 2_000  # vesting through VestingGrant (OpenZeppelin VestingWallet)
    airdrop_bps: int = 2_000  # equal shares to the founding members
    referral_bps: int = 500  # the referral budget, held by Membership
    founders_vesting: int = 2 * 365 * 24 * 3600
    # Governor.
    voting_delay: int = 24 * 3600
    voting_period: int = 7 * 24 * 3600  # major track
    routine_voting_period: int = 3 * 24 * 3600
    proposal_threshold: int = 10_000 * TOKEN
    quorum_percent: int = 10  # major track
    routine_quorum_percent: int = 4
    late_quorum_extension: int = 2 * 24 * 3600
    timelock_delay: int = 2 * 24 * 3600
    # Membership.
    referral_bonus: int = 100 * TOKEN
    invites_per_member: int = 3
    referral_vesting: int = 30 * 24 * 3600  # time to find sock puppets before their inviter is paid
    # Routine bands on PaymentRouter (basis points; seconds for the windows). Scores are legitimate-
    # traffic quantiles, so the bands are about 10,000 - threshold, the share of legitimate payments
    # held or refunded: the defaults 9,900 / 9,990 (1% / 0.1%) may move by a routine vote within
    # 0.25%-4% reviewed and 0.05%-0.2% refunded (see `with_bands_around`).
    review_band: tuple[int, int] = (9_600, 9_975)
    reject_band: tuple[int, int] = (9_980, 9_995)
    fee_band: tuple[int, int] = (0, 100)
    deadline_window_band: tuple[int, int] = (10 * 60, 24 * 3600)
    review_window_band: tuple[int, int] = (3600, 7 * 24 * 3600)

    @classmethod
    def local(cls, **overrides: Any) -> GovernanceConfig:
        """Short periods for a local chain (tests, demo): a round takes about 3 minutes of chain time."""
        values: dict[str, Any] = {
            "voting_delay": 1,
            "voting_period": 120,
            "routine_voting_period": 40,
            "late_quorum_extension": 20,
            "timelock_delay": 60,
            "founders_vesting": 3600,
            "proposal_threshold": 1_000 * TOKEN,
            "referral_vesting": 300,
        }
        values.update(overrides)
        return cls(**values)

    def with_bands_around(self, review: int, reject: int) -> GovernanceConfig:
        """The routine track's threshold bands centred on given thresholds (bps of the legitimate-
        quantile scale). What a threshold means is the share of legitimate traffic above it,
        10,000 - threshold: the community may scale the review share by 1/4..4 and the refund share
        by 1/2..2 with a routine vote (9,900 / 9,990 give 9,600-9,975 and 9,980-9,995); anything
        further needs the major track."""
        review_share, reject_share = max(1, 10_000 - review), max(1, 10_000 - reject)
        review_lo = max(1, 10_000 - 4 * review_share)
        review_hi = max(review_lo, min(reject - 1, 10_000 - max(1, review_share // 4)))
        reject_lo = min(10_000, max(review + 1, 10_000 - 2 * reject_share))
        reject_hi = max(reject_lo, 10_000 - reject_share // 2)
        return replace(self, review_band=(review_lo, review_hi), reject_band=(reject_lo, reject_hi))

    def governor_tuple(self, guardian: str) -> tuple:
        return (
            self.name,
            self.voting_delay,
            self.voting_period,
            self.routine_voting_period,
            self.proposal_threshold,
            self.quorum_percent,
            self.routine_quorum_percent,
            self.late_quorum_extension,
            guardian,
        )


@dataclass
class _Distribution:
    community: int
    founders: list[int] = field(default_factory=list)
    airdrop: list[int] = field(default_factory=list)
    referral: int = 0


def _split(total: int, parts: int) -> list[int]:
    if parts == 0:
        return []
    share = total // parts
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def _distribution(config: GovernanceConfig, founders: int, members: int) -> _Distribution:
    if config.community_bps + config.founders_bps + config.airdrop_bps + config.referral_bps != 10_000:
        raise ValueError("the distribution shares must add up to 10_000 basis points")
    founders_total = config.supply * config.founders_bps // 10_000 if founders else 0
    airdrop_total = config.supply * config.airdrop_bps // 10_000 if members else 0
    referral = config.supply * config.referral_bps // 10_000
    community = config.supply - founders_total - airdrop_total - referral
    return _Distribution(
        community, _split(founders_total, founders), _split(airdrop_total, members), referral
    )


def _selector(contract: Any, name: str) -> bytes:
    abi = getattr(contract, name).abis[0]
    return bytes(keccak(text=abi.selector)[:4])


def routine_rules(policy_contracts: Iterable[Any], config: GovernanceConfig) -> list[tuple]:
    """The initial routine whitelist: PaymentRouter parameter setters within the configured bands.

    A policy contract counts as the router when it has `setThresholds`.
    """
    rules: list[tuple] = []
    for contract in policy_contracts:
        if not hasattr(contract, "setThresholds"):
            continue
        rules.append(
            (contract.address, _selector(contract, "setThresholds"), [config.review_band, config.reject_band])
        )
        rules.append((contract.address, _selector(contract, "setFeeBps"), [config.fee_band]))
        rules.append(
            (contract.address, _selector(contract, "setDeadlineWindow"), [config.deadline_window_band])
        )
        rules.append((contract.address, _selector(contract, "setReviewWindow"), [config.review_window_band]))
    return rules


# The router setters whose (bounded) changes may be counted quadratically: fee and windows, which payers
# and payees feel. Thresholds (what settles), the oracle, models, roles, the treasury, membership and the
# governor itself stay counted by tokens.
QUADRATIC_SETTERS = ("setFeeBps", "setDeadlineWindow", "setReviewWindow")


def quadratic_calls(policy_contracts: Iterable[Any]) -> list[tuple]:
    """The initial quadratic list: (target, selector) of the router's `QUADRATIC_SETTERS`. The governor
    also requires each such call to fit its routine rule's bounds."""
    return [
        (contract.address, _selector(contract, name))
        for contract in policy_contracts
        if hasattr(contract, "setThresholds")
        for name in QUADRATIC_SETTERS
    ]


def deploy_governance(
    deployer: Any,
    *,
    policy_contracts: Sequence[Any],
    guardian: Any = None,
    founders: Sequence[Any] = (),
    members: Sequence[Any] = (),
    config: GovernanceConfig | None = None,
) -> dict[str, Any]:
    """Deploys the DAO and hands the policy contracts to its timelock.

    Call it last, once the deployer has finished configuring the policy contracts (oracle nodes,
    approved models, targets, reviewer): afterwards only executed proposals can change them.

    - `policy_contracts`: AccessControl contracts the deployer administers (PaymentRouter, RiskOracle,
      Escrow). Each gets the timelock as DEFAULT_ADMIN_ROLE and loses the deployer's; one that has
      `GUARDIAN_ROLE` grants it to `guardian`; one that has `setTreasury` sends its fees to the timelock;
      the one with `setThresholds` (the router) gets the routine whitelist.
    - `guardian`: may pause the router and cancel proposals (defaults to the deployer).
    - `founders`: each gets a VestingGrant over `config.founders_vesting` seconds.
    - `members`: the founding members, who share the airdrop.

    Returns the deployed contracts by name, like `deploy_suite` (ready for `write_deployment`):
    CommunityToken, CommunityTimelock, CommunityGovernor, Membership, Polls, and VestingGrant1..N for
    the founders in order.
    """
    config = config or GovernanceConfig()
    guardian_address = str(getattr(guardian, "address", guardian) or deployer.address)
    dist = _distribution(config, len(founders), len(members))

    token = deployer.deploy(
        project.CommunityToken, config.token_name, config.token_symbol, deployer, config.supply
    )
    timelock = deployer.deploy(project.CommunityTimelock, config.timelock_delay, [], [], deployer)
    membership = deployer.deploy(
        project.Membership,
        token,
        deployer,
        [m.address for m in members],
        config.referral_bonus,
        config.invites_per_member,
        config.referral_vesting,
    )
    governor = deployer.deploy(
        project.CommunityGovernor,
        token,
        timelock,
        membership,
        config.governor_tuple(guardian_address),
        routine_rules(policy_contracts, config),
        quadratic_calls(policy_contracts),
    )
    polls = deployer.deploy(project.Polls, token)

    # The governor is the only proposer, canceller and executor; the timelock administers itself.
    for role in (timelock.PROPOSER_ROLE(), timelock.CANCELLER_ROLE(), timelock.EXECUTOR_ROLE()):
        timelock.grantRole(role, governor, sender=deployer)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer, sender=deployer)

    # Distribution (docs/tokenomics.md).
    vesting = []
    start = chain.pending_timestamp
    for founder, amount in zip(founders, dist.founders, strict=True):
        grant = deployer.deploy(project.VestingGrant, founder, start, config.founders_vesting)
        token.transfer(grant, amount, sender=deployer)
        vesting.append(grant)
    for member, amount in zip(members, dist.airdrop, strict=True):
        token.transfer(member, amount, sender=deployer)
    if dist.referral:
        token.transfer(membership, dist.referral, sender=deployer)
        membership.setReferralBudget(dist.referral, sender=deployer)
    membership.transferOwnership(timelock, sender=deployer)
    token.transfer(timelock, token.balanceOf(deployer), sender=deployer)

    for contract in policy_contracts:
        admin_role = contract.DEFAULT_ADMIN_ROLE()
        if hasattr(contract, "GUARDIAN_ROLE"):
            contract.grantRole(contract.GUARDIAN_ROLE(), guardian_address, sender=deployer)
        if hasattr(contract, "setTreasury"):
            contract.setTreasury(timelock, sender=deployer)
        contract.grantRole(admin_role, timelock, sender=deployer)
        contract.renounceRole(admin_role, deployer, sender=deployer)

    deployed = {
        "CommunityToken": token,
        "CommunityTimelock": timelock,
        "CommunityGovernor": governor,
        "Membership": membership,
        "Polls": polls,
    }
    deployed.update({f"VestingGrant{i}": grant for i, grant in enumerate(vesting, start=1)})
    return deployed


def _pick(contracts: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in contracts:
            return contracts[name]
    raise KeyError(f"contracts has none of {names}")


# --------------------------------------------------------------------------------------------
# Proposal lifecycle
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What queue/execute/cancel need besides the id: the calls and the description hash."""

    proposal_id: int
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)

    def args(self) -> tuple:
        return (self.targets, self.values, self.calldatas, self.description_hash)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calldatas"] = ["0x" + bytes(c).hex() for c in self.calldatas]
        return data


def encode_call(contract: Any, method: str, *args: Any) -> tuple[str, int, bytes]:
    """(target, value, calldata) of one proposal call."""
    return contract.address, 0, bytes(getattr(contract, method).encode_input(*args))


def with_proposer_suffix(description: str, proposer: Any) -> str:
    """`description` ending with OpenZeppelin's `#proposer=0x…` suffix for `proposer` (an account or an
    address): the governor then refuses the same proposal from any other account. It is the last thing
    appended to every description the project's tools propose (after `#quadratic` and any other line);
    a description that already ends with this proposer's suffix is returned unchanged.

    Raises ValueError if the description already names another proposer."""
    address = to_checksum_address(str(getattr(proposer, "address", proposer)))
    found = _PROPOSER_SUFFIX_RE.search(description)
    if found:
        if to_checksum_address(found.group(1)) != address:
            raise ValueError(
                f"the description ends with a proposer suffix for {found.group(1)}, but {address} "
                "proposes it: the governor would refuse it; drop the suffix"
            )
        return description
    return f"{description}{PROPOSER_SUFFIX}{address}"


def strip_proposer_suffix(description: str) -> str:
    """`description` without a trailing `#proposer=0x…` suffix (for display)."""
    return _PROPOSER_SUFFIX_RE.sub("", description)


def is_quadratic_description(description: str) -> bool:
    """Whether the governor will read `description` as flagged `#quadratic` (at the end, optionally
    followed by OpenZeppelin's `#proposer=0x<40 hex>` suffix)."""
    text = description
    if len(text) >= 52 and text[-52:].startswith("#proposer="):
        text = text[:-52]
    return text.endswith(QUADRATIC_MARKER)


def check_quadratic_allowed(governor: Any, calls: Sequence[tuple[str, int, bytes]]) -> None:
    """Raises ValueError, with a sentence a user can act on, if the governor would refuse these calls in
    a `#quadratic` proposal (only listed, bounded parameter changes may be counted quadratically)."""
    targets = [str(getattr(t, "address", t)) for t, _, _ in calls]
    values = [int(v) for _, v, _ in calls]
    calldatas = [bytes(c) for _, _, c in calls]
    if not governor.quadraticAllowed(targets, values, calldatas):
        raise ValueError(
            "quadratic counting is not allowed for these calls: only calls on the DAO's quadratic list "
            "(governor.isQuadraticCall), within their routine bounds and sending no ETH, may be flagged "
            f"{QUADRATIC_MARKER}; propose them without the flag"
        )


def propose(
    governor: Any, calls: Sequence[tuple[str, int, bytes]], description: str, sender: Any
) -> Proposal:
    """Submits a proposal of `calls` ((target, value, calldata) triples); returns it with its id.

    The description gets the sender's `#proposer=0x…` suffix (`with_proposer_suffix`), so a copy of the
    proposal submitted by another account reverts instead of taking its id. A description flagged
    `#quadratic` is checked first (`check_quadratic_allowed`): ValueError instead of a reverted
    transaction."""
    targets = [str(getattr(t, "address", t)) for t, _, _ in calls]
    values = [int(v) for _, v, _ in calls]
    calldatas = [bytes(c) for _, _, c in calls]
    description = with_proposer_suffix(description, sender)
    if is_quadratic_description(description):
        check_quadratic_allowed(governor, calls)
    governor.propose(targets, values, calldatas, description, sender=sender)
    proposal_id = governor.getProposalId(targets, values, calldatas, keccak(text=description))
    return Proposal(int(proposal_id), targets, values, calldatas, description)


def keyed_vote_nonce(proposal_id: int, used: int = 0) -> int:
    """The nonce a signed ballot on `proposal_id` carries (OpenZeppelin GovernorNoncesKeyed): the low 192
    bits of the proposal id as the key, shifted left 64 bits, OR the count of keyed signatures the voter
    already used on it (0: a voter votes once). It equals `governor.nonces(voter, proposal_id % 2**192)`
    and is independent of the voter's other signatures, so ballots on several open proposals can be
    signed at once and land in any order."""
    return ((int(proposal_id) % 2**192) << 64) | used


def state_name(governor: Any, proposal_id: int) -> str:
    return PROPOSAL_STATES[int(governor.state(proposal_id))]


def advance(seconds: int) -> None:
    """Moves a local chain's clock forward by `seconds` and mines a block."""
    chain.mine(1, deltatime=max(int(seconds), 1))


def advance_past(timepoint: int) -> None:
    """Mines a block strictly after `timepoint` (a timestamp)."""
    now = chain.blocks.head.timestamp
    if now <= timepoint:
        advance(timepoint - now + 1)


def ensure_delegated(token: Any, voters: Iterable[Any]) -> None:
    """Self-delegates every voter that has not delegated yet."""
    for voter in voters:
        if str(token.delegates(voter)) == ZERO_ADDRESS:
            token.invoke_transaction("delegate", voter, sender=voter)


def review_share_threshold(review: int, factor: float, band: tuple[int, int] | None = None) -> int:
    """The review threshold that holds `factor` times the share of legitimate payments `review`
    holds (scores are legitimate-traffic quantiles): 9,900 and 2.0 give 9,800 (1% -> 2%), clamped
    into the routine `band` when given."""
    new = 10_000 - round((10_000 - review) * factor)
    if band is not None:
        new = min(max(new, band[0]), band[1])
    return max(0, min(10_000, new))


def run_threshold_round(
    contracts: dict[str, Any],
    voters: Sequence[Any],
    new_review: int,
    new_reject: int | None = None,
) -> dict[str, Any]:
    """One routine-track round on a local chain: propose `router.setThresholds(new_review, reject)`,
    every voter votes For, time advances past the vote and the timelock delay, the proposal is queued
    and executed.

    `contracts` is the merged result of `deploy_suite` and `deploy_governance` (it needs
    CommunityGovernor, CommunityToken and PaymentRouter).
    `voters` must hold enough tokens for the proposal threshold (the first one proposes) and the routine
    quorum; they are self-delegated here if they have not delegated yet.

    Returns {proposal_id, state, track, threshold_before, threshold_after, reject_threshold}.
    """
    governor = _pick(contracts, "CommunityGovernor", "governor")
    token = _pick(contracts, "CommunityToken", "token")
    router = _pick(contracts, "PaymentRouter", "router")
    if not voters:
        raise ValueError("run_threshold_round needs at least one voter")
    before = int(router.reviewThreshold())
    reject = int(router.rejectThreshold()) if new_reject is None else new_reject

    ensure_delegated(token, voters)
    advance(1)  # votes are read at clock() - 1 for the proposal threshold
    description = (
        f"Set the review threshold to {new_review} bps (was {before}); reject stays at {reject} bps."
        f"\n\nround at {chain.blocks.head.timestamp}"
    )
    proposal = propose(
        governor, [encode_call(router, "setThresholds", new_review, reject)], description, voters[0]
    )
    pid = proposal.proposal_id

    advance_past(int(governor.proposalSnapshot(pid)))
    for voter in voters:
        governor.castVote(pid, SUPPORT["for"], sender=voter)
    advance_past(int(governor.proposalDeadline(pid)))
    if state_name(governor, pid) != "Succeeded":
        return _round_result(governor, router, proposal, before)
    governor.queue(*proposal.args(), sender=voters[0])
    advance_past(int(governor.proposalEta(pid)) - 1)
    governor.execute(*proposal.args(), sender=voters[0])
    return _round_result(governor, router, proposal, before)


def _round_result(governor: Any, router: Any, proposal: Proposal, before: int) -> dict[str, Any]:
    return {
        "proposal_id": proposal.proposal_id,
        "state": state_name(governor, proposal.proposal_id),
        "track": TRACKS[int(governor.proposalTrack(proposal.proposal_id))],
        "threshold_before": before,
        "threshold_after": int(router.reviewThreshold()),
        "reject_threshold": int(router.rejectThreshold()),
    }
