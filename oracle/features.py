"""One feature definition for training (batch, over a table) and live scoring (online, over the store).

Semantics shared by both paths: payments are taken in time order (ties keep their input order, which
is arrival order live), and each payment's features use only the payments *before it in that
sequence*. Windows are "the last hour / day": earlier payments with `timestamp > t - window`.
`batch_features` is vectorised numpy; `OnlineFeatures` keeps rolling per-account state in memory,
persists it to the store, and rebuilds it from the store after a restart. A test checks the two
agree payment by payment.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from oracle.errors import DataError
from oracle.fx_features import FX_FEATURES, fx_columns, fx_values
from oracle.records import AccountStats, PaymentRecord, dumps_sorted

HOUR = 3_600
DAY = 86_400
SECS_SINCE_CAP = 30 * DAY
"""`secs_since_payer_last` is capped here; a payer with no earlier payment gets the cap too."""
ZSCORE_MIN_STD = 0.25
"""Floor on the payer's std of log-amounts, so recurring fixed amounts do not make z explode."""
ZSCORE_CLIP = 50.0
MAX_AMOUNT_USD = 1e12
MAX_TIMESTAMP = 2**32 - 1

FEATURES: tuple[str, ...] = (
    "amount",
    "log_amount",
    "payer_count_1h",
    "payer_sum_1h",
    "payer_count_24h",
    "payer_sum_24h",
    "secs_since_payer_last",
    "pair_is_new",
    "payee_fanin_24h",
    "amount_zscore_payer",
    "hour_of_day",
    "token",
    "cross_border",
    "account_age_days",
    # beyond the brief: they carry the mule, round-trip and new-account typologies
    "payer_txn_count",
    "payee_age_days",
    "payer_recv_sum_24h",
    "reverse_pair",
    *FX_FEATURES,  # corridor, conversion (oracle/fx_features.py)
)
CATEGORICAL: tuple[str, ...] = ("token",)

TOKEN_CODES: dict[str, int] = {"ETH": 0, "mUSD": 1, "USDC": 2, "USDT": 3, "DAI": 4, "WETH": 5}
OTHER_TOKEN = 15
"""Code of any token not listed; a fixed code keeps the categorical stable across models."""

REQUIRED_COLUMNS: tuple[str, ...] = ("payer", "payee", "token", "amount_usd", "timestamp")

_FLOAT_ONLY = {float}  # a feature dict whose JSON is also its row's (no int or bool spelled otherwise)

# Positions in FEATURES, for code that fills rows.
_IDX = {name: i for i, name in enumerate(FEATURES)}


def token_code(symbol: str) -> int:
    return TOKEN_CODES.get(str(symbol), OTHER_TOKEN)


def token_symbol(code: float) -> str:
    for sym, c in TOKEN_CODES.items():
        if c == int(code):
            return sym
    return "another token"


class PaymentHistory(Protocol):
    """What the live features need from a history store (`oracle.history.HistoryStore` is one)."""

    def known_payments(self, keys: Sequence[str]) -> dict[str, dict[str, float] | None]: ...

    def account_stats(self, addresses: Sequence[str]) -> dict[str, AccountStats]: ...

    def payees_of(self, payers: Sequence[str]) -> dict[str, set[str]]: ...

    def recent_payments(self, addresses: Sequence[str], since: int) -> list[PaymentRecord]: ...

    def account_profiles(self, addresses: Sequence[str]) -> dict[str, tuple[str | None, int | None]]: ...

    def record_payments(
        self,
        rows: Sequence[tuple[PaymentRecord, dict[str, float] | str | None]],
        stats: Sequence[AccountStats],
        new_pairs: Sequence[tuple[str, str, int]],
    ) -> None: ...


def _norm_country(value: object) -> str | None:
    if isinstance(value, str):
        v = value.strip().upper()
        return v or None
    return None


def _zscore(x: float, n: int, s: float, ss: float) -> float:
    if n < 2:
        return 0.0
    mean = s / n
    var = ss / n - mean * mean
    std = math.sqrt(var) if var > 0 else 0.0
    z = (x - mean) / max(std, ZSCORE_MIN_STD)
    return min(max(z, -ZSCORE_CLIP), ZSCORE_CLIP)


# --------------------------------------------------------------------------------------------
# rolling windows shared by both paths (so the payee-side features are computed identically)
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Inbox:
    """Payments an account received in the last day: fan-in (distinct payers) and sum received."""

    items: deque[tuple[int, str, float]] = field(default_factory=deque)
    payers: Counter[str] = field(default_factory=Counter)

    def add(self, ts: int, payer: str, amount: float) -> None:
        self.items.append((ts, payer, amount))
        self.payers[payer] += 1

    def evict(self, t: int) -> None:
        cutoff = t - DAY
        items, payers = self.items, self.payers
        while items and items[0][0] <= cutoff:
            _, payer, _ = items.popleft()
            left = payers[payer] - 1
            if left:
                payers[payer] = left
            else:
                del payers[payer]

    def fanin(self) -> int:
        return len(self.payers)

    def received(self) -> float:
        total = 0.0
        for _, _, a in self.items:
            total += a
        return total


@dataclass(slots=True)
class _AccountState:
    """Live state of one account; mirrors `account_stats` + `pairs` + recent `payments` rows."""

    address: str
    first_seen: int | None = None
    n_paid: int = 0
    sum_log: float = 0.0
    sumsq_log: float = 0.0
    last_paid: int | None = None
    out: deque[tuple[int, float]] = field(default_factory=deque)
    inbox: _Inbox = field(default_factory=_Inbox)
    payees: set[str] = field(default_factory=set)

    def evict(self, t: int) -> None:
        cutoff = t - DAY
        while self.out and self.out[0][0] <= cutoff:
            self.out.popleft()
        self.inbox.evict(t)

    def stats(self) -> AccountStats:
        assert self.first_seen is not None
        return AccountStats(
            self.address, self.first_seen, self.n_paid, self.sum_log, self.sumsq_log, self.last_paid
        )


# --------------------------------------------------------------------------------------------
# batch
# --------------------------------------------------------------------------------------------


def validate_payments(df: pd.DataFrame) -> None:
    """Raise DataError unless `df` is a usable payments table (columns, types, finite ranges)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError("expected a table of payments")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"payments table lacks column(s): {', '.join(missing)}")
    if len(df) == 0:
        raise DataError("payments table is empty")
    for col in ("amount_usd", "timestamp"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            raise DataError(f"column {col!r} has {int(bad.sum())} non-numeric value(s)")
        arr = values.to_numpy(dtype="float64")
        if not np.isfinite(arr).all():
            raise DataError(f"column {col!r} has {int((~np.isfinite(arr)).sum())} missing/NaN/inf value(s)")
    amt = df["amount_usd"].to_numpy(dtype="float64")
    if (amt < 0).any() or (amt > MAX_AMOUNT_USD).any():
        raise DataError(f"column 'amount_usd' must be between 0 and {MAX_AMOUNT_USD:.0e}")
    ts = df["timestamp"].to_numpy(dtype="float64")
    if (ts < 0).any() or (ts > MAX_TIMESTAMP).any() or (ts != np.floor(ts)).any():
        raise DataError("column 'timestamp' must hold whole unix seconds between 0 and 2^32-1")
    for col in ("payer", "payee", "token"):
        if df[col].isna().any():
            raise DataError(f"column {col!r} has {int(df[col].isna().sum())} missing value(s)")


def _optional(df: pd.DataFrame, col: str, n: int) -> np.ndarray:
    return df[col].to_numpy() if col in df.columns else np.full(n, None, dtype=object)


def _created(df: pd.DataFrame, col: str, n: int) -> np.ndarray:
    if col not in df.columns:
        return np.full(n, np.nan)
    v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64")
    return np.where(np.isfinite(v), v, np.nan)


def batch_features(df: pd.DataFrame) -> pd.DataFrame:
    """FEATURES for every row of a payments table, each from strictly earlier rows only.

    Columns: payer, payee, token, amount_usd, timestamp; optional payer_country, payee_country,
    payer_created_at, payee_created_at. Returns a frame indexed like `df`, columns in FEATURES order.
    """
    validate_payments(df)
    n = len(df)
    ts_in = df["timestamp"].to_numpy(dtype="float64").astype(np.int64)
    order = np.argsort(ts_in, kind="stable")
    ts = ts_in[order]
    amt = df["amount_usd"].to_numpy(dtype="float64")[order]
    payer_ids = df["payer"].astype(str).to_numpy()[order]
    payee_ids = df["payee"].astype(str).to_numpy()[order]
    tokens = df["token"].astype(str).to_numpy()[order]
    payer_cc = _optional(df, "payer_country", n)[order]
    payee_cc = _optional(df, "payee_country", n)[order]
    payer_created = _created(df, "payer_created_at", n)[order]
    payee_created = _created(df, "payee_created_at", n)[order]

    codes, uniques = pd.factorize(np.concatenate([payer_ids, payee_ids]))
    p = codes[:n].astype(np.int64)
    q = codes[n:].astype(np.int64)
    m = len(uniques)
    seq = np.arange(n, dtype=np.int64)
    logs = np.log1p(amt)

    # Payer-side windows: sort by (payer, sequence); within a payer, timestamps are non-decreasing,
    # so `payer * BIG + ts` is a sorted key and window starts are one searchsorted away.
    big = np.int64(2**33)  # > max timestamp + a day, so groups never overlap
    po = np.lexsort((seq, p))
    pk = p[po] * big + ts[po]
    pos = np.empty(n, dtype=np.int64)
    pos[po] = seq
    start = np.searchsorted(pk, p * big, side="left")
    n_prior = pos - start
    is_start = np.zeros(n, dtype=bool)
    is_start[np.searchsorted(pk, np.unique(p) * big, side="left")] = True

    def exclusive_cumsum(values_sorted: np.ndarray) -> np.ndarray:
        # sum of the same payer's earlier rows, at each position of the payer-sorted array
        inc = np.cumsum(values_sorted)
        base = np.maximum.accumulate(np.where(is_start, np.arange(n), 0))
        before_group = np.where(base > 0, inc[np.maximum(base - 1, 0)], 0.0)
        before_group[base == 0] = 0.0
        excl = inc - values_sorted - before_group
        return np.append(excl, 0.0)  # position n is never read as an end; keeps indexing simple

    amt_po = amt[po]
    cs_amt = exclusive_cumsum(amt_po)
    feats = np.zeros((n, len(FEATURES)), dtype=np.float64)
    for window, cnt_name, sum_name in (
        (HOUR, "payer_count_1h", "payer_sum_1h"),
        (DAY, "payer_count_24h", "payer_sum_24h"),
    ):
        lo = np.minimum(np.searchsorted(pk, p * big + ts - window, side="right"), pos)
        feats[:, _IDX[cnt_name]] = pos - lo
        # window sum: direct sums where short (exact), cumsum difference otherwise
        feats[:, _IDX[sum_name]] = np.where(pos > lo, cs_amt[pos] - cs_amt[lo], 0.0)
    s_log = exclusive_cumsum(logs[po])[pos]
    ss_log = exclusive_cumsum((logs * logs)[po])[pos]
    prev_ts = np.where(n_prior > 0, ts[po][np.maximum(pos - 1, 0)], -1)
    since = np.where(n_prior > 0, np.clip(ts - prev_ts, 0, SECS_SINCE_CAP), SECS_SINCE_CAP)

    # z-score with exactly the scalar formula of the live path
    nn = n_prior.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s_log / nn
        var = ss_log / nn - mean * mean
        std = np.sqrt(np.where(var > 0, var, 0.0))
        z = (logs - mean) / np.maximum(std, ZSCORE_MIN_STD)
    z = np.where(n_prior >= 2, np.clip(z, -ZSCORE_CLIP, ZSCORE_CLIP), 0.0)

    # pair novelty and reverse pair (has the payee ever paid this payer before?)
    pair = p * m + q
    pair_first = pd.Series(seq).groupby(pair).min()
    pair_new = ~pd.Series(pair).duplicated(keep="first").to_numpy()
    rev_first = pd.Series(p + q * m).map(pair_first).to_numpy(dtype="float64")
    reverse = np.where(np.isfinite(rev_first), rev_first < seq, False)

    # first time each account appears in either role; age from the profile when known
    both = np.concatenate([p, q])
    first_seq = pd.Series(np.concatenate([seq, seq])).groupby(both).min()
    first_ts = ts[first_seq.reindex(np.arange(m)).to_numpy(dtype=np.int64)]
    payer_ref = np.where(np.isfinite(payer_created), payer_created, first_ts[p])
    payee_ref = np.where(np.isfinite(payee_created), payee_created, first_ts[q])

    # payee side (distinct fan-in, received sums): one pass with the live code's own window class
    fanin = np.zeros(n)
    recv = np.zeros(n)
    inboxes: dict[int, _Inbox] = {}
    ts_l, p_l, q_l, amt_l = ts.tolist(), p.tolist(), q.tolist(), amt.tolist()
    payer_names = payer_ids.tolist()
    for i in range(n):
        t = ts_l[i]
        box_q = inboxes.get(q_l[i])
        if box_q is None:
            box_q = inboxes[q_l[i]] = _Inbox()
        box_q.evict(t)
        fanin[i] = box_q.fanin()
        box_p = inboxes.get(p_l[i])
        if box_p is not None:
            box_p.evict(t)
            recv[i] = box_p.received()
        box_q.add(t, payer_names[i], amt_l[i])

    cc_a = np.array([_norm_country(c) for c in payer_cc], dtype=object)
    cc_b = np.array([_norm_country(c) for c in payee_cc], dtype=object)
    cross = np.array([a is not None and b is not None and a != b for a, b in zip(cc_a, cc_b, strict=True)])

    feats[:, _IDX["amount"]] = amt
    feats[:, _IDX["log_amount"]] = logs
    feats[:, _IDX["secs_since_payer_last"]] = since
    feats[:, _IDX["pair_is_new"]] = pair_new
    feats[:, _IDX["payee_fanin_24h"]] = fanin
    feats[:, _IDX["amount_zscore_payer"]] = z
    feats[:, _IDX["hour_of_day"]] = (ts % DAY) // HOUR
    feats[:, _IDX["token"]] = [token_code(t) for t in tokens]
    feats[:, _IDX["cross_border"]] = cross
    feats[:, _IDX["account_age_days"]] = np.maximum(ts - payer_ref, 0) / DAY
    feats[:, _IDX["payer_txn_count"]] = n_prior
    feats[:, _IDX["payee_age_days"]] = np.maximum(ts - payee_ref, 0) / DAY
    feats[:, _IDX["payer_recv_sum_24h"]] = recv
    feats[:, _IDX["reverse_pair"]] = reverse
    feats[:, [_IDX[f] for f in FX_FEATURES]] = fx_columns(tokens, _optional(df, "token_out", n)[order])

    out = np.empty_like(feats)
    out[order] = feats
    return pd.DataFrame(out, columns=list(FEATURES), index=df.index)


# --------------------------------------------------------------------------------------------
# online
# --------------------------------------------------------------------------------------------


def features_to_row(features: dict[str, float]) -> np.ndarray:
    """A FEATURES-ordered row from a feature dict."""
    return np.array([float(features[name]) for name in FEATURES], dtype=np.float64)


class OnlineFeatures:
    """Live features over a payment history (any `PaymentHistory`).

    Per-account rolling state is cached in memory and every observed payment is persisted (with the
    features it was scored on), so a new instance over the same store continues exactly where the
    last one stopped. Observing is idempotent per payment key: a key seen before keeps the features
    it had at first sight, so a daemon that re-reads logs after a restart scores them identically.
    """

    def __init__(self, history: PaymentHistory) -> None:
        self._store = history
        self._accounts: dict[str, _AccountState] = {}

    # --- public API ------------------------------------------------------------------------

    def compute(self, rec: PaymentRecord) -> dict[str, float]:
        """Features of `rec` from the history before it; does not add it to the history."""
        _check_record(rec)
        known = self._store.known_payments([rec.key])
        if known.get(rec.key) is not None:
            return dict(known[rec.key])  # type: ignore[arg-type]
        profiles = self._load([rec], {})
        return self._features(rec, profiles)

    def observe(self, rec: PaymentRecord) -> None:
        """Add `rec` to the history (no-op if its key was observed before)."""
        self.compute_many([rec])

    def compute_many(
        self, recs: Sequence[PaymentRecord], observe: bool = True, encoded: dict[str, str] | None = None
    ) -> np.ndarray:
        """FEATURES-ordered rows for `recs`, taken in the given order.

        With observe=True (the default, what the daemon wants) each payment is added to the history
        right after its features are computed, so later payments in the same batch see the earlier
        ones (a burst inside one block is still a burst), exactly like `batch_features`. Keys
        already in the history return their recorded features and are not added twice.

        encoded: filled with key -> the features' JSON (`dumps_sorted` of the FEATURES dict) of each
        payment added, when that is also the JSON of its row's values (every value a float), so
        the verdict log can store the same bytes without encoding them again (issue 16).
        """
        for rec in recs:
            _check_record(rec)
        rows = np.zeros((len(recs), len(FEATURES)), dtype=np.float64)
        if not recs:
            return rows
        # One read transaction for the batch's reads, where the history offers one (HistoryStore).
        reading = getattr(self._store, "reading", None)
        with reading() if reading is not None else nullcontext():
            known = self._store.known_payments([r.key for r in recs])
            profiles = self._load(recs, known)
        new: list[tuple[PaymentRecord, dict[str, float]]] = []
        touched: dict[str, _AccountState] = {}
        new_pairs: list[tuple[str, str, int]] = []
        try:
            for i, rec in enumerate(recs):
                recorded = known.get(rec.key)
                if rec.key in known and recorded is not None:
                    rows[i] = features_to_row(recorded)
                    continue
                feats = self._features(rec, profiles)
                rows[i] = [feats[name] for name in FEATURES]  # floats already: no per-value float()
                if observe and rec.key not in known:
                    known[rec.key] = feats
                    if self._apply(rec, touched):
                        new_pairs.append((rec.payer, rec.payee, rec.timestamp))
                    new.append((rec, feats))
            if new:
                texts = [(rec, dumps_sorted(feats)) for rec, feats in new]
                if encoded is not None:
                    width = len(FEATURES)
                    for (rec, text), (_, feats) in zip(texts, new, strict=True):
                        if len(feats) == width and set(map(type, feats.values())) == _FLOAT_ONLY:
                            encoded[rec.key] = text
                self._store.record_payments(texts, [s.stats() for s in touched.values()], new_pairs)
        except BaseException:
            # Memory may now be ahead of the store: forget it and rebuild from the store next time.
            self.forget()
            raise
        return rows

    def forget(self) -> None:
        """Drop the in-memory account state; it is rebuilt from the store when next needed. For a
        caller whose transaction around `compute_many` rolled back: memory must never run ahead
        of what the store holds."""
        self._accounts.clear()

    # --- internals -------------------------------------------------------------------------

    def _load(
        self, recs: Sequence[PaymentRecord], known: dict[str, dict[str, float] | None]
    ) -> dict[str, tuple[str | None, int | None]]:
        """Bring every account in `recs` into memory; return their (fresh) profiles."""
        addresses = list(dict.fromkeys(a for r in recs for a in (r.payer, r.payee)))
        missing = [a for a in addresses if a not in self._accounts]
        if missing:
            since = min(r.timestamp for r in recs) - DAY
            stats = self._store.account_stats(missing)
            payees = self._store.payees_of(missing)
            states = {}
            for a in missing:
                st = stats.get(a)
                s = _AccountState(a, payees=payees.get(a, set()))
                if st is not None:
                    s.first_seen, s.n_paid, s.sum_log, s.sumsq_log, s.last_paid = (
                        st.first_seen,
                        st.n_paid,
                        st.sum_log,
                        st.sumsq_log,
                        st.last_paid,
                    )
                states[a] = s
            for pay in self._store.recent_payments(missing, since):
                if pay.payer in states:
                    states[pay.payer].out.append((pay.timestamp, pay.amount_usd))
                if pay.payee in states:
                    states[pay.payee].inbox.add(pay.timestamp, pay.payer, pay.amount_usd)
            self._accounts.update(states)
        # Profiles are read fresh each batch: KYC data may be upserted while the daemon runs.
        return self._store.account_profiles(addresses)

    def _features(
        self, rec: PaymentRecord, profiles: dict[str, tuple[str | None, int | None]]
    ) -> dict[str, float]:
        t = int(rec.timestamp)
        amount = float(rec.amount_usd)
        a = self._accounts[rec.payer]
        b = self._accounts[rec.payee]
        a.evict(t)
        b.evict(t)
        cnt_1h = 0
        sum_1h = 0.0
        sum_24h = 0.0
        for ts, amt in a.out:
            sum_24h += amt
            if ts > t - HOUR:
                cnt_1h += 1
                sum_1h += amt
        log_amount = math.log1p(amount)
        a_country, a_created = profiles.get(rec.payer, (None, None))
        b_country, b_created = profiles.get(rec.payee, (None, None))
        a_ref = a_created if a_created is not None else (a.first_seen if a.first_seen is not None else t)
        b_ref = b_created if b_created is not None else (b.first_seen if b.first_seen is not None else t)
        ca, cb = _norm_country(a_country), _norm_country(b_country)
        since = SECS_SINCE_CAP if a.last_paid is None else min(max(t - a.last_paid, 0), SECS_SINCE_CAP)
        return {
            "amount": amount,
            "log_amount": log_amount,
            "payer_count_1h": float(cnt_1h),
            "payer_sum_1h": sum_1h,
            "payer_count_24h": float(len(a.out)),
            "payer_sum_24h": sum_24h,
            "secs_since_payer_last": float(since),
            "pair_is_new": 0.0 if rec.payee in a.payees else 1.0,
            "payee_fanin_24h": float(b.inbox.fanin()),
            "amount_zscore_payer": _zscore(log_amount, a.n_paid, a.sum_log, a.sumsq_log),
            "hour_of_day": float((t % DAY) // HOUR),
            "token": float(token_code(rec.token)),
            "cross_border": 1.0 if (ca is not None and cb is not None and ca != cb) else 0.0,
            "account_age_days": max(t - a_ref, 0) / DAY,
            "payer_txn_count": float(a.n_paid),
            "payee_age_days": max(t - b_ref, 0) / DAY,
            "payer_recv_sum_24h": a.inbox.received(),
            "reverse_pair": 1.0 if rec.payer in b.payees else 0.0,
            **fx_values(rec.token, rec.token_out),
        }

    def _apply(self, rec: PaymentRecord, touched: dict[str, _AccountState]) -> bool:
        """Add `rec` to the in-memory state; returns True if it opened a new payer->payee pair."""
        t = int(rec.timestamp)
        a = self._accounts[rec.payer]
        b = self._accounts[rec.payee]
        for s in (a, b):
            if s.first_seen is None:
                s.first_seen = t
        x = math.log1p(float(rec.amount_usd))
        a.n_paid += 1
        a.sum_log += x
        a.sumsq_log += x * x
        a.last_paid = t if a.last_paid is None else max(a.last_paid, t)
        a.out.append((t, float(rec.amount_usd)))
        b.inbox.add(t, rec.payer, float(rec.amount_usd))
        touched[a.address] = a
        touched[b.address] = b
        if rec.payee in a.payees:
            return False
        a.payees.add(rec.payee)
        return True


def _check_record(rec: PaymentRecord) -> None:
    amount = rec.amount_usd
    if not isinstance(amount, int | float) or not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT_USD:
        raise DataError(f"payment {rec.key}: amount_usd {amount!r} is not a finite amount in range")
    if not isinstance(rec.timestamp, int | np.integer) or not 0 <= int(rec.timestamp) <= MAX_TIMESTAMP:
        raise DataError(f"payment {rec.key}: timestamp {rec.timestamp!r} is not unix seconds")


def records_from_frame(df: pd.DataFrame, key_col: str | None = None) -> list[PaymentRecord]:
    """PaymentRecords from a payments table, in time order (ties keep table order)."""
    validate_payments(df)
    ordered = df.iloc[np.argsort(df["timestamp"].to_numpy(dtype="float64"), kind="stable")]
    keys: Iterable[object] = ordered[key_col] if key_col else ordered.index
    outs = [o if isinstance(o, str) and o else None for o in _optional(ordered, "token_out", len(ordered))]
    return [
        PaymentRecord(str(k), str(a), str(b), str(tok), float(x), int(t), o)
        for k, a, b, tok, x, t, o in zip(
            keys,
            ordered["payer"],
            ordered["payee"],
            ordered["token"],
            ordered["amount_usd"],
            ordered["timestamp"],
            outs,
            strict=True,
        )
    ]
