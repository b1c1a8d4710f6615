"""The demo's cross-border payments (issue 18): after the router's replay, some legitimate payers pay
again, in mock USD for a payee paid in EUR or GBP, through the CrossBorderRouter, behind the same
oracle network. The network's nodes score each one, the round's transmitter quotes it just before
its report (`oracle.network.fx`), and the router converts within the quote's and the feeds' bounds
or refunds the payer in full.

The ECB reference rates move the price feeds a business day per payment from the day the pools were
seeded at, and after each move an arbitrageur (`verdict_demo.arbitrage`) trades the pools back to
the feeds, as arbitrageurs do on a real chain (without it the nodes soon decline to quote: a fill
off the feeds' band). The payment in the middle is sandwiched: once its quote is accepted, its
currency's feed jumps past the band before the report lands, so the router refunds it (`quote off
feed`) instead of converting at a rate the feeds no longer back. Only such refunds, and a missing
quote because the fill was off the feeds' band, count as refunded for slippage; every refund's
reason is in `refund_reasons`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from web3.exceptions import ContractLogicError

from oracle.errors import VerdictError
from oracle.fx_daemon import EcbDayRates
from oracle.fx_node import CrossBorderQuoter, QuoteOffFeedError
from oracle.fx_report import SLIPPAGE_REFUNDS, CrossBorderRecord, cross_border_summary, read_cross_border
from oracle.routes import RouteError
from oracle.traffic import call_tx
from verdict_demo.arbitrage import Arbitrageur
from verdict_deploy.fx import FEED_DECIMALS, RATE_DAY, WETH

CURRENCIES = ("USD", "EUR", "GBP")  # the demo's FX world: three currencies and WETH
PAYMENTS = 12  # cross-border payments after the router's replay, the middle one sandwiched
UNIT = 10**6
SANDWICH_MOVE = Decimal("1.03")  # the feed jump after the quote: twice the router's 150 bps band
QUOTE_WAIT = 30.0  # seconds to wait for the transmitter's quote of the sandwiched payment
STATUSES = ("none", "pending", "held", "settled", "refunded")
OFF_BAND = "no quote: fill off the feeds' band"  # a NoQuote refund the nodes declined for slippage
# The arbitrageur's key: fixed, so the demo's chain is the same every run (funded by anvil_setBalance).
ARBITRAGEUR_KEY = keccak(text="verdict demo arbitrageur")


@dataclass
class DemoCrossBorder:
    """Sends the demo's cross-border payments and reads back their outcomes."""

    replay: Any  # verdict_demo.replay.Replay
    fx: Any  # verdict_deploy.fx.FxWorld
    feeder: LocalAccount  # holds UPDATER_ROLE on the feeds (the deployer)
    abis: dict[str, list[dict[str, Any]]]
    start_block: int
    slippage_bps: int  # the nodes' quotes' slippage (VERDICT_FX_SLIPPAGE_BPS)
    arbitrage: bool = True  # trade the pools back to the feeds after each feed move
    gaps_after: list[dict[str, float]] = field(default_factory=list)  # each pool's bps off, per arbitrage

    @property
    def _w3(self) -> Any:
        return self.replay.chain.w3

    def run(self, rows: Sequence[Any], console: Console) -> dict[str, Any]:
        """Pays `rows` (scenario rows: payer, payee, amount in USD) cross-border, one at a time, each
        decided before the next; returns the `cross_border` section of demo-summary.json."""
        cross = self._w3.eth.contract(str(self.fx.cross_border.address), abi=self.abis["ICrossBorderRouter"])
        day = RATE_DAY
        arbitrageur = self._arbitrageur() if self.arbitrage else None
        trades = 0
        for n, row in enumerate(rows):
            day, prices = self._post_feeds(day + timedelta(days=1))
            if arbitrageur is not None:
                trades += arbitrageur.rebalance(prices)
                self.gaps_after.append(arbitrageur.gaps(prices))
            out_code = ("EUR", "GBP")[n % 2]
            payer = self.replay.wallets[int(row.payer)]
            payee = self.replay.address_of(int(row.payee))
            amount = max(1, round(float(row.amount) * UNIT))
            sandwich = n == len(rows) // 2
            payment_id = self._pay(cross, payer, payee, amount, out_code, sandwich=sandwich)
            if sandwich:
                self._jump_feed(cross, out_code, prices[out_code])
            outcome = self._wait(cross, payment_id)
            note = " (its feed jumped past the band after the quote)" if sandwich else ""
            console.print(
                f"cross-border {payment_id}: {amount / UNIT:,.2f} mUSD -> m{out_code} at the ECB rate of "
                f"{day.isoformat()}: {outcome}{note}"
            )
        if arbitrageur is not None:
            worst_now = self._worst_gap() or 0.0
            console.print(
                f"arbitrageur: {trades} trades kept {len(arbitrageur.pools)} pools within "
                f"{worst_now:.1f} bps of the feeds after each move"
            )
        records = read_cross_border(self.replay.chain, self.abis, self.start_block)
        off_feed = self._declined_off_feed(cross, records)
        for r in records:
            if r.id in off_feed:
                r.refund_reason = OFF_BAND
        refunded = [r for r in records if r.outcome == "refunded"]
        worst = self._worst_gap()
        return {
            **cross_border_summary(records),
            # slippage only: the quote off the feeds on chain (the sandwich), a swap below its bound,
            # or no quote because the pools' fill was off the feeds' band (on chain: NoQuote); any
            # other refund (no route, a stale feed, a rejection) is only in `refund_reasons`
            "refunded_for_slippage": sum(r.refund_reason in (*SLIPPAGE_REFUNDS, OFF_BAND) for r in refunded),
            "refunded": len(refunded),
            "refund_reasons": {k: sum(r.refund_reason == k for r in refunded) for k in _reasons(refunded)},
            "slippage_bound_bps": self.slippage_bps,
            "arbitrage": {
                "trades": trades,
                "worst_gap_bps": None if worst is None else round(worst, 1),
            },
            "items": [item_of(r) for r in records],
        }

    def _worst_gap(self) -> float | None:
        """The largest gap of a pool to the feeds after any arbitrage, in bps."""
        return max((abs(g) for gaps in self.gaps_after for g in gaps.values()), default=None)

    def _arbitrageur(self) -> Arbitrageur:
        arbitrageur = Arbitrageur(
            self._w3, self.replay.sender, Account.from_key(ARBITRAGEUR_KEY), self.fx, self.abis
        )
        arbitrageur.fund()
        return arbitrageur

    def _declined_off_feed(self, cross: Any, records: Sequence[CrossBorderRecord]) -> set[int]:
        """The ids refunded for want of a quote because, at their request's block (where the
        network's nodes quote them), the best route's fill was off the feeds' band."""
        deployment = self.replay.chain.deployment
        quoter = CrossBorderQuoter(
            self._w3,
            self.abis["ICrossBorderRouter"],
            cross.address,
            deployment.address("UniswapV2Factory"),
            [str(t.address) for t in self.fx.tokens.values()],
            self.feeder,
            v3_factory=deployment.contracts.get("UniswapV3Factory"),
            quoter=deployment.contracts.get("QuoterV2"),
        )
        blocks = {
            int(e["args"]["id"]): int(e["blockNumber"])
            for e in cross.events.CrossBorderRequested().get_logs(from_block=self.start_block)
        }
        off: set[int] = set()
        for r in records:
            if r.refund_reason != "no quote":
                continue
            try:
                quoter.prepare(r.id, block=blocks[r.id])
            except QuoteOffFeedError:
                off.add(r.id)
            except (RouteError, ContractLogicError):
                pass  # no route, or a feed the router refused: not a slippage refund
        return off

    def _post_feeds(self, day: date) -> tuple[date, dict[str, Decimal]]:
        """Posts the ECB rates of `day` (or the next business day) to the feeds; returns that day
        and the prices posted."""
        codes = [c for c in self.fx.feeds if c != WETH]
        fixed = {WETH: self.fx.usd_prices[WETH]}
        for _ in range(7):
            try:
                prices = EcbDayRates(day, fixed).usd_prices([*codes, WETH])
                break
            except VerdictError:  # a weekend or a TARGET holiday: no fixing
                day += timedelta(days=1)
        else:
            raise RuntimeError(f"no ECB rates within a week of {day}")
        sender = self.replay.sender
        hashes = [self._feed_tx(code, price) for code, price in prices.items()]
        for h in hashes:
            sender.wait(h)
        return day, prices

    def _feed_tx(self, code: str, price: Decimal, **extra: Any) -> str:
        feed = self._w3.eth.contract(str(self.fx.feeds[code].address), abi=self.abis["FxPriceFeed"])
        answer = int(Decimal(price) * (Decimal(10) ** FEED_DECIMALS))
        tx = call_tx(feed.functions.updateAnswer(answer), gas=120_000) | extra
        return str(self.replay.sender.send(self.feeder, tx))

    def _pay(
        self, cross: Any, payer: LocalAccount, payee: str, amount: int, out_code: str, *, sandwich: bool
    ) -> int:
        """Pays `amount` mUSD for `payee` in `out_code`; a sandwiched payment is mined with the chain's
        automine off, and it stays off until `_jump_feed` turns it back on."""
        w3, sender = self._w3, self.replay.sender
        token_in, token_out = str(self.fx.tokens["USD"].address), str(self.fx.tokens[out_code].address)
        usd = w3.eth.contract(token_in, abi=self.abis["MockStablecoin"])
        for call in (usd.functions.mint(payer.address, amount), usd.functions.approve(cross.address, amount)):
            sender.wait(sender.send(payer, call_tx(call, gas=120_000)))
        pay = call_tx(cross.functions.pay(payee, token_in, token_out, amount), gas=300_000)
        if not sandwich:
            sender.wait(sender.send(payer, pay))
            return int(cross.functions.paymentCount().call())
        w3.provider.make_request("evm_setAutomine", [False])
        tx_hash = sender.send(payer, pay)
        w3.provider.make_request("evm_mine", [])
        sender.wait(tx_hash)
        return int(cross.functions.paymentCount().call())

    def _jump_feed(self, cross: Any, code: str, price: Decimal) -> None:
        """Mines the transmitter's quote on its own, then the feed jump (at a higher gas price than any
        node's, so it precedes a report already waiting), then turns automine back on."""
        w3 = self._w3
        try:
            deadline = time.monotonic() + QUOTE_WAIT
            while time.monotonic() < deadline and not self._quote_pending(cross.address):
                time.sleep(0.05)
            w3.provider.make_request("evm_mine", [])  # the quote (or nothing, if none came)
            gas_price = 100 * int(w3.eth.gas_price) + 10**11
            self._feed_tx(code, Decimal(price) * SANDWICH_MOVE, gasPrice=gas_price)
            w3.provider.make_request("evm_mine", [])
        finally:
            w3.provider.make_request("evm_setAutomine", [True])

    def _quote_pending(self, cross: str) -> bool:
        pool = self._w3.provider.make_request("txpool_content", []).get("result") or {}
        pending = [tx for by_nonce in (pool.get("pending") or {}).values() for tx in by_nonce.values()]
        return any(str(tx.get("to", "")).lower() == cross.lower() for tx in pending)

    def _wait(self, cross: Any, payment_id: int, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        status = 1
        while time.monotonic() < deadline:
            status = int(cross.functions.payment(payment_id).call()[2])
            if status != 1:
                break
            time.sleep(0.05)
        return STATUSES[status]


def _reasons(refunded: Sequence[CrossBorderRecord]) -> list[str]:
    return sorted({str(r.refund_reason) for r in refunded})


def item_of(r: CrossBorderRecord) -> dict[str, Any]:
    """One payment in the summary: enough to check its bound (amounts in base units, as strings)."""
    return {
        "id": r.id,
        "outcome": r.outcome,
        "refund_reason": r.refund_reason,
        "amount_in": str(r.amount_in),
        "quoted_out": None if r.quoted_out is None else str(r.quoted_out),
        "min_out": None if r.min_out is None else str(r.min_out),
        "paid_out": None if r.paid_out is None else str(r.paid_out),
        "fee": None if r.fee is None else str(r.fee),
        "route": list(r.route),
    }


def cross_border_rows(rows: Sequence[Any], count: int = PAYMENTS) -> list[Any]:
    """`count` legitimate mUSD payments of the replay, spread over it, to be paid again cross-border."""
    legit = [r for r in rows if not int(r.is_fraud) and r.token == "mUSD" and float(r.amount) >= 1]
    if not legit:
        return []
    step = max(1, len(legit) // count)
    return legit[::step][:count]
