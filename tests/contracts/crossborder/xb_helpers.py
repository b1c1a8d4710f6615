"""What the cross-border tests share: paying, quoting through the real route engine over the real
pools, signing as an oracle node, and posting a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from router_helpers import MODEL_ID, NO_TERMS, REASONS_HASH, submit

from oracle.fx_quotes import FxQuote, FxRateLock, quote_digest, quote_from_route, sign_quote
from oracle.routes import Route, best_route, read_pools

UNIT = 10**6  # the currency tokens' decimals
# ICrossBorderRouter.Status
NONE, PENDING, HELD, SETTLED, REFUNDED = range(5)
# ICrossBorderRouter.RefundReason
(
    REJECTED,
    REVIEW_REJECTED,
    RECLAIMED,
    NO_QUOTE,
    QUOTE_EXPIRED,
    FEED_STALE,
    QUOTE_OFF_FEED,
    SWAP_FAILED,
    LOCK_UNCOVERED,
) = range(9)


@dataclass
class XB:
    fx: Any
    cross: Any
    oracle: Any
    node: Any
    payer: Any
    payee: Any
    chain: Any

    def token(self, code: str) -> Any:
        return self.fx.tokens[code]

    def pay(self, amount: int, tin: str = "USD", tout: str = "EUR", *, payer=None, payee=None) -> int:
        self.cross.pay(
            payee or self.payee, self.token(tin), self.token(tout), amount, sender=payer or self.payer
        )
        return self.cross.paymentCount()

    def quote(
        self,
        pid: int,
        *,
        slippage_bps: int = 50,
        ttl: int = 600,
        issued_at: int | None = None,
        path: tuple[str, ...] | None = None,
        fees: tuple[int, ...] | None = None,
        amount_out: int | None = None,
    ) -> FxQuote:
        """Payment `pid`'s quote: the route engine's best route (v2 pairs and v3 pools) at the
        pools' current state, or the given `path` (v2 hops unless `fees` says otherwise) priced on
        chain; `amount_out` overrides the quoted amount."""
        p = self.cross.payment(pid)
        issued = issued_at if issued_at is not None else self.chain.pending_timestamp
        if path is None:
            route = best_route(self.graph(), str(p.tokenIn), str(p.tokenOut), p.amountIn)
        elif fees is None:
            out = self.fx.router02.getAmountsOut(p.amountIn, list(path))[-1]
            route = Route(tuple(path), p.amountIn, out, 0, out)
        else:
            out = self.graph().amounts_out(p.amountIn, path, fees)[-1]
            route = Route(tuple(path), p.amountIn, out, 0, out, tuple(fees))
        if amount_out is not None:
            route = Route(route.path, route.amount_in, amount_out, 0, amount_out, route.fees)
        return quote_from_route(route, payment_id=pid, slippage_bps=slippage_bps, issued_at=issued, ttl=ttl)

    def graph(self):
        """The pools (v2 and v3) as the route engine reads them now."""
        return read_pools(
            self.chain.provider.web3,
            self.fx.factory.address,
            [t.address for t in self.fx.tokens.values()],
            v3_factory=self.fx.v3.factory.address,
            quoter=self.fx.v3.quoter.address,
        )

    def path(self, *codes: str) -> tuple[str, ...]:
        return tuple(str(self.token(c).address) for c in codes)

    def lock(
        self,
        pid: int,
        *,
        locked_out: int,
        premium: int = 0,
        issued_at: int | None = None,
        tenor: int = 3600,
    ) -> FxRateLock:
        issued = issued_at if issued_at is not None else self.chain.pending_timestamp
        amount_in = self.cross.payment(pid).amountIn
        return FxRateLock(pid, amount_in, locked_out, premium, issued, issued + tenor)

    def buy(self, lock: FxRateLock, signer=None, sender=None):
        return self.cross.buyLock(lock.as_tuple(), self.sign(lock, signer), sender=sender or self.payer)

    def swap_v3(self, who: Any, amount: int, a: str, b: str, fee: int) -> None:
        """`who` swaps `amount` of `a` for `b` on the v3 pool of `fee` (a market mover)."""
        first = self.token(a)
        first.mint(who, amount, sender=who)
        router = self.fx.v3.swap_router
        first.approve(router, amount, sender=who)
        params = (
            first.address,
            self.token(b).address,
            fee,
            who.address,
            self.chain.pending_timestamp + 600,
            amount,
            0,
            0,
        )
        router.exactInputSingle(params, sender=who)

    def sign(self, quote: FxQuote | FxRateLock, signer=None) -> bytes:
        key = (signer or self.node).private_key
        return sign_quote(quote, key, chain_id=self.chain.chain_id, contract=str(self.cross.address))

    def digest(self, quote: FxQuote | FxRateLock) -> bytes:
        return quote_digest(quote, chain_id=self.chain.chain_id, contract=str(self.cross.address))

    def submit(self, quote: FxQuote, signer=None, sender=None):
        return self.cross.submitQuote(quote.as_tuple(), self.sign(quote, signer), sender=sender or self.node)

    def verdict(self, ids: int | list[int], score: int):
        ids = [ids] if isinstance(ids, int) else ids
        batch = [(self.cross.address, i, score, MODEL_ID, REASONS_HASH, NO_TERMS) for i in ids]
        return submit(self.oracle, batch, sender=self.node)

    def balances(self, *accounts: Any) -> dict[tuple[str, str], int]:
        """Every currency token's balance of each account (and of the router)."""
        who = [*accounts, self.payer, self.payee, self.cross]
        return {
            (code, str(a.address)): int(t.balanceOf(a)) for code, t in self.fx.tokens.items() for a in who
        }

    def swap(self, who: Any, amount: int, path_codes: tuple[str, ...]) -> None:
        """`who` swaps `amount` along `path_codes` on the v2 router (a market mover, a sandwicher)."""
        first = self.token(path_codes[0])
        first.mint(who, amount, sender=who)
        first.approve(self.fx.router02, amount, sender=who)
        path = [self.token(c) for c in path_codes]
        self.fx.router02.swapExactTokensForTokens(
            amount, 0, path, who, self.chain.pending_timestamp + 600, sender=who
        )

    def logs(self, receipt, name: str) -> list[Any]:
        return list(receipt.decode_logs(getattr(self.cross, name)))


def list_hostile(
    fx: Any, cross: Any, deployer: Any, project: Any, token: Any, partners: tuple[str, ...]
) -> None:
    """Lists an 18-decimal test token worth 1 USD on `cross` (a feed, DAO-style) and pools it
    against each of `partners` ($2,000,000 a side), as a DAO that listed a token later found hostile."""
    from verdict_deploy.fx import FIAT_HEARTBEAT, deploy_feed
    from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS

    feed = deploy_feed(deployer, "HOSTILE / USD", Decimal(1))
    cross.setFxToken(token, feed, FIAT_HEARTBEAT, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    deadline = fx.router02.provider.chain_manager.pending_timestamp + 3600
    for code in partners:
        partner = fx.tokens[code]
        side = int(cross.feedAmountOut(fx.tokens["USD"], partner, 2_000_000 * 10**6))
        token.mint(deployer, 2_000_000 * 10**18, sender=deployer)
        partner.mint(deployer, side, sender=deployer)
        token.approve(fx.router02, 2_000_000 * 10**18, sender=deployer)
        partner.approve(fx.router02, side, sender=deployer)
        fx.router02.addLiquidity(
            token, partner, 2_000_000 * 10**18, side, 0, 0, deployer, deadline, sender=deployer
        )
