"""`verdict suggest`: a payer's own history only, the cheapest token and route per currency, the
hours with the fewest holds, beside the popularity baseline; bad input is one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples
from suggest_history import OTHER, PAYER, T0, scored_history
from typer.testing import CliRunner

from oracle.cli import app
from oracle.errors import DataError
from oracle.store import Store
from oracle.suggest import PaymentFact, facts_from_store, suggest, suggest_for

runner = CliRunner()


def fact(i: int, payer: str, token: str, ccy: str, hour: int, held: bool) -> PaymentFact:
    return PaymentFact(f"{payer}:{i}", payer, token, ccy, 100.0, T0 + i * 86_400 + hour * 3_600, held)


facts_of = st.lists(
    st.tuples(
        st.sampled_from(["mUSD", "USDC", "ETH", "mEUR"]),
        st.sampled_from(["USD", "EUR", "GBP"]),
        st.integers(0, 23),
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=examples(200), deadline=None)  # 50 in make test, 200 in make test-soak
@given(own=facts_of, others=facts_of, others_changed=facts_of)
def test_no_other_payers_data_changes_the_suggestion(own, others, others_changed):
    mine = [fact(i, PAYER, *x) for i, x in enumerate(own)]
    before = suggest(PAYER, mine + [fact(i, OTHER, *x) for i, x in enumerate(others)])
    after = suggest(PAYER, [fact(i, OTHER, *x) for i, x in enumerate(others_changed)] + mine)
    assert before.personal == after.personal
    assert suggest(PAYER, mine).personal == before.personal  # and no other payer at all


def test_the_suggestion_avoids_a_conversion_and_the_held_hours_most_payers_use():
    # The payer pays EUR payees both ways: converting from mUSD (30 bps a hop) with holds at 02:00,
    # and in mEUR directly at 14:00, never held. Everybody else converts from mUSD at 02:00.
    mine = [fact(i, PAYER, "mUSD", "EUR", 2, i % 2 == 0) for i in range(6)]
    mine += [fact(10 + i, PAYER, "mEUR", "EUR", 14, False) for i in range(6)]
    crowd = [fact(i, f"0x{n:040x}", "mUSD", "EUR", 2, False) for n in range(1, 6) for i in range(8)]
    s = suggest(PAYER, mine + crowd)
    best = s.personal.best["EUR"]
    assert (best.token, best.hops, best.holds) == ("mEUR", 0, 0)
    assert "no conversion" in best.reason() and "none held" in best.reason()
    assert s.baseline["EUR"].token == "mUSD" and s.baseline["EUR"].holds == 3
    assert s.saving_bps["EUR"] > 30  # the hop and the holds
    assert 14 in s.personal.hours.hours and 2 not in s.personal.hours.hours
    assert s.baseline_hours.hours[0] == 2 or 2 in s.baseline_hours.hours


def test_suggest_for_refuses_another_payers_facts_and_an_empty_history():
    with pytest.raises(ValueError, match="own payments only"):
        suggest_for(PAYER, [fact(0, OTHER, "mUSD", "USD", 9, False)])
    with pytest.raises(DataError, match="no payments"):
        suggest_for(PAYER, [])


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with scored payments: the payer converts to EUR (held twice) and pays mEUR directly."""
    return scored_history(f"sqlite:///{tmp_path_factory.mktemp('suggest') / 'verdict.sqlite'}")


def test_the_store_gives_each_payments_route_and_hold(store_url: str):
    store = Store(store_url, create=False)
    try:
        facts = facts_from_store(store, PAYER)
    finally:
        store.close()
    assert [(f.token, f.currency_out, f.held) for f in facts[:3]] == [
        ("mUSD", "EUR", True),
        ("mUSD", "EUR", False),
        ("mUSD", "EUR", True),
    ]
    assert {f.currency_out for f in facts} == {"EUR"}


def test_verdict_suggest_prints_the_suggestion_with_its_reasons(store_url: str, monkeypatch):
    monkeypatch.setenv("VERDICT_STORE_URL", store_url)
    res = runner.invoke(app, ["suggest", PAYER.upper().replace("0X", "0x")])
    assert res.exit_code == 0, res.output
    assert "to pay EUR: use mEUR: no conversion" in res.output
    assert "most payers use" in res.output or "most payers do the same" in res.output
    assert "best hours:" in res.output


@pytest.mark.parametrize(
    ("address", "text"),
    [
        ("0x1234", "is not a 0x address"),
        ("not-an-address", "is not a 0x address"),
        (OTHER[:-2] + "ff", "no scored payments"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(store_url: str, monkeypatch, address: str, text: str):
    monkeypatch.setenv("VERDICT_STORE_URL", store_url)
    res = runner.invoke(app, ["suggest", address])
    assert res.exit_code == 1, res.output
    out = res.output.strip()
    assert "Traceback" not in out and out.startswith("error:") and text in out, out
    assert len(out.splitlines()) <= 2


def test_a_missing_store_is_one_line(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("VERDICT_STORE_URL", f"sqlite:///{tmp_path / 'none.sqlite'}")
    res = runner.invoke(app, ["suggest", PAYER])
    assert res.exit_code == 1 and res.output.strip().startswith("error:"), res.output


def test_the_replayed_comparison_costs_both_ways_on_each_payers_later_payments():
    from oracle.fx_eval import compare

    # The payer has paid EUR payees in mEUR and by converting mUSD; the crowd always converts.
    mine = [fact(i, PAYER, "mEUR" if i % 2 else "mUSD", "EUR", 9, False) for i in range(30)]
    crowd = [fact(i, f"0x{n:040x}", "mUSD", "EUR", 9, False) for n in range(1, 4) for i in range(30)]
    c = compare(mine + crowd)
    assert c.payers == 4 and c.later_payments == 40
    # 10 later payments each, 100 USD, 30 bps a hop: the suggestion (mEUR) spares this payer's 10
    # conversions; the crowd's own suggestion is the baseline; the baseline converts all 40
    assert c.conversion_personal_usd == pytest.approx(30 * 100.0 * 30 / 10_000)
    assert c.conversion_baseline_usd == pytest.approx(40 * 100.0 * 30 / 10_000)
    assert c.cost_personal_usd < c.cost_baseline_usd
