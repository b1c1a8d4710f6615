"""The `ape console` session documented in docs/governance.md, step by step."""

from math import isqrt

import ape_console_extras as console


def test_documented_console_session(dao, accounts, router):
    console.use(dao)
    alice, bob = accounts[10], accounts[11]
    console.delegate(sender=alice)
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
