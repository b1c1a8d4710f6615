"""The oracle node's side of a cross-border payment (issue 18.3-18.4): read the payment, route it
over the pools at the latest block, sign the quote, and hand the daemon a ready `submitQuote` call
and the reasons fragment. The daemon sends the call through its own sender (one nonce sequence per
node key), before the verdict batch that holds the payment.

    quoter = CrossBorderQuoter(w3, cross_border_abi, cross_border, factory, tokens, node_account,
                               v3_factory=v3_factory, quoter=quoter_v2)   # v3: optional
    prepared = quoter.prepare(payment_id)
    send(to=quoter.address, data=prepared.calldata)        # the daemon's sender
    reasons |= {"conversion": prepared.reasons}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3

from oracle.fx import lock_premium_bps
from oracle.fx_quotes import (
    FxQuote,
    FxRateLock,
    lock_offer,
    quote_digest,
    quote_from_route,
    quote_reasons,
    sign_quote,
)
from oracle.routes import GasPrice, Route, RouteError, best_route, read_pools

DEFAULT_SLIPPAGE_BPS = 50
DEFAULT_TTL = 300  # seconds a quote lives: a verdict normally follows within a few blocks


@dataclass(frozen=True)
class PreparedQuote:
    quote: FxQuote
    route: Route
    digest: bytes
    signature: bytes
    calldata: bytes  # submitQuote(quote, signature), ready for the daemon's sender
    reasons: dict[str, Any]


class QuoteOffFeedError(RouteError):
    """The best route's output is outside the router's band around the feeds: the router would
    refuse the quote, so none is sent (the verdict then refunds for want of a quote)."""


class CrossBorderQuoter:
    """Quotes the payments of one CrossBorderRouter with `account`'s key (a RiskOracle node)."""

    def __init__(
        self,
        w3: Web3,
        abi: list[dict[str, Any]],
        cross_border: str,
        factory: str,
        tokens: Iterable[str],
        account: LocalAccount,
        *,
        slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
        ttl: int = DEFAULT_TTL,
        symbols: dict[str, str] | None = None,
        v3_factory: str | None = None,
        quoter: str | None = None,
    ) -> None:
        self._w3 = w3
        self.address = to_checksum_address(cross_border)
        self._contract = w3.eth.contract(address=self.address, abi=abi)
        self._factory = to_checksum_address(factory)
        self._tokens = tuple(to_checksum_address(t) for t in tokens)
        self._account = account
        self._slippage_bps = slippage_bps
        self._ttl = ttl
        self._symbols = symbols or {}
        self._v3_factory = v3_factory
        self._quoter = quoter

    def _graph(self, block: int) -> Any:
        return read_pools(
            self._w3,
            self._factory,
            self._tokens,
            block=block,
            v3_factory=self._v3_factory,
            quoter=self._quoter,
        )

    def prepare(
        self, payment_id: int, *, gas: GasPrice | None = None, block: int | str = "latest"
    ) -> PreparedQuote:
        """The best route's signed quote for `payment_id` at `block` (issued at its timestamp: the
        network's nodes all quote a round at its window's last block, so they derive the same quote
        and sign the same quote hash). Raises RouteError
        when the payment's tokens are not connected, QuoteOffFeedError when the pools cannot fill
        it within the band of the feeds (either way the verdict refunds for want of a quote)."""
        block = self._w3.eth.get_block(block)
        payer, _, _, _, token_in, token_out, amount_in = self._contract.functions.payment(payment_id).call(
            block_identifier=block["number"]
        )
        del payer
        graph = self._graph(block["number"])
        route = best_route(
            graph, to_checksum_address(token_in), to_checksum_address(token_out), amount_in, gas=gas
        )
        functions = self._contract.functions
        feed_out = functions.feedAmountOut(token_in, token_out, amount_in).call(
            block_identifier=block["number"]
        )
        band_bps = functions.deviationBandBps().call(block_identifier=block["number"])
        if abs(route.amount_out - feed_out) * 10_000 > feed_out * band_bps:
            raise QuoteOffFeedError(
                f"payment {payment_id}: the best route gives {route.amount_out}, "
                f"the feeds {feed_out} (band {band_bps} bps)"
            )
        quote = quote_from_route(
            route,
            payment_id=payment_id,
            slippage_bps=self._slippage_bps,
            issued_at=int(block["timestamp"]),
            ttl=self._ttl,
        )
        chain_id = self._w3.eth.chain_id
        digest = quote_digest(quote, chain_id=chain_id, contract=self.address)
        signature = sign_quote(quote, self._account.key, chain_id=chain_id, contract=self.address)
        calldata = self._contract.encode_abi("submitQuote", args=[quote.as_tuple(), signature])
        return PreparedQuote(
            quote,
            route,
            digest,
            signature,
            bytes.fromhex(calldata.removeprefix("0x")),
            quote_reasons(quote, digest, self._symbols),
        )

    def offer_lock(self, payment_id: int, *, tenor: int, sigma_daily: float, fee_bps: int) -> PreparedLock:
        """A signed rate lock for `payment_id`, valid `tenor` seconds: the payee is locked at the
        lower of the best route's and the feeds' output less the fee `fee_bps`, for a premium of
        the at-the-money value of `sigma_daily` (EWMA, oracle/fx.py) over the tenor. The payer
        buys it with `buyLock(lock.as_tuple(), signature)` within the router's LOCK_OFFER_TTL."""
        block = self._w3.eth.get_block("latest")
        number = block["number"]
        payment = self._contract.functions.payment(payment_id).call(block_identifier=number)
        token_in, token_out, amount_in = payment[4], payment[5], payment[6]
        route = best_route(
            self._graph(number), to_checksum_address(token_in), to_checksum_address(token_out), amount_in
        )
        feed_out = self._contract.functions.feedAmountOut(token_in, token_out, amount_in).call(
            block_identifier=number
        )
        premium_bps = lock_premium_bps(sigma_daily, tenor)
        lock = lock_offer(
            payment_id=payment_id,
            amount_in=amount_in,
            market_out=min(route.amount_out, feed_out),
            fee_bps=fee_bps,
            premium_bps=premium_bps,
            issued_at=int(block["timestamp"]),
            tenor=tenor,
        )
        chain_id = self._w3.eth.chain_id
        signature = sign_quote(lock, self._account.key, chain_id=chain_id, contract=self.address)
        return PreparedLock(lock, signature, premium_bps)


@dataclass(frozen=True)
class PreparedLock:
    lock: FxRateLock
    signature: bytes
    premium_bps: float
