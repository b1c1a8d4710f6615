"""Quotes for cross-border payments (issue 18.3): what an oracle node signs for the CrossBorderRouter
(EIP-712 `Quote`), made from the route engine's best route (its tokens and each hop's pool: 0 for
the v2 pair, else the v3 fee tier), the part of a verdict's reasons that explains a conversion
(route, quoted and minimum amounts, the quote's hash), and the rate lock a payer may buy (EIP-712
`RateLock`, issue 18.5).

    quote = quote_from_route(route, payment_id=7, slippage_bps=50, issued_at=now, ttl=300)
    signature = sign_quote(quote, node_key, chain_id=31337, contract=cross_border_address)
    cross.submitQuote(quote.as_tuple(), signature)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak, to_checksum_address

from oracle import eip712
from oracle.routes import Route

DOMAIN_NAME = "Verdict CrossBorderRouter"
DOMAIN_VERSION = "1"
BPS = 10_000

QUOTE_TYPES = {
    "Quote": [
        {"name": "paymentId", "type": "uint256"},
        {"name": "amountIn", "type": "uint256"},
        {"name": "amountOut", "type": "uint256"},
        {"name": "minOut", "type": "uint256"},
        {"name": "path", "type": "address[]"},
        {"name": "fees", "type": "uint24[]"},
        {"name": "issuedAt", "type": "uint64"},
        {"name": "expiry", "type": "uint64"},
    ]
}
LOCK_TYPES = {
    "RateLock": [
        {"name": "paymentId", "type": "uint256"},
        {"name": "amountIn", "type": "uint256"},
        {"name": "lockedOut", "type": "uint256"},
        {"name": "premium", "type": "uint256"},
        {"name": "issuedAt", "type": "uint64"},
        {"name": "expiry", "type": "uint64"},
    ]
}


@dataclass(frozen=True)
class FxQuote:
    """One quote, field for field as `ICrossBorderRouter.Quote`."""

    payment_id: int
    amount_in: int
    amount_out: int
    min_out: int
    path: tuple[str, ...]
    issued_at: int
    expiry: int
    fees: tuple[int, ...] = ()  # each hop's pool: 0 the v2 pair, else the v3 fee tier; () = all v2

    @property
    def hop_fees(self) -> tuple[int, ...]:
        return self.fees or (0,) * (len(self.path) - 1)

    def as_tuple(self) -> tuple[Any, ...]:
        """The struct as a contract call takes it."""
        return (
            self.payment_id,
            self.amount_in,
            self.amount_out,
            self.min_out,
            list(self.path),
            list(self.hop_fees),
            self.issued_at,
            self.expiry,
        )

    def message(self) -> dict[str, Any]:
        return {
            "paymentId": self.payment_id,
            "amountIn": self.amount_in,
            "amountOut": self.amount_out,
            "minOut": self.min_out,
            "path": [to_checksum_address(a) for a in self.path],
            "fees": list(self.hop_fees),
            "issuedAt": self.issued_at,
            "expiry": self.expiry,
        }


def quote_from_route(
    route: Route, *, payment_id: int, slippage_bps: int, issued_at: int, ttl: int
) -> FxQuote:
    """A quote for `route`: the route's output, a minimum `slippage_bps` below it, valid `ttl` s."""
    if not 0 <= slippage_bps < BPS:
        raise ValueError(f"slippage must be in [0, {BPS}) bps, got {slippage_bps}")
    min_out = route.amount_out * (BPS - slippage_bps) // BPS
    return FxQuote(
        payment_id,
        route.amount_in,
        route.amount_out,
        max(min_out, 1),
        route.path,
        issued_at,
        issued_at + ttl,
        route.hop_fees,
    )


@dataclass(frozen=True)
class FxRateLock:
    """One rate lock offer, field for field as `ICrossBorderRouter.RateLock`."""

    payment_id: int
    amount_in: int
    locked_out: int
    premium: int
    issued_at: int
    expiry: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.payment_id, self.amount_in, self.locked_out, self.premium, self.issued_at, self.expiry)

    def message(self) -> dict[str, Any]:
        return {
            "paymentId": self.payment_id,
            "amountIn": self.amount_in,
            "lockedOut": self.locked_out,
            "premium": self.premium,
            "issuedAt": self.issued_at,
            "expiry": self.expiry,
        }


def lock_offer(
    *,
    payment_id: int,
    amount_in: int,
    market_out: int,
    fee_bps: int,
    premium_bps: float,
    issued_at: int,
    tenor: int,
) -> FxRateLock:
    """A lock at what the payee would get now (`market_out`, the lower of the best route and the
    feeds, less the protocol fee), priced at `premium_bps` of the amount (rounded up)."""
    if not 0 <= fee_bps < BPS or premium_bps < 0 or tenor <= 0:
        raise ValueError("a lock needs a fee in [0, 10000) bps, a premium >= 0 and a positive tenor")
    locked_out = market_out * (BPS - fee_bps) // BPS
    premium = -(-amount_in * round(premium_bps * 100) // (BPS * 100))
    return FxRateLock(payment_id, amount_in, max(locked_out, 1), premium, issued_at, issued_at + tenor)


def _signable(quote: FxQuote | FxRateLock, *, chain_id: int, contract: str) -> SignableMessage:
    types, primary = (LOCK_TYPES, "RateLock") if isinstance(quote, FxRateLock) else (QUOTE_TYPES, "Quote")
    domain = eip712.domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, contract)
    return encode_typed_data(full_message=eip712.typed_data(domain, primary, types[primary], quote.message()))


def quote_digest(quote: FxQuote | FxRateLock, *, chain_id: int, contract: str) -> bytes:
    """The EIP-712 digest the contract records as the quote's hash (`QuoteAccepted.quoteHash`), or
    a lock's (`RateLockBought.lockHash`)."""
    signable = _signable(quote, chain_id=chain_id, contract=contract)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_quote(quote: FxQuote | FxRateLock, private_key: Any, *, chain_id: int, contract: str) -> bytes:
    """A node's 65-byte signature of `quote` (or a lock offer) for the CrossBorderRouter at `contract`."""
    signed = Account.sign_message(_signable(quote, chain_id=chain_id, contract=contract), private_key)
    return bytes(signed.signature)


def quote_reasons(quote: FxQuote, digest: bytes, symbols: dict[str, str] | None = None) -> dict[str, Any]:
    """What a verdict's reasons say about a conversion: the route (as symbols when given), the
    quoted and minimum amounts, the expiry and the quote's hash, so the conversion is auditable
    against the chain's `QuoteAccepted` event."""
    names = symbols or {}
    return {
        "route": [names.get(a, a) for a in quote.path],
        "pools": ["v2" if fee == 0 else f"v3-{fee}" for fee in quote.hop_fees],
        "hops": len(quote.path) - 1,
        "amount_in": str(quote.amount_in),
        "amount_out": str(quote.amount_out),
        "min_out": str(quote.min_out),
        "expiry": quote.expiry,
        "quote_hash": "0x" + digest.hex(),
    }


def submitted_quote(w3: Any, router: Any, tx_hash: Any) -> FxQuote:
    """The quote a `submitQuote` transaction carried. The router keeps only a quote's amounts and hash,
    so its route is read back from the calldata of the transaction its `QuoteAccepted` came in.
    `router`: a web3 contract with the ICrossBorderRouter ABI."""
    _, args = router.decode_function_input(w3.eth.get_transaction(tx_hash)["input"])
    q = args["quote"]
    return FxQuote(
        int(q["paymentId"]),
        int(q["amountIn"]),
        int(q["amountOut"]),
        int(q["minOut"]),
        tuple(q["path"]),
        int(q["issuedAt"]),
        int(q["expiry"]),
        tuple(int(f) for f in q["fees"]),
    )
