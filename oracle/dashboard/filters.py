"""How the dashboard writes numbers, amounts, durations and ids: Jinja filters, so the page data
stays plain values and every page formats them the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def token_amount(units: int, decimals: int, symbol: str) -> str:
    """A token amount in base units as "1,234.5 mUSD" (up to four decimals, no trailing zeros)."""
    value = units / 10**decimals
    return f"{value:,.4f}".rstrip("0").rstrip(".") + f" {symbol}"


VOTE_DECIMALS = 18  # the governance token's


def votes(raw: int) -> str:
    """Governance token votes (18 decimals), whole tokens."""
    return f"{raw / 10**VOTE_DECIMALS:,.0f}"


def quadratic_weight(raw: int) -> str:
    """A quadratic tally: isqrt of base-unit votes. isqrt(v * 10**18) = 10**9 * sqrt(v tokens), so
    dividing by 10**9 gives √tokens (two decimals: a member with 500,000 tokens weighs 707.11)."""
    return f"{raw / 10 ** (VOTE_DECIMALS // 2):,.2f}"


def tally(raw: int, quadratic: bool) -> str:
    """One side of a proposal's tally: whole tokens, or √tokens on a quadratic proposal."""
    return quadratic_weight(raw) if quadratic else votes(raw)


def metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def duration(seconds: float | None) -> str:
    """ "25 ms", "2.5 s"; "—" for none."""
    if seconds is None:
        return "—"
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"


def chain_time(ts: int | None) -> str:
    """Unix seconds of chain time as "2026-11-30 10:15:00 UTC"; "—" for none."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(seconds: int) -> str:
    """A length of time to the minute: "2 d 3 h", "1 h 05 min", "12 min", "40 s"."""
    s = abs(int(seconds))
    if s < 60:
        return f"{s} s"
    minutes, hours, days = s // 60 % 60, s // 3600 % 24, s // 86_400
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def time_left(seconds: int | None) -> str:
    """ "1 h 05 min left", or "passed 3 min ago" once negative."""
    if seconds is None:
        return "—"
    return f"{span(seconds)} left" if seconds >= 0 else f"passed {span(seconds)} ago"


def when(iso_utc: Any) -> str:
    return str(iso_utc).replace("T", " ").removesuffix("Z")[:16]


def short(value: Any, n: int = 10) -> Any:
    return (str(value)[: n + 2] + "…") if value and len(str(value)) > n + 4 else (value or "")


FILTERS = {
    "token_amount": token_amount,
    "votes": votes,
    "quadratic_weight": quadratic_weight,
    "tally": tally,
    "metric": metric,
    "duration": duration,
    "when": when,
    "chain_time": chain_time,
    "time_left": time_left,
    "span": span,
    "short": short,
}
