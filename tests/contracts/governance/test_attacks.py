"""Attacks on the vote and their defences: late tokens, flash loans, the guardian, signature replay."""

import ape
from dao_helpers import (
    ballot_signature,
    encode_call,
    make_proposal,
    queue_execute,
    sign_typed,
    state_name,
    vote_through,
)
from eth_account import Account

from verdict_deploy.governance import TOKEN, advance_past, with_proposer_suffix

FEE = ("setFeeBps", 10)


def test_tokens_bought_and_delegated_after_the_snapshot_carry_no_weight(
    governor, router, token, members, outsider
):
    proposal = make_proposal(governor, [encode_call(router, *FEE)], members[0])
    advance_past(governor.proposalSnapshot(proposal.proposal_id))
    token.transfer(outsider, 300_000 * TOKEN, sender=members[1])  # "bought" after the snapshot
    token.invoke_transaction("delegate", outsider, sender=outsider)
    tx = governor.castVote(proposal.proposal_id, 1, sender=outsider)
    assert tx.events[0].weight == 0
    assert governor.proposalVotes(proposal.proposal_id) == (0, 0, 0)


def test_flash_borrowed_and_delegated_tokens_carry_no_weight(
    project, governor, router, token, members, deployer
):
    attacker = deployer.deploy(project.GovernedFlashAttackMock, token)
    lender = members[4]
    token.approve(attacker, 2**256 - 1, sender=lender)
    proposal = make_proposal(governor, [encode_call(router, *FEE)], members[0])
    advance_past(governor.proposalSnapshot(proposal.proposal_id))

    attacker.attackVote(governor, proposal.proposal_id, lender, 400_000 * TOKEN, sender=deployer)
    assert attacker.lastWeight() == 0
    assert token.balanceOf(lender) == 400_000 * TOKEN  # repaid
    advance_past(governor.proposalDeadline(proposal.proposal_id))
    assert state_name(governor, proposal.proposal_id) == "Defeated"


def test_flash_borrowed_votes_cannot_meet_the_proposal_threshold(
    project, governor, router, token, members, deployer
):
    attacker = deployer.deploy(project.GovernedFlashAttackMock, token)
    token.approve(attacker, 2**256 - 1, sender=members[4])
    _, _, data = encode_call(router, *FEE)
    with ape.reverts(governor.GovernorInsufficientProposerVotes):
        attacker.attackPropose(governor, members[4], 400_000 * TOKEN, router, data, sender=deployer)


def test_guardian_cancels_pending_active_and_queued_proposals(governor, router, members, guardian):
    pending = make_proposal(governor, [encode_call(router, "setFeeBps", 11)], members[0])
    governor.cancel(*pending.args(), sender=guardian)
    assert state_name(governor, pending.proposal_id) == "Canceled"

    active = make_proposal(governor, [encode_call(router, "setFeeBps", 12)], members[0])
    vote_through(governor, active, [members[0]], end=False)
    governor.cancel(*active.args(), sender=guardian)
    assert state_name(governor, active.proposal_id) == "Canceled"

    queued = make_proposal(governor, [encode_call(router, "setFeeBps", 13)], members[0])
    vote_through(governor, queued, [members[0]])
    governor.queue(*queued.args(), sender=members[0])
    governor.cancel(*queued.args(), sender=guardian)
    assert state_name(governor, queued.proposal_id) == "Canceled"
    advance_past(governor.proposalEta(queued.proposal_id))
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governor.execute(*queued.args(), sender=members[0])
    assert router.feeBps() != 13


def test_only_the_guardian_cancels_a_live_proposal(governor, router, members, outsider):
    proposal = make_proposal(governor, [encode_call(router, *FEE)], members[0])
    with ape.reverts(governor.GovernorUnableToCancel):
        governor.cancel(*proposal.args(), sender=outsider)


def test_guardian_pauses_the_router_but_cannot_spend_or_execute(
    governor, router, token, timelock, guardian, outsider, accounts
):
    accounts[0].transfer(timelock, 10**18)
    router.pause(sender=guardian)
    assert router.paused()
    with ape.reverts():
        router.unpause(sender=guardian)
    zero = b"\x00" * 32
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        timelock.schedule(outsider, 10**18, b"", zero, zero, 60, sender=guardian)
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        timelock.execute(outsider, 10**18, b"", zero, zero, sender=guardian)
    with ape.reverts(governor.GovernorOnlyExecutor):
        governor.relay(outsider, 0, b"", sender=guardian)
    with ape.reverts():
        token.transferFrom(timelock, guardian, 1, sender=guardian)
    with ape.reverts(router.AccessControlUnauthorizedAccount):
        router.setTreasury(guardian, sender=guardian)
    assert timelock.balance == 10**18


def test_only_a_major_proposal_replaces_the_guardian(governor, router, members, guardian, outsider):
    calls = [
        encode_call(governor, "setProposalGuardian", outsider),
        encode_call(router, "revokeRole", router.GUARDIAN_ROLE(), guardian),
        encode_call(router, "grantRole", router.GUARDIAN_ROLE(), outsider),
    ]
    with ape.reverts(governor.GovernorOnlyExecutor):
        governor.setProposalGuardian(outsider, sender=guardian)
    proposal = make_proposal(governor, calls, members[0])
    assert governor.proposalTrack(proposal.proposal_id) == 0  # Major
    vote_through(governor, proposal, members[:3])
    queue_execute(governor, proposal, members[0])
    assert governor.proposalGuardian() == outsider.address
    assert router.hasRole(router.GUARDIAN_ROLE(), outsider)
    assert not router.hasRole(router.GUARDIAN_ROLE(), guardian)


def _delegate_by_sig(token, voter, relayer) -> None:
    from ape import chain

    nonce = token.nonces(voter.address)
    expiry = chain.pending_timestamp + 3600
    fields = [
        {"name": "delegatee", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
    signed = sign_typed(
        token,
        voter.key,
        "Delegation",
        fields,
        {"delegatee": voter.address, "nonce": nonce, "expiry": expiry},
        "1",
    )
    token.delegateBySig(
        voter.address,
        nonce,
        expiry,
        signed.v,
        signed.r.to_bytes(32, "big"),
        signed.s.to_bytes(32, "big"),
        sender=relayer,
    )


def test_cast_vote_by_sig_counts_once_and_cannot_be_replayed(governor, router, token, members, outsider):
    voter = Account.create()  # holds no ETH: delegation and vote are relayed by signature
    token.transfer(voter.address, 50_000 * TOKEN, sender=members[0])
    _delegate_by_sig(token, voter, outsider)
    assert token.delegates(voter.address) == voter.address
    first = make_proposal(governor, [encode_call(router, "setFeeBps", 21)], members[0])
    second = make_proposal(governor, [encode_call(router, "setFeeBps", 22)], members[0])
    advance_past(governor.proposalSnapshot(second.proposal_id))

    signature = ballot_signature(governor, voter, first.proposal_id, 1, governor.nonces(voter.address))
    governor.castVoteBySig(first.proposal_id, 1, voter.address, signature, sender=outsider)
    assert governor.hasVoted(first.proposal_id, voter.address)
    assert governor.proposalVotes(first.proposal_id)[1] == 50_000 * TOKEN

    with ape.reverts(governor.GovernorInvalidSignature):  # replay: the nonce is spent
        governor.castVoteBySig(first.proposal_id, 1, voter.address, signature, sender=outsider)
    with ape.reverts(governor.GovernorInvalidSignature):  # reuse on another proposal
        governor.castVoteBySig(second.proposal_id, 1, voter.address, signature, sender=outsider)
    assert not governor.hasVoted(second.proposal_id, voter.address)


def test_a_copy_of_a_proposal_sent_by_another_account_reverts(governor, router, members, outsider):
    """Front-running: a copy of a pending proposal, sent first, took its id and blocked it. The tools end
    every description with OpenZeppelin's `#proposer=` suffix, so the copy reverts and the original lands;
    the `#quadratic` flag before the suffix still counts."""
    calls = [encode_call(router, "setFeeBps", 33)]
    targets, values, datas = (list(x) for x in zip(*calls, strict=True))
    description = with_proposer_suffix("fee 33 #quadratic", members[0])
    assert description.endswith(f"#quadratic#proposer={members[0].address}")

    for copier in (outsider, members[1]):  # with or without the votes to propose
        with ape.reverts(governor.GovernorRestrictedProposer):
            governor.propose(targets, values, datas, description, sender=copier)
    proposal = make_proposal(governor, calls, members[0], "fee 33 #quadratic")
    assert proposal.description == description
    assert governor.proposalProposer(proposal.proposal_id) == members[0].address
    assert governor.isQuadratic(proposal.proposal_id)


def test_the_rules_module_refuses_direct_writes(governor, router, project, outsider):
    """The governor delegatecalls its GovernorRulesModule for the rule setters: called directly, the module
    writes nothing (its own storage would mean nothing, but a quiet success would mislead a reader)."""
    module = project.GovernorRulesModule.at(governor.rulesModule())
    selector = bytes.fromhex("00000000")
    with ape.reverts(module.GovernorRulesModuleDirectCall):
        module.setRoutineRule(router, selector, [(0, 1)], sender=outsider)
    with ape.reverts(module.GovernorRulesModuleDirectCall):
        module.setQuadraticCall(router, selector, True, sender=outsider)
    with ape.reverts(governor.GovernorOnlyExecutor):  # and through the governor, governance only
        governor.setRoutineRule(router, selector, [(0, 1)], sender=outsider)
