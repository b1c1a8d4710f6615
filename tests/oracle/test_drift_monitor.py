"""The daemon's drift gauges: PSI of the recent scores and features, a warning past the limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from prometheus_client import generate_latest
from structlog.testing import capture_logs

from oracle.drift import build_reference
from oracle.drift_monitor import DriftMonitor, drift_of_rows
from oracle.metrics import Metrics
from oracle.verdicts import VerdictRow


def _rows(amounts: np.ndarray, scores: np.ndarray, model_id: str = "0xm") -> list[VerdictRow]:
    return [
        VerdictRow(
            f"router:{i}",
            "0xr",
            str(i),
            int(s),
            "settle",
            model_id,
            [],
            "0xh",
            {"amount": float(a)},
            1.0,
            None,
            None,
            None,
            None,
            0.01,
        )
        for i, (a, s) in enumerate(zip(amounts, scores, strict=True))
    ]


def _reference(rng: np.random.Generator) -> dict:
    return build_reference(
        pd.DataFrame({"amount": rng.lognormal(3, 1, 20_000)}), rng.integers(0, 10_001, 20_000)
    )


def test_the_gauges_follow_the_window_and_warn_once_past_the_limit():
    rng = np.random.default_rng(1)
    reference, metrics = _reference(rng), Metrics()
    monitor = DriftMonitor(metrics, window=1_000, interval=60.0, min_rows=200)
    monitor.observe("0xm", _rows(rng.lognormal(3, 1, 100), rng.integers(0, 10_001, 100)))
    assert monitor.maybe_report(reference, now=0.0) is None  # too few rows to say anything
    monitor.observe("0xm", _rows(rng.lognormal(3, 1, 900), rng.integers(0, 10_001, 900)))
    calm = monitor.maybe_report(reference, now=1.0)
    assert calm is not None and calm["rows"] == 1_000 and calm["warnings"] == []
    text = generate_latest(metrics.registry).decode()
    assert 'verdict_drift_psi{series="score"}' in text and 'verdict_drift_psi{series="amount"}' in text
    assert "verdict_drift_rows 1000.0" in text

    # Traffic moves: larger amounts, scores piled at the top. Not before the interval has passed.
    monitor.observe("0xm", _rows(rng.lognormal(5, 1, 1_000), rng.integers(9_900, 10_001, 1_000)))
    assert monitor.maybe_report(reference, now=30.0) is None
    with capture_logs() as logs:
        shifted = monitor.maybe_report(reference, now=61.0)
    assert shifted is not None and set(shifted["warnings"]) == {"score", "amount"}
    psi = metrics.drift_psi.labels("score")._value.get()  # noqa: SLF001 - the gauge's current value
    assert psi > 0.2 and psi == shifted["score"]
    warned = [e["series"] for e in logs if "past the limit" in e["event"] and e["log_level"] == "warning"]
    assert sorted(warned) == ["amount", "score"]
    with capture_logs() as again:  # once per series while it stays past the limit
        monitor.maybe_report(reference, now=200.0)
    assert not [e for e in again if "past the limit" in e["event"]]


def test_a_new_model_starts_a_new_window_and_without_a_reference_nothing_is_computed():
    rng = np.random.default_rng(2)
    monitor = DriftMonitor(Metrics(), window=500, interval=0.0, min_rows=10)
    monitor.observe("0xa", _rows(rng.lognormal(3, 1, 50), rng.integers(0, 10_001, 50)))
    monitor.observe("0xb", _rows(rng.lognormal(3, 1, 5), rng.integers(0, 10_001, 5), model_id="0xb"))
    assert monitor.maybe_report(_reference(rng), now=0.0) is None  # only the new model's 5 rows
    assert monitor.maybe_report(None, now=0.0) is None
    assert drift_of_rows(None, _rows(np.ones(3), np.ones(3))) is None
