"""Synthetic data: deterministic for a seed, realistic shape, every typology present."""

from __future__ import annotations

import pandas as pd
import pytest

from oracle.datagen import TYPOLOGIES, generate, generate_scenario
from oracle.errors import DataError

COLUMNS = [
    "payment_id",
    "timestamp",
    "payer",
    "payee",
    "token",
    "amount",
    "amount_usd",
    "payer_country",
    "payee_country",
    "payer_created_at",
    "payee_created_at",
    "is_fraud",
    "typology",
    "token_out",  # issue 18: the token the payee receives when the payment converts, else None
]


def test_same_seed_same_table_and_other_seed_differs():
    a, b, c = generate(3_000, seed=1), generate(3_000, seed=1), generate(3_000, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["amount_usd"].equals(c["amount_usd"])


def test_schema_rows_and_fraud_rate(payments):
    assert list(payments.columns) == COLUMNS
    # 8,000 payments, 80 of them fraud, plus the mules' cash-outs abroad (issue 18), always converting
    mules = set(payments.loc[payments["typology"] == "mule_fan_in", "payee"])
    cash_outs = payments[payments["payer"].isin(mules)]
    assert len(cash_outs) > 0 and cash_outs["token_out"].notna().all()
    assert (cash_outs["typology"] == "mule_fan_in").all()
    assert len(payments) == 8_000 + len(cash_outs)
    assert payments["is_fraud"].sum() == 80 + len(cash_outs)
    assert payments["timestamp"].is_monotonic_increasing
    assert ((payments["typology"] == "none") == (payments["is_fraud"] == 0)).all()


def test_every_typology_appears(payments):
    assert set(payments.loc[payments["is_fraud"] == 1, "typology"]) == set(TYPOLOGIES)


def test_base_behaviour_looks_like_payments(payments):
    legit = payments[payments["is_fraud"] == 0]
    cross = (legit["payer_country"] != legit["payee_country"]).mean()
    assert 0.1 < cross < 0.5
    repeat = legit.duplicated(["payer", "payee"]).mean()
    assert repeat > 0.5  # recurring payees
    hours = (legit["timestamp"] % 86_400) // 3_600
    assert hours.value_counts().max() > 3 * hours.value_counts().min()  # daily cycle
    assert (legit["timestamp"] >= legit["payer_created_at"]).all()


def test_structuring_stays_just_below_the_threshold(payments):
    s = payments[payments["typology"] == "structuring"]["amount_usd"]
    assert s.between(9_000, 10_000, inclusive="left").all()


def test_scenario_has_history_accounts_and_every_typology():
    sc = generate_scenario(n_accounts=40, n_payments=300, seed=4)
    assert len(sc.live) == 300
    assert set(TYPOLOGIES) <= set(sc.live["typology"])
    assert (sc.history["offset_s"] < 0).all() and (sc.live["offset_s"] >= 0).all()
    assert sc.live["offset_s"].is_monotonic_increasing
    used = set(sc.live["payer"]) | set(sc.live["payee"]) | set(sc.history["payer"])
    assert used <= set(sc.accounts["index"])
    again = generate_scenario(n_accounts=40, n_payments=300, seed=4)
    pd.testing.assert_frame_equal(sc.live, again.live)


def test_bad_arguments():
    with pytest.raises(DataError):
        generate(0, seed=1)
    with pytest.raises(DataError):
        generate(100, seed=1, fraud_rate=0.9)


def test_density_sets_how_busy_consumers_are_and_a_scenario_reports_its_own():
    sparse = generate(6_000, seed=3, payments_per_consumer_day=1.2)
    dense = generate(6_000, seed=3, payments_per_consumer_day=6.0)
    span = lambda f: (f["timestamp"].max() - f["timestamp"].min()) / 86_400  # noqa: E731
    assert span(dense) < span(sparse) / 3
    scenario = generate_scenario(n_accounts=60, n_payments=300, seed=7)
    consumers = int((scenario.accounts["role"] == "consumer").sum())
    assert scenario.payments_per_consumer_day == pytest.approx(
        len(scenario.history) / consumers / 30, rel=0.05
    )
    merchants = scenario.accounts[scenario.accounts["role"] == "merchant"]
    assert (merchants["created_offset"] <= -180 * 86_400).all()  # established businesses
