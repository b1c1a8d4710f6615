"""Rate-lock offers from the node (`verdict fx-lock`, issue 18.5): the premium priced from the pair's
volatility in the ECB history, not passed in by hand.

sigma is the RiskMetrics EWMA (`oracle.fx.ewma_sigma`, lambda 0.94) of the pair's daily log returns
up to the node's rate day (the day its feeds are posted from), and the premium the at-the-money value
sigma * sqrt(T) / sqrt(2 pi) of the amount over the tenor (`oracle.fx.lock_premium_bps`). Two uses:

- `verdict fx-lock 7 --tenor 1h`: a node-signed `RateLock` for pending CrossBorderRouter payment 7,
  which its payer buys with `buyLock(lock, signature)` within the router's LOCK_OFFER_TTL (2 minutes);
  `--out offer.json` writes it, with the ready `buyLock` calldata.
- `verdict fx-lock EUR/USD --tenor 24h --amount 10000`: the indicative price alone (a signed offer
  binds one payment, so none is signed), from the ECB data only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np

from oracle.errors import ConfigError
from oracle.fx import LOCK_HORIZONS, ecb_history, ewma_sigma, lock_premium_bps
from oracle.fx_features import currency_of

_PAIR = re.compile(r"^\s*([A-Za-z]{3,5})\s*[/:>-]\s*([A-Za-z]{3,5})\s*$")


def tenor_seconds(tenor: str) -> int:
    """Seconds of a lock tenor name ("5m", "1h", "24h"); ConfigError (one line) for any other."""
    seconds = LOCK_HORIZONS.get(tenor.strip().lower())
    if seconds is None:
        raise ConfigError(f"unknown tenor {tenor!r}: use one of {', '.join(LOCK_HORIZONS)}")
    return seconds


def parse_pair(text: str) -> tuple[str, str]:
    """(currency paid, currency received) of "EUR/USD", "USD-EUR" or token symbols "mUSD/mEUR"."""
    m = _PAIR.match(text)
    if m is None:
        raise ConfigError(f"not a currency pair or a payment id: {text!r} (e.g. EUR/USD, mUSD/mEUR, 7)")
    base, quote = currency_of(m.group(1)), currency_of(m.group(2))
    base, quote = (base.upper() if len(base) == 3 else base), (quote.upper() if len(quote) == 3 else quote)
    if base == quote:
        raise ConfigError(f"{text!r}: a lock needs two different currencies")
    return base, quote


@cache
def pair_sigma(base: str, quote: str, until: date | None = None) -> tuple[float, date]:
    """The pair's EWMA daily volatility as of the last ECB business day up to `until` (None: the
    last in the data), and that day. ConfigError for a currency the ECB does not publish."""
    try:
        series = ecb_history(base, quote, end=until)
    except (KeyError, ValueError) as exc:  # currency_converter: a currency it does not know
        raise ConfigError(f"no ECB history for {base}/{quote} ({exc}): a lock's premium needs it") from None
    if len(series) < 30:
        raise ConfigError(f"too little ECB history for {base}/{quote} up to {until}")
    returns = np.diff(np.log(series.to_numpy()))
    return float(ewma_sigma(returns)[-1]), series.index[-1].date()


@dataclass(frozen=True)
class LockPrice:
    """What a lock of `amount` over `tenor_s` seconds costs: premium_bps of it, at sigma_daily."""

    base: str
    quote: str
    sigma_daily: float
    as_of: date
    tenor_s: int
    premium_bps: float
    amount: float

    @property
    def premium(self) -> float:
        return self.amount * self.premium_bps / 10_000

    def line(self) -> str:
        return (
            f"{self.base}/{self.quote} lock over {self.tenor_s:,} s: sigma {self.sigma_daily:.4%} a day "
            f"(EWMA of the ECB rates to {self.as_of}), premium {self.premium_bps:.2f} bps = "
            f"{self.premium:,.2f} {self.base} on {self.amount:,.2f} {self.base} (indicative: a signed "
            "offer binds one payment, `verdict fx-lock PAYMENT_ID`)"
        )


def price_lock(base: str, quote: str, tenor_s: int, amount: float, until: date | None = None) -> LockPrice:
    if not np.isfinite(amount) or amount <= 0:
        raise ConfigError(f"--amount must be a positive number, not {amount}")
    sigma, as_of = pair_sigma(base, quote, until)
    return LockPrice(base, quote, sigma, as_of, tenor_s, lock_premium_bps(sigma, tenor_s), amount)


def offer_json(prepared: Any, *, digest: bytes, calldata: str, sigma: float, as_of: date, pair: str) -> dict:
    """The offer as `--out` writes it: the `RateLock` fields, the node's signature and the lock's
    EIP-712 hash, the `buyLock` calldata to send from the payer's account, and how it was priced."""
    lock = prepared.lock
    return {
        "lock": {
            "paymentId": lock.payment_id,
            "amountIn": str(lock.amount_in),
            "lockedOut": str(lock.locked_out),
            "premium": str(lock.premium),
            "issuedAt": lock.issued_at,
            "expiry": lock.expiry,
        },
        "signature": "0x" + bytes(prepared.signature).hex(),
        "lock_hash": "0x" + digest.hex(),
        "buy_lock_calldata": calldata,
        "pair": pair,
        "sigma_daily": sigma,
        "sigma_as_of": as_of.isoformat(),
        "premium_bps": round(prepared.premium_bps, 4),
    }
