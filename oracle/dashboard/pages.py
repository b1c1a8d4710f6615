"""The dashboard's page data: typed records of plain values. Templates lay them out and format
them with the filters in `oracle.dashboard.filters`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PROPOSER_SUFFIX = re.compile(r"#proposer=0x[0-9a-fA-F]{40}\Z")


@dataclass
class PaymentRow:
    """One router payment as the live and review pages show it."""

    id: int
    payer: str
    payee: str
    token: str
    amount: int  # base units
    decimals: int
    symbol: str
    deadline: int
    status: str
    score: int | None = None
    probability: float | None = None  # calibrated fraud probability stored beside the score
    decision: str | None = None
    reasons: list[str] = field(default_factory=list)
    verdict_tx: str | None = None
    review_tx: str | None = None
    reviewed: str | None = None  # "approved" / "rejected"
    review_deadline: int | None = None  # chain time (unix s) after which review() reverts; held only
    review_left: int | None = None  # seconds of chain time until then (negative: passed)


@dataclass(frozen=True, slots=True)
class Proposal:
    """One governance proposal with its tally. A token-counted proposal's For / Against / Abstain are
    votes in base units of the governance token; a quadratic one's are weights, the integer square
    root of base-unit votes per invite tree (`GovernorQuadratic`), so they are shown in √tokens.
    `participation` and `quorum` are base-unit votes either way."""

    id: int
    description: str
    proposer: str
    state: str
    track: str
    for_votes: int
    against_votes: int
    abstain_votes: int
    quorum: int
    participation: int
    vote_start: int
    vote_end: int
    block: int
    quadratic: bool = False

    @property
    def short_id(self) -> str:
        return f"{str(self.id)[:10]}…"

    @property
    def title(self) -> str:
        # Without OZ's front-running guard `#proposer=0x…`, which the tools append to every description.
        text = _PROPOSER_SUFFIX.sub("", self.description).strip()
        return text.splitlines()[0][:140] if text else "(no title)"

    @property
    def total(self) -> int:
        return self.for_votes + self.against_votes + self.abstain_votes

    def share(self, votes: int) -> float:
        return votes / self.total if self.total else 0

    @property
    def for_share(self) -> float:
        return self.share(self.for_votes)

    @property
    def against_share(self) -> float:
        return self.share(self.against_votes)

    @property
    def abstain_share(self) -> float:
        return self.share(self.abstain_votes)

    @property
    def quorum_progress(self) -> float:
        return min(1.0, self.participation / self.quorum) if self.quorum else 1.0


@dataclass(frozen=True, slots=True)
class Holding:
    """An amount of one asset: a treasury balance or the fees accrued in the router."""

    asset: str
    units: int
    decimals: int
    symbol: str


@dataclass
class ReviewResult:
    payment_id: int
    approve: bool
    tx_hash: str
    status: str
    block: int
    reviewer: str


@dataclass
class Bar:
    label: str
    count: int
    share: float  # 0..1 of the largest bar, for the drawing
    css: str = ""


@dataclass
class Histogram:
    bars: list[Bar] = field(default_factory=list)
    total: int = 0


def histogram(labels: list[str], counts: list[int], css: list[str] | None = None) -> Histogram:
    top = max(counts, default=0) or 1
    css = css or [""] * len(counts)
    return Histogram(
        [Bar(lbl, c, c / top, k) for lbl, c, k in zip(labels, counts, css, strict=True)], sum(counts)
    )
