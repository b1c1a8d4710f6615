"""Cross-border payments through the real daemon (issue 18): `verdict run` reads `CrossBorderRequested`,
scores it with the model, quotes it through its own sender before the verdict, and posts the feeds;
a held payment converts at approval only with a fresh quote. One cross-border world per module
(`deploy_world(fx=True)`): ape reverts each test's changes, and each daemon gets a fresh store."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import ape
import pandas as pd
import pytest
from ape import chain, networks, project
from e2e_helpers import MANIFEST, wait_until
from eth_account import Account
from structlog.testing import capture_logs
from typer.testing import CliRunner

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.cli import app as cli_app
from oracle.config import Settings
from oracle.errors import ConfigError
from oracle.features import OnlineFeatures, batch_features
from oracle.fx import lock_premium_bps
from oracle.fx_daemon import FxNode, conversion_hash
from oracle.fx_features import FX_FEATURES
from oracle.fx_locks import pair_sigma
from oracle.fx_quotes import FxRateLock
from oracle.launch import DaemonProcess
from oracle.metrics import Metrics
from oracle.scoring_stage import ScoringStage
from oracle.store import Store
from oracle.verdict_codec import NO_TERMS
from verdict_demo.replay import prime_trading_partners
from verdict_deploy import deploy_world, verdict_settings
from verdict_deploy.fx import FIAT_HEARTBEAT, RATE_DAY, deploy_feed
from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS

CURRENCIES = ("USD", "EUR", "GBP")
UNIT = 10**6
PENDING, HELD, SETTLED, REFUNDED = 1, 2, 3, 4
NO_QUOTE = 3  # ICrossBorderRouter.RefundReason
REVIEW, REJECT = 9_999, 10_000  # nearly every score settles: the tests are about conversion, not fraud
PRICES = {"ETH": 3000.0, "mUSD": 1.0, "mEUR": 1.07, "mGBP": 1.26, "WETH": 3400.0, "BURN": 1.0}


@pytest.fixture(scope="module")
def xworld(tmp_path_factory, local_roles, artifact, model_dir, node, payer, payee, deployer, reviewer):
    # The session fixtures the tests use are set up first: ape's isolation rebases otherwise.
    return deploy_world(
        local_roles,
        models=[artifact.model_id],
        thresholds=(REVIEW, REJECT),
        fx=True,
        fx_currencies=CURRENCIES,
        root=tmp_path_factory.mktemp("xborder"),
    )


@pytest.fixture(scope="module")
def cross(xworld):
    return xworld.contracts["CrossBorderRouter"]


@pytest.fixture
def fx_node(node, xworld) -> FxNode:
    """The node's FxNode in this process, over a ChainClient with its key (what `verdict run` builds)."""
    client = ChainClient(
        networks.provider.uri,
        Deployment.load(xworld.deployment),
        load_abis(MANIFEST),
        Account.from_key(node.private_key),
    )
    return FxNode(Settings(build_manifest=MANIFEST, metrics_port=None), client)


def pay(cross, xworld, payer, payee, amount: int, tin: str, tout: str) -> int:
    tokens = xworld.fx.tokens
    tokens[tin].mint(payer, amount, sender=payer)
    tokens[tin].approve(cross, amount, sender=payer)
    cross.pay(payee, tokens[tin], tokens[tout], amount, sender=payer)
    return int(cross.paymentCount())


def status(cross, pid: int) -> int:
    return int(cross.payment(pid).status)


def refund_reasons(cross, start: int) -> dict[int, int]:
    return {int(e.id): int(e.reason) for e in cross.CrossBorderRefunded.range(start, chain.blocks.height + 1)}


def test_the_record_carries_the_fx_contracts_and_its_fx_section(xworld):
    record = Deployment.load(xworld.deployment)
    raw = json.loads(Path(xworld.deployment).read_text())
    assert raw["format"] == 2 and set(record.fx["currencies"]) == {*CURRENCIES, "WETH"}
    for name in ("CrossBorderRouter", "UniswapV2Factory", "UniswapV2Router02", "FxEUR", "FxFeedGBP"):
        assert record.contracts[name] == str(xworld.contracts[name].address)
        abi = json.loads(record.abi_path(name).read_text())
        assert any(entry.get("type") == "function" for entry in abi)
    assert record.fx["currencies"]["EUR"] == {
        "token": "FxEUR",
        "feed": "FxFeedEUR",
        "usd_price": str(xworld.fx.usd_prices["EUR"]),
    }


def next_noon(t: int) -> int:
    """The first 12:00 UTC at or after block time `t`."""
    noon = t - t % 86_400 + 12 * 3_600
    return noon if noon >= t else noon + 86_400


def test_no_unquotable_payment_stalls_the_oracle(
    artifact, model_dir, node, payer, payee, deployer, xworld, cross, tmp_path
):
    """Four cross-border payments, three of which cannot be converted: one in a gas-burning token
    with no pool (no route; its refund push burns all gas), one into a currency whose feed went stale
    (the node may no longer post it, and its post is refused), and two honest ones. The honest ones
    settle with the quote the node posted, the others refund; the node keeps going."""
    start = chain.blocks.height
    feeds = xworld.fx.feeds
    feeds["GBP"].revokeRole(feeds["GBP"].UPDATER_ROLE(), node, sender=deployer)
    # every feed stale (the node re-posts all but GBP), and the payments made at noon UTC: the model
    # scores the hour of day, and at 01:00 UTC the second honest payment reached review
    chain.pending_timestamp = next_noon(chain.pending_timestamp + FIAT_HEARTBEAT + 60)
    chain.mine()
    burner = deployer.deploy(project.GasBurningToken)
    burn_feed = deploy_feed(deployer, "BURN / USD", Decimal(1))
    cross.setFxToken(burner, burn_feed, FIAT_HEARTBEAT, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    burner.mint(payer, 100 * 10**18, sender=payer)
    burner.approve(cross, 100 * 10**18, sender=payer)

    honest = pay(cross, xworld, payer, payee, 500 * UNIT, "USD", "EUR")
    cross.pay(payee, burner, xworld.fx.tokens["EUR"], 100 * 10**18, sender=payer)
    hostile = int(cross.paymentCount())
    burner.setMode(1, 0, sender=deployer)  # BurnAllGas on every transfer: the refund's push too
    stale = pay(cross, xworld, payer, payee, 500 * UNIT, "USD", "GBP")
    honest2 = pay(cross, xworld, payer, payee, 300 * UNIT, "EUR", "USD")

    settings = verdict_settings(
        xworld.deployment,
        store_url=f"sqlite:///{tmp_path / 'node.sqlite'}",
        model_dir=model_dir,
        node_key=node.private_key,
        poll_interval="0.01",
        metrics_port="0",
        usd_prices=json.dumps(PRICES),
    )
    # payer and payee have traded for two years: the honest payments look like their history (the
    # test is about conversion; a brand-new pair's $500 may score at the very top of the scale)
    prime_trading_partners(
        settings["VERDICT_STORE_URL"], payer.address, payee.address, chain.blocks.head.timestamp
    )
    daemon = DaemonProcess.start(settings, tmp_path / "node.log")
    try:
        daemon.wait_ready()
        ids = (honest, hostile, stale, honest2)
        assert wait_until(lambda: all(status(cross, i) != PENDING for i in ids), timeout=90), (
            daemon.log_text()[-3000:]
        )
        assert daemon.running
    finally:
        daemon.stop()

    assert status(cross, honest) == SETTLED and status(cross, honest2) == SETTLED
    assert refund_reasons(cross, start) == {hostile: NO_QUOTE, stale: NO_QUOTE}
    log_text = daemon.log_text()
    assert "feed update refused" in log_text and "not quoted" in log_text
    assert "no usable feed price, valuing at VERDICT_USD_PRICES" in log_text  # every feed was stale

    # The feeds the node may post are fresh again; the one it may not is still stale.
    now = chain.blocks.head.timestamp
    assert now - int(feeds["EUR"].latestRoundData()[3]) < FIAT_HEARTBEAT // 2
    assert now - int(feeds["GBP"].latestRoundData()[3]) > FIAT_HEARTBEAT

    # The verdict's on-chain reasons hash commits to the stored evidence and the accepted quote.
    store = Store(f"sqlite:///{tmp_path / 'node.sqlite'}")
    try:
        row = store.scored(f"xborder:{honest}")
        declined = store.scored(f"xborder:{stale}")
    finally:
        store.close()
    assert row is not None and declined is not None
    [accepted] = [e for e in cross.QuoteAccepted.range(start, chain.blocks.height + 1) if int(e.id) == honest]
    [conversion] = [r for r in row.reasons if r["feature"] == "conversion"]
    assert conversion["conversion"]["quote_hash"] == "0x" + bytes(accepted.quoteHash).hex()
    from oracle.evidence import evidence_hash, stored_vector

    evidence = evidence_hash(row.model_id, stored_vector(row.features, list(artifact.feature_names)))
    assert row.reasons_hash == conversion_hash(evidence, bytes(accepted.quoteHash))
    oracle = xworld.contracts["RiskOracle"]
    [posted] = [
        e
        for e in oracle.VerdictPosted.range(start, chain.blocks.height + 1)
        if str(e.target) == str(cross.address) and int(e.id) == honest
    ]
    assert "0x" + bytes(posted.reasonsHash).hex() == row.reasons_hash
    assert any("declined" in r.get("conversion", {}) for r in declined.reasons)
    assert_no_fx_skew(tmp_path / "node.sqlite", {honest: "mEUR", stale: "mGBP", honest2: "mUSD"})
    assert_explain_verifies_the_conversion(settings, tmp_path / "node.sqlite", honest)


def assert_explain_verifies_the_conversion(env: dict[str, str], store_path: Path, pid: int) -> None:
    """`verdict explain --cross-border` recomputes the conversion hash from the stored evidence and
    the quote read back from its submitQuote calldata; a tampered stored quote hash is one error line."""
    explain = ["explain", str(pid), "--cross-border"]
    ok = CliRunner().invoke(cli_app, explain, env=env)
    assert ok.exit_code == 0, ok.output
    text = " ".join(ok.stdout.split())  # rich wraps lines
    assert "Verified against on-chain evidence hash" in text and "matches on-chain" in text
    with sqlite3.connect(store_path) as db:
        [(reasons,)] = db.execute("SELECT reasons FROM verdicts WHERE key = ?", (f"xborder:{pid}",))
        forged = [
            {**r, "conversion": {**r["conversion"], "quote_hash": "0x" + "ee" * 32}}
            if "conversion" in r
            else r
            for r in json.loads(reasons)
        ]
        db.execute("UPDATE verdicts SET reasons = ? WHERE key = ?", (json.dumps(forged), f"xborder:{pid}"))
    tampered = CliRunner().invoke(cli_app, explain, env=env)
    assert tampered.exit_code == 1 and "Traceback" not in tampered.output
    assert tampered.stderr.count("error:") == 1 and tampered.stdout == ""
    assert "never accepted on-chain" in " ".join(tampered.stderr.split())


def assert_no_fx_skew(store_path: Path, token_out: dict[int, str]) -> None:
    """Each live cross-border payment is stored with the token its payee receives, and its scored
    `fx_*` features are 1 for a conversion and equal what training's batch code computes for the
    same stored rows (no train/serve skew)."""
    store = Store(f"sqlite:///{store_path}")
    try:
        stored = store.payments_with_verdicts("xborder:", 0, 2**32 - 1)
    finally:
        store.close()
    by_key = {p.key: (p, row) for p, row in stored}
    frame = pd.DataFrame([dataclasses.asdict(p) for p, _ in stored])
    training = batch_features(frame).set_index(frame["key"])
    for pid, symbol in token_out.items():
        payment, row = by_key[f"xborder:{pid}"]
        assert payment.token_out == symbol and row is not None
        assert row.features["fx_conversion"] == 1.0 and row.features["fx_corridor"] > 0
        for name in FX_FEATURES:
            assert row.features[name] == training.loc[payment.key, name], name


def test_a_held_payment_converts_at_approval_only_with_a_fresh_quote(
    artifact, node, reviewer, payer, payee, xworld, cross, fx_node
):
    oracle = xworld.contracts["RiskOracle"]
    fresh = pay(cross, xworld, payer, payee, 400 * UNIT, "USD", "EUR")
    unquoted = pay(cross, xworld, payer, payee, 400 * UNIT, "USD", "EUR")
    model_id, reasons = bytes.fromhex(artifact.model_id.removeprefix("0x")), bytes.fromhex("22" * 32)
    oracle.submitVerdicts(
        [(cross, model_id, [(i, REVIEW, reasons, NO_TERMS) for i in (fresh, unquoted)])], sender=node
    )
    assert status(cross, fresh) == HELD and status(cross, unquoted) == HELD
    start = chain.blocks.height
    with pytest.raises(ConfigError, match="held this second"):
        fx_node.requote(fresh)  # a quote must be issued after the hold's second
    chain.mine(timestamp=chain.blocks.head.timestamp + 1)

    prepared = fx_node.requote(fresh)
    # A second quote in the same second is refused as not newer: a node restarted after sending
    # one names the standing quote in its reasons instead.
    standing = fx_node._standing_quote(fresh)
    assert standing is not None and standing.digest == prepared.digest
    assert standing.reasons["quote_hash"] == prepared.reasons["quote_hash"]
    cross.review(fresh, True, sender=reviewer)
    cross.review(unquoted, True, sender=reviewer)

    assert status(cross, fresh) == SETTLED
    [settled] = list(cross.CrossBorderSettled.range(start, chain.blocks.height + 1))
    assert bytes(settled.quoteHash) == prepared.digest and int(settled.amountOut) > 0
    assert refund_reasons(cross, start) == {unquoted: NO_QUOTE}
    with pytest.raises(ConfigError, match="not held"):
        fx_node.requote(fresh)


def test_currency_tokens_are_valued_at_the_feed_price_read_once_per_block(
    node, payer, payee, deployer, xworld, cross, tmp_path
):
    """The scoring stage against the chain: a listed currency token is valued at its feed's answer
    (EUR posted at 2.00 USD, the table says 1.07), one feed read per block however many payments it
    holds; a stale feed falls back to the table with one warning, and to no verdict without a table
    price. Plain tokens keep the table."""
    feeds = xworld.fx.feeds
    for code, usd in (("USD", 1.0), ("EUR", 2.0), ("GBP", 1.25)):
        feeds[code].updateAnswer(int(usd * 10**8), sender=node)
    start = chain.blocks.height
    eur = pay(cross, xworld, payer, payee, 500 * UNIT, "EUR", "USD")
    usd = pay(cross, xworld, payer, payee, 500 * UNIT, "USD", "GBP")
    client = ChainClient(networks.provider.uri, Deployment.load(xworld.deployment), load_abis(MANIFEST))
    prices = {k: v for k, v in PRICES.items() if k != "mGBP"}
    store = Store(f"sqlite:///{tmp_path / 'node.sqlite'}")
    stage = ScoringStage(
        Settings(usd_prices=prices, metrics_port=None), client, OnlineFeatures(store), store, Metrics()
    )
    try:
        requests = {r.item_id: r for r in client.gate_requests(start + 1, "latest") if r.source == "xborder"}
        same_block = dataclasses.replace(requests[eur], item_id=10_000)  # another payment in that block
        records = {r.item_id: stage.record(r) for r in (requests[eur], same_block, requests[usd])}
        assert stage.feeds is not None and stage.feeds.reads == 2  # two blocks, three payments
        assert records[eur].amount_usd == pytest.approx(1_000.0) and records[eur].token_out == "mUSD"
        assert records[usd].amount_usd == pytest.approx(500.0) and records[usd].token_out == "mGBP"

        chain.pending_timestamp += FIAT_HEARTBEAT + 60  # every feed now stale
        chain.mine()
        later = chain.blocks.height
        eur_late = pay(cross, xworld, payer, payee, 500 * UNIT, "EUR", "USD")
        gbp_late = pay(cross, xworld, payer, payee, 500 * UNIT, "GBP", "EUR")
        late = {r.item_id: r for r in client.gate_requests(later + 1, "latest") if r.source == "xborder"}
        with capture_logs() as logs:
            fallback = stage.record(late[eur_late])
            unvalued = stage.record(late[gbp_late])
        assert fallback is not None and fallback.amount_usd == pytest.approx(500 * 1.07)
        assert unvalued is None  # no fresh feed and no table price: no verdict, refunded at its deadline
        stale = [e for e in logs if e["event"].startswith("no usable feed price")]
        assert {e["currency"] for e in stale} >= {"EUR", "GBP"} and len(stale) == len(
            {e["currency"] for e in stale}
        )
        assert all("stale" in e["reason"] for e in stale)
        # A currency the router delists is no currency token any more: the table values it.
        cross.removeFxToken(xworld.fx.tokens["EUR"], sender=deployer)
        assert "not listed" in stage.feeds.at(chain.blocks.height)["EUR"].problem
    finally:
        store.close()


def test_the_nodes_lock_offer_is_bought_on_chain_and_a_tampered_one_refused(
    node, payer, payee, model_dir, xworld, cross, tmp_path
):
    """`verdict fx-lock ID` signs a RateLock priced from the pair's EWMA volatility in the ECB
    history; its written `buyLock` calldata, sent as-is from the payer, buys it; the same offer with
    the premium lowered by one unit is refused."""
    for feed in xworld.fx.feeds.values():  # buyLock needs fresh feeds
        feed.updateAnswer(feed.latestRoundData()[1], sender=node)
    pid = pay(cross, xworld, payer, payee, 1_000 * UNIT, "USD", "EUR")
    env = verdict_settings(
        xworld.deployment,
        store_url=f"sqlite:///{tmp_path / 'node.sqlite'}",
        model_dir=model_dir,
        node_key=node.private_key,
        metrics_port="0",
    )
    written = tmp_path / "offer.json"
    result = CliRunner().invoke(
        cli_app, ["fx-lock", str(pid), "--tenor", "1h", "--out", str(written)], env=env
    )
    assert result.exit_code == 0, result.output
    offer = json.loads(written.read_text())
    sigma, _ = pair_sigma("USD", "EUR", RATE_DAY)
    assert offer["sigma_daily"] == sigma and offer["premium_bps"] == pytest.approx(
        lock_premium_bps(sigma, 3600), abs=1e-4
    )
    fields = offer["lock"]
    lock = FxRateLock(
        pid, *(int(fields[k]) for k in ("amountIn", "lockedOut", "premium", "issuedAt", "expiry"))
    )
    assert lock.expiry - lock.issued_at == 3600 and lock.premium > 0 and lock.amount_in == 1_000 * UNIT
    usd = xworld.fx.tokens["USD"]
    usd.mint(payer, lock.premium, sender=payer)
    usd.approve(cross, lock.premium, sender=payer)

    signature = bytes.fromhex(offer["signature"].removeprefix("0x"))
    tampered = dataclasses.replace(lock, premium=lock.premium - 1)
    with ape.reverts(cross.CrossBorderInvalidSigner):
        cross.buyLock(tampered.as_tuple(), signature, sender=payer)
    w3 = networks.provider.web3
    tx = w3.eth.send_transaction(
        {"from": payer.address, "to": cross.address, "data": offer["buy_lock_calldata"]}
    )
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    [bought] = [
        e
        for e in cross.RateLockBought.range(chain.blocks.height, chain.blocks.height + 1)
        if int(e.id) == pid
    ]
    assert "0x" + bytes(bought.lockHash).hex() == offer["lock_hash"] and int(bought.premium) == lock.premium


class MovedRates:
    """A rate source whose EUR is 1% above the seed day's."""

    def __init__(self, base: dict[str, Decimal]) -> None:
        self.base = base

    def usd_prices(self, codes):
        return {c: self.base[c] * (Decimal("1.01") if c == "EUR" else 1) for c in codes}


def test_the_node_posts_a_feed_only_when_it_moved_or_aged(xworld, fx_node):
    fx_node.rates = MovedRates(dict(xworld.fx.usd_prices))
    assert fx_node.post_feeds() == 1
    answer = int(xworld.fx.feeds["EUR"].latestRoundData()[1])
    assert answer == int(xworld.fx.usd_prices["EUR"] * Decimal("1.01") * 10**8)
    assert fx_node.post_feeds() == 0  # run twice: nothing more to post
