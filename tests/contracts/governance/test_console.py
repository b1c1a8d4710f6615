"""The `ape console` session documented in docs/governance.md, step by step."""

from math import isqrt

import pytest

import ape_console_extras as console


def test_documented_console_session(dao, accounts, router):
    console.use(dao)
    alice, bob = accounts[10], accounts[11]
    power = console.voting_power(alice)  # no delegate step: tokens delegate to their holder on receipt
    assert power["votes"] == power["balance"] > 0
    pid = console.propose_thresholds(9800, sender=alice)
    assert console.proposal_state(pid)["state"] == "Pending"
    console.advance_to("snapshot", pid)
    assert console.vote(pid, "for", sender=alice) > 0
    assert console.vote(pid, "abstain", sender=bob, reason="fine either way") > 0
    console.advance_to("deadline", pid)
    assert console.proposal_state(pid)["state"] == "Succeeded"
    console.queue(pid, sender=alice)
    console.advance_to("eta", pid)
    console.execute(pid, sender=alice)
    state = console.proposal_state(pid)
    assert (state["state"], state["track"]) == ("Executed", "Routine")
    assert router.reviewThreshold() == 9800

    qid = console.propose_fee(25, sender=alice, quadratic=True)
    console.advance_to("snapshot", qid)
    weight = console.vote(qid, "against", sender=bob)
    assert console.proposal_state(qid)["quadratic"]
    assert weight == isqrt(400_000 * 10**18)


def test_operator_guide_lists_and_delists_a_token_through_the_console(
    dao, accounts, router, project, deployer
):
    """docs/operator-guide.md "List the tokens payers may use": a Major-track round per change."""
    console.use(dao)
    alice, bob, carol = accounts[10], accounts[11], accounts[12]
    for voter in (alice, bob, carol):
        console.delegate(sender=voter)
    usdc = deployer.deploy(project.MockUSDC)
    with pytest.raises(ValueError, match="outside the router's bounds"):
        console.propose_token(usdc, 10_000, sender=alice)

    def passes(pid):
        console.advance_to("snapshot", pid)
        for voter in (alice, bob, carol):
            console.vote(pid, "for", sender=voter)
        console.advance_to("deadline", pid)
        console.queue(pid, sender=alice)
        console.advance_to("eta", pid)
        console.execute(pid, sender=alice)
        return console.proposal_state(pid)

    state = passes(console.propose_token(usdc, 90_000, sender=alice))
    assert (state["state"], state["track"]) == ("Executed", "Major")
    assert console.listed_tokens() == {usdc.address: 90_000}
    passes(console.propose_delist_token(usdc, sender=alice))
    assert console.listed_tokens() == {}
