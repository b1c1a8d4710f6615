"""The evidence hash: what a verdict's on-chain `reasonsHash` field commits to.

Reasons (TreeSHAP contributions) are too slow to compute for every payment, so the verdict commits
to what the reasons are a function of instead: the model and the exact feature vector it scored.
Anyone holding the stored features and the model artifact recomputes the hash, compares it with
the on-chain value, and then recomputes the score and the reasons themselves (`verdict explain`).

Encoding, version 1 (the version is in the domain tag; a change of encoding is a new tag):

    keccak256( b"verdict.evidence.v1\\x00"     19 ASCII bytes and a NUL
             || model_id                      32 bytes (the artifact's SHA-256 id, as on-chain)
             || uint16 big-endian n           the number of features
             || n x float64 big-endian        the features in the model's own feature order
                                              (model.txt's feature_names, fixed by the model id);
                                              every NaN as the canonical quiet NaN 0x7ff8000000000000,
                                              every other value bit for bit (so -0.0 stays -0.0) )

The model id already binds the model text, its calibration and so the feature names and order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import sha3  # safe-pysha3: keccak256 in C, about 6x eth_utils' per call (one call per payment)

from oracle.errors import DataError

EVIDENCE_VERSION = 1
EVIDENCE_TAG = b"verdict.evidence.v1\x00"
_CANONICAL_NAN = np.frombuffer(bytes.fromhex("7ff8000000000000"), dtype=">f8")[0]


def _prefix(model_id: str, n_features: int) -> bytes:
    raw = bytes.fromhex(model_id.removeprefix("0x"))
    if len(raw) != 32:
        raise DataError(f"model id {model_id!r} is not 32 bytes")
    if not 0 < n_features < 2**16:
        raise DataError(f"cannot commit to {n_features} features")
    return EVIDENCE_TAG + raw + n_features.to_bytes(2, "big")


def canonical_bytes(matrix: np.ndarray) -> np.ndarray:
    """Rows of big-endian float64 with NaNs made canonical: a (rows, 8 * n) uint8 array."""
    arr = np.array(matrix, dtype=">f8", ndmin=2)  # a copy: the NaN rewrite must not touch the caller's
    arr[np.isnan(arr)] = _CANONICAL_NAN
    return np.ascontiguousarray(arr).view(np.uint8).reshape(arr.shape[0], -1)


def evidence_hashes(model_id: str, matrix: np.ndarray) -> list[str]:
    """The 0x-hex evidence hash of each row of `matrix` (model feature order) under `model_id`."""
    rows = canonical_bytes(matrix)
    prefix, width = _prefix(model_id, rows.shape[1] // 8), rows.shape[1]
    blob = rows.tobytes()  # one copy, then byte slices: iterating NumPy rows cost more than hashing
    return [
        "0x" + sha3.keccak_256(prefix + blob[i : i + width]).hexdigest() for i in range(0, len(blob), width)
    ]


def evidence_hash(model_id: str, features: Sequence[float] | np.ndarray) -> str:
    """The evidence hash of one feature vector (model feature order)."""
    return evidence_hashes(model_id, np.asarray(features, dtype=np.float64).reshape(1, -1))[0]


def stored_vector(features: Mapping[str, float], feature_names: Sequence[str]) -> np.ndarray:
    """A stored feature dict as the model's ordered vector; DataError naming the first missing one."""
    missing = [name for name in feature_names if name not in features]
    if missing:
        raise DataError(f"the stored features lack {missing[0]!r} (of {len(missing)} missing)")
    return np.array([float(features[name]) for name in feature_names], dtype=np.float64)
