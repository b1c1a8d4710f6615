"""Votes without a delegate step (issue 19): an account without code delegates to itself on its first
receipt unless it chose a delegate (or declined one); contracts never do; and the invite-tree cap on
quadratic weight holds when the split tokens vote without a delegate transaction."""

from math import isqrt

import pytest
from dao_helpers import build_invite_tree, encode_call, fresh_accounts, make_proposal, vote_through

from verdict_deploy.governance import TOKEN, ZERO_ADDRESS, advance


@pytest.fixture
def newcomers(accounts):
    return fresh_accounts(accounts, 4)


def test_a_new_members_votes_equal_their_balance_without_a_delegate_transaction(
    token, membership, members, newcomers, dao, founders
):
    newcomer, invitee = newcomers[:2]
    membership.invite(newcomer, sender=members[0])
    receipt = token.transfer(newcomer, 30_000 * TOKEN, sender=members[1])
    assert token.delegates(newcomer) == newcomer.address
    assert token.getVotes(newcomer) == token.balanceOf(newcomer) == 30_000 * TOKEN
    assert [log.toDelegate for log in receipt.events.filter(token.DelegateChanged)] == [newcomer.address]
    token.transfer(newcomer, 5_000 * TOKEN, sender=members[1])  # a later receipt just adds
    assert token.getVotes(newcomer) == 35_000 * TOKEN

    # Membership's referral bonus: the referrer's first tokens arrive by release, and vote.
    referrer = newcomers[2]
    membership.invite(referrer, sender=members[2])
    membership.invite(invitee, sender=referrer)
    advance(int(membership.referralVesting()) + 1)
    membership.releaseReferralBonus(invitee, sender=invitee)
    assert token.getVotes(referrer) == token.balanceOf(referrer) == membership.referralBonus() > 0

    # A founder's VestingGrant: the grant (a contract) has no votes; what it releases does.
    grant, founder = dao["VestingGrant1"], founders[0]
    advance(600)
    grant.release(token.address, sender=founder)
    assert token.balanceOf(founder) > 0
    assert token.getVotes(founder) == token.balanceOf(founder)
    assert token.getVotes(grant) == 0


def test_a_chosen_delegate_is_kept_and_a_declined_one_stays_declined(token, members, newcomers):
    chooser, delegatee, decliner = newcomers[:3]
    token.invoke_transaction("delegate", delegatee, sender=chooser)
    token.transfer(chooser, 10_000 * TOKEN, sender=members[0])
    token.transfer(chooser, 1_000 * TOKEN, sender=members[0])
    assert token.delegates(chooser) == delegatee.address
    assert token.getVotes(chooser) == 0
    assert token.getVotes(delegatee) == 11_000 * TOKEN

    token.invoke_transaction("delegate", ZERO_ADDRESS, sender=decliner)
    assert token.declinedAutoDelegation(decliner)
    token.transfer(decliner, 10_000 * TOKEN, sender=members[0])
    assert token.delegates(decliner) == ZERO_ADDRESS
    assert token.getVotes(decliner) == 0
    token.invoke_transaction("delegate", decliner, sender=decliner)  # and may still vote when it wants
    assert token.getVotes(decliner) == 10_000 * TOKEN

    before = token.getVotes(members[1])
    token.transfer(members[1], 1_000 * TOKEN, sender=members[0])  # an existing self-delegation
    assert token.delegates(members[1]) == members[1].address
    assert token.getVotes(members[1]) == before + 1_000 * TOKEN


def test_contracts_holding_vct_never_vote_on_their_own(token, timelock, membership, dao, members):
    """The treasury (55% of the supply), the referral budget and unvested grants carry no votes: a passed
    proposal must not be able to vote the treasury's tokens."""
    token.transfer(timelock, 1_000 * TOKEN, sender=members[0])
    for holder in (timelock, membership, dao["VestingGrant1"]):
        assert token.balanceOf(holder) > 0
        assert token.delegates(holder) == ZERO_ADDRESS
        assert token.getVotes(holder) == 0


def test_auto_delegation_does_not_reopen_the_splitting_attack(
    governor, router, token, membership, members, accounts
):
    """Issue 13's split: a member spreads 400k VCT over 6 invitees by plain transfers. Every puppet now
    votes without a delegate step, and the tree still weighs what the member alone would."""
    attacker = members[0]
    identities = build_invite_tree(membership, attacker, fresh_accounts(accounts, 6), levels=2)
    total = token.balanceOf(attacker)
    share = total // len(identities)
    for puppet in identities[1:]:
        token.transfer(puppet, share, sender=attacker)
        assert token.getVotes(puppet) == share  # no delegate transaction
    advance(1)

    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 50)], members[2], "fee #quadratic")
    vote_through(governor, proposal, dict.fromkeys(identities, "for"), end=False)
    snapshot = governor.proposalSnapshot(proposal.proposal_id)
    assert sum(token.getPastVotes(i, snapshot) for i in identities) == total
    assert governor.proposalVotes(proposal.proposal_id)[1] == isqrt(total)  # not sqrt(7) x more
