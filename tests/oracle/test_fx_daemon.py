"""The cross-border pieces of the node that need no chain: the conversion hash a cross-border
verdict commits to, a cross-border verdict's fixed gas, and the demo summary's `cross_border`
figures from the router's events (the chain paths: tests/e2e/test_cross_border_daemon.py)."""

from __future__ import annotations

import pytest

from oracle.budget import SWAP_GAS, XBORDER_ITEM_GAS, GasBudget
from oracle.fx_daemon import conversion_hash
from oracle.fx_report import CrossBorderRecord, cross_border_summary

EVIDENCE = "0x" + "ab" * 32
QUOTE = bytes.fromhex("cd" * 32)
ROUTER, CROSS, TOKEN = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20


def test_the_conversion_hash_binds_the_evidence_and_the_quote():
    base = conversion_hash(EVIDENCE, QUOTE)
    assert base != EVIDENCE and len(bytes.fromhex(base[2:])) == 32
    assert conversion_hash(EVIDENCE, QUOTE) == base  # deterministic: anyone can recompute it
    assert conversion_hash("0x" + "ac" * 32, QUOTE) != base
    assert conversion_hash(EVIDENCE, bytes.fromhex("ce" * 32)) != base
    with pytest.raises(ValueError):
        conversion_hash(EVIDENCE, b"\x01" * 31)


def test_a_cross_border_verdict_is_given_its_worst_case_whatever_the_token():
    budget = GasBudget({TOKEN: 60_000}, ROUTER, {CROSS: XBORDER_ITEM_GAS})
    assert (
        budget.item(CROSS, TOKEN) == budget.item(CROSS.upper().replace("0X", "0x"), None) == XBORDER_ITEM_GAS
    )
    assert XBORDER_ITEM_GAS > SWAP_GAS * 64 // 63  # the swap always gets its full SWAP_GAS
    assert budget.item(ROUTER, TOKEN) < XBORDER_ITEM_GAS  # other targets keep their budgets


def record(pid: int, outcome: str, *, quoted=None, paid=None, fee=0, reason=None, route=()):
    return CrossBorderRecord(
        pid, "payer", "payee", "in", "out", 1_000_000, "mUSD", "mEUR", 6, 6,
        quote_hash="0x01" if quoted else None, quoted_out=quoted, min_out=quoted,
        route=route, outcome=outcome, refund_reason=reason, paid_out=paid, fee=fee,
    )  # fmt: skip


def test_the_cross_border_summary_counts_conversions_slippage_refunds_and_hops():
    records = [
        record(1, "settled", quoted=930_000, paid=927_000, fee=1_000, route=("mUSD", "mEUR")),
        record(2, "settled", quoted=930_000, paid=925_000, fee=1_000, route=("mUSD", "mGBP", "mEUR")),
        record(3, "refunded", quoted=930_000, reason="swap failed", route=("mUSD", "mEUR")),
        record(4, "refunded", reason="no quote"),
        record(5, "refunded", quoted=930_000, reason="quote off feed", route=("mUSD", "mEUR")),
        record(6, "pending"),
    ]
    summary = cross_border_summary(records)
    assert summary == {
        "payments": 6,
        "converted": 2,
        "refunded_for_slippage": 2,
        "worst_slippage_bps": round((930_000 - 926_000) * 10_000 / 930_000, 1),
        "route_hops": {"1": 1, "2": 1},
    }
    assert records[0].realised_rate == pytest.approx(0.928)
    assert records[0].quoted_rate == pytest.approx(0.93)
    assert cross_border_summary([])["worst_slippage_bps"] is None
