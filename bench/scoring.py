"""Scoring speed for `make bench`: single payments with their features, batches, LightGBM's own
Booster.predict against lleaves, a compiled predictor from PyPI, and the daemon's scoring path at a
realistic mix (`scoring_rows_per_s_with_reasons`, issue 16.3).

No chain here. The store is a real SQLite file primed with history, so a single payment pays for
what the daemon pays for: reading the accounts, computing features, recording the payment, then
the score, the evidence hash, and the reasons when the score reaches the review threshold.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from oracle.datagen import generate
from oracle.features import FEATURES, OnlineFeatures, PaymentRecord, batch_features
from oracle.model import ModelArtifact
from oracle.scoring import Scorer
from oracle.store import Store

DAY = 86_400
T0 = 1_767_225_600  # 2026-01-01: any fixed time; only differences between timestamps matter


def _percentiles_us(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1e6
    return {"p50": round(float(np.percentile(arr, 50)), 1), "p99": round(float(np.percentile(arr, 99)), 1)}


def _history(rng: np.random.Generator, accounts: list[str], count: int, start: int) -> list[PaymentRecord]:
    out = []
    for i in range(count):
        payer, payee = rng.choice(len(accounts), size=2, replace=False)
        out.append(
            PaymentRecord(
                key=f"bench:history:{i}",
                payer=accounts[payer],
                payee=accounts[payee],
                token=("ETH", "mUSD")[i % 2],
                amount_usd=float(rng.lognormal(4, 1)),
                timestamp=start + i * 30,
            )
        )
    return out


def single_payment(artifact: ModelArtifact, store_path: Path, iterations: int = 2000) -> dict[str, Any]:
    """p50/p99 of one payment through features (store read and write included) and scoring."""
    for stale in store_path.parent.glob(store_path.name + "*"):
        stale.unlink()
    store = Store(f"sqlite:///{store_path}")
    try:
        rng = np.random.default_rng(5)
        accounts = [f"0x{i + 1:040x}" for i in range(300)]
        store.upsert_accounts(
            [(a, ("US", "GB", "DE")[i % 3], T0 - (30 + i) * DAY) for i, a in enumerate(accounts)]
        )
        history = _history(rng, accounts, 6000, T0)
        online = OnlineFeatures(store)
        online.compute_many(history)  # a month-like history, in one go
        scorer = Scorer(artifact, compiled=True)
        scorer.wait_compiled(600)  # measure the daemon's steady state, not the compile
        live = _history(rng, accounts, iterations, T0 + 6000 * 30)
        live = [replace(rec, key=f"bench:live:{i}") for i, rec in enumerate(live)]
        total, features, scoring = [], [], []
        for rec in live[:50]:  # warm-up: caches, LightGBM's first call
            scorer.score_many(online.compute_many([rec], observe=False))
        for rec in live:
            t0 = time.perf_counter()
            row = online.compute_many([rec])
            t1 = time.perf_counter()
            scorer.score_many(row)
            t2 = time.perf_counter()
            features.append(t1 - t0)
            scoring.append(t2 - t1)
            total.append(t2 - t0)
        # Features without the store write, to show where the time goes.
        no_write = []
        for rec in live[:500]:
            t0 = time.perf_counter()
            scorer.score_many(online.compute_many([replace(rec, key="bench:probe")], observe=False))
            no_write.append(time.perf_counter() - t0)
        return {
            "iterations": iterations,
            "total_us": _percentiles_us(total),
            "features_us": _percentiles_us(features),
            "score_us": _percentiles_us(scoring),
            "total_without_store_write_us": _percentiles_us(no_write),
        }
    finally:
        store.close()


def feature_matrix(rows: int, seed: int = 3) -> np.ndarray:
    """FEATURES-ordered rows with realistic ranges (the batch benches need values, not meaning)."""
    rng = np.random.default_rng(seed)
    cols = []
    for name in FEATURES:
        if name in ("pair_is_new", "cross_border", "reverse_pair"):
            cols.append(rng.integers(0, 2, rows).astype(float))
        elif name == "hour_of_day":
            cols.append(rng.integers(0, 24, rows).astype(float))
        elif name == "token":
            cols.append(rng.integers(0, 3, rows).astype(float))
        elif name == "amount_zscore_payer":
            cols.append(rng.normal(0, 1.5, rows))
        elif name == "log_amount":
            cols.append(rng.normal(4, 1.2, rows))
        else:
            cols.append(rng.lognormal(3, 1.5, rows))
    return np.ascontiguousarray(np.column_stack(cols))


def _rate(fn: Any, rows: int, repeats: int = 3) -> float:
    best = min(_timed(fn) for _ in range(repeats))
    return rows / best


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def scoring_with_reasons(
    artifact: ModelArtifact, rows: int = 40_000, batch: int = 200, seed: int = 29
) -> dict[str, Any]:
    """`scoring_rows_per_s_with_reasons`: the daemon's scoring path (`Scorer.score_many` with the
    review threshold: score through the compiled forest, evidence hash for every row, TreeSHAP
    reasons for the rows at or above review) in daemon-sized batches, one thread, over generated
    payments at the demo's 1% fraud rate, so about 2% reach review (1% of legitimate payments by
    the calibration, plus most frauds). Features are precomputed: `single_payment` has their cost."""
    frame = generate(rows=rows, seed=seed, fraud_rate=0.01)
    scorer = Scorer(artifact, compiled=True)
    compiled = scorer.wait_compiled(600)
    X = scorer.model_matrix(batch_features(frame).to_numpy())
    review = artifact.review_threshold_bps
    batches = [X[i : i + batch] for i in range(0, len(X), batch)]

    def run() -> list[Any]:
        return [r for b in batches for r in scorer.score_many(b, reasons_from_bps=review)]

    results = run()  # warm-up, and the mix actually scored
    with_reasons = sum(1 for r in results if r.reasons)
    cpu0 = time.process_time()
    run()
    cpu_us = (time.process_time() - cpu0) / len(X) * 1e6
    reference = Scorer(artifact, compiled=False)
    everything = min(_timed(lambda: reference.score_many(X[:2_000])) for _ in range(2))
    cpu0 = time.process_time()
    reference.score_many(X[:2_000])
    cpu_all_us = (time.process_time() - cpu0) / 2_000 * 1e6
    return {
        "rows": len(X),
        "batch": batch,
        "predictor": scorer.predictor if compiled else "lightgbm (compiled forest not ready)",
        "share_reaching_review": round(with_reasons / len(results), 4),
        "scoring_rows_per_s_with_reasons": round(_rate(run, len(X))),
        "scoring_rows_per_s_reasons_for_all": round(2_000 / everything),
        # CPU time of this process per row: what the wall-clock rate would be on an idle core
        # (the rate above is wall clock, so a busy host lowers it; the load shows how busy)
        "scoring_cpu_us_per_row": round(cpu_us, 1),
        "scoring_cpu_us_per_row_reasons_for_all": round(cpu_all_us, 1),
        "host_load_average_1m": round(os.getloadavg()[0], 2),
    }


def batch_scoring(artifact: ModelArtifact, rows: int = 100_000) -> dict[str, Any]:
    """Rows per second: the full path with reasons for every row (contributions + reasons + hash)
    and the bare probability, both single-threaded as in the daemon; with the realistic mix
    (`scoring_with_reasons`) under "scoring_rows_per_s_with_reasons"."""
    scorer = Scorer(artifact, compiled=False)
    X = feature_matrix(rows)
    Xm = scorer.model_matrix(X)  # the model's own column order
    booster = artifact.booster
    # Contributions (TreeSHAP) cost about a millisecond a row: a smaller sample keeps the bench short.
    small = min(rows, 4_000)
    return {
        "rows": rows,
        "rows_with_contributions": small,
        "score_many_rows_per_s": round(_rate(lambda: scorer.score_many(X[:small]), small, 2)),
        "pred_contrib_rows_per_s": round(
            _rate(lambda: booster.predict(Xm[:small], pred_contrib=True, num_threads=1), small, 2)
        ),
        "booster_predict_rows_per_s": round(_rate(lambda: booster.predict(Xm, num_threads=1), rows)),
        **scoring_with_reasons(artifact),
    }


def compiled_predictor(
    artifact: ModelArtifact, model_dir: Path, cache: Path, rows: int = 100_000
) -> dict[str, Any]:
    """Booster.predict against lleaves (the model compiled to native code through LLVM)."""
    import lleaves

    booster = artifact.booster
    scorer = Scorer(artifact, compiled=False)
    Xm = scorer.model_matrix(feature_matrix(rows))
    cache.unlink(missing_ok=True)  # lleaves trusts any cache file it finds, even an older model's
    t0 = time.perf_counter()
    compiled = lleaves.Model(model_file=str(model_dir / "model.txt"))
    compiled.compile(cache=str(cache), finline=False)  # as oracle.forest compiles it
    compile_s = time.perf_counter() - t0
    ours = booster.predict(Xm, num_threads=1)
    theirs = compiled.predict(Xm, n_jobs=1)
    single_lgb, single_ll = [], []
    for i in range(2000):
        row = Xm[i : i + 1]
        t0 = time.perf_counter()
        booster.predict(row, num_threads=1)
        t1 = time.perf_counter()
        compiled.predict(row, n_jobs=1)
        single_ll.append(time.perf_counter() - t1)
        single_lgb.append(t1 - t0)
    return {
        "predictor": "lleaves 1.3.0",
        "trees": int(booster.num_trees()),
        "compile_s": round(compile_s, 1),
        "booster_predict_rows_per_s": round(_rate(lambda: booster.predict(Xm, num_threads=1), rows)),
        "compiled_predict_rows_per_s": round(_rate(lambda: compiled.predict(Xm, n_jobs=1), rows)),
        "booster_single_us": _percentiles_us(single_lgb),
        "compiled_single_us": _percentiles_us(single_ll),
        "max_abs_difference": float(np.max(np.abs(ours - theirs))),
    }
