"""The demo's cross-border payments (`verdict_demo.crossborder`, issue 18.8) against a real oracle
network of four nodes (in this process: `network_nodes`), as `run_demo` runs them after the replay:
the ECB rates move the feeds a business day per payment, an arbitrageur trades the pools back to the
feeds after each move, the middle payment is sandwiched (its feed jumps past the band after its
quote), and the `cross_border` section of demo-summary.json holds."""

from __future__ import annotations

import io
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from ape import accounts, chain, networks
from eth_account import Account
from eth_account.signers.local import LocalAccount
from network_nodes import close, running, start_nodes
from rich.console import Console

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.dashboard.crossborder import CrossBorderView
from oracle.traffic import Sender
from verdict_demo.arbitrage import THRESHOLD_BPS
from verdict_demo.crossborder import CURRENCIES, DemoCrossBorder
from verdict_deploy import MANIFEST, Roles, deploy_world

BPS = 10_000
AMOUNTS = (120.0, 35.5, 410.0, 18.25, 75.0)  # mUSD; the middle one (index 2) is sandwiched
SANDWICHED = len(AMOUNTS) // 2


@dataclass
class Payers:
    """What DemoCrossBorder needs of the demo's replay: its chain client, sender and wallets."""

    chain: ChainClient
    sender: Sender
    wallets: list[LocalAccount]

    def address_of(self, index: int) -> str:
        return self.wallets[index].address


@pytest.fixture(scope="module")
def summary(tmp_path_factory, artifact, model_dir, node, payer, payee, deployer) -> dict[str, Any]:
    test = accounts.test_accounts
    members = (node, test[16], test[17], test[18])
    root = tmp_path_factory.mktemp("xdemo")
    world = deploy_world(
        Roles.local(nodes=members, quorum=3),
        models=[artifact.model_id],
        thresholds=(9_999, 10_000),  # the test is about conversion, not fraud
        fx=True,
        fx_currencies=CURRENCIES,
        root=root,
    )
    client = ChainClient(networks.provider.uri, Deployment.load(world.deployment), load_abis(MANIFEST))
    payers = Payers(
        client,
        Sender(client.w3, client.chain_id()),
        [Account.from_key(payer.private_key), Account.from_key(payee.private_key)],
    )
    nodes = start_nodes(world.deployment, members, model_dir, root, (payer.address, payee.address))
    rows = [SimpleNamespace(payer=0, payee=1, amount=a) for a in AMOUNTS]
    screen = io.StringIO()
    demo = DemoCrossBorder(
        payers,
        world.fx,
        feeder=Account.from_key(deployer.private_key),
        abis=load_abis(MANIFEST),
        start_block=world.start_block,
        slippage_bps=nodes[0].settings.fx_slippage_bps,
    )
    try:
        with running(nodes):
            section = demo.run(rows, Console(file=screen, width=200))
    finally:
        close(nodes)
    band = world.contracts["CrossBorderRouter"].deviationBandBps()
    refunds = world.contracts["CrossBorderRouter"].CrossBorderRefunded.range(
        world.start_block, chain.blocks.height + 1
    )
    # what the dashboard's /crossborder page shows of the same chain (its browser test: tests/dashboard)
    page = CrossBorderView(client, Deployment.load(world.deployment), load_abis(MANIFEST)).page()
    return {
        **section,
        "refunded_amounts": {int(e.id): int(e.amountIn) for e in refunds},
        "screen": screen,
        "page": page,
        "gaps_after": demo.gaps_after,
        "band_bps": int(band),
    }


def test_every_payment_converts_or_refunds_and_the_sandwich_refunds_for_slippage(summary):
    assert summary["payments"] == len(AMOUNTS)
    assert summary["converted"] + summary["refunded"] == summary["payments"]
    assert summary["refunded_for_slippage"] >= 1, summary["screen"].getvalue()
    assert summary["refund_reasons"].get("quote off feed", 0) >= 1  # the sandwiched one, on chain
    assert sum(summary["route_hops"].values()) == summary["converted"]


def test_with_the_arbitrageur_only_the_sandwiched_payment_refunds(summary):
    """The arbitrageur keeps the pools at the feeds, so the nodes quote every payment: each one
    converts but the sandwiched one, and it alone counts as refunded for slippage."""
    outcomes = [item["outcome"] for item in summary["items"]]
    expected = ["settled"] * len(AMOUNTS)
    expected[SANDWICHED] = "refunded"
    assert outcomes == expected, summary["screen"].getvalue()
    assert summary["refunded_for_slippage"] == 1
    assert summary["refund_reasons"] == {"quote off feed": 1}
    assert summary["arbitrage"]["trades"] >= 1  # the feeds moved off the seeding day's rates


def test_after_each_arbitrage_every_pool_is_within_the_band_of_the_feeds(summary):
    """Every pool the routes may use (v2 pairs, v3 pools of every tier), after every feed move:
    back within the arbitrageur's threshold, far inside the router's band."""
    assert len(summary["gaps_after"]) == len(AMOUNTS)
    for gaps in summary["gaps_after"]:
        assert any(name.startswith("v2 EUR/USD") for name in gaps) and any(
            name.startswith("v3 GBP/USD") for name in gaps
        )
        for name, gap in gaps.items():
            assert abs(gap) <= THRESHOLD_BPS + 1 < summary["band_bps"], (name, gap)
    assert summary["arbitrage"]["worst_gap_bps"] <= THRESHOLD_BPS + 1


def test_each_payee_got_the_bound_or_the_payer_was_refunded_exactly(summary):
    bound = summary["slippage_bound_bps"]
    assert summary["converted"] >= 1
    for item in summary["items"]:
        amount_in = int(item["amount_in"])
        if item["outcome"] == "settled":
            quoted, received = int(item["quoted_out"]), int(item["paid_out"]) + int(item["fee"])
            assert received >= quoted * (BPS - bound) // BPS
            assert received >= int(item["min_out"])
        else:
            assert item["outcome"] == "refunded"
            assert summary["refunded_amounts"][item["id"]] == amount_in
    worst = summary["worst_slippage_bps"]
    assert worst is None or worst <= bound


def test_the_dashboard_page_shows_the_demos_cross_border_payments(summary):
    """The /crossborder page's rows are the demo's payments: each with its outcome, and a converted
    one with its quote, route and realised rate."""
    page = summary["page"]
    rows = {r.id: r for r in page["payments"]}
    assert sorted(rows) == [item["id"] for item in summary["items"]]
    assert page["summary"]["converted"] == summary["converted"]
    for item in summary["items"]:
        row = rows[item["id"]]
        assert row.outcome == item["outcome"]
        if row.outcome == "settled":
            assert row.quote_hash and row.route == tuple(item["route"]) and len(row.route) >= 2
            assert row.realised_rate is not None and row.quoted_rate is not None
    assert any(r.refund_reason == "quote off feed" and r.quote_hash for r in rows.values())
