"""What `ape run propose|vote` and the console helpers do for an operator (issue 14): the model's
approval as a proposal, votes that would weigh nothing refused with the reason, steps taken out of
order refused before a transaction is sent, reverts named, accounts named by role on a local chain."""

from __future__ import annotations

import click
import pytest
from ape.exceptions import ContractLogicError

import ape_console_extras as console
from verdict_deploy import Roles
from verdict_deploy.operator import describe_error, resolve_account

NEW_MODEL = "0x" + "22" * 32


def _pass(pid, members, proposer):
    console.advance_to("snapshot", pid)
    for member in members:
        console.vote(pid, "for", sender=member)
    console.advance_to("deadline", pid)
    console.queue(pid, sender=proposer)
    console.advance_to("eta", pid)
    console.execute(pid, sender=proposer)
    return console.proposal_state(pid)


def test_a_model_is_approved_by_an_executed_major_proposal(dao, members, risk_oracle):
    console.use(dao)
    pid = console.propose_approve_model(NEW_MODEL, sender=members[0])
    assert console.latest_proposal() == pid
    assert not risk_oracle.isModelApproved(NEW_MODEL)
    state = _pass(pid, members[:3], members[0])
    assert (state["state"], state["track"]) == ("Executed", "Major")
    assert risk_oracle.isModelApproved(NEW_MODEL)
    with pytest.raises(ValueError, match="already approved"):
        console.propose_approve_model(NEW_MODEL, sender=members[0])


def test_a_bad_model_reference_is_one_clear_error(dao, members, tmp_path):
    console.use(dao)
    with pytest.raises(ValueError, match="neither a model directory nor a model id"):
        console.propose_approve_model("0x1234", sender=members[0])
    with pytest.raises(ValueError, match="no model directory"):
        console.propose_approve_model(tmp_path / "missing", sender=members[0])


def test_a_vote_that_would_weigh_nothing_is_refused_with_the_reason(dao, members, token, governor, accounts):
    """A holder who delegated to nobody (tokens otherwise delegate to their holder on receipt): its tokens
    would silently count for nothing."""
    console.use(dao)
    holder = accounts[19]
    token.invoke_transaction("delegate", "0x0000000000000000000000000000000000000000", sender=holder)
    token.transfer(holder, 300_000 * 10**18, sender=members[4])
    pid = console.propose_thresholds(9800, sender=members[0])
    with pytest.raises(ValueError, match="is Pending: votes are taken only while it is Active"):
        console.vote(pid, "for", sender=members[0])
    console.advance_to("snapshot", pid)
    with pytest.raises(ValueError, match="has no delegate"):
        console.vote(pid, "for", sender=holder)
    assert not governor.hasVoted(pid, holder)
    console.delegate(sender=holder)  # too late for this proposal: its snapshot has passed
    with pytest.raises(ValueError, match="no delegated votes at the proposal's snapshot"):
        console.vote(pid, "for", sender=holder)
    assert console.vote(pid, "for", sender=members[0]) == 400_000 * 10**18


def test_a_proposal_right_after_delegating_counts_the_delegation(dao, members, token, accounts):
    """The governor reads the proposer's votes one second back: a script that delegates and proposes
    at once (the docs' console session) must not revert on a local chain."""
    console.use(dao)
    newcomer = accounts[18]
    with pytest.raises(ValueError, match="fewer than the 1,000 a proposal needs"):
        console.propose_fee(10, sender=newcomer)
    token.transfer(newcomer, 2_000 * 10**18, sender=members[4])
    console.delegate(sender=newcomer)
    pid = console.propose_fee(10, sender=newcomer)
    assert console.proposal_state(pid)["state"] == "Pending"


def test_steps_out_of_order_are_refused_before_sending(dao, members):
    console.use(dao)
    pid = console.propose_thresholds(9800, sender=members[0])
    with pytest.raises(ValueError, match="is Pending: only a Succeeded proposal can be queued"):
        console.queue(pid, sender=members[0])
    with pytest.raises(ValueError, match="is Pending: only a Queued proposal can be executed"):
        console.execute(pid, sender=members[0])


def test_a_revert_is_named_from_the_compiled_abis(dao):
    """`ape run vote state 1` printed `custom error 0x6ad06075`."""
    console.use(dao)
    with pytest.raises(ValueError, match="no proposal 1 on this deployment"):
        console.proposal_state(1)  # asked before the governor reverts
    with pytest.raises(ContractLogicError) as caught:
        dao["CommunityGovernor"].state(1)
    assert describe_error(caught.value) == "the call reverted: GovernorNonexistentProposal(1)"


def test_accounts_are_named_by_role_or_index_on_a_local_chain(accounts):
    roles = Roles.local()
    assert resolve_account("member1").address == roles.members[0].address
    assert resolve_account("guardian").address == roles.guardian.address
    assert resolve_account("arbiter").address == roles.arbiters[0].address
    assert resolve_account("10").address == accounts[10].address
    assert resolve_account("TEST::3").address == roles.node.address
    with pytest.raises(click.BadParameter, match="member1.*test-account index"):
        resolve_account("alice")
