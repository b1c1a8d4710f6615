"""Scoring a slice of gate requests: value each one in USD, compute its features over the history,
score the batch with the loaded model, decide under the router's thresholds, and log the verdicts.
The rows come back for the outbox to post.

Reasons are computed only from the review threshold up (reviewers need them at once); every row
keeps its exact feature vector (model order, as scored) and commits to it through the evidence
hash, so `verdict explain` recomputes the reasons of the others on demand (oracle.evidence)."""

from __future__ import annotations

import math
import time
from collections import Counter as Tally
from typing import Any, Protocol

import numpy as np
import structlog

from oracle.chain import GateRequest, TokenInfo
from oracle.clock import Clock, SystemClock
from oracle.config import Settings
from oracle.features import FEATURES, OnlineFeatures, PaymentRecord
from oracle.fx_valuation import FeedPrices, request_record
from oracle.gate import decide
from oracle.metrics import Metrics
from oracle.model import ModelArtifact
from oracle.scoring import Scorer
from oracle.shadow import ShadowBatch, ShadowScorer
from oracle.verdicts import VerdictLog, VerdictRow

log = structlog.get_logger("verdict.daemon")


class RequestFacts(Protocol):
    """The chain reads that turn a request into a payment record (`ChainClient` is one)."""

    def token_info(self, token: str) -> TokenInfo: ...

    def block_timestamp(self, number: int) -> int: ...


class ScoringStage:
    """Scores requests in batches and writes each verdict to the log once."""

    def __init__(
        self,
        settings: Settings,
        chain: RequestFacts,
        features: OnlineFeatures,
        verdicts: VerdictLog,
        metrics: Metrics,
        clock: Clock | None = None,
        shadow: ShadowScorer | None = None,
    ) -> None:
        """shadow: a challenger scored beside the model (default: `settings.shadow_model_dir`'s, if
        set; a challenger that cannot load is a ConfigError here, at start)."""
        self._settings = settings
        self._chain = chain
        self._features = features
        self._verdicts = verdicts
        self._metrics = metrics
        self._clock = clock or SystemClock()
        self.shadow = shadow if shadow is not None else ShadowScorer.from_settings(settings, metrics)
        self.feeds = FeedPrices.for_chain(settings, chain)  # issue 18: currency tokens at their feed price

    def score(
        self,
        requests: list[GateRequest],
        scorer: Scorer,
        artifact: ModelArtifact,
        thresholds: tuple[int, int],
    ) -> list[VerdictRow]:
        """The verdict rows of the requests that could be valued, logged in one transaction."""
        tokens: dict[str, TokenInfo] = {}  # one token lookup per token per batch, not per payment
        records = [(req, rec) for req in requests if (rec := self.record(req, tokens)) is not None]
        if not records:
            return []
        review, reject = thresholds
        try:
            # One transaction for the batch's history rows and verdicts, one commit (a commit per
            # table was a third of this stage's CPU, issue 16). Rolled back, it leaves nothing of
            # the batch stored, and the feature state, which ran ahead, is rebuilt from the store.
            with self._verdicts.batch("scoring a batch"):
                computed, rows, champion_ms = self._score_and_log(records, scorer, artifact, review, reject)
        except BaseException:
            self._features.forget()
            raise
        if self.shadow is not None:  # queued only: the challenger never delays these verdicts
            self.shadow.submit(
                ShadowBatch([r["key"] for r in rows], computed, thresholds, artifact.model_id, champion_ms)
            )
        # One line per batch at info: two lines per payment were a visible share of the loop.
        log.info("scored", count=len(rows), decisions=dict(Tally(r["decision"] for r in rows)))
        at = self._clock.time()
        return [
            VerdictRow(
                key=r["key"],
                target=r["target"],
                item_id=str(r["item_id"]),
                score_bps=int(r["score_bps"]),
                decision=r["decision"],
                model_id=r["model_id"],
                reasons=r["reasons"],
                reasons_hash=r["reasons_hash"],
                features=r["features"],
                scored_at=at,
                tx_hash=None,
                posted_at=None,
                final_status=None,
                finalized_at=None,
                probability=r["probability"],
            )
            for r in rows
        ]

    def _score_and_log(
        self,
        records: list[tuple[GateRequest, PaymentRecord]],
        scorer: Scorer,
        artifact: ModelArtifact,
        review: int,
        reject: int,
    ) -> tuple[np.ndarray, list[dict[str, Any]], float]:
        """Features (added to the history), scores and decisions of `records`, logged: the computed
        feature rows, the logged rows and the champion's scoring ms per payment."""
        encoded: dict[str, str] = {}  # the history row's feature JSON, for the verdict's same bytes
        computed = self._features.compute_many([rec for _, rec in records], encoded=encoded)
        matrix = scorer.model_matrix(computed)
        began = time.perf_counter()
        results = scorer.score_many(matrix, reasons_from_bps=review)
        champion_ms = (time.perf_counter() - began) * 1000 / len(records)
        names = scorer.feature_names
        if names != list(FEATURES):  # another order or a subset: the history's JSON is not the row's
            encoded.clear()
        rows = []
        for (req, _), features, result in zip(records, matrix.tolist(), results, strict=True):
            decision = decide(result.score_bps, review, reject)
            rows.append(
                {
                    "key": req.key,
                    "target": req.target,
                    "item_id": req.item_id,
                    "score_bps": result.score_bps,
                    "decision": decision,
                    "model_id": artifact.model_id,
                    "reasons": [r.as_dict() for r in result.reasons],
                    "reasons_hash": result.evidence_hash,
                    "features": dict(zip(names, features, strict=True)),
                    "features_json": encoded.get(req.key),
                    "probability": float(result.probability),
                }
            )
        self._verdicts.record_scored_many(rows)
        return computed, rows, champion_ms

    def record(self, req: GateRequest, tokens: dict[str, TokenInfo] | None = None) -> PaymentRecord | None:
        """The request as the feature code sees it; None (with one log line) if it cannot be valued.
        tokens: token address -> its info, filled as tokens are looked up (a batch shares one)."""
        token = tokens.get(req.token) if tokens is not None else None
        if token is None:
            token = self._chain.token_info(req.token)
            if tokens is not None:
                tokens[req.token] = token
        price = (  # issue 18 (oracle.fx_valuation): at the feed price when the token has one
            self._settings.usd_prices.get(token.symbol)
            if self.feeds is None
            else self.feeds.usd_price(req.token, token.symbol, req.block_number)
        )
        if price is None or not math.isfinite(price):
            self._metrics.errors.labels("features").inc()
            log.error(
                "cannot value payment, no verdict (it will be refunded after its deadline)",
                key=req.key,
                token=token.symbol,
                reason="no USD price configured for this token (VERDICT_USD_PRICES)",
            )
            return None
        if req.token_out is not None:  # cross-border: built by training's record code (fx_features)
            out = self._chain.token_info(req.token_out)
            timestamp = self._chain.block_timestamp(req.block_number)
            return request_record(req, token.symbol, token.decimals, out.symbol, price, timestamp)
        return PaymentRecord(
            key=req.key,
            payer=req.payer,
            payee=req.payee,
            token=token.symbol,
            amount_usd=req.amount / 10**token.decimals * price,
            timestamp=self._chain.block_timestamp(req.block_number),
        )
