"""Cross-border items in the oracle network's signed reports (issue 18): four real NetworkNodes in
this process (real anvil, real contracts, the real model, each node's board on loopback HTTP),
stepped by the test so that who quotes when is under its control. Every signer prepares the quote
at the window's end block; only the round's transmitter sends it, just before the report; the
signed reasons hash covers it. Attacks: a gas-burning token in the same report as honest items, a
non-transmitter's own quote standing before the report (older, then newer than the signed one)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from ape import accounts, chain, networks, project
from eth_account import Account
from network_nodes import close, start_nodes

from oracle.chain import load_abis
from oracle.fx_quotes import quote_from_route, sign_quote
from oracle.network.node import transmitter, turn_of
from oracle.routes import best_route, read_pools
from oracle.store import Store
from verdict_deploy import MANIFEST, Roles, deploy_world
from verdict_deploy.fx import FIAT_HEARTBEAT, deploy_feed
from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS

THRESHOLD = 3
UNIT = 10**6
PENDING, SETTLED, REFUNDED = 1, 3, 4
NO_QUOTE = 3  # ICrossBorderRouter.RefundReason
REVIEW, REJECT = 9_999, 10_000  # nearly every score settles: the tests are about quoting, not fraud


@pytest.fixture(scope="module")
def members(node):
    test = accounts.test_accounts
    return (node, test[16], test[17], test[18])


@pytest.fixture(scope="module")
def xnet(tmp_path_factory, artifact, model_dir, members, payer, payee, deployer, outsider):
    roles = Roles.local(nodes=members, quorum=THRESHOLD)
    return deploy_world(
        roles,
        models=[artifact.model_id],
        thresholds=(REVIEW, REJECT),
        fx=True,
        fx_currencies=("USD", "EUR", "GBP"),
        root=tmp_path_factory.mktemp("xnet"),
    )


@pytest.fixture
def nodes(xnet, members, model_dir, tmp_path, payer, payee):
    # no takeover by timeout: the test decides who transmits
    built = start_nodes(
        xnet.deployment,
        members,
        model_dir,
        tmp_path,
        (payer.address, payee.address),
        network_transmit_timeout=60.0,
    )
    yield built
    close(built)


def pay(xnet, payer, payee, amount: int, tin: str, tout: str) -> int:
    cross, tokens = xnet.contracts["CrossBorderRouter"], xnet.fx.tokens
    tokens[tin].mint(payer, amount, sender=payer)
    tokens[tin].approve(cross, amount, sender=payer)
    cross.pay(payee, tokens[tin], tokens[tout], amount, sender=payer)
    return int(cross.paymentCount())


def pay_in_one_block(cross, payer, pays) -> None:
    """Mines the `pays` (payee, tokenIn, tokenOut, amount) together: one block, one window, one report."""
    w3 = networks.provider.web3
    contract = w3.eth.contract(str(cross.address), abi=load_abis(MANIFEST)["ICrossBorderRouter"])
    nonce = w3.eth.get_transaction_count(payer.address, "pending")
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = []
        for k, (to, tin, tout, amount) in enumerate(pays):
            tx = contract.functions.pay(str(to), str(tin), str(tout), amount).build_transaction(
                {"from": payer.address, "nonce": nonce + k, "gas": 400_000}
            )
            signed = Account.sign_transaction(tx, payer.private_key)
            hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    assert all(w3.eth.get_transaction_receipt(h)["status"] == 1 for h in hashes)


def run_until_decided(nodes, cross, ids, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for node_ in nodes:
            node_.step()
        if all(int(cross.payment(i).status) != PENDING for i in ids):
            return
    raise AssertionError(f"not decided: {[int(cross.payment(i).status) for i in ids]}")


def transmits(xnet, start: int) -> list[tuple[str, dict]]:
    """(transmitter, decoded transmit arguments) of every report since `start`."""
    oracle = xnet.contracts["RiskOracle"]
    w3 = networks.provider.web3
    contract = w3.eth.contract(str(oracle.address), abi=load_abis(MANIFEST)["RiskOracle"])
    found = []
    for log in oracle.ReportTransmitted.range(start, chain.blocks.height + 1):
        _, args = contract.decode_function_input(w3.eth.get_transaction(log.transaction_hash)["input"])
        found.append((log.transmitter, args))
    return found


def conversion_of(store: Store, key: str) -> tuple[str, dict]:
    """A node's logged reasons hash and conversion reason for `key`."""
    row = store.scored_many([key])[key]
    conversion = next(r for r in row.reasons if r.get("feature") == "conversion")["conversion"]
    return str(row.reasons_hash), conversion


def test_a_gas_burning_token_in_a_report_stalls_none_of_its_other_items(
    xnet, nodes, members, payer, payee, deployer
):
    """One report holds two honest cross-border payments and one in a token that burns all gas on
    every payout (no pool: no route, and its refund push burns its whole budget). The honest ones
    convert with the transmitter's quote, which every signer derived on its own and whose hash
    their signed reasons hash covers; the hostile one refunds for want of a quote; only the
    transmitter sent quotes."""
    cross = xnet.contracts["CrossBorderRouter"]
    burner = deployer.deploy(project.GasBurningToken)
    burn_feed = deploy_feed(deployer, "BURN / USD", Decimal(1))
    cross.setFxToken(burner, burn_feed, FIAT_HEARTBEAT, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    burner.mint(payer, 100 * 10**18, sender=payer)
    burner.approve(cross, 100 * 10**18, sender=payer)
    burner.setMode(1, 0, sender=deployer)  # BurnAllGas on transfer: pay pulls with transferFrom
    for code in ("USD", "EUR"):
        xnet.fx.tokens[code].mint(payer, 1_000 * UNIT, sender=payer)
        xnet.fx.tokens[code].approve(cross, 1_000 * UNIT, sender=payer)
    start = chain.blocks.height
    tokens = xnet.fx.tokens
    # one block, one window, one report: the three pays mined together
    pay_in_one_block(
        cross,
        payer,
        [
            (payee, tokens["USD"], tokens["EUR"], 500 * UNIT),
            (payee, burner, tokens["EUR"], 10**18),
            (payee, tokens["EUR"], tokens["USD"], 300 * UNIT),
        ],
    )
    honest, hostile, honest2 = range(int(cross.paymentCount()) - 2, int(cross.paymentCount()) + 1)
    run_until_decided(nodes, cross, (honest, hostile, honest2))

    assert [int(cross.payment(i).status) for i in (honest, hostile, honest2)] == [SETTLED, REFUNDED, SETTLED]
    refunds = {
        int(e.id): int(e.reason) for e in cross.CrossBorderRefunded.range(start, chain.blocks.height + 1)
    }
    assert refunds == {hostile: NO_QUOTE}
    reports = transmits(xnet, start)
    assert len(reports) == 1
    sender, args = reports[0]
    accepted = list(cross.QuoteAccepted.range(start, chain.blocks.height + 1))
    assert {e.node for e in accepted} == {sender}, "a node other than the transmitter quoted"
    settled = settled_quotes(cross, start)
    ids = list(args["report"]["ids"])
    by_address = {n.address: n for n in nodes}
    signers = transmitted_signers(xnet, start)
    assert len(signers) >= THRESHOLD
    for pid in (honest, honest2):
        i = ids.index(pid)
        for signer, observation in zip(signers, args["observations"], strict=True):
            reasons_hash, conversion = conversion_of(by_address[signer].store, f"xborder:{pid}")
            # every signer derived the quote the payment converted with, on its own...
            assert conversion["quote_hash"] == "0x" + settled[pid].hex()
            # ...and signed the reasons hash it logged with it (keccak(tag || evidence || quote hash))
            assert "0x" + bytes(observation["reasonsHashes"][i]).hex() == reasons_hash


def settled_quotes(cross, start: int) -> dict[int, bytes]:
    return {
        int(e.id): bytes(e.quoteHash) for e in cross.CrossBorderSettled.range(start, chain.blocks.height + 1)
    }


def transmitted_signers(xnet, start: int) -> list[str]:
    logs = list(xnet.contracts["RiskOracle"].ReportTransmitted.range(start, chain.blocks.height + 1))
    return [str(a) for a in logs[-1].signers]


def foreign_quote(xnet, pid: int, signer, *, issued_at: int, amount: int, tin: str, tout: str):
    """A quote for payment `pid` signed by `signer` (a registered node, not the transmitter), at the
    pools' latest state, issued at `issued_at`."""
    cross = xnet.contracts["CrossBorderRouter"]
    w3 = networks.provider.web3
    tokens = [str(t.address) for t in xnet.fx.tokens.values()]
    graph = read_pools(w3, str(xnet.fx.factory.address), tokens)
    route = best_route(graph, str(xnet.fx.tokens[tin].address), str(xnet.fx.tokens[tout].address), amount)
    quote = quote_from_route(route, payment_id=pid, slippage_bps=300, issued_at=issued_at, ttl=3_000)
    signature = sign_quote(quote, signer.private_key, chain_id=chain.chain_id, contract=str(cross.address))
    return quote, signature


def test_a_non_transmitters_quote_is_replaced_or_flagged_and_never_stalls_the_round(
    xnet, nodes, members, payer, payee, outsider
):
    """Before the report, a registered node that is not the round's transmitter gets its own quote
    in for two payments: one issued before the window's block (the transmitter replaces it with the
    signed quote, and the payment converts with exactly that), one issued after it (it cannot be
    replaced: the transmitter flags the mismatch and transmits anyway). Both payments are decided in
    the one round; the second still converts within the feeds' band."""
    cross = xnet.contracts["CrossBorderRouter"]
    start = chain.blocks.height
    for code in ("USD",):
        xnet.fx.tokens[code].mint(payer, 2_000 * UNIT, sender=payer)
        xnet.fx.tokens[code].approve(cross, 2_000 * UNIT, sender=payer)
    tokens = xnet.fx.tokens
    pay_in_one_block(
        cross,
        payer,
        [
            (payee, tokens["USD"], tokens["EUR"], 400 * UNIT),
            (payee, tokens["USD"], tokens["GBP"], 600 * UNIT),
        ],
    )
    older, newer = int(cross.paymentCount()) - 1, int(cross.paymentCount())
    window_ts = int(chain.blocks.head.timestamp)
    # who transmits: every node signs first (no transmission before its peers' observations exist)
    for node_ in nodes:
        node_.model.refresh()
        assert node_.open_next_window(chain.blocks.height)
    round_ = next(iter(nodes[0].open.values()))
    sorted_nodes = sorted((n.address for n in nodes), key=lambda a: int(a, 16))
    chosen = transmitter(turn_of(round_.report), 0, sorted_nodes, set())
    rogue = next(m for m in members if m.address != chosen)
    for pid, issued, tin, tout, amount in (
        (older, window_ts - 1, "USD", "EUR", 400 * UNIT),
        (newer, window_ts + 5, "USD", "GBP", 600 * UNIT),
    ):
        quote, signature = foreign_quote(
            xnet, pid, rogue, issued_at=issued, amount=amount, tin=tin, tout=tout
        )
        cross.submitQuote(quote.as_tuple(), signature, sender=outsider)
    run_until_decided(nodes, cross, (older, newer))

    settled = settled_quotes(cross, start)
    assert set(settled) == {older, newer}
    signed_older = conversion_of(nodes[0].store, f"xborder:{older}")[1]["quote_hash"]
    signed_newer = conversion_of(nodes[0].store, f"xborder:{newer}")[1]["quote_hash"]
    assert "0x" + settled[older].hex() == signed_older  # replaced: converted with the signed quote
    assert "0x" + settled[newer].hex() != signed_newer  # could not be replaced...
    transmitting = next(n for n in nodes if n.address == chosen)
    assert transmitting.fx is not None and transmitting.fx.mismatches == 1  # ...and was flagged
    assert transmitting.board.status()["quote_mismatches"] == 1
    reports = transmits(xnet, start)
    assert [t for t, _ in reports] == [chosen]  # one round, the rotation's transmitter
