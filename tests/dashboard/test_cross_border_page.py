"""The cross-border page in a real headless Chromium: two CrossBorderRouter payments on a real chain,
one quoted by the node's quoter (the real route engine over real Uniswap v2 pools) and settled, one
never quoted and refunded; the page shows each one's quote, route, realised rate and outcome."""

from __future__ import annotations

from ape import networks
from playwright.sync_api import expect

from oracle.chain import load_abis
from oracle.fx_node import CrossBorderQuoter
from oracle.store import Store
from oracle.verdict_codec import NO_TERMS
from verdict_demo.dashboard import free_port, start_dashboard, wait_healthy
from verdict_deploy import MANIFEST, deploy_world, verdict_settings

UNIT = 10**6
SETTLE_SCORE = 100


def test_the_cross_border_page_shows_quote_route_rate_and_outcome(
    local_roles, dash_artifact, dash_model_dir, node, payer, payee, page, tmp_path
):
    world = deploy_world(
        local_roles, models=[dash_artifact.model_id], fx=True, fx_currencies=("USD", "EUR"), root=tmp_path
    )
    cross, oracle, fx = world.contracts["CrossBorderRouter"], world.oracle, world.fx
    usd, eur = fx.tokens["USD"], fx.tokens["EUR"]
    usd.mint(payer, 3_000 * UNIT, sender=payer)
    usd.approve(cross, 3_000 * UNIT, sender=payer)
    cross.pay(payee, usd, eur, 1_000 * UNIT, sender=payer)
    cross.pay(payee, usd, eur, 2_000 * UNIT, sender=payer)
    converted, unquoted = 1, 2

    w3 = networks.provider.web3
    quoter = CrossBorderQuoter(
        w3,
        load_abis(MANIFEST)["ICrossBorderRouter"],
        str(cross.address),
        str(fx.factory.address),
        [str(t.address) for t in fx.tokens.values()],
        w3.eth.account.from_key(node.private_key),
    )
    prepared = quoter.prepare(converted)
    cross.submitQuote(prepared.quote.as_tuple(), prepared.signature, sender=node)
    model_id = bytes.fromhex(dash_artifact.model_id.removeprefix("0x"))
    batch = [(cross, model_id, [(i, SETTLE_SCORE, b"\x01" * 32, NO_TERMS) for i in (converted, unquoted)])]
    oracle.submitVerdicts(batch, sender=node)
    assert int(cross.payment(converted).status) == 3 and int(cross.payment(unquoted).status) == 4

    env = verdict_settings(
        world.deployment,
        store_url=f"sqlite:///{tmp_path / 'node.sqlite'}",
        model_dir=dash_model_dir,
        metrics_port="0",
        log_format="json",
    )
    Store(env["VERDICT_STORE_URL"]).close()
    port = free_port()
    dashboard = start_dashboard(env, tmp_path / "dashboard.log", port)
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", dashboard), (tmp_path / "dashboard.log").read_text()
        page.goto(f"http://127.0.0.1:{port}/")
        page.click('[data-nav="crossborder"]')
        expect(page.locator('[data-kpi="xb-payments"]')).to_have_text("2")
        expect(page.locator('[data-kpi="xb-converted"]')).to_have_text("1")
        settled = page.locator(f'tr[data-xb="{converted}"]')
        expect(settled.locator("[data-xb-outcome]")).to_have_text("settled")
        expect(settled.locator("[data-route]")).to_have_text("mUSD → mEUR")
        expect(settled.locator("[data-quote]")).to_contain_text(prepared.reasons["quote_hash"][:10])
        rate = float(settled.locator("[data-realised-rate]").inner_text())
        quoted = prepared.quote.amount_out / prepared.quote.amount_in
        assert quoted * 0.995 <= rate <= quoted * 1.005  # the fill landed at the quote, within its slippage
        refunded = page.locator(f'tr[data-xb="{unquoted}"]')
        expect(refunded.locator("[data-xb-outcome]")).to_have_text("refunded (no quote)")
        expect(refunded.locator("[data-route]")).to_have_text("—")
    finally:
        dashboard.stop()
