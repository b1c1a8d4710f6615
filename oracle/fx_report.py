"""What happened to each cross-border payment, read back from the CrossBorderRouter's events: its
quote, route, realised rate and outcome (the dashboard's cross-border page), and the figures of the
demo summary's `cross_border` section."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from oracle.errors import ConfigError
from oracle.fx_quotes import submitted_quote
from oracle.gate import XBORDER

BPS = 10_000
REFUND_REASONS = (
    "rejected",
    "review rejected",
    "reclaimed",
    "no quote",
    "quote expired",
    "feed stale",
    "quote off feed",
    "swap failed",
)
"""ICrossBorderRouter.RefundReason by its numeric value."""
SLIPPAGE_REFUNDS = ("quote off feed", "swap failed")
"""Refunds because the fill would have landed below the quote's or the feeds' bound."""
EVENTS = (
    "CrossBorderRequested",
    "QuoteAccepted",
    "CrossBorderHeld",
    "CrossBorderSettled",
    "CrossBorderRefunded",
)


@dataclass
class CrossBorderRecord:
    """One cross-border payment as its events tell it (amounts in base units)."""

    id: int
    payer: str
    payee: str
    token_in: str
    token_out: str
    amount_in: int
    symbol_in: str = ""
    symbol_out: str = ""
    decimals_in: int = 0
    decimals_out: int = 0
    quote_hash: str | None = None
    quoted_out: int | None = None
    min_out: int | None = None
    route: tuple[str, ...] = ()  # token symbols, tokenIn first
    outcome: str = "pending"  # pending, held, settled, refunded
    refund_reason: str | None = None
    paid_out: int | None = None  # to the payee, after the fee
    fee: int | None = None

    @property
    def hops(self) -> int:
        return max(len(self.route) - 1, 0)

    def _rate(self, amount_out: int | None) -> float | None:
        if amount_out is None or self.amount_in == 0:
            return None
        return (amount_out / 10**self.decimals_out) / (self.amount_in / 10**self.decimals_in)

    @property
    def quoted_rate(self) -> float | None:
        """Units of tokenOut per unit of tokenIn the quote promised."""
        return self._rate(self.quoted_out)

    @property
    def realised_rate(self) -> float | None:
        """Units of tokenOut per unit of tokenIn the swap delivered (before the fee)."""
        return None if self.paid_out is None else self._rate(self.paid_out + (self.fee or 0))

    @property
    def slippage_bps(self) -> float | None:
        """How far the fill landed below the quote (negative: above it)."""
        if self.paid_out is None or not self.quoted_out:
            return None
        return (self.quoted_out - self.paid_out - (self.fee or 0)) * BPS / self.quoted_out


def read_cross_border(
    chain: Any, abis: dict[str, list[dict[str, Any]]], from_block: int
) -> list[CrossBorderRecord]:
    """Every cross-border payment since `from_block`, oldest first. `chain`: an `oracle.chain.ChainClient`
    whose deployment holds a CrossBorderRouter (ConfigError otherwise); `abis`: the build manifest's."""
    address = chain.sources.get(XBORDER)
    if address is None:
        raise ConfigError("the deployment has no CrossBorderRouter (deploy with `ape run deploy --fx`)")
    cross = chain.w3.eth.contract(address, abi=abis["ICrossBorderRouter"])
    logs = {
        name: chain.rpc(lambda e=name: getattr(cross.events, e)().get_logs(from_block=from_block))
        for name in EVENTS
    }
    records: dict[int, CrossBorderRecord] = {}
    for e in logs["CrossBorderRequested"]:
        a = e["args"]
        records[int(a["id"])] = CrossBorderRecord(
            int(a["id"]), a["payer"], a["payee"], a["tokenIn"], a["tokenOut"], int(a["amountIn"])
        )
    quote_txs: dict[int, Any] = {}  # id -> the transaction of its latest accepted quote
    for e in logs["QuoteAccepted"]:
        r = records.get(int(e["args"]["id"]))
        if r is not None:
            r.quote_hash = "0x" + bytes(e["args"]["quoteHash"]).hex()
            r.quoted_out, r.min_out = int(e["args"]["amountOut"]), int(e["args"]["minOut"])
            quote_txs[r.id] = e["transactionHash"]
    for e in logs["CrossBorderHeld"]:
        r = records.get(int(e["args"]["id"]))
        if r is not None:
            r.outcome = "held"
    for e in logs["CrossBorderSettled"]:
        r = records.get(int(e["args"]["id"]))
        if r is not None:
            r.outcome, r.paid_out, r.fee = "settled", int(e["args"]["amountOut"]), int(e["args"]["fee"])
            r.quote_hash = "0x" + bytes(e["args"]["quoteHash"]).hex()
    for e in logs["CrossBorderRefunded"]:
        r = records.get(int(e["args"]["id"]))
        if r is not None:
            r.outcome = "refunded"
            reason = int(e["args"]["reason"])
            r.refund_reason = REFUND_REASONS[reason] if reason < len(REFUND_REASONS) else str(reason)
    for pid, tx_hash in quote_txs.items():
        path = chain.rpc(lambda h=tx_hash: submitted_quote(chain.w3, cross, h)).path
        records[pid].route = tuple(chain.token_info(a).symbol for a in path)
    for r in records.values():
        info_in, info_out = chain.token_info(r.token_in), chain.token_info(r.token_out)
        r.symbol_in, r.decimals_in = info_in.symbol, info_in.decimals
        r.symbol_out, r.decimals_out = info_out.symbol, info_out.decimals
    return [records[k] for k in sorted(records)]


def cross_border_summary(records: Iterable[CrossBorderRecord]) -> dict[str, Any]:
    """The demo summary's `cross_border` section: how many were paid, converted and refunded because
    the fill would have slipped past the bound, the worst slippage of a conversion against its
    quote, and the conversions by number of hops."""
    items = list(records)
    converted = [r for r in items if r.outcome == "settled"]
    slips = [s for r in converted if (s := r.slippage_bps) is not None]
    hops: dict[str, int] = {}
    for r in converted:
        hops[str(r.hops)] = hops.get(str(r.hops), 0) + 1
    return {
        "payments": len(items),
        "converted": len(converted),
        "refunded_for_slippage": sum(r.refund_reason in SLIPPAGE_REFUNDS for r in items),
        "worst_slippage_bps": round(max(slips), 1) if slips else None,
        "route_hops": dict(sorted(hops.items())),
    }
