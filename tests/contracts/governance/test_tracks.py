"""The two tracks: full lifecycle on each, classification, and what the routine track cannot do."""

import ape
import pytest
from dao_helpers import encode_call, make_proposal, queue_execute, state_name, vote_through

from verdict_deploy.governance import TOKEN, TRACKS, advance_past


def track(governor, proposal):
    return TRACKS[governor.proposalTrack(proposal.proposal_id)]


def test_routine_lifecycle_sets_thresholds_with_the_short_period_and_low_quorum(
    governor, router, members, gov_config
):
    proposal = make_proposal(governor, [encode_call(router, "setThresholds", 9800, 9990)], members[0])
    pid = proposal.proposal_id
    assert track(governor, proposal) == "Routine"
    assert state_name(governor, pid) == "Pending"
    snapshot = governor.proposalSnapshot(pid)
    assert governor.proposalDeadline(pid) - snapshot == gov_config.routine_voting_period
    vote_through(governor, proposal, [members[0]])
    # one member (4% of the supply) meets the routine quorum (4%) on their own
    assert governor.proposalQuorum(pid) == gov_config.supply * gov_config.routine_quorum_percent // 100
    assert state_name(governor, pid) == "Succeeded"
    queue_execute(governor, proposal, members[0])
    assert state_name(governor, pid) == "Executed"
    assert (router.reviewThreshold(), router.rejectThreshold()) == (9800, 9990)


def test_routine_proposal_created_event_announces_the_routine_deadline(governor, router, members, gov_config):
    tx_proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 40)], members[0])
    logs = list(governor.ProposalCreated.range(0, None))
    event = [log for log in logs if log.proposalId == tx_proposal.proposal_id][0]
    assert event.voteEnd - event.voteStart == gov_config.routine_voting_period
    assert event.voteEnd == governor.proposalDeadline(tx_proposal.proposal_id)


def test_major_lifecycle_adds_an_oracle_node_with_the_long_period_and_high_quorum(
    governor, risk_oracle, members, outsider, gov_config
):
    proposal = make_proposal(governor, [encode_call(risk_oracle, "addNode", outsider)], members[0])
    pid = proposal.proposal_id
    assert track(governor, proposal) == "Major"
    assert governor.proposalDeadline(pid) - governor.proposalSnapshot(pid) == gov_config.voting_period
    vote_through(governor, proposal, {members[0]: "for", members[1]: "for", members[2]: "abstain"})
    assert governor.proposalQuorum(pid) == gov_config.supply * gov_config.quorum_percent // 100
    assert state_name(governor, pid) == "Succeeded"
    queue_execute(governor, proposal, members[1])
    assert state_name(governor, pid) == "Executed"
    assert risk_oracle.isNode(outsider)


@pytest.mark.parametrize(
    "method,args",
    [
        ("setThresholds", (9500, 9990)),  # review below the band
        ("setThresholds", (9900, 9999)),  # reject above the band
        ("setFeeBps", (101,)),  # fee above the band
        ("setTreasury", ("0x000000000000000000000000000000000000dEaD",)),  # not whitelisted
        ("setBlocked", ("0x000000000000000000000000000000000000dEaD", True)),
        ("unpause", ()),
        # the token list (issue 13.6): which tokens the node pushes, and with how much gas
        ("setToken", ("0x000000000000000000000000000000000000dEaD", 100_000)),
        ("delistToken", ("0x000000000000000000000000000000000000dEaD",)),
    ],
)
def test_out_of_band_or_unlisted_router_calls_are_major(governor, router, method, args):
    target, value, data = encode_call(router, method, *args)
    assert TRACKS[governor.classify([target], [value], [data])] == "Major"


def test_listing_a_token_is_a_major_track_governance_action(
    project, governor, router, timelock, members, deployer, gov_config
):
    """Issue 13.6: after the handover only the timelock lists tokens, through a Major proposal."""
    usdc = deployer.deploy(project.MockUSDC)
    with ape.reverts(
        router.AccessControlUnauthorizedAccount,
        account=deployer.address,
        neededRole=router.DEFAULT_ADMIN_ROLE(),
    ):
        router.setToken(usdc, 100_000, sender=deployer)
    proposal = make_proposal(governor, [encode_call(router, "setToken", usdc, 100_000)], members[0])
    assert track(governor, proposal) == "Major"
    pid = proposal.proposal_id
    assert governor.proposalDeadline(pid) - governor.proposalSnapshot(pid) == gov_config.voting_period
    vote_through(governor, proposal, {members[0]: "for", members[1]: "for", members[2]: "for"})
    queue_execute(governor, proposal, members[0])
    assert router.tokenPushGas(usdc) == 100_000
    assert router.listedTokens()[0] == [usdc.address]


def test_a_routine_call_bundled_with_a_major_one_is_major(governor, router, risk_oracle, outsider):
    calls = [encode_call(router, "setFeeBps", 10), encode_call(risk_oracle, "setQuorum", 1)]
    assert TRACKS[governor.classify(*map(list, zip(*calls, strict=True)))] == "Major"


def test_routine_call_with_trailing_bytes_or_eth_is_major(governor, router):
    target, _, data = encode_call(router, "setFeeBps", 10)
    assert TRACKS[governor.classify([target], [0], [data])] == "Routine"
    assert TRACKS[governor.classify([target], [0], [data + b"\x00" * 32])] == "Major"
    assert TRACKS[governor.classify([target], [1], [data])] == "Major"


def test_routine_track_cannot_spend_treasury_or_change_the_oracle_set(
    governor, router, risk_oracle, token, timelock, members, outsider, accounts
):
    """With the votes that pass a routine change (one member, 4%), treasury spends and oracle changes are
    Major, need 10%, and are Defeated."""
    accounts[0].transfer(timelock, 10**18)
    attempts = [
        [(outsider.address, 10**18, b"")],  # ETH out of the treasury
        [encode_call(token, "transfer", outsider, 1_000 * TOKEN)],  # tokens out of the treasury
        [encode_call(risk_oracle, "addNode", outsider)],
        [encode_call(risk_oracle, "removeNode", accounts[3])],
        [encode_call(risk_oracle, "approveModel", b"\x22" * 32)],
        [encode_call(router, "grantRole", router.GUARDIAN_ROLE(), outsider)],
    ]
    proposals = [make_proposal(governor, calls, members[0]) for calls in attempts]
    routine = make_proposal(governor, [encode_call(router, "setFeeBps", 20)], members[0])
    assert all(track(governor, p) == "Major" for p in proposals)
    assert track(governor, routine) == "Routine"

    for p in [*proposals, routine]:
        vote_through(governor, p, [members[0]], end=False)
    for p in [*proposals, routine]:
        advance_past(governor.proposalDeadline(p.proposal_id))
    assert [state_name(governor, p.proposal_id) for p in proposals] == ["Defeated"] * len(proposals)
    assert state_name(governor, routine.proposal_id) == "Succeeded"
    for p in proposals:
        with ape.reverts():
            governor.queue(*p.args(), sender=members[0])


def test_bounds_and_track_settings_change_only_through_a_major_proposal(governor, router, members, outsider):
    selector = bytes(encode_call(router, "setFeeBps", 0)[2][:4])
    change = encode_call(governor, "setRoutineRule", router, selector, [(0, 1000)])
    assert TRACKS[governor.classify([change[0]], [0], [change[2]])] == "Major"
    for call in (
        encode_call(governor, "setRoutineVotingPeriod", 10),
        encode_call(governor, "setRoutineQuorumNumerator", 1),
        encode_call(governor, "removeRoutineRule", router, selector),
        encode_call(governor, "setProposalGuardian", outsider),
    ):
        assert TRACKS[governor.classify([call[0]], [0], [call[2]])] == "Major"
    with ape.reverts(governor.GovernorOnlyExecutor):
        governor.setRoutineRule(router, selector, [(0, 1000)], sender=members[0])

    proposal = make_proposal(governor, [change], members[0])
    vote_through(governor, proposal, members[:3])
    queue_execute(governor, proposal, members[0])
    exists, bounds = governor.routineRule(router, selector)
    assert exists and [tuple(b) for b in bounds] == [(0, 1000)]
    target, _, data = encode_call(router, "setFeeBps", 900)
    assert TRACKS[governor.classify([target], [0], [data])] == "Routine"


def test_a_rule_can_never_target_the_governor_or_the_timelock(governor, timelock, members):
    """Even a passed major proposal cannot whitelist the governor or the timelock for the routine track."""
    for target in (governor, timelock):
        call = encode_call(governor, "setRoutineRule", target, b"\x12\x34\x56\x78", [])
        proposal = make_proposal(governor, [call], members[0])
        vote_through(governor, proposal, members[:3])
        governor.queue(*proposal.args(), sender=members[0])
        advance_past(governor.proposalEta(proposal.proposal_id) - 1)
        with ape.reverts(governor.GovernorTracksInvalidRuleTarget):
            governor.execute(*proposal.args(), sender=members[0])


def test_quorum_not_reached_is_defeated(governor, router, token, members, outsider):
    token.transfer(outsider, 1_000 * TOKEN, sender=members[0])
    token.invoke_transaction("delegate", outsider, sender=outsider)
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 10)], members[0])
    vote_through(governor, proposal, [outsider])
    assert state_name(governor, proposal.proposal_id) == "Defeated"


def test_majority_against_is_defeated(governor, router, members):
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 10)], members[0])
    vote_through(governor, proposal, {members[0]: "for", members[1]: "against", members[2]: "against"})
    assert state_name(governor, proposal.proposal_id) == "Defeated"


def test_execute_before_the_timelock_delay_reverts(governor, router, timelock, members):
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 10)], members[0])
    vote_through(governor, proposal, [members[0]])
    governor.queue(*proposal.args(), sender=members[0])
    assert state_name(governor, proposal.proposal_id) == "Queued"
    with ape.reverts(timelock.TimelockUnexpectedOperationState):
        governor.execute(*proposal.args(), sender=members[0])


def test_late_quorum_extends_the_vote(governor, router, members, gov_config):
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 10)], members[0])
    pid = proposal.proposal_id
    deadline = governor.proposalDeadline(pid)
    advance_past(deadline - 5)
    governor.castVote(pid, 1, sender=members[0])
    assert governor.proposalDeadline(pid) > deadline
    assert state_name(governor, pid) == "Active"


def test_proposal_threshold_applies(governor, router, outsider):
    target, value, data = encode_call(router, "setFeeBps", 10)
    with ape.reverts(governor.GovernorInsufficientProposerVotes):
        governor.propose([target], [value], [data], "no votes", sender=outsider)
