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
            for chunk in chunks(uniq):
                q = select(accounts.c.address, accounts.c.country, accounts.c.created_at).where(
                    accounts.c.address.in_(chunk)
                )
                for a, c, t in conn.execute(q).fetchall():
                    out[a] = (c, t)
        return out

    # --- payment history ---------------------------------------------------------------------

    def known_payments(self, keys: Sequence[str]) -> dict[str, dict[str, float] | None]:
        """Features recorded for payments already in the history (None if none were recorded)."""
        out: dict[str, dict[str, float] | None] = {}
        uniq = list(dict.fromkeys(keys))
        with self._db.tx("reading payment history") as conn:
            for chunk in chunks(uniq):
                q = select(payments.c.key, payments.c.features).where(payments.c.key.in_(chunk))
                for k, f in conn.execute(q).fetchall():
                    out[k] = json.loads(f) if f else None
        return out

    def account_stats(self, addresses: Sequence[str]) -> dict[str, AccountStats]:
        out: dict[str, AccountStats] = {}
        uniq = list(dict.fromkeys(addresses))
        with self._db.tx("reading account stats") as conn:
            for chunk in chunks(uniq):
                q = select(account_stats).where(account_stats.c.address.in_(chunk))
                for r in conn.execute(q).fetchall():
                    out[r.address] = AccountStats(
                        r.address, r.first_seen, r.n_paid, r.sum_log, r.sumsq_log, r.last_paid
                    )
        return out

    def payees_of(self, payers: Sequence[str]) -> dict[str, set[str]]:
        """Every payee each payer has ever paid (pair novelty)."""
        out: dict[str, set[str]] = {p: set() for p in payers}
        uniq = list(dict.fromkeys(payers))
        with self._db.tx("reading payment pairs") as conn:
            for chunk in chunks(uniq):
                q = select(pairs.c.payer, pairs.c.payee).where(pairs.c.payer.in_(chunk))
                for a, b in conn.execute(q).fetchall():
                    out[a].add(b)
        return out

    def recent_payments(self, addresses: Sequence[str], since: int) -> list[PaymentRecord]:
        """Payments sent or received by any of `addresses` with timestamp > since, in arrival order."""
        seen: dict[int, PaymentRecord] = {}
        uniq = list(dict.fromkeys(addresses))
        cols = (payments.c.id, *PAYMENT_RECORD_COLUMNS)
        with self._db.tx("reading recent payments") as conn:
            for chunk in chunks(uniq):
                for col in (payments.c.payer, payments.c.payee):
                    q = select(*cols).where(col.in_(chunk), payments.c.timestamp > since)
                    for r in conn.execute(q).fetchall():
                        seen[r.id] = PaymentRecord(
                            r.key, r.payer, r.payee, r.token, r.amount_usd, r.timestamp, r.token_out
                        )
        return [seen[i] for i in sorted(seen)]

    def record_payments(
        self,
        rows: Sequence[tuple[PaymentRecord, dict[str, float] | None]],
        stats: Sequence[AccountStats],
        new_pairs: Sequence[tuple[str, str, int]],
    ) -> None:
        """Append payments to the history with their features and the updated aggregates, atomically.

        A payment key already present is left as it is (re-observing is a no-op).
        """
        pay_rows = [
            {
                "key": p.key,
                "payer": p.payer,
                "payee": p.payee,
                "token": p.token,
                "amount_usd": float(p.amount_usd),
                "timestamp": int(p.timestamp),
                "features": dumps_sorted(f) if f is not None else None,
                "token_out": p.token_out,
            }
            for p, f in rows
        ]
        stat_rows = [
            {
                "address": s.address,
                "first_seen": s.first_seen,
                "n_paid": s.n_paid,
                "sum_log": s.sum_log,
                "sumsq_log": s.sumsq_log,
                "last_paid": s.last_paid,
            }
            for s in stats
        ]
        pair_rows = [{"payer": a, "payee": b, "first_ts": t} for a, b, t in new_pairs]
        with self._db.tx("saving payment history") as conn:
            if pay_rows:
                conn.execute(self._db.insert_new(payments, ["key"]), pay_rows)
            for chunk in chunks(stat_rows):
                self._db.upsert(conn, account_stats, list(chunk), ["address"])
            if pair_rows:
                conn.execute(self._db.insert_new(pairs, ["payer", "payee"]), pair_rows)

    def payment_count(self) -> int:
        with self._db.tx("counting payments") as conn:
            return int(conn.execute(select(func.count()).select_from(payments)).scalar_one())
