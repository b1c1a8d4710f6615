"""Probability-only scoring: the model's raw score (log-odds) through a compiled forest when it can.

lleaves (PyPI) compiles model.txt to native code through LLVM: about five times LightGBM's
`Booster.predict` on one thread. It computes no contributions, so it serves the score only; the
reasons (TreeSHAP) stay with LightGBM and run only where they are needed (oracle.scoring).

The compiled object is cached next to the model artifact, named by a key over the model id, the
lleaves and llvmlite versions and the host CPU (a cache built for another CPU could crash this
one). lleaves trusts any cache file it finds, so every load is checked against LightGBM on probe
rows before use; on any failure (lleaves missing, compilation error, a mismatch) the scorer falls
back to LightGBM with one log line saying why. Compiling runs on a background thread; the scorer
uses LightGBM until the compiled forest is ready. Scores are identical in basis points either way
(tests/oracle/test_forest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np
import structlog

from oracle.model import COMPILED_PREFIX, MODEL_FILE, ModelArtifact

log = structlog.get_logger("verdict.scoring")

# Raw scores of the compiled forest and LightGBM agree to rounding (sums in another order).
RAW_TOLERANCE = 1e-9
PROBE_ROWS = 512


class RawPredictor(Protocol):
    """Raw scores (log-odds) of rows in the model's feature order."""

    name: str

    def raw(self, X: np.ndarray) -> np.ndarray: ...


class BoosterPredictor:
    """LightGBM's own prediction, one thread (OpenMP costs more than it saves on daemon batches)."""

    name = "lightgbm"

    def __init__(self, artifact: ModelArtifact) -> None:
        self._booster = artifact.booster

    def raw(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self._booster.predict(X, raw_score=True, num_threads=1), dtype=np.float64)


class CompiledPredictor:
    """A model compiled by lleaves, loaded from (or written to) its cache file."""

    name = "lleaves"

    def __init__(self, model_file: Path, cache: Path | None) -> None:
        import lleaves  # optional at import time: the fallback needs none of it

        self._model = lleaves.Model(model_file=str(model_file))
        # finline=False: compiling about three times faster, predicting about a quarter slower
        self._model.compile(cache=None if cache is None else str(cache), raw_score=True, finline=False)

    def raw(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self._model.predict(X, n_jobs=1), dtype=np.float64)


def cache_key(model_id: str) -> str:
    """The cache file's name for `model_id` on this host with these compiler versions."""
    import llvmlite.binding as llvm

    h = hashlib.sha256(model_id.encode())
    for part in (
        "raw_score,finline=False",  # how CompiledPredictor compiles
        metadata.version("lleaves"),
        metadata.version("llvmlite"),
        llvm.get_host_cpu_name(),
        llvm.get_host_cpu_features().flatten(),
    ):
        h.update(b"\x00" + part.encode())
    return f"{COMPILED_PREFIX}{h.hexdigest()[:24]}.o"


def probe_rows(artifact: ModelArtifact, rows: int = PROBE_ROWS, seed: int = 11) -> np.ndarray:
    """Rows around each feature's typical value, with zeros and missing values among them: enough
    to take every tree down many paths, so a wrong or stale compiled object shows."""
    rng = np.random.default_rng(seed)
    medians = artifact.metadata.get("feature_medians", {})
    centre = np.array([float(medians.get(f) or 0.0) for f in artifact.feature_names])
    scale = 1.0 + np.abs(centre)
    X = centre + rng.standard_normal((rows, len(centre))) * scale * rng.choice([0.1, 1.0, 10.0], (rows, 1))
    X[rng.random(X.shape) < 0.05] = 0.0
    X[rng.random(X.shape) < 0.02] = np.nan
    return np.ascontiguousarray(X)


def _compile_into(model_file: Path, cache: Path) -> CompiledPredictor:
    """Compile and publish the cache atomically: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=f".{cache.name}.")
    os.close(fd)
    Path(tmp).unlink()  # lleaves writes the cache only if the path does not exist
    try:
        predictor = CompiledPredictor(model_file, Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, cache)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return predictor


def _agrees(predictor: RawPredictor, reference: RawPredictor, artifact: ModelArtifact) -> bool:
    X = probe_rows(artifact)
    ours, theirs = predictor.raw(X), reference.raw(X)
    cal = artifact.calibration
    close = bool(np.all(np.abs(ours - theirs) <= RAW_TOLERANCE))
    return close and bool(np.array_equal(cal.score_bps(ours), cal.score_bps(theirs)))


class ForestPredictor:
    """LightGBM until the compiled forest is ready and checked, then the compiled forest.

    A cached compiled object is loaded at once (milliseconds). Compiling takes seconds (about
    3 s of CPU for 300 trees), so it runs on a background thread and the scorer keeps scoring
    with LightGBM meanwhile: a new model never stalls the daemon."""

    def __init__(self, artifact: ModelArtifact, compiled: bool = True) -> None:
        self._artifact = artifact
        self._booster = BoosterPredictor(artifact)
        self._current: RawPredictor = self._booster
        self._settled = threading.Event()
        if not compiled:
            self._settled.set()
        elif artifact.directory is None:
            log.info(
                "compiled forest not used: the model was not loaded from a directory", fallback="lightgbm"
            )
            self._settled.set()
        elif not self._load_cached():
            threading.Thread(target=self._compile, name="compile-forest", daemon=True).start()

    @property
    def name(self) -> str:
        return self._current.name

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self._current.raw(X)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until compiling has finished one way or the other; True if it has."""
        return self._settled.wait(timeout)

    def _cache(self) -> Path:
        assert self._artifact.directory is not None
        return self._artifact.directory / cache_key(self._artifact.model_id)

    def _load_cached(self) -> bool:
        """Use a cache that exists and agrees with LightGBM; False if there is none (compile)."""
        try:
            cache = self._cache()
            if not cache.is_file():
                return False
            predictor = CompiledPredictor(self._artifact.directory / MODEL_FILE, cache)  # type: ignore[operator]
            if _agrees(predictor, self._booster, self._artifact):
                self._use(predictor, cache)
                return True
            log.warning("compiled forest cache disagrees with LightGBM; recompiling", cache=str(cache))
            cache.unlink(missing_ok=True)
            return False
        except Exception as exc:  # lleaves missing or failing in any way: LightGBM scores correctly
            self._give_up(exc)
            return True

    def _compile(self) -> None:
        model_file = self._artifact.directory / MODEL_FILE  # type: ignore[operator]
        cache = self._cache()
        try:
            try:
                predictor = _compile_into(model_file, cache)
            except OSError:  # a read-only model directory: compile in memory, every start
                predictor = CompiledPredictor(model_file, None)
            if _agrees(predictor, self._booster, self._artifact):
                self._use(predictor, cache)
                return
            log.warning(
                "compiled forest disagrees with LightGBM, scoring with LightGBM",
                model_id=self._artifact.model_id,
            )
            with contextlib.suppress(OSError):
                cache.unlink(missing_ok=True)
        except Exception as exc:
            self._give_up(exc)
        finally:
            self._settled.set()

    def _use(self, predictor: CompiledPredictor, cache: Path) -> None:
        self._current = predictor
        self._settled.set()
        log.info(
            "compiled forest ready",
            model_id=self._artifact.model_id,
            cache=str(cache),
            trees=self._artifact.booster.num_trees(),
        )

    def _give_up(self, exc: Exception) -> None:
        log.warning("compiled forest unavailable, scoring with LightGBM", reason=repr(exc)[:300])
        self._settled.set()


def raw_predictor(artifact: ModelArtifact, compiled: bool = True) -> ForestPredictor:
    """The fastest predictor that agrees with LightGBM on this model, LightGBM itself at worst."""
    return ForestPredictor(artifact, compiled)
