"""Model artifacts: a LightGBM text model plus metadata, identified by the SHA-256 of the model text.

Layout of an artifact directory:
  model.txt      LightGBM text model (the bytes the model id hashes)
  metadata.json  model_id, feature_names, thresholds, metrics, training-data fingerprint, ...
The model id goes on-chain as bytes32; governance approves ids, so `load` refuses any directory whose
model text no longer hashes to the id recorded next to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb

from oracle.errors import ModelError

MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1


def model_id_of(model_text: str) -> str:
    """0x-prefixed hex SHA-256 of the model text (UTF-8): a bytes32 on-chain."""
    return "0x" + hashlib.sha256(model_text.encode("utf-8")).hexdigest()


@dataclass
class ModelArtifact:
    booster: lgb.Booster
    feature_names: list[str]
    model_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    review_threshold_bps: int = 5000
    reject_threshold_bps: int = 9000

    @property
    def feature_set(self) -> str:
        """`verdict` when the features are oracle.features.FEATURES (from payments), else `generic`."""
        return str(self.metadata.get("feature_set", "generic"))

    @classmethod
    def from_booster(
        cls, booster: lgb.Booster, metadata: dict[str, Any], review_bps: int, reject_bps: int
    ) -> ModelArtifact:
        text = booster.model_to_string()
        # Re-parse from the text so the in-memory booster is exactly what the id names.
        parsed = lgb.Booster(model_str=text)
        return cls(
            booster=parsed,
            feature_names=list(parsed.feature_name()),
            model_id=model_id_of(text),
            metadata=dict(metadata),
            review_threshold_bps=int(review_bps),
            reject_threshold_bps=int(reject_bps),
        )

    def model_text(self) -> str:
        return str(self.booster.model_to_string())


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; other users (reviewers, explain) read models
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(artifact: ModelArtifact, directory: str | Path) -> Path:
    """Write model.txt and metadata.json into `directory` (created if needed)."""
    d = Path(directory)
    text = artifact.model_text()
    if model_id_of(text) != artifact.model_id:
        raise ModelError("refusing to save: the booster no longer matches its model id")
    meta = dict(artifact.metadata)
    meta.update(
        format_version=FORMAT_VERSION,
        model_id=artifact.model_id,
        feature_names=list(artifact.feature_names),
        review_threshold_bps=int(artifact.review_threshold_bps),
        reject_threshold_bps=int(artifact.reject_threshold_bps),
    )
    try:
        d.mkdir(parents=True, exist_ok=True)
        _atomic_write(d / MODEL_FILE, text)
        _atomic_write(d / METADATA_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    except OSError as err:
        raise ModelError(f"{d}: cannot write the model artifact ({err.strerror or err})") from err
    artifact.metadata = meta
    return d


def load(directory: str | Path) -> ModelArtifact:
    """Read and verify an artifact; ModelError if missing, corrupt or tampered with."""
    d = Path(directory)
    model_path, meta_path = d / MODEL_FILE, d / METADATA_FILE
    if not d.is_dir():
        raise ModelError(f"{d}: no model directory here")
    for p in (model_path, meta_path):
        if not p.is_file():
            raise ModelError(f"{d}: model artifact incomplete, {p.name} is missing")
    try:
        text = model_path.read_text(encoding="utf-8")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{d}: cannot read the model artifact ({err})") from err
    except json.JSONDecodeError as err:
        raise ModelError(f"{d}: {METADATA_FILE} is not valid JSON (line {err.lineno})") from err
    if not isinstance(meta, dict):
        raise ModelError(f"{d}: {METADATA_FILE} must hold a JSON object")
    expected = meta.get("model_id")
    actual = model_id_of(text)
    if not isinstance(expected, str) or expected.lower() != actual:
        raise ModelError(
            f"{d}: model text hash {actual[:18]}… does not match the recorded model id; "
            "refusing a tampered model"
        )
    try:
        booster = lgb.Booster(model_str=text)
    except lgb.basic.LightGBMError as err:
        raise ModelError(f"{d}: {MODEL_FILE} is not a valid LightGBM model") from err
    names = list(booster.feature_name())
    if meta.get("feature_names") != names:
        raise ModelError(f"{d}: metadata feature list does not match the model's features")
    try:
        review, reject = int(meta["review_threshold_bps"]), int(meta["reject_threshold_bps"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelError(f"{d}: metadata lacks valid review/reject thresholds") from err
    if not 0 <= review <= reject <= 10_000:
        raise ModelError(f"{d}: thresholds must satisfy 0 <= review <= reject <= 10000")
    return ModelArtifact(booster, names, actual, meta, review, reject)
