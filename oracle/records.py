"""The records the feature code and the history store exchange: one type per stage, no SQL here."""

from __future__ import annotations

import json
from dataclasses import dataclass

dumps_sorted = json.JSONEncoder(sort_keys=True).encode
"""`json.dumps(x, sort_keys=True)`, with one encoder made once: dumps builds a new encoder on every
call that passes an option, a fifth of the cost of a feature dict (issue 16). The stores write
features and reasons with it; the feature code makes a new payment's JSON with it once."""


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One payment as the features and the history see it; `key` is unique (e.g. "router:17")."""

    key: str
    payer: str
    payee: str
    token: str
    amount_usd: float
    timestamp: int
    token_out: str | None = None  # the token the payee receives when it converts (issue 18); None: `token`


@dataclass(frozen=True, slots=True)
class AccountStats:
    """Running per-account aggregates behind the payer features (all-time, not windowed)."""

    address: str
    first_seen: int
    n_paid: int
    sum_log: float
    sumsq_log: float
    last_paid: int | None
