"""The oracle node's side of a cross-border payment (issue 18.3-18.4): read the payment, route it
over the pools at the latest block, sign the quote, and hand the daemon a ready `submitQuote` call
and the reasons fragment. The daemon sends the call through its own sender (one nonce sequence per
node key), before the verdict batch that holds the payment.

    quoter = CrossBorderQuoter(w3, cross_border_abi, cross_border, factory, tokens, node_account)
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

from oracle.fx_quotes import FxQuote, quote_digest, quote_from_route, quote_reasons, sign_quote
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

    def prepare(self, payment_id: int, *, gas: GasPrice | None = None) -> PreparedQuote:
        """The best route's signed quote for `payment_id` at the latest block. Raises RouteError
        when the payment's tokens are not connected, QuoteOffFeedError when the pools cannot fill
        it within the band of the feeds (either way the verdict refunds for want of a quote)."""
        block = self._w3.eth.get_block("latest")
        payer, _, _, _, token_in, token_out, amount_in = self._contract.functions.payment(payment_id).call(
            block_identifier=block["number"]
        )
        del payer
        graph = read_pools(self._w3, self._factory, self._tokens, block=block["number"])
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
