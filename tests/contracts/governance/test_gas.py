"""Prints the gas of each governance step (a measurement, not a limit)."""

from dao_helpers import encode_call

from verdict_deploy.governance import SUPPORT, advance_past


def test_print_governance_gas(governor, router, members, capsys):
    gas: dict[str, int] = {}
    calls = [encode_call(router, "setThresholds", 9800, 9990)]
    targets, values, datas = (list(x) for x in zip(*calls, strict=True))

    tx = governor.propose(targets, values, datas, "gas: routine threshold change", sender=members[0])
    gas["propose (routine, 1 call)"] = tx.gas_used
    pid = tx.events.filter(governor.ProposalCreated)[0].proposalId
    # quadratic counting is allowed only on listed calls (the fee is; thresholds are not)
    fee_target, fee_value, fee_data = encode_call(router, "setFeeBps", 10)
    txq = governor.propose(
        [fee_target], [fee_value], [fee_data], "gas: quadratic #quadratic", sender=members[0]
    )
    gas["propose (routine, quadratic)"] = txq.gas_used
    qid = txq.events.filter(governor.ProposalCreated)[0].proposalId

    advance_past(governor.proposalSnapshot(qid))
    gas["castVote (simple)"] = governor.castVote(pid, SUPPORT["for"], sender=members[0]).gas_used
    gas["castVote (quadratic, member)"] = governor.castVote(qid, SUPPORT["for"], sender=members[0]).gas_used
    advance_past(governor.proposalDeadline(qid))

    from eth_utils import keccak

    desc = keccak(text="gas: routine threshold change")
    gas["queue"] = governor.queue(targets, values, datas, desc, sender=members[0]).gas_used
    advance_past(governor.proposalEta(pid) - 1)
    gas["execute (setThresholds)"] = governor.execute(
        targets, values, datas, desc, sender=members[0]
    ).gas_used

    with capsys.disabled():
        print("\n\ngovernance gas")
        for step, used in gas.items():
            print(f"  {step:<32} {used:>8,}")
    assert router.reviewThreshold() == 9800
