"""The compiled forest (lleaves) scores exactly like LightGBM, is compiled once per model and
cached beside the artifact, and never serves a cache that disagrees with LightGBM."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from oracle.features import batch_features
from oracle.forest import BoosterPredictor, cache_key, probe_rows
from oracle.model import COMPILED_PREFIX, ModelArtifact, load, save
from oracle.scoring import Scorer


@pytest.fixture(scope="module")
def test_rows(artifact, payments) -> np.ndarray:
    """Every generated payment plus wide random rows with zeros and missing values."""
    real = Scorer(artifact, compiled=False).model_matrix(batch_features(payments).to_numpy())
    return np.vstack([real, probe_rows(artifact, rows=20_000, seed=99)])


def compiled_scorer(artifact) -> Scorer:
    scorer = Scorer(artifact, compiled=True)
    assert scorer.wait_compiled(600)
    return scorer


def test_compiled_scores_equal_lightgbm_in_bps(artifact, test_rows):
    compiled = compiled_scorer(artifact)
    assert compiled.predictor == "lleaves"  # pinned in requirements.lock: it must be the one in use
    reference = Scorer(artifact, compiled=False)
    assert reference.predictor == "lightgbm"
    ours, theirs = compiled.score_many(test_rows, 10_001), reference.score_many(test_rows, 10_001)
    assert [r.score_bps for r in ours] == [r.score_bps for r in theirs]  # stated tolerance: none in bps
    np.testing.assert_allclose([r.probability for r in ours], [r.probability for r in theirs], rtol=1e-9)
    raw_c = compiled._predictor.raw(test_rows)
    raw_l = BoosterPredictor(artifact).raw(test_rows)
    assert np.max(np.abs(raw_c - raw_l)) <= 1e-9


def test_compiled_once_and_cached_beside_the_model(artifact, model_dir):
    cache = model_dir / cache_key(artifact.model_id)
    compiled_scorer(artifact)
    assert cache.is_file()
    before = cache.stat().st_mtime_ns
    assert Scorer(artifact, compiled=True).predictor == "lleaves"  # at once: no compiling
    assert cache.stat().st_mtime_ns == before  # loaded, not compiled again


def test_a_cache_from_another_model_is_detected_and_replaced(artifact, other_artifact, model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(model_dir, d)
    mine = load(d)
    compiled_scorer(other_artifact)  # compiles the other model's cache
    stale = other_artifact.directory / cache_key(other_artifact.model_id)
    shutil.copyfile(stale, d / cache_key(mine.model_id))  # lleaves alone would trust it
    scorer = Scorer(mine, compiled=True)
    assert scorer.predictor == "lightgbm"  # the stale cache is not used, even for a moment
    assert scorer.wait_compiled(600) and scorer.predictor == "lleaves"
    X = probe_rows(mine, rows=2_000, seed=5)
    assert [r.score_bps for r in scorer.score_many(X, 10_001)] == [
        r.score_bps for r in Scorer(mine, compiled=False).score_many(X, 10_001)
    ]
    assert (d / cache_key(mine.model_id)).read_bytes() != stale.read_bytes()


def test_saving_a_model_again_drops_its_compiled_caches(artifact, model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(model_dir, d)
    compiled_scorer(load(d))
    assert list(d.glob(COMPILED_PREFIX + "*"))
    save(load(d), d)
    assert not list(d.glob(COMPILED_PREFIX + "*"))


def test_a_model_built_in_memory_scores_with_lightgbm(artifact):
    in_memory = ModelArtifact(
        artifact.booster,
        artifact.feature_names,
        artifact.model_id,
        artifact.calibration,
        artifact.metadata,
        artifact.review_threshold_bps,
        artifact.reject_threshold_bps,
    )
    assert Scorer(in_memory, compiled=True).predictor == "lightgbm"
    assert Scorer(artifact).predictor == "lightgbm"  # one-shot commands do not compile
