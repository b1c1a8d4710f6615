"""The governance policy the oracle node acts under, read from the chain and cached briefly:
the router's review/reject thresholds, which model ids governance approves, and the gated targets.
Governance may change any of them at any time; a few seconds' staleness is harmless because the
contracts enforce the current policy themselves.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from oracle.clock import Clock, SystemClock

log = structlog.get_logger("verdict.policy")

THRESHOLDS_TTL = 5.0  # seconds the router's thresholds are reused
APPROVAL_TTL = 10.0  # seconds a model approval is reused


class PolicySource(Protocol):
    """The reads the cache needs (`oracle.chain.ChainClient` is one)."""

    @property
    def sources(self) -> dict[str, str]: ...

    def thresholds(self) -> tuple[int, int]: ...

    def is_model_approved(self, model_id: str) -> bool: ...


class PolicyCache:
    """Thresholds, approved models and targets, each re-read after its time to live."""

    def __init__(self, chain: PolicySource, clock: Clock | None = None) -> None:
        self._chain = chain
        self._clock = clock or SystemClock()
        self._thresholds: tuple[tuple[int, int], float] | None = None
        self._approved: dict[str, tuple[bool, float]] = {}  # model id -> (approved?, checked at)

    def thresholds(self) -> tuple[int, int]:
        """(review, reject) in basis points, as the router has them now."""
        now = self._clock.monotonic()
        if self._thresholds is None or now - self._thresholds[1] > THRESHOLDS_TTL:
            self._thresholds = (self._chain.thresholds(), now)
        return self._thresholds[0]

    def model_approved(self, model_id: str) -> bool:
        """Whether governance approves `model_id`; one error line when it stops being approved."""
        now = self._clock.monotonic()
        cached = self._approved.get(model_id)
        if cached is None or now - cached[1] > APPROVAL_TTL:
            approved = self._chain.is_model_approved(model_id)
            if not approved and (cached is None or cached[0]):
                log.error(
                    "model is not approved by governance, posting nothing for it",
                    model_id=model_id,
                    hint="propose approveModel(model_id) through the major track",
                )
            self._approved[model_id] = cached = (approved, now)
        return cached[0]

    @property
    def targets(self) -> dict[str, str]:
        """Gate ("router", "escrow") -> gated contract address (fixed by the deployment)."""
        return self._chain.sources
