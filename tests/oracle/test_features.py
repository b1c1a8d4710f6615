"""Features: one definition, computed live payment by payment or in batch, must agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle.datagen import generate_scenario
from oracle.errors import DataError
from oracle.features import (
    DAY,
    FEATURES,
    SECS_SINCE_CAP,
    OnlineFeatures,
    PaymentRecord,
    batch_features,
    records_from_frame,
)
from oracle.store import Store

T0 = 1_700_000_000


def _frame(rows: list[tuple[str, str, float, int]], **extra: list) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["payer", "payee", "amount_usd", "timestamp"])
    df["token"] = "mUSD"
    for k, v in extra.items():
        df[k] = v
    return df


def _live(store: Store, df: pd.DataFrame, batch: int = 1) -> np.ndarray:
    """Features computed online, `batch` payments at a time, in time order."""
    online = OnlineFeatures(store)
    recs = records_from_frame(df)
    rows = [online.compute_many(recs[i : i + batch]) for i in range(0, len(recs), batch)]
    order = np.argsort(df["timestamp"].to_numpy(), kind="stable")
    out = np.empty((len(df), len(FEATURES)))
    out[order] = np.vstack(rows)
    return out


def test_velocity_pair_and_fanin_follow_their_definitions():
    df = _frame(
        [
            ("a", "m", 10.0, T0),
            ("a", "m", 20.0, T0 + 600),
            ("a", "n", 30.0, T0 + 3000),
            ("b", "n", 40.0, T0 + 3100),
            ("a", "m", 50.0, T0 + 3700),  # the first payment is now more than an hour old
            ("n", "a", 5.0, T0 + 3800),
        ]
    )
    f = batch_features(df)
    last_a = f.iloc[4]
    assert last_a["payer_count_1h"] == 2 and last_a["payer_sum_1h"] == pytest.approx(50.0)
    assert last_a["payer_count_24h"] == 3 and last_a["payer_sum_24h"] == pytest.approx(60.0)
    assert last_a["secs_since_payer_last"] == 700
    assert last_a["pair_is_new"] == 0 and f.iloc[2]["pair_is_new"] == 1
    assert f.iloc[3]["payee_fanin_24h"] == 1  # only "a" paid "n" before
    assert f.iloc[0]["secs_since_payer_last"] == SECS_SINCE_CAP
    assert f.iloc[0]["payer_txn_count"] == 0 and last_a["payer_txn_count"] == 3
    n_pays_a = f.iloc[5]
    assert n_pays_a["reverse_pair"] == 1  # a paid n before
    assert n_pays_a["payer_recv_sum_24h"] == pytest.approx(70.0)  # n received 30 + 40


def test_cross_border_needs_both_countries_and_age_falls_back_to_first_seen():
    df = _frame(
        [("a", "b", 1.0, T0), ("a", "c", 1.0, T0 + DAY), ("c", "a", 1.0, T0 + 2 * DAY)],
        payer_country=["US", "US", None],
        payee_country=["DE", None, "US"],
        payer_created_at=[T0 - 10 * DAY, T0 - 10 * DAY, np.nan],
    )
    f = batch_features(df)
    assert list(f["cross_border"]) == [1, 0, 0]
    assert f.iloc[1]["account_age_days"] == pytest.approx(11.0)
    assert f.iloc[2]["account_age_days"] == pytest.approx(1.0)  # c first seen a day earlier


def test_batch_uses_only_earlier_rows_whatever_the_input_order():
    df = _frame([("a", "m", 10.0, T0 + 100), ("a", "m", 99.0, T0), ("a", "m", 10.0, T0 + 50)])
    f = batch_features(df)
    assert f.loc[1, "payer_txn_count"] == 0
    assert f.loc[2, "payer_txn_count"] == 1
    assert f.loc[0, "payer_txn_count"] == 2


payment_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["a", "m", "n", "c"]),
        st.floats(0, 20_000, allow_nan=False),
        st.integers(0, 3 * DAY),
        st.sampled_from(["ETH", "mUSD", "XYZ", "mEUR"]),
        st.sampled_from([None, "mUSD", "mEUR", "mNGN", "ETH"]),  # the token the payee receives
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=payment_rows, batch=st.sampled_from([1, 3, 50]))
def test_live_features_equal_batch_features(tmp_path_factory, rows, batch):
    df = pd.DataFrame(rows, columns=["payer", "payee", "amount_usd", "timestamp", "token", "token_out"])
    df["timestamp"] += T0
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('h') / 's.sqlite'}")
    store.upsert_account("a", "US", T0 - 5 * DAY)
    store.upsert_account("m", "DE", None)
    df["payer_country"] = df["payer"].map({"a": "US"})
    df["payee_country"] = df["payee"].map({"m": "DE", "a": "US"})
    df["payer_created_at"] = df["payer"].map({"a": T0 - 5 * DAY})
    df["payee_created_at"] = df["payee"].map({"a": T0 - 5 * DAY})
    live = _live(store, df, batch)
    np.testing.assert_allclose(live, batch_features(df).to_numpy(), rtol=1e-9, atol=1e-6)
    store.close()


def test_live_state_survives_a_restart(tmp_path: Path):
    sc = generate_scenario(30, 150, seed=5, history_days=3)
    df = sc.table(live_start=T0)
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    Store(url).upsert_accounts(
        (f"acct{r.index:06d}", r.country, T0 + r.created_offset) for r in sc.accounts.itertuples()
    )
    recs = records_from_frame(df)
    half = len(recs) // 2
    first = OnlineFeatures(Store(url)).compute_many(recs[:half])
    second = OnlineFeatures(Store(url)).compute_many(recs[half:])  # a fresh process over the same store
    np.testing.assert_allclose(
        np.vstack([first, second]),
        batch_features(df).to_numpy()[np.argsort(df["timestamp"], kind="stable")],
        rtol=1e-9,
        atol=1e-6,
    )


def test_observing_twice_changes_nothing_and_keeps_first_features(store: Store):
    online = OnlineFeatures(store)
    r1 = PaymentRecord("router:1", "a", "b", "ETH", 100.0, T0)
    r2 = PaymentRecord("router:2", "a", "b", "ETH", 100.0, T0 + 10)
    first = online.compute_many([r1, r2])
    again = OnlineFeatures(store).compute_many([r1, r2])
    np.testing.assert_array_equal(first, again)
    assert store.payment_count() == 2
    assert online.compute(r2) == dict(zip(FEATURES, first[1], strict=True))


def test_bad_payments_are_rejected_clearly():
    with pytest.raises(DataError, match="lacks column"):
        batch_features(pd.DataFrame({"payer": ["a"]}))
    with pytest.raises(DataError, match="NaN/inf"):
        batch_features(_frame([("a", "b", float("inf"), T0)]))
    with pytest.raises(DataError, match="between 0"):
        batch_features(_frame([("a", "b", 1e20, T0)]))
    with pytest.raises(DataError, match="empty"):
        batch_features(_frame([]))
