"""Quadratic voting among members on flagged proposals."""

from math import isqrt

import ape
from dao_helpers import encode_call, make_proposal, state_name, vote_through
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verdict_deploy.governance import TOKEN, advance, advance_past


def _fee_call(router, fee=10):
    return [encode_call(router, "setFeeBps", fee)]


def test_marker_flags_a_proposal_and_survives_the_proposer_suffix(governor, router, members):
    flagged = make_proposal(governor, _fee_call(router, 1), members[0], "Fee to 1 bps #quadratic")
    suffixed = make_proposal(
        governor, _fee_call(router, 2), members[0], f"Fee to 2 bps #quadratic#proposer={members[0].address}"
    )
    plain = make_proposal(
        governor, _fee_call(router, 3), members[0], "Fee to 3 bps, #quadratic is not at the end"
    )
    assert governor.isQuadratic(flagged.proposal_id)
    assert governor.isQuadratic(suffixed.proposal_id)
    assert not governor.isQuadratic(plain.proposal_id)


def test_quadratic_tally_is_sqrt_for_members_and_zero_for_non_members(
    governor, router, token, members, outsider
):
    # members[0] 400k -> 100k, members[1] 400k -> 700k; outsider (not a member) 200k
    token.transfer(members[1], 300_000 * TOKEN, sender=members[0])
    token.transfer(outsider, 200_000 * TOKEN, sender=members[2])
    token.invoke_transaction("delegate", outsider, sender=outsider)
    advance(1)
    proposal = make_proposal(governor, _fee_call(router), members[1], "quadratic fee change #quadratic")
    pid = proposal.proposal_id
    vote_through(
        governor,
        proposal,
        {members[0]: "for", members[1]: "against", members[2]: "abstain", outsider: "for"},
        end=False,
    )
    against, for_, abstain = governor.proposalVotes(pid)
    assert for_ == isqrt(100_000 * TOKEN)  # the outsider adds nothing
    assert against == isqrt(700_000 * TOKEN)
    assert abstain == isqrt(200_000 * TOKEN)
    # the quorum counts members' raw For + Abstain votes
    assert governor.quorumParticipation(pid) == 300_000 * TOKEN
    advance_past(governor.proposalDeadline(pid))
    assert state_name(governor, pid) == "Defeated"  # 700k against beats 100k for, quadratic or not


def test_many_small_members_outvote_one_whale_only_under_quadratic(
    governor, router, token, members, accounts
):
    """A whale member with 1.3M votes For; two members with 300k and 400k vote Against: the whale wins
    the token vote and loses the quadratic one."""
    token.transfer(members[0], 400_000 * TOKEN, sender=members[1])
    token.transfer(members[0], 400_000 * TOKEN, sender=members[2])
    token.transfer(members[0], 100_000 * TOKEN, sender=members[3])  # whale 1.3M, members[3] 300k
    advance(1)
    raw = make_proposal(governor, _fee_call(router, 5), members[0], "raw")
    quad = make_proposal(governor, _fee_call(router, 5), members[0], "quad #quadratic")
    ballots = {members[0]: "for", members[3]: "against", members[4]: "against"}
    vote_through(governor, raw, ballots, end=False)
    vote_through(governor, quad, ballots)
    assert state_name(governor, raw.proposal_id) == "Succeeded"  # 1.3M > 0.7M
    # sqrt(1.3M) ~ 1140 < sqrt(300k) + sqrt(400k) ~ 548 + 632 = 1180
    assert state_name(governor, quad.proposal_id) == "Defeated"


def test_members_who_join_after_the_snapshot_have_no_quadratic_weight(
    governor, router, token, membership, members, outsider
):
    token.transfer(outsider, 100_000 * TOKEN, sender=members[0])
    token.invoke_transaction("delegate", outsider, sender=outsider)
    proposal = make_proposal(governor, _fee_call(router), members[0], "late joiner #quadratic")
    advance_past(governor.proposalSnapshot(proposal.proposal_id))
    membership.invite(outsider, sender=members[1])
    tx = governor.castVote(proposal.proposal_id, 1, sender=outsider)
    assert tx.events[0].weight == 0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    holdings=st.lists(
        st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**24)), min_size=1, max_size=3
    )
)
def test_quadratic_weight_matches_integer_sqrt(
    chain, governor, token, membership, timelock, accounts, holdings
):
    """For any balances, a member's weight is isqrt(votes) and a non-member's 0 (OpenZeppelin Math.sqrt)."""
    with chain.isolate():
        voters = accounts[17 : 17 + len(holdings)]
        accounts[0].transfer(timelock, 10**17)  # gas for the impersonated timelock
        for voter, (is_member, amount) in zip(voters, holdings, strict=False):
            _fund_from_members(token, accounts, voter, amount)
            token.invoke_transaction("delegate", voter, sender=voter)
            if is_member:
                membership.addMember(voter, sender=timelock.address)  # impersonated governance
        advance(2)
        timepoint = chain.blocks.head.timestamp - 1
        for voter, (is_member, amount) in zip(voters, holdings, strict=False):
            expected = isqrt(amount) if is_member else 0
            assert governor.quadraticWeight(voter, timepoint) == expected


def _fund_from_members(token, accounts, voter, amount):
    left = amount
    for i in range(10, 15):
        part = min(left, 399_000 * TOKEN)
        if part:
            token.transfer(voter, part, sender=accounts[i])
        left -= part
    assert left == 0


def test_non_member_on_unflagged_proposal_counts_normally(governor, router, token, members, outsider):
    token.transfer(outsider, 10_000 * TOKEN, sender=members[0])
    token.invoke_transaction("delegate", outsider, sender=outsider)
    proposal = make_proposal(governor, _fee_call(router), members[0], "plain")
    vote_through(governor, proposal, [outsider], end=False)
    assert governor.proposalVotes(proposal.proposal_id)[1] == 10_000 * TOKEN


def test_membership_registry_change_is_governance_only(governor, membership, members):
    with ape.reverts(governor.GovernorOnlyExecutor):
        governor.setMembership(membership, sender=members[0])
