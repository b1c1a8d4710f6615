"""The USD value of a payment at the on-chain feed price (issue 18.6), and the record a cross-border
payment is scored as, for the scoring stage (`oracle.scoring_stage`, one hook).

A currency token listed in the deployment's `fx` section (mUSD, mEUR, ...; by address, so a token
that only calls itself "mEUR" is not one) is valued at its `FxPriceFeed` answer, the price the
CrossBorderRouter checks conversions against, instead of the fixed `VERDICT_USD_PRICES` table.
The feeds are read once per block (one JSON-RPC batch for all of them, cached for the few latest
blocks), never per payment. A feed the router does not list, that reverts, answers nothing
positive, or is older than its heartbeat (as the router judges it) is not used: the payment falls
back to the table, with one warning each time a currency's feed turns unusable (not per payment).
Any other token is valued at the table, as before.

A cross-border payment (`GateRequest.token_out` set) is built by `fx_features.cross_border_record`,
the code training's rows go through, so its `fx_*` features are computed live exactly as in training.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from oracle.config import Settings
from oracle.fx_features import cross_border_record, currency_of, token_for
from oracle.records import PaymentRecord

log = structlog.get_logger("verdict.fx")

_FX_TOKEN = keccak(text="fxToken(address)")[:4]
_LATEST_ROUND = keccak(text="latestRoundData()")[:4]
_FX_TOKEN_TYPES = ["address", "uint32", "uint8", "uint8", "uint32"]  # ICrossBorderRouter.FxToken
_ROUND_TYPES = ["uint80", "int256", "uint256", "uint256", "uint80"]  # AggregatorV3Interface
BLOCKS_KEPT = 8
"""Blocks whose feed reads are kept: a turn's requests span a few recent blocks."""


class FeedReads(Protocol):
    """The chain reads the valuation needs (`oracle.chain.ChainClient` is one)."""

    def raw_calls_at(self, calls: list[tuple[str, bytes]], block: int) -> list[bytes | None]: ...

    def block_timestamp(self, number: int) -> int: ...


@dataclass(frozen=True, slots=True)
class FeedPrice:
    """One currency's feed at one block: its USD price, or why it is not used."""

    usd: float | None
    problem: str = ""  # "" when usd is set


class FeedPrices:
    """USD prices of the deployment's currency tokens at their feeds, per block."""

    def __init__(self, settings: Settings, chain: FeedReads, router: str, tokens: Mapping[str, str]) -> None:
        """router: the CrossBorderRouter (which lists each token's feed and heartbeat); tokens:
        currency code -> token address (the record's `fx` section)."""
        self._settings = settings
        self._chain = chain
        self._router = to_checksum_address(router)
        self._codes = {to_checksum_address(a).lower(): code for code, a in tokens.items()}
        self._tokens = {code: to_checksum_address(a) for code, a in tokens.items()}
        self._blocks: OrderedDict[int, dict[str, FeedPrice]] = OrderedDict()
        self._problems: dict[str, str] = {}  # code -> the problem last warned about ("" = fine)
        self.reads = 0  # blocks read (one batch each)

    @classmethod
    def for_chain(cls, settings: Settings, chain: Any) -> FeedPrices | None:
        """The feed prices of `chain`'s deployment, or None when it has no CrossBorderRouter and fx
        section (every token is then valued at the table)."""
        deployment = getattr(chain, "deployment", None)
        if deployment is None or "CrossBorderRouter" not in getattr(deployment, "contracts", {}):
            return None
        currencies = dict(deployment.fx.get("currencies", {}))
        if not currencies:
            return None
        tokens = {code: deployment.address(c["token"]) for code, c in currencies.items()}
        return cls(settings, chain, deployment.address("CrossBorderRouter"), tokens)

    def usd_price(self, token: str, symbol: str, block: int) -> float | None:
        """USD per whole unit of `token` (address) for a payment mined in `block`: its feed's answer
        for a listed currency token with a usable feed, else the table's price of `symbol` (None
        when the table has none either)."""
        code = self._codes.get(token.lower())
        if code is not None:
            price = self.at(block).get(code)
            if price is not None and price.usd is not None:
                return price.usd
        return self._settings.usd_prices.get(symbol)

    def at(self, block: int) -> dict[str, FeedPrice]:
        """Every currency's feed price at `block` (read once, then cached)."""
        known = self._blocks.get(block)
        if known is not None:
            return known
        prices = self._read(block)
        self._blocks[block] = prices
        while len(self._blocks) > BLOCKS_KEPT:
            self._blocks.popitem(last=False)
        self._warn_changes(prices, block)
        return prices

    def _read(self, block: int) -> dict[str, FeedPrice]:
        self.reads += 1
        codes = list(self._tokens)
        listed = self._chain.raw_calls_at(
            [(self._router, _FX_TOKEN + abi_encode(["address"], [self._tokens[c]])) for c in codes], block
        )
        feeds: dict[str, tuple[str, int, int]] = {}  # code -> (feed, heartbeat, feed decimals)
        out: dict[str, FeedPrice] = {}
        for code, raw in zip(codes, listed, strict=True):
            if raw is None or len(raw) < 160:
                out[code] = FeedPrice(None, "the router's fxToken read failed")
                continue
            feed, heartbeat, _, feed_decimals, _ = abi_decode(_FX_TOKEN_TYPES, raw)
            if int(feed, 16) == 0 or heartbeat == 0:
                out[code] = FeedPrice(None, "not listed on the CrossBorderRouter (no feed)")
                continue
            feeds[code] = (to_checksum_address(feed), int(heartbeat), int(feed_decimals))
        rounds = self._chain.raw_calls_at([(f, _LATEST_ROUND) for f, _, _ in feeds.values()], block)
        now = self._chain.block_timestamp(block) if feeds else 0
        for (code, (_, heartbeat, decimals)), raw in zip(feeds.items(), rounds, strict=True):
            if raw is None or len(raw) < 160:
                out[code] = FeedPrice(None, "the feed's latestRoundData failed")
                continue
            _, answer, _, updated_at, _ = abi_decode(_ROUND_TYPES, raw)
            if answer <= 0:
                out[code] = FeedPrice(None, f"the feed answers {answer}")
            elif (age := now - int(updated_at)) > heartbeat:
                out[code] = FeedPrice(None, f"the feed is stale ({age} s old, heartbeat {heartbeat} s)")
            else:
                out[code] = FeedPrice(int(answer) / 10**decimals)
        return out

    def _warn_changes(self, prices: dict[str, FeedPrice], block: int) -> None:
        # One line when a feed turns unusable (and one when it is back), not one per payment.
        for code, price in prices.items():
            before = self._problems.get(code, "")
            if price.problem and price.problem.split(" (")[0] != before.split(" (")[0]:
                fallback = self._settings.usd_prices.get(_table_symbol(code))
                log.warning(
                    "no usable feed price, valuing at VERDICT_USD_PRICES",
                    currency=code,
                    block=block,
                    reason=price.problem,
                    table_price=fallback,
                )
            elif not price.problem and before:
                log.info("feed price usable again", currency=code, block=block, usd=price.usd)
            self._problems[code] = price.problem


def _table_symbol(code: str) -> str:
    return "WETH" if code == "WETH" else token_for(code)


def request_record(
    req: Any, symbol: str, decimals: int, symbol_out: str, price: float, timestamp: int
) -> PaymentRecord | None:
    """A cross-border request (`GateRequest` with `token_out`) as the feature code sees it, built by
    training's `cross_border_record`: valued at `price` (USD per unit of what was paid, the feed's
    or the table's), with the token the payee receives."""
    return cross_border_record(
        req.key,
        req.payer,
        req.payee,
        symbol,
        symbol_out,
        int(req.amount),
        int(decimals),
        {currency_of(symbol): price, symbol: price},
        int(timestamp),
    )
