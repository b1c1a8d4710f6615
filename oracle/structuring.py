"""Structuring detection: many payments from one payer just below the reporting threshold within a
sliding window, each of which may have scored low on its own. A pure function of the payments; the
suspicious-activity report (`oracle.report`) and the dashboard use it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from oracle.config import Settings


@dataclass(frozen=True, slots=True)
class StructuringRule:
    """Payments in [threshold x (1 - band), threshold) count; `min_count` of them by one payer
    within `window_s` seconds (first to last inclusive) are reported."""

    threshold_usd: float = 10_000.0
    band: float = 0.10
    window_s: int = 48 * 3600
    min_count: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> StructuringRule:
        return cls(
            threshold_usd=settings.report_threshold_usd,
            band=settings.structuring_band,
            window_s=int(settings.structuring_window_hours * 3600),
            min_count=settings.structuring_min_count,
        )

    @property
    def floor_usd(self) -> float:
        return self.threshold_usd * (1.0 - self.band)

    def just_below(self, amount_usd: float) -> bool:
        return self.floor_usd <= amount_usd < self.threshold_usd

    def describe(self) -> str:
        hours = self.window_s / 3600
        return (
            f"{self.min_count} or more payments of ${self.floor_usd:,.0f}-{self.threshold_usd:,.0f} "
            f"(just below the ${self.threshold_usd:,.0f} reporting threshold) within {hours:g} hours"
        )


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """One payment as the detector sees it."""

    key: str
    payer: str
    amount_usd: float
    timestamp: int


@dataclass(frozen=True, slots=True)
class StructuringAlert:
    """One payer's run of just-below-threshold payments: every key in it is reported."""

    payer: str
    keys: tuple[str, ...]
    total_usd: float
    first_ts: int
    last_ts: int

    @property
    def alert_id(self) -> str:
        return f"structuring:{self.payer}:{self.first_ts}"

    def describe(self) -> str:
        hours = (self.last_ts - self.first_ts) / 3600
        return (
            f"structuring: {len(self.keys)} payments just below the reporting threshold within "
            f"{hours:.1f} h, ${self.total_usd:,.2f} in total"
        )


def detect_structuring(facts: Iterable[PaymentFact], rule: StructuringRule) -> list[StructuringAlert]:
    """Per payer, every maximal run of just-below-threshold payments in which some `window_s`
    window holds at least `min_count` of them. Windows that overlap or touch merge into one alert,
    so each payment is in at most one alert. The order of `facts` does not matter."""
    by_payer: dict[str, list[PaymentFact]] = {}
    for fact in facts:
        if rule.just_below(fact.amount_usd):
            by_payer.setdefault(fact.payer, []).append(fact)
    alerts: list[StructuringAlert] = []
    for payer, items in sorted(by_payer.items()):
        items.sort(key=lambda f: (f.timestamp, f.key))
        flagged = [False] * len(items)
        lo = 0
        for hi in range(len(items)):
            while items[hi].timestamp - items[lo].timestamp > rule.window_s:
                lo += 1
            if hi - lo + 1 >= rule.min_count:
                for i in range(lo, hi + 1):
                    flagged[i] = True
        run: list[PaymentFact] = []
        for i, item in enumerate(items):
            # A flagged payment joins the current run if the run's last payment is within the window.
            if flagged[i] and run and item.timestamp - run[-1].timestamp <= rule.window_s:
                run.append(item)
                continue
            if run:
                alerts.append(_alert(payer, run))
            run = [item] if flagged[i] else []
        if run:
            alerts.append(_alert(payer, run))
    return alerts


def _alert(payer: str, run: Sequence[PaymentFact]) -> StructuringAlert:
    return StructuringAlert(
        payer=payer,
        keys=tuple(f.key for f in run),
        total_usd=round(sum(f.amount_usd for f in run), 2),
        first_ts=run[0].timestamp,
        last_ts=run[-1].timestamp,
    )
