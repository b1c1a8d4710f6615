"""A store with one payer's scored history, for the `verdict suggest` tests (CLI and dashboard)."""

from __future__ import annotations

from oracle.features import FEATURES, OnlineFeatures, PaymentRecord
from oracle.store import Store

PAYER = "0x00000000000000000000000000000000000000aa"
OTHER = "0x00000000000000000000000000000000000000bb"
PAYEE = "0x00000000000000000000000000000000000000cc"
T0 = 1_700_000_000 - 1_700_000_000 % 86_400
HELD = ("router:0", "router:2")


def scored_history(url: str) -> str:
    """PAYER converts mUSD to EUR four times (two held) and pays mEUR directly four times; OTHER pays
    once in USDC. Every payment goes through the live feature code and gets a verdict row."""
    store = Store(url)
    try:
        recs = [
            PaymentRecord(f"router:{i}", PAYER, PAYEE, "mUSD", 50.0, T0 + i * 3_600, "mEUR") for i in range(4)
        ]
        recs += [
            PaymentRecord(f"router:{10 + i}", PAYER, PAYEE, "mEUR", 50.0, T0 + (10 + i) * 3_600)
            for i in range(4)
        ]
        recs.append(PaymentRecord("router:99", OTHER, PAYEE, "USDC", 10.0, T0 + 99 * 3_600))
        rows = OnlineFeatures(store).compute_many(recs)
        for i, (rec, row) in enumerate(zip(recs, rows, strict=True)):
            feats = dict(zip(FEATURES, map(float, row), strict=True))
            decision = "review" if rec.key in HELD else "settle"
            store.record_scored(
                rec.key, "router", i, 5_000, decision, "0x" + "1" * 64, [], "0x" + "2" * 64, feats
            )
    finally:
        store.close()
    return url
