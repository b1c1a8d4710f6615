"""Membership (referrals within a budget, governance admission) and snapshot-weighted polls."""

import ape
from dao_helpers import encode_call, make_proposal, queue_execute, vote_through

from verdict_deploy.governance import TOKEN, advance, advance_past


def test_member_invites_and_is_paid_the_bonus_once_vested(membership, token, members, outsider, gov_config):
    before = token.balanceOf(members[0])
    budget = membership.referralBudget()
    membership.invite(outsider, sender=members[0])
    assert membership.isMember(outsider)
    assert outsider.address in membership.members()
    assert membership.referrerOf(outsider) == members[0].address
    assert token.balanceOf(members[0]) == before  # reserved, vesting
    advance(gov_config.referral_vesting + 1)
    membership.releaseReferralBonus(outsider, sender=members[0])
    assert token.balanceOf(members[0]) - before == gov_config.referral_bonus
    assert membership.referralBudget() == budget - gov_config.referral_bonus
    assert membership.invitesLeft(members[0]) == gov_config.invites_per_member - 1


def test_non_members_cannot_invite_and_invites_run_out(membership, members, outsider, accounts):
    with ape.reverts(membership.MembershipNotMember):
        membership.invite(accounts[18], sender=outsider)
    for i in range(3):
        membership.invite(accounts[17 + i], sender=members[0])
    with ape.reverts(membership.MembershipNoInvitesLeft):
        membership.invite(outsider, sender=members[0])
    with ape.reverts(membership.MembershipAlreadyMember):
        membership.invite(accounts[17], sender=members[1])


def test_referral_bonuses_never_exceed_the_budget(
    governor, membership, token, timelock, members, accounts, gov_config
):
    """A budget of 2.5 bonuses: two are reserved and paid, later ones are not, and the invitations still
    work."""
    bonus = membership.referralBonus()
    proposal = make_proposal(
        governor, [encode_call(membership, "setReferralBudget", bonus * 5 // 2)], members[0]
    )
    vote_through(governor, proposal, members[:3])
    queue_execute(governor, proposal, members[0])
    held = token.balanceOf(membership)

    invitees = accounts[15:20]
    for i, invitee in enumerate(invitees):
        membership.invite(invitee, sender=members[i % 5])
    assert membership.referralsReserved() == 2 * bonus
    advance(gov_config.referral_vesting + 1)
    for invitee in invitees[:2]:
        membership.releaseReferralBonus(invitee, sender=invitee)
    assert membership.referralsPaid() == 2 * bonus
    assert membership.referralBudget() == bonus // 2
    assert held - token.balanceOf(membership) == 2 * bonus
    assert all(membership.isMember(a) for a in invitees)
    unpaid = list(membership.ReferralBonusUnpaid.range(0, None))
    assert len(unpaid) == 3


def test_referral_budget_cannot_exceed_the_balance_either(membership, token, timelock, members, accounts):
    accounts[0].transfer(timelock, 10**18)  # gas for the impersonated timelock
    membership.recoverTokens(timelock, token.balanceOf(membership), sender=timelock.address)
    membership.invite(accounts[17], sender=members[0])
    assert membership.referralsPaid() == 0


def test_only_governance_admits_removes_or_sets_terms(membership, members, outsider):
    for call in (
        lambda: membership.addMember(outsider, sender=members[0]),
        lambda: membership.removeMember(members[1], sender=members[0]),
        lambda: membership.setReferralBudget(10**30, sender=members[0]),
        lambda: membership.setReferralTerms(1, 100, sender=members[0]),
        lambda: membership.setReferralVesting(0, sender=members[0]),
    ):
        with ape.reverts(membership.OwnableUnauthorizedAccount):
            call()


def test_governance_admits_and_removes_members_with_history(governor, membership, members, outsider):
    proposal = make_proposal(
        governor,
        [encode_call(membership, "addMember", outsider), encode_call(membership, "removeMember", members[4])],
        members[0],
    )
    vote_through(governor, proposal, members[:3])
    before = governor.proposalSnapshot(proposal.proposal_id)
    queue_execute(governor, proposal, members[0])
    advance(1)
    assert membership.isMember(outsider) and not membership.isMember(members[4])
    assert membership.wasMemberAt(members[4], before) and not membership.wasMemberAt(outsider, before)
    assert membership.memberCount() == 5


def test_poll_weights_votes_at_the_snapshot(polls, token, members, outsider):
    tx = polls.createPoll("Next corridor?", ["Lagos", "Nairobi", "Accra"], 600, sender=members[0])
    poll_id = tx.events[0].pollId
    token.transfer(outsider, 100_000 * TOKEN, sender=members[1])  # after the snapshot
    token.invoke_transaction("delegate", outsider, sender=outsider)
    advance(1)
    polls.vote(poll_id, 1, sender=members[0])
    polls.vote(poll_id, 2, sender=members[1])  # still 400k at the snapshot
    polls.vote(poll_id, 1, sender=members[2])
    with ape.reverts(polls.PollsNoVotingPower):
        polls.vote(poll_id, 0, sender=outsider)
    with ape.reverts(polls.PollsAlreadyVoted):
        polls.vote(poll_id, 0, sender=members[0])
    with ape.reverts(polls.PollsInvalidOption):
        polls.vote(poll_id, 3, sender=members[3])
    assert polls.results(poll_id) == [0, 800_000 * TOKEN, 400_000 * TOKEN]
    advance_past(polls.poll(poll_id).deadline)
    with ape.reverts(polls.PollsClosed):
        polls.vote(poll_id, 0, sender=members[3])


def test_poll_creation_needs_voting_power_and_sane_options(polls, members, outsider):
    with ape.reverts(polls.PollsNoVotingPower):
        polls.createPoll("?", ["a", "b"], 60, sender=outsider)
    with ape.reverts(polls.PollsInvalidOptions):
        polls.createPoll("?", ["only"], 60, sender=members[0])
    with ape.reverts(polls.PollsInvalidDuration):
        polls.createPoll("?", ["a", "b"], 0, sender=members[0])
