"""The payment history behind live features: payments, account profiles, running aggregates, pairs.

It implements `oracle.features.PaymentHistory`; the feature code knows only that protocol.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import func, select

from oracle.db import (
    PAYMENT_RECORD_COLUMNS,
    OverDatabase,
    account_stats,
    accounts,
    chunks,
    dumps_sorted,
    pairs,
    payments,
)
from oracle.records import AccountStats, PaymentRecord

_PAYMENT_COLUMNS = ("key", "payer", "payee", "token", "amount_usd", "timestamp", "features", "token_out")
_STATS_COLUMNS = ("address", "first_seen", "n_paid", "sum_log", "sumsq_log", "last_paid")
"""`AccountStats`'s fields, in order."""
_PAIR_COLUMNS = ("payer", "payee", "first_ts")


class HistoryStore(OverDatabase):
    """Payments seen, account profiles (off-chain KYC), per-account aggregates and payer-payee pairs."""

    def reading(self) -> AbstractContextManager[None]:
        """The history reads inside the block share one transaction (`OnlineFeatures` reads a
        batch's payments, accounts and profiles in it)."""
        return self._db.shared_tx("reading payment history")

    # --- account profiles (off-chain KYC) -----------------------------------------------------

    def upsert_account(self, address: str, country: str | None, created_at: int | None) -> None:
        self.upsert_accounts([(address, country, created_at)])

    def upsert_accounts(self, rows: Iterable[tuple[str, str | None, int | None]]) -> None:
        data = [
            {
                "address": a,
                "country": (c.strip().upper() or None) if isinstance(c, str) else None,
                "created_at": int(t) if t is not None else None,
            }
            for a, c, t in rows
        ]
        with self._db.tx("saving account profiles") as conn:
            for chunk in chunks(data):
                self._db.upsert(conn, accounts, list(chunk), ["address"])

    def account_profiles(self, addresses: Sequence[str]) -> dict[str, tuple[str | None, int | None]]:
        out: dict[str, tuple[str | None, int | None]] = {}
        uniq = list(dict.fromkeys(addresses))
        with self._db.tx("reading account profiles") as conn:
            for a, c, t in self._db.select_in(
                conn, accounts, ("address", "country", "created_at"), "address", uniq
            ):
                out[a] = (c, t)
        return out

    # --- payment history ---------------------------------------------------------------------

    def known_payments(self, keys: Sequence[str]) -> dict[str, dict[str, float] | None]:
        """Features recorded for payments already in the history (None if none were recorded)."""
        out: dict[str, dict[str, float] | None] = {}
        uniq = list(dict.fromkeys(keys))
        with self._db.tx("reading payment history") as conn:
            for k, f in self._db.select_in(conn, payments, ("key", "features"), "key", uniq):
                out[k] = json.loads(f) if f else None
        return out

    def account_stats(self, addresses: Sequence[str]) -> dict[str, AccountStats]:
        out: dict[str, AccountStats] = {}
        uniq = list(dict.fromkeys(addresses))
        with self._db.tx("reading account stats") as conn:
            for r in self._db.select_in(conn, account_stats, _STATS_COLUMNS, "address", uniq):
                out[r[0]] = AccountStats(*r)
        return out

    def payees_of(self, payers: Sequence[str]) -> dict[str, set[str]]:
        """Every payee each payer has ever paid (pair novelty)."""
        out: dict[str, set[str]] = {p: set() for p in payers}
        uniq = list(dict.fromkeys(payers))
        with self._db.tx("reading payment pairs") as conn:
            for a, b in self._db.select_in(conn, pairs, ("payer", "payee"), "payer", uniq):
                out[a].add(b)
        return out

    def recent_payments(self, addresses: Sequence[str], since: int) -> list[PaymentRecord]:
        """Payments sent or received by any of `addresses` with timestamp > since, in arrival order."""
        seen: dict[int, PaymentRecord] = {}
        uniq = list(dict.fromkeys(addresses))
        cols = ("id", *(c.name for c in PAYMENT_RECORD_COLUMNS))
        with self._db.tx("reading recent payments") as conn:
            after = ("timestamp", int(since))
            for side in ("payer", "payee"):
                for r in self._db.select_in(conn, payments, cols, side, uniq, after=after):
                    seen[r[0]] = PaymentRecord(*r[1:])
        return [seen[i] for i in sorted(seen)]

    def record_payments(
        self,
        rows: Sequence[tuple[PaymentRecord, dict[str, float] | str | None]],
        stats: Sequence[AccountStats],
        new_pairs: Sequence[tuple[str, str, int]],
    ) -> None:
        """Append payments to the history with their features and the updated aggregates, atomically.

        A payment key already present is left as it is (re-observing is a no-op).
        """
        pay_rows = [
            (
                p.key,
                p.payer,
                p.payee,
                p.token,
                float(p.amount_usd),
                int(p.timestamp),
                # a str is the features' JSON already made (`OnlineFeatures`: once for both tables)
                f if f is None or isinstance(f, str) else dumps_sorted(f),
                p.token_out,
            )
            for p, f in rows
        ]
        stat_rows = [(s.address, s.first_seen, s.n_paid, s.sum_log, s.sumsq_log, s.last_paid) for s in stats]
        pair_rows = [(a, b, int(t)) for a, b, t in new_pairs]
        db = self._db
        with db.tx("saving payment history") as conn:
            db.run_many(conn, db.driver_insert(payments, _PAYMENT_COLUMNS, ("key",), False), pay_rows)
            db.run_many(conn, db.driver_insert(account_stats, _STATS_COLUMNS, ("address",), True), stat_rows)
            db.run_many(conn, db.driver_insert(pairs, _PAIR_COLUMNS, ("payer", "payee"), False), pair_rows)

    def payment_count(self) -> int:
        with self._db.tx("counting payments") as conn:
            return int(conn.execute(select(func.count()).select_from(payments)).scalar_one())
