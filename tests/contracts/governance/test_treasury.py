"""Treasury: grants only by executed proposals, streaming through VestingGrant, the outflow report."""

import ape
from dao_helpers import encode_call, make_proposal, queue_execute, vote_through

from verdict_deploy.governance import TOKEN, advance
from verdict_deploy.treasury import treasury_report


def test_vesting_grant_streams_treasury_tokens_and_the_report_names_the_proposal(
    project, chain, deployer, governor, token, timelock, members, outsider, accounts
):
    accounts[0].transfer(timelock, 3 * 10**18)
    start = chain.pending_timestamp
    grant = deployer.deploy(project.VestingGrant, outsider, start, 1000)
    calls = [
        encode_call(token, "transfer", grant, 10_000 * TOKEN),
        (outsider.address, 10**18, b""),
    ]
    proposal = make_proposal(
        governor, calls, members[0], "Grant: oracle dashboard, 10k VCT over 1000 s + 1 ETH"
    )
    vote_through(governor, proposal, members[:3])
    queue_execute(governor, proposal, members[0])

    advance(max(0, start + 500 - chain.blocks.head.timestamp))
    grant.release(token, sender=outsider)
    released = token.balanceOf(outsider)
    assert 4_900 * TOKEN < released < 6_000 * TOKEN

    report = treasury_report(timelock, governor, [token])
    assert report["balances"]["ETH"] == 2 * 10**18
    outs = [(o["asset"], o["to"], o["amount"], o["proposal_id"]) for o in report["outflows"]]
    assert ("VCT", grant.address, 10_000 * TOKEN, proposal.proposal_id) in outs
    assert ("ETH", outsider.address, 10**18, proposal.proposal_id) in outs
    assert all(o["proposal_id"] for o in report["outflows"])
    assert report["outflows"][0]["proposal"].startswith("Grant: oracle dashboard")


def test_nobody_moves_treasury_funds_directly(token, timelock, members, outsider, accounts):
    accounts[0].transfer(timelock, 10**18)
    with ape.reverts():
        token.transferFrom(timelock, outsider, 1, sender=members[0])
    zero = b"\x00" * 32
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        timelock.schedule(outsider, 10**18, b"", zero, zero, 60, sender=members[0])
