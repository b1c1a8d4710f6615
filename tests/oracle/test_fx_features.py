"""FX features (issue 18.6): corridor, conversion and the USD value at the feed price, the same in
training and scoring; the generator's cross-border payments and mule cash-outs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oracle.features import FEATURES, OnlineFeatures, PaymentRecord, batch_features
from oracle.fx_features import (
    FX_FEATURES,
    corridor_currencies,
    cross_border_record,
    currency_of,
    ecb_usd_price,
    fx_values,
    usd_value,
)
from oracle.scoring import reason_text
from oracle.store import Store

T0 = 1_700_000_000


def test_conversion_and_corridor_follow_the_currencies_not_the_token_names():
    assert fx_values("USDC", "mUSD") == {"fx_conversion": 0.0, "fx_corridor": 0.0, "fx_corridor_risk": 0.0}
    assert fx_values("mUSD", None)["fx_conversion"] == 0.0
    eur = fx_values("mUSD", "mEUR")
    assert eur["fx_conversion"] == 1.0 and corridor_currencies(eur["fx_corridor"]) == ("USD", "EUR")
    # a cash-out to a frontier currency or out of ETH is a riskier corridor than USD to EUR
    assert eur["fx_corridor_risk"] < fx_values("mUSD", "mNGN")["fx_corridor_risk"]
    assert fx_values("mUSD", "mNGN")["fx_corridor_risk"] < fx_values("ETH", "mNGN")["fx_corridor_risk"] <= 1.0
    assert currency_of("WETH") == "ETH" and currency_of("mGBP") == "GBP" and currency_of("XYZ") == "XYZ"
    assert corridor_currencies(0.0) is None
    assert "USD to EUR" in reason_text("fx_corridor", eur["fx_corridor"], None)
    assert reason_text("fx_conversion", 1.0, None) == "converted to another currency for the payee"


def test_the_usd_value_is_taken_at_the_feed_price_not_the_fixed_table():
    feed = {"USD": 1.0002, "EUR": 1.0831, "ETH": 2_950.0}
    assert usd_value(1_000 * 10**6, 6, "mEUR", feed) == pytest.approx(1_083.1)
    assert usd_value(2 * 10**18, 18, "ETH", feed) == pytest.approx(5_900.0)  # the table says 3,000
    assert usd_value(10**18, 18, "WETH", {"WETH": 3_400.0}) == pytest.approx(3_400.0)  # FxWorld's key
    assert usd_value(10**6, 6, "mJPY", feed) is None  # no feed: no value, no verdict (refund)
    assert usd_value(10**6, 6, "mEUR", {"EUR": float("nan")}) is None
    rec = cross_border_record("xb:1", "a", "b", "mEUR", "mGBP", 500 * 10**6, 6, feed, T0)
    assert rec == PaymentRecord("xb:1", "a", "b", "mEUR", pytest.approx(541.55), T0, "mGBP")
    assert cross_border_record("xb:2", "a", "b", "mJPY", "mUSD", 1, 6, feed, T0) is None


def test_ecb_prices_cover_weekends_and_refuse_unknown_currencies():
    from datetime import date

    friday, saturday = ecb_usd_price("EUR", date(2024, 6, 28)), ecb_usd_price("EUR", date(2024, 6, 29))
    assert friday == saturday and 1.0 < friday < 1.2
    assert ecb_usd_price("USD", date(2024, 6, 29)) == 1.0
    assert ecb_usd_price("NGN", date(2024, 6, 28)) is None


def test_live_and_batch_agree_on_converting_payments(tmp_path):
    df = pd.DataFrame(
        {
            "payer": ["a", "a", "b", "m"],
            "payee": ["m", "n", "m", "z"],
            "token": ["mUSD", "mEUR", "ETH", "mUSD"],
            "token_out": [None, "mGBP", "mUSD", "mNGN"],
            "amount_usd": [10.0, 20.0, 30.0, 35.0],
            "timestamp": [T0, T0 + 60, T0 + 120, T0 + 180],
        }
    )
    batch = batch_features(df)[list(FX_FEATURES)].to_numpy()
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        recs = [
            PaymentRecord(str(i), r.payer, r.payee, r.token, r.amount_usd, r.timestamp, r.token_out)
            for i, r in enumerate(df.itertuples())
        ]
        live = OnlineFeatures(store).compute_many(recs)[:, [FEATURES.index(f) for f in FX_FEATURES]]
        # after a restart the recorded features come back as they were
        again = OnlineFeatures(store).compute_many(recs)[:, [FEATURES.index(f) for f in FX_FEATURES]]
    finally:
        store.close()
    np.testing.assert_array_equal(live, batch)
    np.testing.assert_array_equal(again, batch)
    assert list(batch[:, 0]) == [0.0, 1.0, 1.0, 1.0]


def test_generated_cross_border_payments_are_a_small_share_and_fraud_converts_more(payments):
    converts = payments["token_out"].notna()
    legit = payments["is_fraud"] == 0
    assert 0.02 < converts[legit].mean() < 0.15
    assert converts[~legit].mean() > converts[legit].mean()
    abroad = payments["payer_country"] != payments["payee_country"]
    moving = payments["typology"].isin(["account_takeover", "new_account_large", "structuring"])
    assert converts[moving & abroad].mean() > 1.5 * converts[legit & abroad].mean()
    domestic = payments["payer_country"] == payments["payee_country"]
    assert not (converts & domestic & legit).any()  # a domestic payment never converts
    local = payments[legit & ~payments["token"].isin(["mUSD", "USDC", "ETH"])]
    assert len(local) > 0  # some pay in their own currency, valued at that day's ECB rate
    day = pd.to_datetime(local["timestamp"].iloc[0], unit="s").date()
    price = ecb_usd_price(currency_of(local["token"].iloc[0]), day)
    assert local["amount"].iloc[0] * price == pytest.approx(local["amount_usd"].iloc[0], rel=1e-6)
