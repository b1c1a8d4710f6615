"""The dashboard's Suggestions panel: the page's own data and template over a real store (the page
reads no chain; the browser test covers the shared header and navigation)."""

from __future__ import annotations

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape
from suggest_history import PAYER, scored_history

from oracle.dashboard.app import HERE, PAGES
from oracle.dashboard.filters import FILTERS
from oracle.store import Store
from oracle.suggest import page_data


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    s = Store(scored_history(f"sqlite:///{tmp_path_factory.mktemp('dash') / 'verdict.sqlite'}"), create=False)
    yield s
    s.close()


def render(data: dict) -> str:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters.update(FILTERS)
    head = {"ok": False, "rpc": "http://127.0.0.1:1"}
    return env.get_template("suggest.html").render(
        pages=PAGES, page="suggest", token="t", head=head, data=data
    )


def test_the_panel_shows_the_payers_suggestion_beside_the_baseline(store):
    html = render(page_data(store, {"payer": PAYER}))
    assert '<tr data-currency="EUR">' in html
    assert "<b>mEUR</b>" in html and "no conversion" in html
    assert 'id="suggest-hours"' in html and "UTC" in html
    assert 'data-nav="suggest"' in html


@pytest.mark.parametrize(
    ("payer", "text"), [("0xnot", "is not a 0x address"), ("0x" + "ef" * 20, "no scored payments")]
)
def test_bad_input_is_one_error_line_on_the_page(store, payer: str, text: str):
    html = render(page_data(store, {"payer": payer}))
    assert 'id="suggest-error"' in html and text in html
    assert "suggest-rows" not in html


def test_an_empty_form_shows_no_error(store):
    html = render(page_data(store, {}))
    assert "suggest-error" not in html and "suggest-form" in html
