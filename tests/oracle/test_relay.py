"""`verdict relay` as its own process against a real chain: a member holding no ETH votes on two open
proposals by signature and both count; a replayed signature is refused by the relayer and reverts
on-chain; strangers, forgeries and malformed JSON are refused with one reason and no transaction; once
the budget is spent the relayer says so (HTTP 503, a log line, a metric) and stops.

One deployment and one relayer process for the module (the tests run in order; the budget test last)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from ape import chain, networks
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError

from oracle.config import Settings
from oracle.deployment import Deployment, load_abis
from oracle.relay.service import Relayer, _RateLimiter
from oracle.relay.signing import (
    DaoContracts,
    ballot_typed_data,
    sign_delegation,
    sign_typed_data,
    sign_vote,
    vote_payload,
)
from verdict_demo.dashboard import free_port, wait_healthy
from verdict_demo.signed_votes import relayer_running, start_relayer, wait_items
from verdict_deploy import Dao, deploy_world, verdict_settings
from verdict_deploy.governance import (
    TOKEN,
    GovernanceConfig,
    advance,
    advance_past,
    encode_call,
    ensure_delegated,
    propose,
)
from verdict_deploy.relay import dao_contracts


@pytest.fixture(scope="module")
def relay_world(local_roles, tmp_path_factory):
    root = tmp_path_factory.mktemp("relay-world")
    # Voting stays open 15 minutes of chain time (not the local 40 s): a relayer restarted twice on a
    # busy machine still lands its ballot while the proposal is Active.
    governance = GovernanceConfig.local(voting_period=900, routine_voting_period=900)
    world = deploy_world(
        local_roles, dao=Dao.GOVERNS, with_stablecoin=False, root=root, governance=governance
    )
    ensure_delegated(world.contracts["CommunityToken"], local_roles.members)
    advance(1)
    return world, root


@pytest.fixture(scope="module")
def contracts(relay_world):
    return relay_world[0].contracts


@pytest.fixture(scope="module")
def env(relay_world, tmp_path_factory) -> dict[str, str]:
    world, root = relay_world
    return verdict_settings(world.deployment, store_url=f"sqlite:///{root / 'unused.sqlite'}", model_dir=root)


@pytest.fixture(scope="module")
def relay_url(env, relay_world, local_roles):
    _, root = relay_world
    with relayer_running(env, root, local_roles.relayer, rate_limit="6") as url:
        yield url


@pytest.fixture(scope="module")
def signer(contracts):
    return dao_contracts(contracts)


@pytest.fixture(scope="module")
def member_without_eth(contracts, local_roles):
    """A fresh key holding 60,000 VCT from a founding member and no ETH at all."""
    key = Account.create()
    contracts["CommunityToken"].transfer(key.address, 60_000 * TOKEN, sender=local_roles.members[0])
    return key


def post(url: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}{path}", data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def get(url: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}{path}", timeout=30) as response:
        return dict(json.loads(response.read()))


def relayer_nonce(local_roles) -> int:
    return int(chain.provider.web3.eth.get_transaction_count(local_roles.relayer.address))


def open_proposal(contracts, proposer, fee: int) -> int:
    router = contracts["PaymentRouter"]
    proposal = propose(
        contracts["CommunityGovernor"],
        [encode_call(router, "setFeeBps", fee)],
        f"relay test fee {fee}",
        proposer,
    )
    return proposal.proposal_id


def test_a_member_without_eth_votes_on_two_open_proposals_and_a_replay_is_refused(
    relay_url, contracts, signer, member_without_eth, local_roles, env
):
    governor, token = contracts["CommunityGovernor"], contracts["CommunityToken"]
    w3 = chain.provider.web3
    key = member_without_eth
    # Delegation by signature first (the votes count from the next timepoint on).
    expiry = int(chain.blocks.head.timestamp) + 3600
    status, item = post(
        relay_url, "/delegations", sign_delegation(signer, key.key.hex(), key.address, expiry)
    )
    assert status == 202, item
    assert wait_items(relay_url, [item])[0]["status"] == "cast"
    assert token.delegates(key.address) == key.address
    advance(1)
    first = open_proposal(contracts, local_roles.members[0], 11)
    second = open_proposal(contracts, local_roles.members[0], 12)
    advance_past(int(governor.proposalSnapshot(second)))

    # One ballot from the console's signing code, one from `verdict sign-vote` (a separate process).
    first_vote = sign_vote(signer, key.key.hex(), first, "for")
    status, item = post(relay_url, "/votes", first_vote)
    assert status == 202, item
    items = [item]
    if not signer.keyed_nonces:  # one sequential nonce: the second ballot is signed once the first landed
        wait_items(relay_url, items)
    cli = subprocess.run(
        [sys.executable, "-m", "oracle.cli", "sign-vote", str(second), "for"],
        env={**os.environ, **env, "VERDICT_MEMBER_KEY": key.key.hex(), "VERDICT_RELAY_URL": relay_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    assert "relayer accepted it: item" in cli.stdout
    items.append({"id": int(cli.stdout.split("item ")[1].split()[0])})
    states = wait_items(relay_url, items)
    assert [s["status"] for s in states] == ["cast", "cast"], states
    for pid in (first, second):
        assert int(governor.proposalVotes(pid)[1]) == 60_000 * TOKEN
    assert w3.eth.get_balance(key.address) == 0

    # The replay: refused by the relayer without a transaction, and the governor refuses it too.
    sent = relayer_nonce(local_roles)
    status, answer = post(relay_url, "/votes", first_vote)
    assert status == 409 and "already voted" in answer["error"]
    assert relayer_nonce(local_roles) == sent
    calldata = signer.governor.encode_abi(
        "castVoteBySig", [first, 1, key.address, bytes.fromhex(first_vote["signature"][2:])]
    )
    with pytest.raises(ContractLogicError):
        w3.eth.call({"to": governor.address, "data": calldata})


def test_strangers_forgeries_and_bad_input_are_refused_without_a_transaction(
    relay_url, contracts, signer, local_roles
):
    pid = open_proposal(contracts, local_roles.members[0], 13)
    advance_past(int(contracts["CommunityGovernor"].proposalSnapshot(pid)))
    sent = relayer_nonce(local_roles)

    stranger = Account.create()  # no tokens, not in the Membership registry
    status, answer = post(relay_url, "/votes", sign_vote(signer, stranger.key.hex(), pid, "for"))
    assert status == 403 and "not a member" in answer["error"]

    # A member's address claimed, a stranger's signature.
    member = local_roles.members[1]
    typed = ballot_typed_data(signer, proposal_id=pid, support=1, voter=member.address)
    forged = vote_payload(typed, sign_typed_data(typed, stranger.key.hex()))
    status, answer = post(relay_url, "/votes", forged)
    assert status == 403 and "signature is not" in answer["error"]

    # A nonce that is not the member's next one.
    stale = ballot_typed_data(signer, proposal_id=pid, support=1, voter=member.address, nonce=7)
    status, answer = post(
        relay_url, "/votes", vote_payload(stale, sign_typed_data(stale, member.private_key))
    )
    assert status == 409 and "nonce" in answer["error"]

    # No such proposal; malformed JSON; a support value the governor does not know.
    status, answer = post(relay_url, "/votes", sign_vote(signer, member.private_key, pid + 1, "for"))
    assert status == 404 and "no proposal" in answer["error"]
    assert post(relay_url, "/votes", b"{not json")[0] == 400
    bad = {**sign_vote(signer, member.private_key, pid, "for"), "support": 7}
    status, answer = post(relay_url, "/votes", bad)
    assert status == 400 and "support" in answer["error"]
    assert relayer_nonce(local_roles) == sent
    refused = get(relay_url, "/status")
    assert refused["budget_spent"] is False


def test_the_rate_limit_is_per_member_and_slides():
    limiter = _RateLimiter(limit=2, window=10.0)
    assert limiter.allow("a", 0.0) and limiter.allow("a", 1.0)
    assert not limiter.allow("a", 2.0)
    assert limiter.allow("b", 2.0)  # another member has their own allowance
    assert limiter.allow("a", 10.5)  # the first one slid out of the window


@contextlib.contextmanager
def killable_relayer(env, root, local_roles, **settings: str):
    """A relayer process (its own store); yields (url, process) for the test to kill -9."""
    port = free_port()
    process = start_relayer(
        {
            **env,
            "VERDICT_RELAY_KEY": local_roles.relayer.private_key,
            "VERDICT_RELAY_METRICS_PORT": "0",
            "VERDICT_STORE_URL": f"sqlite:///{root / 'relay-restart.sqlite'}",
            **{f"VERDICT_RELAY_{k.upper()}": v for k, v in settings.items()},
        },
        root / "relay-restart.log",
        port,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(url, process, timeout=90), process.log_text()[-2000:]
        yield url, process
    finally:
        process.stop()


def test_a_killed_relayer_neither_loses_nor_resubmits_a_ballot(
    env, relay_world, contracts, signer, local_roles
):
    """kill -9 after accepting a ballot and before submitting it, then again with its relay
    transaction sent and not yet mined: the relayer started after each finds the ballot in its store,
    lands it exactly once (one relay transaction), and refuses the same ballot replayed to it."""
    _, root = relay_world
    governor = contracts["CommunityGovernor"]
    w3 = chain.provider.web3
    member = local_roles.members[3]
    pid = open_proposal(contracts, local_roles.members[0], 15)
    advance_past(int(governor.proposalSnapshot(pid)))
    ballot = sign_vote(signer, member.private_key, pid, "for")
    sent = relayer_nonce(local_roles)

    with killable_relayer(env, root, local_roles, batch_interval="3600") as (url, process):
        status, item = post(url, "/votes", ballot)
        assert status == 202 and item["status"] == "queued", item
        process.kill()  # accepted, never submitted

    w3.provider.make_request("evm_setAutomine", [False])
    try:
        with killable_relayer(env, root, local_roles, batch_interval="0.2") as (url, process):
            assert get(url, f"/items/{item['id']}")["status"] in ("queued", "submitted")
            status, answer = post(url, "/votes", ballot)  # replayed while queued
            assert status == 409 and "already queued" in answer["error"], answer
            # "submitted" is stored before the transaction is sent: wait for the mempool to hold it.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (
                get(url, f"/items/{item['id']}")["status"] != "submitted"
                or w3.eth.get_transaction_count(local_roles.relayer.address, "pending") == sent
            ):
                time.sleep(0.1)
            assert w3.eth.get_transaction_count(local_roles.relayer.address, "pending") == sent + 1
            process.kill()  # its relay transaction is in the mempool, not mined
        with killable_relayer(env, root, local_roles, batch_interval="0.2") as (url, process):
            w3.provider.make_request("evm_mine", [])
            w3.provider.make_request("evm_setAutomine", [True])
            landed = wait_items(url, [item])[0]
            assert landed["status"] == "cast", landed  # its error names why, should it fail
            status, answer = post(url, "/votes", ballot)  # replayed once cast
            assert status == 409 and "already voted" in answer["error"], answer
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert relayer_nonce(local_roles) == sent + 1  # one relay transaction for the ballot, no resend
    assert int(governor.proposalVotes(pid)[1]) == int(
        governor.getVotes(member.address, governor.proposalSnapshot(pid))
    )


class _MinedWhileAsked(HTTPProvider):
    """ape's anvil, where the relayer's pending batch is mined at the moment the relayer asks whether
    its nonce is used: the gap a loaded host widens between "no receipt yet" and that question."""

    armed = False

    def make_request(self, method, params):
        if self.armed and method == "eth_getTransactionCount" and params[1] == "latest":
            self.armed = False
            super().make_request("evm_mine", [])
            super().make_request("evm_setAutomine", [True])
        return super().make_request(method, params)


def test_a_batch_mined_while_the_relayer_looks_for_it_is_cast_not_resubmitted(
    env, relay_world, contracts, signer, local_roles, monkeypatch
):
    """A restarted relayer re-sends its in-flight batch and the chain refuses it (already known);
    the batch is mined before the relayer checks its nonce. It must find the receipt, not take the
    batch for replaced and submit the ballot again (which then fails: already cast)."""
    _, root = relay_world
    for name, value in {
        **env,
        "VERDICT_RELAY_KEY": local_roles.relayer.private_key,
        "VERDICT_STORE_URL": f"sqlite:///{root / 'relay-race.sqlite'}",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    deployment, abis = Deployment.load(settings.deployment), load_abis(settings.build_manifest)
    account = Account.from_key(local_roles.relayer.private_key)

    def relayer(provider: HTTPProvider) -> Relayer:
        w3 = Web3(provider)
        return Relayer(settings, w3, DaoContracts.from_record(w3, deployment, abis), account)

    governor = contracts["CommunityGovernor"]
    member = local_roles.members[1]
    pid = open_proposal(contracts, local_roles.members[0], 16)
    advance_past(int(governor.proposalSnapshot(pid)))
    w3 = chain.provider.web3
    sent = relayer_nonce(local_roles)
    first = relayer(HTTPProvider(networks.provider.uri))
    item = first.accept_vote(sign_vote(signer, member.private_key, pid, "for"))
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        sending = threading.Thread(target=first.flush, daemon=True)  # waits for its receipt
        sending.start()
        deadline = time.monotonic() + 60
        while w3.eth.get_transaction_count(local_roles.relayer.address, "pending") == sent:
            assert time.monotonic() < deadline, "the first relayer sent nothing"
            time.sleep(0.05)
        provider = _MinedWhileAsked(networks.provider.uri)
        restarted = relayer(provider)  # finds the batch in flight in the store
        provider.armed = True
        restarted.flush()
        landed = restarted.item(item.id)
        assert landed is not None and landed.status == "cast", landed
        sending.join(timeout=120)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert relayer_nonce(local_roles) == sent + 1  # one relay transaction, no resubmission
    assert int(governor.proposalVotes(pid)[1]) == int(
        governor.getVotes(member.address, governor.proposalSnapshot(pid))
    )


def test_a_spent_budget_is_a_503_a_log_line_and_a_metric(
    relay_url, contracts, signer, local_roles, relay_world
):
    """The DAO withdraws the budget (impersonated timelock): the next signed vote is refused with the
    reason, nothing is sent, and the relayer reports it."""
    _, root = relay_world
    relay, timelock = contracts["VoteRelay"], contracts["CommunityTimelock"]
    pid = open_proposal(contracts, local_roles.members[0], 14)
    advance_past(int(contracts["CommunityGovernor"].proposalSnapshot(pid)))
    local_roles.deployer.transfer(timelock, 10**17)  # gas for the impersonated timelock
    relay.withdraw(timelock, relay.budgetLeft(), sender=timelock.address)
    sent = relayer_nonce(local_roles)
    status, answer = post(
        relay_url, "/votes", sign_vote(signer, local_roles.members[2].private_key, pid, "for")
    )
    assert status == 503 and "budget is spent" in answer["error"]
    assert relayer_nonce(local_roles) == sent
    state = get(relay_url, "/status")
    assert state["budget_spent"] is True and state["budget_left_wei"] == "0"
    assert "relay budget spent" in (root / "relay.log").read_text()
    with urllib.request.urlopen(f"{relay_url}/metrics", timeout=30) as response:
        assert "verdict_relay_budget_spent 1.0" in response.read().decode()

    # The DAO refills it: the relayer resumes by itself.
    local_roles.deployer.transfer(relay, 10**17)
    status, item = post(
        relay_url, "/votes", sign_vote(signer, local_roles.members[2].private_key, pid, "for")
    )
    assert status == 202, item
    assert wait_items(relay_url, [item])[0]["status"] == "cast"
    assert get(relay_url, "/status")["budget_spent"] is False
