"""Attacks on quadratic voting from the outside audit (issue 13, items 1 and 2), and the rules that stop them.

1. The proposer chose the counting rule: a Major treasury spend flagged `#quadratic` was carried by two
   members holding 1M VCT against two holders of 2M. Quadratic counting is now allowed only on calls the
   DAO listed for it (`setQuadraticCall`), each within the routine bounds.
2. Splitting across invitees multiplied quadratic weight (500k over 7 identities weighed sqrt(7) more) and
   paid the inviter referral bonuses for its own puppets. An invite tree now votes as one voter per side
   (weight from the tree's summed votes), and referral bonuses vest and are clawed back when governance
   removes the invitee.
"""

from math import isqrt

import ape
import pytest
from ape.exceptions import ContractLogicError
from dao_helpers import (
    build_invite_tree,
    encode_call,
    fresh_accounts,
    make_proposal,
    queue_execute,
    state_name,
    vote_through,
)
from eth_utils import keccak

from verdict_deploy.governance import SUPPORT, TOKEN, advance, advance_past

UNSPLIT_500K = 707_106_781_186  # isqrt(500_000 VCT), the unsplit weight


@pytest.fixture
def impersonated_timelock(accounts, timelock):
    """The timelock as a sender (anvil impersonation), funded for gas: governance decisions in one step."""
    accounts[0].transfer(timelock, 10**18)
    return timelock.address


def _propose_raw(governor, calls, description, sender):
    """governor.propose without the tools' own quadratic check: what an attacker's script sends."""
    targets, values, datas = (list(x) for x in zip(*calls, strict=True))
    return governor.propose(targets, values, datas, description, sender=sender)


def _assert_refused_as_quadratic(send):
    """`send()` reverts with GovernorQuadraticNotAllowed (before the fix it went through: the attack)."""
    with pytest.raises(ContractLogicError) as raised:
        send()
    assert type(raised.value).__name__ == "GovernorQuadraticNotAllowed"


# ------------------------------------------------------------------------------------------------
# 1. The counting rule is the DAO's, not the proposer's
# ------------------------------------------------------------------------------------------------


def test_quadratic_flag_cannot_carry_treasury_spend(
    governor, token, timelock, members, founders, impersonated_timelock
):
    """The issue's numbers: two members with 1M VCT For (quadratic weight 1,414,213,562,372), two founders
    with 2M VCT (not members) Against, a Major spend of 1M VCT from the treasury to the first member."""
    token.transfer(members[0], 100_000 * TOKEN, sender=members[2])
    token.transfer(members[1], 100_000 * TOKEN, sender=members[3])
    for founder in founders:
        token.transfer(founder, 1_000_000 * TOKEN, sender=impersonated_timelock)
        token.invoke_transaction("delegate", founder, sender=founder)
    advance(1)
    spend = [encode_call(token, "transfer", members[0], 1_000_000 * TOKEN)]
    treasury_before = token.balanceOf(timelock)

    for description in (
        "Grant 1M VCT to members[0] #quadratic",
        f"Grant 1M VCT #quadratic#proposer={members[0].address}",
    ):
        _assert_refused_as_quadratic(lambda d=description: _propose_raw(governor, spend, d, members[0]))

    # The same calls unflagged are counted by tokens: the 2M against defeat the 1M for.
    plain = make_proposal(governor, spend, members[0], "Grant 1M VCT to members[0]")
    ballots = {members[0]: "for", members[1]: "for", founders[0]: "against", founders[1]: "against"}
    vote_through(governor, plain, ballots)
    assert governor.proposalVotes(plain.proposal_id)[:2] == (2_000_000 * TOKEN, 1_000_000 * TOKEN)
    assert state_name(governor, plain.proposal_id) == "Defeated"
    assert token.balanceOf(timelock) == treasury_before


def test_deployment_lists_only_the_fee_and_windows_for_quadratic_counting(
    governor, router, risk_oracle, token, membership
):
    def listed(contract, method):
        return governor.isQuadraticCall(contract, keccak(text=getattr(contract, method).abis[0].selector)[:4])

    assert all(listed(router, m) for m in ("setFeeBps", "setDeadlineWindow", "setReviewWindow"))
    for contract, method in [
        (router, "setThresholds"),
        (router, "setTreasury"),
        (router, "grantRole"),
        (risk_oracle, "addNode"),
        (risk_oracle, "approveModel"),
        (token, "transfer"),
        (membership, "addMember"),
        (governor, "setQuadraticCall"),
    ]:
        assert not listed(contract, method), method


@pytest.mark.parametrize(
    "method,args",
    [
        ("setThresholds", (9800, 9990)),  # routine, but not listed for quadratic counting
        ("setFeeBps", (101,)),  # listed, but outside the routine band: a Major fee change
        ("setTreasury", ("0x000000000000000000000000000000000000dEaD",)),
    ],
)
def test_quadratic_flag_is_refused_outside_the_listed_bounded_calls(governor, router, members, method, args):
    calls = [encode_call(router, method, *args)]
    assert not governor.quadraticAllowed(*(list(x) for x in zip(*calls, strict=True)))
    with ape.reverts(governor.GovernorQuadraticNotAllowed):
        _propose_raw(governor, calls, f"{method} #quadratic", members[0])
    with pytest.raises(ValueError, match="quadratic counting is not allowed"):
        make_proposal(governor, calls, members[0], f"{method} via the tools #quadratic")


def test_quadratic_flag_is_refused_when_one_call_of_a_bundle_is_not_allowed(
    governor, router, risk_oracle, members, outsider
):
    calls = [encode_call(router, "setFeeBps", 20), encode_call(risk_oracle, "addNode", outsider)]
    with ape.reverts(governor.GovernorQuadraticNotAllowed):
        _propose_raw(governor, calls, "fee and a node #quadratic", members[0])


def test_listed_bounded_call_may_be_quadratic(governor, router, members):
    calls = [encode_call(router, "setFeeBps", 20), encode_call(router, "setReviewWindow", 2 * 3600)]
    proposal = make_proposal(governor, calls, members[0], "fee and window #quadratic")
    assert governor.isQuadratic(proposal.proposal_id)


def test_the_quadratic_list_is_set_by_a_token_weighted_vote_only(
    project, deployer, governor, router, token, timelock, membership, members, gov_config
):
    sel = keccak(text=router.setThresholds.abis[0].selector)[:4]
    with ape.reverts(governor.GovernorOnlyExecutor):
        governor.setQuadraticCall(router, sel, True, sender=members[0])
    # the setter targets the governor, which is never listed: its own change cannot be quadratic
    with ape.reverts(governor.GovernorQuadraticNotAllowed):
        _propose_raw(
            governor,
            [encode_call(governor, "setQuadraticCall", router, sel, True)],
            "x #quadratic",
            members[0],
        )
    # nor can the list ever hold the executor (or the governor, or address(0))
    with ape.reverts(governor.GovernorQuadraticInvalidTarget):
        deployer.deploy(
            project.CommunityGovernor,
            token,
            timelock,
            membership,
            gov_config.governor_tuple(deployer.address),
            [],
            [(timelock.address, sel)],
        )

    proposal = make_proposal(
        governor,
        [encode_call(governor, "setQuadraticCall", router, sel, True)],
        members[0],
        "list thresholds",
    )
    vote_through(governor, proposal, members[:3])
    queue_execute(governor, proposal, members[0])
    events = list(governor.QuadraticCallSet.range(0, None))
    assert (events[-1].target, bytes(events[-1].selector), events[-1].allowed) == (router.address, sel, True)
    assert governor.isQuadraticCall(router, sel)
    quad = make_proposal(
        governor, [encode_call(router, "setThresholds", 9800, 9990)], members[0], "t #quadratic"
    )
    assert governor.isQuadratic(quad.proposal_id)


# ------------------------------------------------------------------------------------------------
# 2. Splitting across invitees
# ------------------------------------------------------------------------------------------------


def _split_and_delegate(token, root, identities, total):
    """The root holds `total`; it gives an equal share to every other identity; all self-delegate."""
    share = total // len(identities)
    for identity in identities[1:]:
        token.transfer(identity, share, sender=root)
        token.invoke_transaction("delegate", identity, sender=identity)


def test_splitting_across_invitees_does_not_multiply_quadratic_weight(
    governor, router, token, membership, members, accounts
):
    """The issue's tree: a member and 6 invitees over two invite levels share 500k VCT. Split, the 7 weighed
    sqrt(7) x 707,106,781,186; now they weigh exactly what the member alone would."""
    attacker = members[0]
    token.transfer(attacker, 100_000 * TOKEN, sender=members[1])  # 500k
    puppets = fresh_accounts(accounts, 6)
    identities = build_invite_tree(membership, attacker, puppets, levels=2)
    assert len(identities) == 7
    # the referral bonuses vest: nothing arrives at invitation time, so the tree holds exactly 500k
    _split_and_delegate(token, attacker, identities, token.balanceOf(attacker))
    advance(1)

    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 50)], members[2], "fee #quadratic")
    vote_through(governor, proposal, dict.fromkeys(identities, "for"), end=False)
    snapshot = governor.proposalSnapshot(proposal.proposal_id)
    held = sum(token.getPastVotes(i, snapshot) for i in identities)
    _, for_votes, _ = governor.proposalVotes(proposal.proposal_id)
    assert for_votes == isqrt(held)  # before the fix: sqrt(7) times more
    assert held == 500_000 * TOKEN
    assert for_votes == UNSPLIT_500K
    # and the tree's raw votes still count in full toward the quorum
    assert governor.quorumParticipation(proposal.proposal_id) == held


def test_deeper_invite_trees_do_not_raise_the_quadratic_weight_either(
    governor, router, token, membership, members, accounts
):
    """Each invitee's three invitations made the factor unbounded: 16 identities over three invite levels
    (a member, its 3 invitees, their 9, and 3 more below those)."""
    attacker = members[0]
    puppets = fresh_accounts(accounts, 15)
    identities = build_invite_tree(membership, attacker, puppets, levels=3)
    assert len(identities) == 16
    _split_and_delegate(token, attacker, identities, token.balanceOf(attacker))
    advance(1)
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 50)], members[2], "fee #quadratic")
    vote_through(governor, proposal, dict.fromkeys(identities, "for"), end=False)
    snapshot = governor.proposalSnapshot(proposal.proposal_id)
    held = sum(token.getPastVotes(i, snapshot) for i in identities)
    assert governor.proposalVotes(proposal.proposal_id)[1] == isqrt(held)


def test_split_tree_still_loses_to_independent_members_it_would_lose_to_unsplit(
    governor, router, token, membership, members, accounts
):
    """Members admitted independently (founders, or by a governance vote) keep independent voices: two of
    them with 400k each (2 x 632k weight) beat a 500k tree however it splits (707k)."""
    attacker = members[0]
    token.transfer(attacker, 100_000 * TOKEN, sender=members[1])
    puppets = fresh_accounts(accounts, 6)
    identities = build_invite_tree(membership, attacker, puppets, levels=2)
    _split_and_delegate(token, attacker, identities, token.balanceOf(attacker))
    advance(1)
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 50)], members[2], "fee #quadratic")
    ballots = dict.fromkeys(identities, "for")
    ballots.update({members[2]: "against", members[3]: "against"})
    vote_through(governor, proposal, ballots)
    against, for_votes, _ = governor.proposalVotes(proposal.proposal_id)
    assert against == 2 * isqrt(400_000 * TOKEN) > for_votes
    assert state_name(governor, proposal.proposal_id) == "Defeated"


def test_invite_root_follows_the_referral_chain(membership, members, accounts, impersonated_timelock):
    a, b = accounts[17], accounts[18]
    membership.invite(a, sender=members[0])
    membership.invite(b, sender=a)
    assert membership.inviteRootOf(b) == membership.inviteRootOf(a) == members[0].address
    assert membership.inviteRootOf(members[1]) == members[1].address
    membership.addMember(accounts[19], sender=impersonated_timelock)  # admitted by governance: its own root
    assert membership.inviteRootOf(accounts[19]) == accounts[19].address


def test_inviter_cannot_collect_referral_bonuses_for_its_own_puppets(
    membership, token, members, accounts, impersonated_timelock, gov_config
):
    """The inviter collected 600 VCT for 6 puppets. Bonuses now vest; a sock-puppet finding (governance
    removes the invitees) claws them back into the budget before they are paid."""
    attacker = members[0]
    before = token.balanceOf(attacker)
    budget = membership.referralBudget()
    puppets = accounts[17:20]
    for puppet in puppets:
        membership.invite(puppet, sender=attacker)
    assert token.balanceOf(attacker) == before  # nothing paid at invitation
    assert membership.referralBudget() == budget - 3 * gov_config.referral_bonus  # reserved

    for puppet in puppets:
        tx = membership.removeMember(puppet, sender=impersonated_timelock)
        assert tx.events.filter(membership.ReferralBonusClawedBack)[0].amount == gov_config.referral_bonus
    advance(gov_config.referral_vesting + 1)
    for puppet in puppets:
        with ape.reverts(membership.MembershipNoReferralBonus):
            membership.releaseReferralBonus(puppet, sender=attacker)
    assert token.balanceOf(attacker) == before
    assert membership.referralBudget() == budget
    assert membership.referralsPaid() == 0


def test_referral_bonus_of_a_removed_referrer_returns_to_the_budget(
    membership, token, members, accounts, impersonated_timelock, gov_config
):
    attacker = members[0]
    before = token.balanceOf(attacker)
    budget = membership.referralBudget()
    membership.invite(accounts[17], sender=attacker)
    membership.removeMember(attacker, sender=impersonated_timelock)
    advance(gov_config.referral_vesting + 1)
    tx = membership.releaseReferralBonus(accounts[17], sender=accounts[17])
    assert tx.events.filter(membership.ReferralBonusClawedBack)
    assert token.balanceOf(attacker) == before
    assert membership.referralBudget() == budget


def test_honest_referral_bonus_is_paid_once_vested(membership, token, members, outsider, gov_config):
    before = token.balanceOf(members[0])
    membership.invite(outsider, sender=members[0])
    with ape.reverts(membership.MembershipReferralBonusVesting):
        membership.releaseReferralBonus(outsider, sender=members[0])
    advance_past(membership.pendingReferralBonus(outsider).vestsAt)
    tx = membership.releaseReferralBonus(outsider, sender=outsider)  # anyone may release it
    assert tx.events.filter(membership.ReferralBonusPaid)[0].amount == gov_config.referral_bonus
    assert token.balanceOf(members[0]) - before == gov_config.referral_bonus
    assert membership.referralsPaid() == gov_config.referral_bonus
    with ape.reverts(membership.MembershipNoReferralBonus):
        membership.releaseReferralBonus(outsider, sender=outsider)


def test_reserved_bonuses_cannot_be_recovered_from_under_the_vesting(
    membership, token, members, outsider, impersonated_timelock, gov_config
):
    membership.invite(outsider, sender=members[0])
    free = token.balanceOf(membership) - gov_config.referral_bonus
    with ape.reverts(membership.MembershipReservedTokens):
        membership.recoverTokens(impersonated_timelock, free + 1, sender=impersonated_timelock)
    membership.recoverTokens(impersonated_timelock, free, sender=impersonated_timelock)
    advance(gov_config.referral_vesting + 1)
    membership.releaseReferralBonus(outsider, sender=outsider)
    assert token.balanceOf(membership) == 0


def test_quadratic_votes_use_the_support_of_each_ballot(
    governor, router, token, membership, members, accounts
):
    """A tree split between For and Against counts each side by its own summed votes."""
    a = accounts[17]
    membership.invite(a, sender=members[0])
    token.transfer(a, 100_000 * TOKEN, sender=members[0])
    token.invoke_transaction("delegate", a, sender=a)
    advance(1)
    proposal = make_proposal(governor, [encode_call(router, "setFeeBps", 50)], members[2], "fee #quadratic")
    advance_past(governor.proposalSnapshot(proposal.proposal_id))
    governor.castVote(proposal.proposal_id, SUPPORT["for"], sender=members[0])
    governor.castVote(proposal.proposal_id, SUPPORT["against"], sender=a)
    against, for_votes, _ = governor.proposalVotes(proposal.proposal_id)
    assert (against, for_votes) == (isqrt(100_000 * TOKEN), isqrt(300_000 * TOKEN))
