"""Champion-challenger on the node's side: the challenger is scored beside the champion and never
touches the champion's verdicts, whether it raises, hangs or falls behind; a challenger that cannot
load is one line at start."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oracle.chain import GateRequest, TokenInfo
from oracle.cli import app
from oracle.config import Settings
from oracle.features import OnlineFeatures
from oracle.gate import decide
from oracle.metrics import Metrics
from oracle.model import CALIBRATION_FILE
from oracle.scoring import Scorer
from oracle.scoring_stage import ScoringStage
from oracle.shadow import ShadowLog, ShadowScorer
from oracle.store import Store

TARGET = "0x" + "11" * 20
TOKEN = "0x" + "22" * 20
BATCHES, PER_BATCH = 3, 20


class Facts:
    """The chain reads a request needs: a stablecoin, and twelve-second blocks."""

    def token_info(self, token: str) -> TokenInfo:
        return TokenInfo("mUSD", 6)

    def block_timestamp(self, number: int) -> int:
        return 1_750_000_000 + 12 * number


class Raising:
    """A challenger that fails on every batch."""

    model_id = "0x" + "ab" * 32

    def score_many(self, X: np.ndarray, reasons_from_bps: int = 0) -> list:
        raise RuntimeError("challenger broke")


class Blocked:
    """A challenger that hangs until the test releases it (slower than any champion)."""

    def __init__(self, inner: Scorer) -> None:
        self.inner, self.model_id, self.release = inner, inner.model_id, threading.Event()

    def score_many(self, X: np.ndarray, reasons_from_bps: int = 0) -> list:
        self.release.wait()
        return self.inner.score_many(X, reasons_from_bps)


def requests(payments) -> list[list[GateRequest]]:
    rows = payments.iloc[: BATCHES * PER_BATCH]
    reqs = [
        GateRequest("router", TARGET, i + 1, r.payer, r.payee, TOKEN, int(r.amount_usd * 1e6), 0, i, "0x")
        for i, r in enumerate(rows.itertuples())
    ]
    return [reqs[i : i + PER_BATCH] for i in range(0, len(reqs), PER_BATCH)]


def stage(tmp_path: Path, name: str, shadow: ShadowScorer | None = None) -> tuple[ScoringStage, Store]:
    store = Store(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
    return ScoringStage(Settings(), Facts(), OnlineFeatures(store), store, Metrics(), shadow=shadow), store


def verdicts(rows) -> list[tuple]:
    return [(r.key, r.score_bps, r.decision, r.model_id, r.reasons_hash, r.probability) for r in rows]


@pytest.mark.parametrize("kind", ["raises", "hangs"])
def test_a_failing_or_hanging_challenger_neither_delays_nor_changes_champion_verdicts(
    kind, payments, artifact, other_artifact, tmp_path
):
    thresholds = (9_900, 9_990)
    plain, plain_store = stage(tmp_path, "plain")
    expected = [verdicts(plain.score(b, Scorer(artifact), artifact, thresholds)) for b in requests(payments)]

    challenger = Raising() if kind == "raises" else Blocked(Scorer(other_artifact))
    metrics = Metrics()
    shadow_log = ShadowLog(f"sqlite:///{tmp_path / 'shadowed.sqlite'}")
    shadow = ShadowScorer(challenger, shadow_log, metrics, queue_batches=1)
    shadowed, store = stage(tmp_path, "shadowed", shadow)
    got: list = []

    def champion() -> None:
        for batch in requests(payments):
            got.append(verdicts(shadowed.score(batch, Scorer(artifact), artifact, thresholds)))

    # While the challenger hangs, every champion batch still completes (a thread, so a champion
    # that waited would fail this test rather than hang the suite).
    worker = threading.Thread(target=champion)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the champion waited on the challenger"
    assert got == expected

    if isinstance(challenger, Blocked):
        challenger.release.set()
    shadow.close(timeout=60)
    total = BATCHES * PER_BATCH
    shadowed_count = metrics.registry.get_sample_value("verdict_errors_total", {"kind": "shadow"}) or 0
    if kind == "raises":
        assert shadow.failed == total and shadow_log.count() == 0
        assert shadowed_count == total
    else:  # one batch scored late, one queued behind it, the rest dropped and counted
        assert shadow.dropped >= PER_BATCH and shadow.scored + shadow.dropped == total
        assert shadow_log.count() == shadow.scored and shadowed_count == shadow.dropped
    # the champion's own log holds the same verdicts as the node without a challenger
    keys = [r[0] for b in expected for r in b]
    assert verdicts(store.scored_many(keys)[k] for k in keys) == verdicts(
        plain_store.scored_many(keys)[k] for k in keys
    )
    for s in (plain_store, store, shadow_log):
        s.close()


def test_challenger_rows_hold_its_own_score_and_decision_under_the_router_thresholds(
    payments, artifact, other_artifact, tmp_path
):
    thresholds = (7_000, 9_500)  # not the defaults: the rows must carry the ones in force
    shadow_log = ShadowLog(f"sqlite:///{tmp_path / 'node.sqlite'}")
    shadow = ShadowScorer(Scorer(other_artifact), shadow_log, Metrics())
    node, store = stage(tmp_path, "node", shadow)
    champion = [
        row for b in requests(payments) for row in node.score(b, Scorer(artifact), artifact, thresholds)
    ]
    shadow.close(timeout=60)

    rows = shadow_log.rows_for([r.key for r in champion])
    assert len(rows) == len(champion)
    other = Scorer(other_artifact)
    X = np.array([[r.features[f] for f in other.feature_names] for r in champion])
    for verdict, expected in zip(champion, other.score_many(X), strict=True):
        row = rows[verdict.key]
        assert (row.model_id, row.champion_model_id) == (other_artifact.model_id, artifact.model_id)
        assert row.score_bps == expected.score_bps and row.probability == pytest.approx(expected.probability)
        assert row.decision == decide(expected.score_bps, *thresholds)
        assert (row.review_bps, row.reject_bps) == thresholds
        assert row.latency_ms > 0 and row.champion_latency_ms > 0
    store.close()
    shadow_log.close()


def _format_one(model_dir: Path, tmp_path: Path) -> Path:
    old = tmp_path / "format-1"
    shutil.copytree(model_dir, old)
    (old / CALIBRATION_FILE).unlink()
    return old


@pytest.mark.parametrize("which", ["absent", "format-1", "corrupt"])
def test_a_challenger_that_cannot_load_is_one_line_at_start(which, model_dir, tmp_path):
    if which == "absent":
        shadow = tmp_path / "nowhere"
    elif which == "format-1":
        shadow = _format_one(model_dir, tmp_path)
    else:
        shadow = tmp_path / "corrupt"
        shutil.copytree(model_dir, shadow)
        (shadow / "model.txt").write_text("not a model")
    env = {"VERDICT_STORE_URL": f"sqlite:///{tmp_path / 'node.sqlite'}"}
    result = CliRunner().invoke(app, ["run", "--shadow", str(shadow)], env=env)
    out = result.output.strip()
    assert result.exit_code == 1, out
    assert out.startswith("error: shadow model") and "Traceback" not in out
    assert len(out.splitlines()) <= 2
    assert not (tmp_path / "node.sqlite").exists()  # refused before the node started
