"""VoteRelay: the DAO's relayer submits members' signed votes and delegations and is reimbursed its gas,
never more. The attacks first (a greedy relayer, arbitrary calls through the relay, re-entry through the
reimbursement, a batch of failing signatures, a stranger calling), then what members get: votes that
count without holding ETH, on several proposals at once."""

from __future__ import annotations

import json
import os
from typing import Any

import ape
import pytest
from dao_helpers import encode_call, make_proposal
from eth_account import Account
from test_gas import SNAPSHOT, UPDATE_ENV, execution_gas
from web3 import Web3
from web3.exceptions import ContractLogicError

from oracle.relay.signing import (
    DaoContracts,
    ballot_calldata,
    ballot_typed_data,
    delegation_typed_data,
    sign_typed_data,
)
from verdict_deploy.governance import TOKEN, advance, advance_past
from verdict_deploy.relay import dao_contracts

GWEI = 10**9
RELAY_PREFIX = "relay."  # this file's entries of snapshots/gas.json


@pytest.fixture(scope="module")
def relay(dao):
    return dao["VoteRelay"]


@pytest.fixture(scope="module")
def relayer(accounts, relay):
    account = accounts[6]
    assert relay.relayer() == account.address
    return account


@pytest.fixture(scope="module")
def signer(dao) -> DaoContracts:
    return dao_contracts(dao)


@pytest.fixture(scope="module")
def open_proposals(governor, router, members):
    """Two proposals open for voting, shared by the module's tests (each test runs on a snapshot)."""
    first = make_proposal(governor, [encode_call(router, "setFeeBps", 31)], members[0])
    second = make_proposal(governor, [encode_call(router, "setFeeBps", 32)], members[0])
    advance_past(int(governor.proposalSnapshot(second.proposal_id)))
    return first.proposal_id, second.proposal_id


def vote_calldata(signer: DaoContracts, key: Any, proposal_id: int, support: int = 1) -> bytes:
    """castVoteBySig calldata of a ballot signed by `key` (a LocalAccount)."""
    return ballot_calldata(signer, key.key.hex(), proposal_id, support)


def delegation_calldata(signer: DaoContracts, key: Any, expiry: int) -> bytes:
    typed = delegation_typed_data(signer, delegator=key.address, delegatee=key.address, expiry=expiry)
    raw = bytes.fromhex(sign_typed_data(typed, key.key)[2:])
    nonce = int(typed["message"]["nonce"])
    data = signer.token.encode_abi(
        "delegateBySig", [key.address, nonce, expiry, raw[64], raw[:32], raw[32:64]]
    )
    return bytes.fromhex(data[2:])


@pytest.fixture
def ethless_member(token, members):
    """A fresh key holding 50,000 VCT and no ETH at all."""
    key = Account.create()
    token.transfer(key.address, 50_000 * TOKEN, sender=members[0])
    return key


def _batch_event(tx: Any) -> Any:
    return next(ev for ev in tx.events if ev.event_name == "BatchRelayed")


# --- attacks ------------------------------------------------------------------------------------------


def test_a_stranger_or_a_member_cannot_relay(
    relay, signer, members, outsider, open_proposals, ethless_member
):
    call = vote_calldata(signer, ethless_member, open_proposals[0])
    for caller in (outsider, members[0]):
        with ape.reverts(relay.VoteRelayUnauthorizedRelayer):
            relay.relay([call], sender=caller)


def test_only_allowed_selectors_reach_only_their_own_target(
    relay, relayer, router, token, governor, outsider
):
    """The relay cannot be used to call the router, move tokens, vote as itself or touch its own settings:
    the selector decides the target and anything else reverts the batch before a call is made."""
    forbidden = [
        bytes(router.setFeeBps.encode_input(99)),
        bytes(token.transfer.encode_input(outsider, 1)),
        bytes(governor.castVote.encode_input(1, 1)),
        bytes(relay.setRelayer.encode_input(outsider)),
        b"\x8f\xf2",  # shorter than a selector
    ]
    for bad in forbidden:
        with ape.reverts(relay.VoteRelayCallNotAllowed):
            relay.relay([bad], sender=relayer)
    assert relay.targetOf(bytes(governor.castVoteBySig.encode_input(1, 1, outsider, b""))) == governor.address
    assert relay.targetOf(
        bytes(token.delegateBySig.encode_input(outsider, 0, 0, 27, b"\0" * 32, b"\0" * 32))
    ) == (token.address)


def test_an_inflated_gas_price_is_reimbursed_at_the_dao_cap(
    relay, relayer, signer, open_proposals, ethless_member
):
    """The relayer bids 20x the DAO's cap: it is repaid at the cap and loses the difference."""
    cap = int(relay.maxGasPrice())
    call = vote_calldata(signer, ethless_member, open_proposals[0])
    balance = relayer.balance
    tx = relay.relay([call], sender=relayer, max_fee=40 * cap, max_priority_fee=20 * cap)
    event = _batch_event(tx)
    assert int(event.gasPrice) == cap
    assert int(event.reimbursed) <= int(relay.maxBatchCost(1, cap))
    assert int(event.reimbursed) == int(relay.spent())
    assert relayer.balance < balance  # paid ~20x more for gas than it got back


def test_reentry_through_the_reimbursement_pays_once(
    dao, project, deployer, signer, governor, open_proposals, ethless_member
):
    """A relayer contract whose receive() relays the same batch again is paid once; the vote counts once."""
    relay = deployer.deploy(
        project.VoteRelay,
        deployer,
        dao["CommunityGovernor"],
        dao["CommunityToken"],
        deployer,
        50 * GWEI,
        300_000,
    )
    hostile = deployer.deploy(project.ReentrantRelayer, relay)
    relay.setRelayer(hostile, sender=deployer)
    deployer.transfer(relay, 10**18)
    pid = open_proposals[0]
    hostile.relayThrough([vote_calldata(signer, ethless_member, pid)], sender=deployer)
    assert hostile.attempted() and not hostile.reentered()
    assert int(hostile.received()) == int(relay.spent()) > 0
    assert governor.hasVoted(pid, ethless_member.address)


def test_a_batch_of_failing_signatures_costs_at_most_its_bound(
    relay, relayer, signer, open_proposals, accounts
):
    """Garbage signatures do not revert the batch (one event each) and cannot cost more than
    maxBatchCost: every element's call is capped at itemGasLimit."""
    pid = open_proposals[0]
    stranger = Account.create()
    bad = []
    for i in range(8):
        data = signer.governor.encode_abi("castVoteBySig", [pid, 1, stranger.address, bytes([i + 1]) * 65])
        bad.append(bytes.fromhex(data[2:]))
    price = 2 * GWEI
    tx = relay.relay(bad, sender=relayer, max_fee=price, max_priority_fee=price)
    failures = [ev for ev in tx.events if ev.event_name == "RelayedCallFailed"]
    assert [int(ev.index) for ev in failures] == list(range(8))
    event = _batch_event(tx)
    assert int(event.succeeded) == 0 and int(event.failed) == 8
    bound = int(relay.maxBatchCost(8, int(event.gasPrice)))
    assert 0 < int(event.reimbursed) <= bound
    # The bound itself is linear in the batch, so a member's spam costs at most the item limit each.
    assert bound == 8 * int(relay.maxBatchCost(1, int(event.gasPrice))) - 7 * 40_000 * int(event.gasPrice)


def test_an_empty_budget_refuses_the_batch_before_calling_anything(
    dao, project, deployer, signer, governor, open_proposals, ethless_member
):
    relay = deployer.deploy(
        project.VoteRelay,
        deployer,
        dao["CommunityGovernor"],
        dao["CommunityToken"],
        deployer,
        50 * GWEI,
        300_000,
    )
    deployer.transfer(relay, 1000)  # far below one ballot's bound
    pid = open_proposals[0]
    with ape.reverts(relay.VoteRelayBudgetSpent):
        relay.relay(
            [vote_calldata(signer, ethless_member, pid)], sender=deployer, max_fee=GWEI, max_priority_fee=GWEI
        )
    assert not governor.hasVoted(pid, ethless_member.address)
    assert int(relay.spent()) == 0


def test_only_the_dao_changes_the_relay(relay, outsider, relayer):
    for call in (
        lambda: relay.setRelayer(outsider, sender=outsider),
        lambda: relay.setMaxGasPrice(10**30, sender=relayer),
        lambda: relay.setItemGasLimit(900_000, sender=relayer),
        lambda: relay.withdraw(outsider, 1, sender=outsider),
    ):
        with ape.reverts(relay.OwnableUnauthorizedAccount):
            call()


# --- what members get ---------------------------------------------------------------------------------


def test_a_member_without_eth_delegates_and_votes_on_two_proposals_by_signature(
    relay, relayer, signer, governor, router, token, members, ethless_member
):
    """Delegation and both ballots by signature; the member never holds ETH and both votes count with
    its whole balance. With keyed nonces both ballots are signed before either lands."""
    w3 = ape.chain.provider.web3
    expiry = ape.chain.pending_timestamp + 3600
    relay.relay([delegation_calldata(signer, ethless_member, expiry)], sender=relayer)
    assert token.delegates(ethless_member.address) == ethless_member.address
    advance(1)
    first = make_proposal(governor, [encode_call(router, "setFeeBps", 41)], members[0]).proposal_id
    second = make_proposal(governor, [encode_call(router, "setFeeBps", 42)], members[0]).proposal_id
    advance_past(int(governor.proposalSnapshot(second)))
    calls = [vote_calldata(signer, ethless_member, first), vote_calldata(signer, ethless_member, second)]
    if not signer.keyed_nonces:  # one sequential nonce: the second ballot must carry the next one
        typed = ballot_typed_data(
            signer,
            proposal_id=second,
            support=1,
            voter=ethless_member.address,
            nonce=signer.vote_nonce(ethless_member.address, first) + 1,
        )
        sig = bytes.fromhex(sign_typed_data(typed, ethless_member.key)[2:])
        data = signer.governor.encode_abi("castVoteBySig", [second, 1, ethless_member.address, sig])
        calls[1] = bytes.fromhex(data[2:])
    tx = relay.relay(calls, sender=relayer)
    assert int(_batch_event(tx).succeeded) == 2
    for pid in (first, second):
        assert int(governor.proposalVotes(pid)[1]) == 50_000 * TOKEN
    assert w3.eth.get_balance(ethless_member.address) == 0


def test_a_replayed_signature_reverts_on_chain_and_fails_in_a_batch(
    relay, relayer, signer, governor, open_proposals, ethless_member, outsider
):
    pid = open_proposals[0]
    call = vote_calldata(signer, ethless_member, pid)
    relay.relay([call], sender=relayer)
    assert governor.hasVoted(pid, ethless_member.address)
    with pytest.raises(ContractLogicError):  # the nonce is spent: the governor itself refuses it
        ape.chain.provider.web3.eth.call({"to": governor.address, "data": "0x" + call.hex()})
    tx = relay.relay([call], sender=relayer)
    failed = [ev for ev in tx.events if ev.event_name == "RelayedCallFailed"]
    assert len(failed) == 1 and int(failed[0].index) == 0
    assert bytes(failed[0].reason)[:4] == Web3.keccak(text="GovernorInvalidSignature(address)")[:4]


def test_a_batched_relayed_vote_costs_about_a_direct_vote(
    relay, relayer, signer, governor, members, open_proposals
):
    """Gas of a relayed vote in a batch of four next to a member's own castVote, both on a proposal whose
    tally slots are already written: the `relay.*` entries of snapshots/gas.json (execution gas, as
    test_gas.py measures; refresh with VERDICT_UPDATE_GAS_SNAPSHOT=1 on this file)."""
    first, second = open_proposals
    governor.castVote(first, 1, sender=members[4])  # warms the first proposal's tally
    keys = [Account.from_key(m.private_key) for m in members[:4]]
    batch = relay.relay([vote_calldata(signer, key, first) for key in keys], sender=relayer)
    assert int(_batch_event(batch).succeeded) == 4
    alone = relay.relay(
        [vote_calldata(signer, Account.from_key(members[4].private_key), second)], sender=relayer
    )
    direct = governor.castVote(second, 1, sender=members[0])  # warm tally, as the batch's votes
    per_vote = int(batch.gas_used) // 4
    print(f"\ngas: direct castVote {int(direct.gas_used):,}; relayed, batch of 4: {per_vote:,} a vote")
    assert per_vote < int(direct.gas_used) + 40_000
    gas = {
        RELAY_PREFIX + "relay 4 castVoteBySig (keyed nonces), per vote": execution_gas(batch) // 4,
        RELAY_PREFIX + "relay 1 castVoteBySig (first vote on its proposal)": execution_gas(alone),
        RELAY_PREFIX + "castVote next to the batch (direct, warm tally)": execution_gas(direct),
    }
    recorded = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    if os.environ.get(UPDATE_ENV) == "1":
        kept = {name: value for name, value in recorded.items() if not name.startswith(RELAY_PREFIX)}
        SNAPSHOT.write_text(json.dumps(dict(sorted({**kept, **gas}.items())), indent=2) + "\n")
        return
    mine = {name: value for name, value in recorded.items() if name.startswith(RELAY_PREFIX)}
    assert mine == gas, (
        f"relay gas differs from snapshots/gas.json; refresh: {UPDATE_ENV}=1 ape test {__file__}"
    )


def test_the_console_signs_a_ballot_that_the_relay_lands(
    dao, relay, relayer, governor, members, open_proposals
):
    """`sign_vote` of the console helpers (without a relay URL: the signed JSON) is what the relayer
    turns into castVoteBySig calldata."""
    from verdict_deploy import console

    console.use(dao)
    try:
        payload = console.sign_vote(open_proposals[1], "against", member=members[2])
    finally:
        console.use({})
    assert payload["voter"] == members[2].address and payload["support"] == 0
    call = governor.castVoteBySig.encode_input(
        int(payload["proposal_id"]), 0, payload["voter"], bytes.fromhex(payload["signature"][2:])
    )
    tx = relay.relay([bytes(call)], sender=relayer)
    assert int(_batch_event(tx).succeeded) == 1
    assert governor.hasVoted(open_proposals[1], members[2])
