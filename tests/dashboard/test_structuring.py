"""Structuring detection across payments: crafted sequences and Hypothesis properties (no chain)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.errors import DataError
from oracle.report import parse_period
from oracle.structuring import PaymentFact, StructuringRule, detect_structuring

HOUR = 3600
RULE = StructuringRule(threshold_usd=10_000.0, band=0.10, window_s=48 * HOUR, min_count=3)


def pay(key: str, payer: str, usd: float, ts: int) -> PaymentFact:
    return PaymentFact(key, payer, usd, ts)


def flagged_keys(facts, rule=RULE) -> set[str]:
    return {k for alert in detect_structuring(facts, rule) for k in alert.keys}


def test_three_payments_just_below_the_threshold_in_a_day_are_flagged():
    facts = [pay("a", "0xA", 9_500, 0), pay("b", "0xA", 9_900, 5 * HOUR), pay("c", "0xA", 9_050, 20 * HOUR)]
    alerts = detect_structuring(facts, RULE)
    assert len(alerts) == 1
    assert set(alerts[0].keys) == {"a", "b", "c"}
    assert alerts[0].total_usd == 28_450
    assert "3 payments" in alerts[0].describe()


def test_two_payments_are_not_enough():
    assert flagged_keys([pay("a", "0xA", 9_500, 0), pay("b", "0xA", 9_900, HOUR)]) == set()


def test_payments_at_or_above_the_threshold_or_below_the_band_do_not_count():
    facts = [
        pay("a", "0xA", 10_000, 0),
        pay("b", "0xA", 8_999.99, HOUR),
        pay("c", "0xA", 9_500, 2 * HOUR),
        pay("d", "0xA", 9_600, 3 * HOUR),
    ]
    assert flagged_keys(facts) == set()


def test_payments_spread_wider_than_the_window_are_not_flagged():
    facts = [pay(str(i), "0xA", 9_500, i * 30 * HOUR) for i in range(5)]  # 2 per 48 h at most
    assert flagged_keys(facts) == set()


def test_different_payers_are_not_added_together():
    facts = [pay("a", "0xA", 9_500, 0), pay("b", "0xB", 9_500, HOUR), pay("c", "0xC", 9_500, 2 * HOUR)]
    assert flagged_keys(facts) == set()


def test_a_long_run_is_one_alert_and_a_later_run_is_another():
    first = [pay(f"x{i}", "0xA", 9_700, i * 10 * HOUR) for i in range(6)]
    second = [pay(f"y{i}", "0xA", 9_700, 1_000 * HOUR + i * HOUR) for i in range(3)]
    alerts = detect_structuring(first + second, RULE)
    assert [len(a.keys) for a in alerts] == [6, 3]


def test_the_rule_is_configurable():
    facts = [pay("a", "0xA", 4_800, 0), pay("b", "0xA", 4_900, HOUR)]
    rule = StructuringRule(threshold_usd=5_000, band=0.05, window_s=2 * HOUR, min_count=2)
    assert flagged_keys(facts, rule) == {"a", "b"}
    assert (
        flagged_keys(facts, StructuringRule(threshold_usd=5_000, band=0.05, window_s=10, min_count=2))
        == set()
    )


amounts = st.floats(min_value=1, max_value=50_000, allow_nan=False)
facts_strategy = st.lists(
    st.tuples(st.sampled_from(["0xA", "0xB", "0xC"]), amounts, st.integers(0, 10 * 24 * HOUR)),
    max_size=40,
).map(lambda rows: [pay(f"k{i}", p, a, t) for i, (p, a, t) in enumerate(rows)])


@settings(max_examples=150, deadline=None)
@given(facts_strategy)
def test_every_alert_is_one_payer_just_below_the_threshold_and_dense_enough(facts):
    by_key = {f.key: f for f in facts}
    seen: set[str] = set()
    for alert in detect_structuring(facts, RULE):
        members = [by_key[k] for k in alert.keys]
        assert {m.payer for m in members} == {alert.payer}
        assert all(RULE.just_below(m.amount_usd) for m in members)
        assert len(members) >= RULE.min_count
        assert not seen & set(alert.keys)  # a payment is in at most one alert
        seen |= set(alert.keys)


@settings(max_examples=150, deadline=None)
@given(facts_strategy, st.randoms())
def test_the_order_of_payments_does_not_matter(facts, rnd):
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    assert flagged_keys(shuffled) == flagged_keys(facts)


@settings(max_examples=150, deadline=None)
@given(
    facts_strategy,
    st.integers(3, 6),
    st.integers(0, 9 * 24 * HOUR),
    st.lists(st.floats(9_000, 9_999.99), min_size=6, max_size=6),
)
def test_a_burst_below_the_threshold_is_always_caught_whatever_else_happens(facts, n, start, usd):
    """However much other traffic there is, n >= min_count payments just below the threshold
    within the window from one payer are all reported, even if each would score low."""
    burst = [pay(f"s{i}", "0xS", usd[i], start + i * (RULE.window_s // (n - 1))) for i in range(n)]
    assert {b.key for b in burst} <= flagged_keys(facts + burst)


@settings(max_examples=100, deadline=None)
@given(facts_strategy)
def test_nothing_is_flagged_when_no_payment_is_just_below_the_threshold(facts):
    safe = [f for f in facts if not RULE.just_below(f.amount_usd)]
    assert detect_structuring(safe, RULE) == []


def test_period_dates_cover_whole_days_and_bad_input_is_a_user_error():
    lo, hi = parse_period("2026-11-01", "2026-11-02")
    assert lo == int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    assert hi == int(datetime(2026, 11, 2, 23, 59, 59, tzinfo=UTC).timestamp())
    with pytest.raises(DataError, match="--from"):
        parse_period("yesterday", None)
    with pytest.raises(DataError, match="after"):
        parse_period("2026-11-03", "2026-11-02")
