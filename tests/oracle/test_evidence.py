"""The evidence hash binds the model id and the exact feature vector; reasons are computed on the
hot path only from the review threshold up, and `verdict explain` recomputes the others from the
store and refuses when they do not hash to the verdict's evidence."""

from __future__ import annotations

import dataclasses
import math
import shutil
import struct

import numpy as np
import pytest
from eth_utils import keccak

from oracle.evidence import EVIDENCE_TAG, evidence_hash, evidence_hashes, stored_vector
from oracle.explain import EvidenceMismatch, ReasonsOnDemand, check_evidence, locate_model, recompute
from oracle.features import batch_features
from oracle.scoring import Scorer
from oracle.verdicts import VerdictRow

OTHER_MODEL_ID = "0x" + "ee" * 32


def test_the_encoding_is_the_documented_one(artifact):
    """Recomputed with another keccak and struct, from the docstring of oracle.evidence."""
    vector = [1.5, -0.0, float("nan"), 1e300, 3.0]
    expected = keccak(
        EVIDENCE_TAG
        + bytes.fromhex(artifact.model_id[2:])
        + struct.pack(">H", len(vector))
        + b"".join(
            bytes.fromhex("7ff8000000000000") if math.isnan(v) else struct.pack(">d", v) for v in vector
        )
    )
    assert evidence_hash(artifact.model_id, vector) == "0x" + expected.hex()
    assert EVIDENCE_TAG == b"verdict.evidence.v1\x00"


def test_every_bit_of_the_features_and_the_model_id_is_bound(artifact, payments):
    X = Scorer(artifact, compiled=False).model_matrix(batch_features(payments.iloc[:50]).to_numpy())
    hashes = evidence_hashes(artifact.model_id, X)
    assert len(set(hashes)) == len({row.tobytes() for row in X})  # distinct rows, distinct hashes
    nudged = X[7].copy()
    nudged[0] = np.nextafter(nudged[0], np.inf)  # one ulp
    assert evidence_hash(artifact.model_id, nudged) != hashes[7]
    assert evidence_hash(OTHER_MODEL_ID, X[7]) != hashes[7]
    assert evidence_hash(artifact.model_id, X[7][::-1]) != hashes[7] or X[7].tolist() == X[7][::-1].tolist()
    # every NaN is one NaN (a JSON round trip keeps no payload), while -0.0 stays distinct from 0.0
    assert evidence_hash(artifact.model_id, [-np.nan, 1.0]) == evidence_hash(artifact.model_id, [np.nan, 1.0])
    assert evidence_hash(artifact.model_id, [-0.0, 1.0]) != evidence_hash(artifact.model_id, [0.0, 1.0])


@pytest.fixture(scope="module")
def scored(artifact, payments):
    scorer = Scorer(artifact, compiled=True)  # as the daemon scores
    assert scorer.wait_compiled(600)
    X = scorer.model_matrix(batch_features(payments.iloc[-3_000:]).to_numpy())
    return scorer, X, scorer.score_many(X, reasons_from_bps=artifact.review_threshold_bps)


def test_reasons_only_from_the_review_threshold_up(artifact, scored):
    scorer, X, results = scored
    review = artifact.review_threshold_bps
    risky = [r for r in results if r.score_bps >= review]
    calm = [r for r in results if r.score_bps < review]
    assert risky and calm
    assert all(len(r.reasons) == 3 for r in risky)  # reviewers see them at once
    assert all(r.reasons == [] for r in calm)
    everything = scorer.score_many(X)  # no threshold: every row gets its reasons (`verdict score`)
    assert [r.score_bps for r in everything] == [r.score_bps for r in results]
    assert [r.evidence_hash for r in everything] == [r.evidence_hash for r in results]
    assert [r.reasons for r in everything if r.score_bps >= review] == [r.reasons for r in risky]
    assert [r.evidence_hash for r in results] == evidence_hashes(artifact.model_id, X)


def _row(artifact, result, features: dict[str, float], tx: str | None) -> VerdictRow:
    return VerdictRow(
        key="router:1",
        target="0x" + "11" * 20,
        item_id="1",
        score_bps=result.score_bps,
        decision="settle",
        model_id=artifact.model_id,
        reasons=result.reasons_dicts(),
        reasons_hash=result.evidence_hash,
        features=features,
        scored_at=0.0,
        tx_hash=tx,
        posted_at=None,
        final_status=None,
        finalized_at=None,
    )


def _posted(artifact, evidence: str, tx: str = "0x" + "aa" * 32) -> list[dict]:
    node = "0x" + "22" * 20
    return [{"node": node, "score": 1, "model_id": artifact.model_id, "reasons_hash": evidence, "tx": tx}]


def test_explain_recomputes_the_reasons_of_a_calm_payment_and_proves_them(artifact, scored):
    scorer, X, results = scored
    i = next(i for i, r in enumerate(results) if not r.reasons)
    features = dict(zip(scorer.feature_names, X[i].tolist(), strict=True))
    row = _row(artifact, results[i], features, tx="0x" + "aa" * 32)
    again = recompute(artifact, row.features)
    assert again.score_bps == results[i].score_bps
    assert len(again.reasons) == 3  # on demand, though none were computed when it was scored
    assert again.reasons == scorer.score_many(X[i : i + 1])[0].reasons_dicts()
    proof = check_evidence(row, _posted(artifact, results[i].evidence_hash), again)
    assert proof.startswith("Verified against on-chain evidence hash")


def test_explain_refuses_a_tampered_feature_vector(artifact, scored):
    scorer, X, results = scored
    i = next(i for i, r in enumerate(results) if not r.reasons)
    features = dict(zip(scorer.feature_names, X[i].tolist(), strict=True))
    tampered = {**features, "amount": features["amount"] * 0.5}  # "it was only half as much"
    row = _row(artifact, results[i], tampered, tx="0x" + "aa" * 32)
    with pytest.raises(EvidenceMismatch, match="on-chain evidence hash is"):
        check_evidence(row, _posted(artifact, results[i].evidence_hash), recompute(artifact, row.features))
    # not yet posted: the store must still agree with itself
    unposted = _row(artifact, results[i], tampered, tx=None)
    with pytest.raises(EvidenceMismatch, match="store was altered"):
        check_evidence(unposted, [], recompute(artifact, unposted.features))


def test_explain_refuses_another_model(artifact, other_artifact, scored):
    scorer, X, results = scored
    i = next(i for i, r in enumerate(results) if not r.reasons)
    features = dict(zip(scorer.feature_names, X[i].tolist(), strict=True))
    row = _row(artifact, results[i], features, tx="0x" + "aa" * 32)
    swapped = dataclasses.replace(row, model_id=other_artifact.model_id)
    posted = _posted(artifact, results[i].evidence_hash)
    with pytest.raises(EvidenceMismatch, match="names model"):
        check_evidence(swapped, posted, recompute(other_artifact, features))


def test_explain_finds_a_model_by_id_beside_the_current_one(artifact, other_artifact, model_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(model_dir, models / "current")
    shutil.copytree(other_artifact.directory, models / "retired")
    assert locate_model(models / "current", other_artifact.model_id).model_id == other_artifact.model_id
    assert locate_model(models / "current", OTHER_MODEL_ID) is None
    # files that no longer hash to the id are not the model that id names
    text = (models / "retired" / "model.txt").read_text()
    (models / "retired" / "model.txt").write_text(text.replace("leaf_value=", "leaf_value=1", 1))
    assert locate_model(models / "current", other_artifact.model_id) is None


def test_stored_vector_needs_every_feature(artifact):
    with pytest.raises(Exception, match="lack"):
        stored_vector({}, artifact.feature_names)


def test_the_dashboard_recomputes_only_reasons_that_still_match_their_evidence(artifact, model_dir, scored):
    scorer, X, results = scored
    calm = [i for i, r in enumerate(results) if not r.reasons][:3]
    rows = {}
    for n, i in enumerate(calm):
        features = dict(zip(scorer.feature_names, X[i].tolist(), strict=True))
        rows[n] = _row(artifact, results[i], features, tx=None)
    rows[2] = dataclasses.replace(rows[2], features={**rows[2].features, "amount": 1.0})  # tampered
    filled = ReasonsOnDemand(model_dir).fill(rows)
    for n in (0, 1):
        assert filled[n].reasons == scorer.score_many(X[calm[n] : calm[n] + 1])[0].reasons_dicts()
    assert filled[2].reasons == []
