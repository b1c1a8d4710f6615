"""The health page lists the verdicts the daemon parked (issue 13, split and park) with the decoded
reason the chain refused each for, so an operator sees them without reading logs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from oracle.store import Store

UNKNOWN_TARGET = "RiskOracleUnknownTarget(0x2279b7a0a67db372996a5fab50d91eaa73d2ebe6)"


def test_health_page_lists_parked_verdicts_with_their_reason(dao_world, dashboard, page, tmp_path: Path):
    contracts, _ = dao_world
    router = str(contracts["PaymentRouter"].address)
    store = Store(f"sqlite:///{tmp_path / 'node.sqlite'}")
    try:
        page.goto(dashboard + "/health")
        expect(page.locator('[data-kpi="parked"]')).to_have_text("0")
        expect(page.locator("#parked-none")).to_be_visible()

        store.record_scored_many(
            [
                {
                    "key": f"escrow:{i}",
                    "target": router,
                    "item_id": i,
                    "score_bps": 120,
                    "decision": "settle",
                    "model_id": "0x" + "ab" * 32,
                    "reasons": [],
                    "reasons_hash": "0x" + "cd" * 32,
                    "features": {},
                }
                for i in (1, 2)
            ]
        )
        store.mark_parked(
            {"escrow:1": UNKNOWN_TARGET, "escrow:2": "Out of gas: gas required exceeds allowance"}
        )
    finally:
        store.close()

    page.goto(dashboard + "/health")
    expect(page.locator('[data-kpi="parked"]')).to_have_text("2")
    expect(page.locator("#parked tbody tr")).to_have_count(2)
    expect(page.locator('#parked tr[data-parked="escrow:1"] td.reason')).to_have_text(UNKNOWN_TARGET)
    expect(page.locator('#parked tr[data-parked="escrow:2"]')).to_contain_text("Out of gas")
