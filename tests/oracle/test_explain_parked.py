"""`verdict explain` says why a verdict was parked (issue 13, split and park), even with no chain."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from oracle.config import Settings
from oracle.explain import explain_payment
from oracle.gate import ROUTER
from oracle.store import Store

UNKNOWN_TARGET = "RiskOracleUnknownTarget(0x" + "11" * 20 + ")"


def _record(store: Store, item_id: int) -> str:
    key = f"{ROUTER}:{item_id}"
    store.record_scored(
        key=key,
        target="0x" + "11" * 20,
        item_id=item_id,
        score_bps=120,
        decision="settle",
        model_id="0x" + "ab" * 32,
        reasons=[{"feature": "amount", "value": 12.0, "contribution": 0.1, "text": "amount is $12.00"}],
        reasons_hash="0x" + "cd" * 32,
        features={},
    )
    return key


def _explained(url: str, tmp_path: Path, item_id: int) -> str:
    settings = Settings(
        store_url=url, deployment=tmp_path / "no-deployment.json", rpc_url="http://127.0.0.1:9"
    )
    console = Console(record=True, width=200)
    console.print(explain_payment(settings, ROUTER, item_id))
    return console.export_text()


def _store(tmp_path: Path) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path / 'verdict.sqlite'}"
    return Store(url), url


def test_explain_names_the_reason_a_verdict_was_parked(tmp_path: Path):
    store, url = _store(tmp_path)
    store.mark_parked({_record(store, 7): UNKNOWN_TARGET})
    store.close()
    text = _explained(url, tmp_path, 7)
    assert "The node parked this verdict" in text
    assert UNKNOWN_TARGET in text


def test_explain_says_nothing_of_parking_for_a_verdict_that_was_not(tmp_path: Path):
    store, url = _store(tmp_path)
    _record(store, 8)
    store.close()
    text = _explained(url, tmp_path, 8)
    assert "parked" not in text
    assert "Score 120 of 10,000" in text
