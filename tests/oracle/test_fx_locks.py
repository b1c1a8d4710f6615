"""`verdict fx-lock` without a chain (oracle/fx_locks.py): a pair's lock is priced from its EWMA
volatility in the ECB history up to the rate day, the same in either direction, and bad input is
one error line (the signed offer on chain: tests/e2e/test_cross_border_daemon.py)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from oracle.cli import app
from oracle.fx import ecb_history, ewma_sigma, lock_premium_bps
from oracle.fx_locks import pair_sigma, parse_pair, price_lock
from verdict_deploy.fx import RATE_DAY


def test_a_pairs_lock_is_priced_from_its_ewma_volatility_up_to_the_rate_day():
    sigma, as_of = pair_sigma("USD", "EUR", RATE_DAY)
    history = ecb_history("USD", "EUR", end=RATE_DAY)
    assert as_of == RATE_DAY and sigma == float(ewma_sigma(np.diff(np.log(history.to_numpy())))[-1])
    assert pair_sigma("EUR", "USD", RATE_DAY)[0] == pytest.approx(sigma, rel=1e-9)  # log(1/x) = -log(x)
    price = price_lock("USD", "EUR", 3600, 10_000, RATE_DAY)
    assert price.premium_bps == lock_premium_bps(sigma, 3600)
    assert price.premium == pytest.approx(10_000 * price.premium_bps / 10_000)
    day = price_lock("USD", "EUR", 86_400, 10_000, RATE_DAY)
    assert day.premium_bps / price.premium_bps == pytest.approx(24**0.5)  # sqrt(time)
    assert parse_pair("mUSD/mEUR") == ("USD", "EUR") == parse_pair(" usd - eur ")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["EUR/USD", "--tenor", "2h", "--amount", "1"], "unknown tenor"),
        (["EUR/USD"], "needs --amount"),
        (["EUR/EUR", "--amount", "5"], "two different currencies"),
        (["USD/XYZ", "--amount", "5"], "no ECB history"),
        (["EUR/USD", "--amount", "-3"], "positive"),
        (["not a pair", "--amount", "5"], "not a currency pair or a payment id"),
    ],
)
def test_bad_lock_requests_are_one_error_line(args, says):
    result = CliRunner().invoke(app, ["fx-lock", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error:") and says in result.stderr and "Traceback" not in result.output


def test_a_pairs_indicative_price_is_printed_and_safe_to_ask_twice():
    args = ["fx-lock", "EUR/USD", "--tenor", "24h", "--amount", "10000"]
    first = CliRunner().invoke(app, args, env={"COLUMNS": "300", "VERDICT_FX_RATE_DAY": RATE_DAY.isoformat()})
    second = CliRunner().invoke(
        app, args, env={"COLUMNS": "300", "VERDICT_FX_RATE_DAY": RATE_DAY.isoformat()}
    )
    assert first.exit_code == 0 and first.stdout == second.stdout
    expected = price_lock("EUR", "USD", 86_400, 10_000, RATE_DAY)
    assert f"premium {expected.premium_bps:.2f} bps" in first.stdout and f"to {RATE_DAY}" in first.stdout
