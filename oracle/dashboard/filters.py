"""How the dashboard writes numbers, amounts, durations and ids: Jinja filters, so the page data
stays plain values and every page formats them the same way."""

from __future__ import annotations

from typing import Any


def token_amount(units: int, decimals: int, symbol: str) -> str:
    """A token amount in base units as "1,234.5 mUSD" (up to four decimals, no trailing zeros)."""
    value = units / 10**decimals
    return f"{value:,.4f}".rstrip("0").rstrip(".") + f" {symbol}"


def votes(raw: int) -> str:
    """Governance token votes (18 decimals), whole tokens."""
    return f"{raw / 10**18:,.0f}"


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


def when(iso_utc: Any) -> str:
    return str(iso_utc).replace("T", " ").removesuffix("Z")[:16]


def short(value: Any, n: int = 10) -> Any:
    return (str(value)[: n + 2] + "…") if value and len(str(value)) > n + 4 else (value or "")


FILTERS = {
    "token_amount": token_amount,
    "votes": votes,
    "metric": metric,
    "duration": duration,
    "when": when,
    "short": short,
}
