"""Model artifacts: a LightGBM text model, its risk-scale calibration and metadata, identified by a hash.

Layout of an artifact directory (format 2):
  model.txt         LightGBM text model
  calibration.json  the risk scale (raw output -> legitimate-traffic quantile in bps) and the
                    fraud-probability calibration, canonical JSON (oracle.calibration)
  metadata.json     model_id, feature_names, thresholds, metrics, training-data fingerprint, ...
  compiled-forest-*.o  (optional) the model compiled by lleaves for this host, a cache written by
                    the scorer (oracle.forest) and removed whenever the artifact is saved again
The model id is SHA-256 over model.txt and calibration.json together, so a new calibration is a
new model id. It goes on-chain as bytes32; governance approves ids, so `load` refuses any
directory whose files no longer hash to the id recorded next to them. Format-1 artifacts (no
calibration: the score was the raw probability) are refused with a message to retrain.
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

from oracle.calibration import Calibration
from oracle.errors import ModelError

MODEL_FILE = "model.txt"
CALIBRATION_FILE = "calibration.json"
METADATA_FILE = "metadata.json"
COMPILED_PREFIX = "compiled-forest-"
FORMAT_VERSION = 2


def calibration_text(calibration: Calibration) -> str:
    """The canonical JSON of a calibration: the exact bytes written to calibration.json and hashed."""
    return json.dumps(
        calibration.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def model_id_of(model_text: str, calibration_json: str) -> str:
    """0x-prefixed hex SHA-256 of model text, a NUL byte and the calibration JSON: a bytes32 on-chain."""
    h = hashlib.sha256(model_text.encode("utf-8"))
    h.update(b"\x00")
    h.update(calibration_json.encode("utf-8"))
    return "0x" + h.hexdigest()


@dataclass
class ModelArtifact:
    booster: lgb.Booster
    feature_names: list[str]
    model_id: str
    calibration: Calibration
    metadata: dict[str, Any] = field(default_factory=dict)
    review_threshold_bps: int = 9900
    reject_threshold_bps: int = 9990
    directory: Path | None = None  # where `load` read it (or `save` wrote it); None if built in memory

    @property
    def feature_set(self) -> str:
        """`verdict` when the features are oracle.features.FEATURES (from payments), else `generic`."""
        return str(self.metadata.get("feature_set", "generic"))

    @classmethod
    def from_booster(
        cls,
        booster: lgb.Booster,
        calibration: Calibration,
        metadata: dict[str, Any],
        review_bps: int,
        reject_bps: int,
    ) -> ModelArtifact:
        text = booster.model_to_string()
        # Re-parse from the texts so the in-memory objects are exactly what the id names.
        parsed = lgb.Booster(model_str=text)
        cal_text = calibration_text(calibration)
        return cls(
            booster=parsed,
            feature_names=list(parsed.feature_name()),
            model_id=model_id_of(text, cal_text),
            calibration=Calibration.from_dict(json.loads(cal_text)),
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
    cal_text = calibration_text(artifact.calibration)
    if model_id_of(text, cal_text) != artifact.model_id:
        raise ModelError("refusing to save: the booster or calibration no longer matches its model id")
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
        _atomic_write(d / CALIBRATION_FILE, cal_text + "\n")
        _atomic_write(d / METADATA_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    except OSError as err:
        raise ModelError(f"{d}: cannot write the model artifact ({err.strerror or err})") from err
    for stale in d.glob(COMPILED_PREFIX + "*"):  # compiled from the model.txt just replaced
        stale.unlink(missing_ok=True)
    artifact.metadata = meta
    artifact.directory = d
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
    cal_path = d / CALIBRATION_FILE
    if not cal_path.is_file():
        raise ModelError(
            f"{d}: this model predates the calibrated risk scale (artifact format "
            f"{meta.get('format_version', 1)}, no {CALIBRATION_FILE}); its scores are not on the "
            "legitimate-quantile scale the thresholds use. Retrain it with `verdict train`"
        )
    try:
        cal_text = cal_path.read_text(encoding="utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"{d}: cannot read {CALIBRATION_FILE} ({err})") from err
    expected = meta.get("model_id")
    actual = model_id_of(text, cal_text)
    if not isinstance(expected, str) or expected.lower() != actual:
        raise ModelError(
            f"{d}: model and calibration hash {actual[:18]}… does not match the recorded model id; "
            "refusing a tampered model"
        )
    try:
        calibration = Calibration.from_dict(json.loads(cal_text))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ModelError(f"{d}: {CALIBRATION_FILE} is not a valid calibration ({err})") from err
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
    return ModelArtifact(booster, names, actual, calibration, meta, review, reject, d)
