"""Synthetic labelled payments: realistic base behaviour plus six named fraud typologies.

Base behaviour: consumers with their own spending level and spread, activity rate and active hours
(daily cycle), favourite merchants paid again and again (some as fixed subscriptions, some rent),
occasional person-to-person transfers to a regular contact, legitimate big purchases and sprees,
a few brand-new legitimate accounts, and a natural share of cross-border payments.
Fraud typologies are described in docs/typologies.md. Everything comes from one numpy Generator
seeded by the caller, so a seed gives the same table byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oracle.errors import DataError
from oracle.features import OnlineFeatures, PaymentRecord
from oracle.fx_features import add_cross_border, cash_out_rows

TYPOLOGIES: tuple[str, ...] = (
    "account_takeover",
    "mule_fan_in",
    "structuring",
    "card_testing",
    "new_account_large",
    "round_trip",
)
START_TS = 1_704_067_200  # 2024-01-01T00:00:00Z
DAY = 86_400
REPORTING_THRESHOLD_USD = 10_000.0
USD_PRICES: dict[str, float] = {"ETH": 3000.0, "mUSD": 1.0, "USDC": 1.0}
TOKENS: tuple[str, ...] = ("mUSD", "USDC", "ETH")
_TOKEN_PREF = np.array([0.6, 0.25, 0.15])
COUNTRIES: tuple[str, ...] = (
    "US",
    "GB",
    "DE",
    "FR",
    "NL",
    "ES",
    "BR",
    "MX",
    "IN",
    "SG",
    "NG",
    "PH",
    "CA",
    "JP",
)
_COUNTRY_W = np.array([30, 10, 9, 7, 4, 5, 6, 4, 7, 3, 4, 3, 5, 3], dtype=float)
_COUNTRY_W /= _COUNTRY_W.sum()
MAX_ROWS = 5_000_000
DEFAULT_DENSITY = 1.2  # legitimate payments per consumer per day in `generate`
NEW_CONSUMER_SHARE = 0.3
FX_STREAM = 18  # the cross-border draws' own random stream (issue 18)


@dataclass
class _Population:
    """Accounts by index: consumers first, then merchants, then accounts fraud episodes create."""

    country: list[str]
    created_at: list[int]
    role: list[str]  # "consumer" | "merchant" | "fraud"
    n_consumers: int
    n_merchants: int
    rate: np.ndarray  # consumer payments per day (relative)
    mu: np.ndarray  # consumer log-amount level
    sigma: np.ndarray
    peak_hour: np.ndarray
    token: np.ndarray  # consumer main token index into TOKENS
    favourites: np.ndarray  # (n_consumers, 8) merchant indices
    n_fav: np.ndarray
    contact: np.ndarray  # consumer index or -1
    subscription: np.ndarray  # fixed amount paid to favourite 0, or 0
    merchant_level: np.ndarray  # per merchant log price offset
    merchant_pop: np.ndarray  # per merchant popularity (probabilities)
    new_consumers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, country: str, created_at: int) -> int:
        self.country.append(country)
        self.created_at.append(int(created_at))
        self.role.append("fraud")
        return len(self.country) - 1

    def merchant(self, i: int) -> int:
        return self.n_consumers + i


def _population(
    rng: np.random.Generator, n_consumers: int, n_merchants: int, t0: int, t1: int
) -> _Population:
    c, m = n_consumers, n_merchants
    country = list(rng.choice(COUNTRIES, size=c, p=_COUNTRY_W))
    # Most merchants are in the big markets, so consumers elsewhere pay cross-border regularly.
    m_country = list(rng.choice(COUNTRIES, size=m, p=_COUNTRY_W))
    age_days = np.clip(rng.lognormal(np.log(400), 0.9, size=c), 20, 4000)
    created = (t0 - age_days * DAY).astype(np.int64)
    # ~12% of consumers open their account during the period (legitimate new accounts): enough
    # ordinary first payments of young accounts that a model does not read "new" as "fraud".
    new = np.flatnonzero(rng.random(c) < NEW_CONSUMER_SHARE)
    created[new] = (t0 + rng.random(new.size) * (t1 - t0) * 0.8).astype(np.int64)
    m_created = (t0 - rng.uniform(200, 3000, size=m) * DAY).astype(np.int64)
    # ~8% of merchants open during the period: legitimate young payees (mules are not the only ones).
    m_new = np.flatnonzero(rng.random(m) < 0.08)
    m_created[m_new] = (t0 + rng.random(m_new.size) * (t1 - t0) * 0.8).astype(np.int64)
    pop = 1.0 / np.arange(1, m + 1) ** 0.9  # Zipf-like merchant popularity
    pop = pop[rng.permutation(m)]
    pop /= pop.sum()
    n_fav = rng.integers(3, 9, size=c)
    favourites = rng.choice(m, size=(c, 8), p=pop)
    # Most favourites are domestic merchants; the rest (and one-off merchants) make cross-border.
    by_country = {k: np.flatnonzero(np.asarray(m_country) == k) for k in COUNTRIES}
    domestic = rng.random((c, 8)) < 0.8
    for i in range(c):
        local = by_country[country[i]]
        if local.size:
            w = pop[local] / pop[local].sum()
            picks = rng.choice(local, size=8, p=w)
            favourites[i] = np.where(domestic[i], picks, favourites[i])
    contact = np.where(rng.random(c) < 0.3, rng.integers(0, c, size=c), -1)
    # Contacts (family, flatmates) mostly live in the same country.
    cc = np.asarray(country)
    same = {k: np.flatnonzero(cc == k) for k in COUNTRIES}
    contact = np.array(
        [rng.choice(same[cc[i]]) if x >= 0 and rng.random() < 0.8 else x for i, x in enumerate(contact)],
        dtype=np.int64,
    )
    subscription = np.where(rng.random(c) < 0.35, rng.choice([4.99, 9.99, 14.99, 29.99, 59.0], size=c), 0.0)
    return _Population(
        country=country + m_country,
        created_at=created.tolist() + m_created.tolist(),
        role=["consumer"] * c + ["merchant"] * m,
        n_consumers=c,
        n_merchants=m,
        rate=np.clip(rng.lognormal(0.0, 0.7, size=c), 0.1, 8.0),
        mu=rng.normal(np.log(35), 0.6, size=c),
        sigma=rng.uniform(0.4, 1.0, size=c),
        peak_hour=np.clip(rng.normal(15, 3, size=c), 6, 23),
        token=rng.choice(len(TOKENS), size=c, p=_TOKEN_PREF),
        favourites=favourites,
        n_fav=n_fav,
        contact=contact,
        subscription=subscription,
        merchant_level=rng.normal(0.0, 0.6, size=m),
        merchant_pop=pop,
        new_consumers=new,
    )


def _legit(rng: np.random.Generator, pp: _Population, count: int, t0: int, t1: int) -> pd.DataFrame:
    """`count` legitimate payments between t0 and t1 (vectorised)."""
    c = pp.n_consumers
    payer = rng.choice(c, size=count, p=pp.rate / pp.rate.sum())
    span_days = max((t1 - t0) / DAY, 1.0)
    day = np.floor(rng.random(count) * span_days)
    hour = np.mod(pp.peak_hour[payer] + rng.normal(0, 3.5, size=count), 24.0)
    ts = t0 + day * DAY + hour * 3600 + rng.random(count) * 60
    ts = np.minimum(ts, t1 - 1)
    u = rng.random(count)
    fav_slot = np.minimum((pp.n_fav[payer] * rng.random(count) ** 1.7).astype(int), pp.n_fav[payer] - 1)
    fav = pp.favourites[payer, fav_slot]
    other_m = rng.choice(pp.n_merchants, size=count, p=pp.merchant_pop)
    merchant_idx = np.where(u < 0.80, fav, other_m)
    payee = pp.n_consumers + merchant_idx
    has_contact = pp.contact[payer] >= 0
    p2p = (u >= 0.95) & has_contact
    random_p2p = (u >= 0.985) & ~has_contact
    payee = np.where(p2p, pp.contact[payer], payee)
    payee = np.where(random_p2p, rng.integers(0, c, size=count), payee)

    # Accounts only transact once they exist: squeeze such payments' days into [created, t1), each
    # at its drawn time of day (a linear squeeze of the timestamps scattered a new account's payments
    # over the clock: a third of new accounts' first payments fell between midnight and 06:00).
    created_all = np.asarray(pp.created_at, dtype=np.float64)
    created = np.maximum(created_all[payer], created_all[payee])
    late = created > t0
    day_of = np.floor(created / DAY) + np.floor((ts - t0) / (t1 - t0) * np.maximum(t1 - created, 0) / DAY)
    squeezed = day_of * DAY + np.mod(ts, DAY)
    squeezed = np.where(squeezed < created + 3600, squeezed + DAY, squeezed)
    ts = np.where(late, np.minimum(squeezed, t1 - 1), ts)

    # A new account's first payment usually comes soon after sign-up (within a day, at the payer's
    # usual hours), not weeks later: move each new payer's earliest payment there, so young
    # accounts paying ordinary amounts are common enough that a model does not read "new" as "fraud".
    young = np.flatnonzero(created_all[payer] > t0)
    if young.size:
        by_payer = young[np.lexsort((ts[young], payer[young]))]
        first = by_payer[np.unique(payer[by_payer], return_index=True)[1]]
        after = np.mod(ts[first] - created[first], DAY)  # same time of day as drawn, first day
        after = np.where(after < 600, after + DAY, after)
        ts[first] = np.minimum(np.minimum(created[first] + after, ts[first]), t1 - 1)

    level = np.where(p2p | random_p2p, np.log(1.5), pp.merchant_level[merchant_idx])
    amount = np.exp(pp.mu[payer] + level + rng.normal(0, 1, size=count) * pp.sigma[payer])
    sub = (pp.subscription[payer] > 0) & (u < 0.80) & (fav_slot == 0)
    amount = np.where(sub, pp.subscription[payer], amount)
    big = rng.random(count) < 0.006  # legitimate big purchases (travel, electronics)
    amount = np.where(big, amount * rng.uniform(8, 40, size=count), amount)
    rent = (rng.random(count) < 0.01) & ~sub
    amount = np.where(rent, rng.uniform(700, 3500, size=count), amount)
    amount = np.round(np.clip(amount, 0.5, 60_000), 2)

    # Shopping sprees: a share of payments follows the payer's previous one by minutes.
    frame = pd.DataFrame({"timestamp": ts, "payer": payer, "payee": payee, "amount_usd": amount})
    frame = frame.sort_values(["payer", "timestamp"], kind="stable")
    prev_same = frame["payer"].to_numpy()[:-1] == frame["payer"].to_numpy()[1:]
    spree = np.zeros(len(frame), dtype=bool)
    spree[1:] = prev_same & (rng.random(len(frame) - 1) < 0.12)
    prev_ts = np.roll(frame["timestamp"].to_numpy(), 1)
    frame["timestamp"] = np.where(
        spree, prev_ts + rng.exponential(900, size=len(frame)) + 30, frame["timestamp"]
    )
    frame["timestamp"] = np.minimum(frame["timestamp"], t1 - 1)
    main_tok = pp.token[frame["payer"].to_numpy()]
    frame["token"] = np.where(
        rng.random(len(frame)) < 0.88, main_tok, rng.integers(0, len(TOKENS), size=len(frame))
    )
    frame["typology"] = "none"
    return frame


def _episode(
    rng: np.random.Generator, pp: _Population, typology: str, t0: float
) -> list[tuple[float, int, int, float, int]]:
    """One fraud episode starting near t0: rows (timestamp, payer, payee, amount_usd, token)."""
    c = pp.n_consumers
    rows: list[tuple[float, int, int, float, int]] = []

    def old_consumer() -> int:
        for _ in range(50):
            v = int(rng.integers(0, c))
            if pp.created_at[v] < t0 - 30 * DAY:
                return v
        return int(rng.integers(0, c))

    def new_account(max_age_days: float, foreign: bool = False) -> int:
        country = str(rng.choice(COUNTRIES, p=_COUNTRY_W if not foreign else None))
        return pp.add(country, int(t0 - rng.uniform(0.02, max_age_days) * DAY))

    if typology == "account_takeover":
        # Credentials stolen: a burst at night to fresh payees, far above the victim's usual.
        victim = old_consumer()
        if rng.random() < 0.6:
            t0 = t0 - (t0 % DAY) + rng.uniform(0, 5) * 3600
        if rng.random() < 0.35:  # cashing out through established merchants (gift cards, electronics)
            payees = [
                pp.merchant(int(rng.integers(0, pp.n_merchants))) for _ in range(int(rng.integers(1, 3)))
            ]
        else:
            payees = [new_account(30, foreign=rng.random() < 0.6) for _ in range(int(rng.integers(1, 3)))]
        n = int(rng.integers(3, 9))
        times = t0 + np.sort(rng.uniform(0, 2700, size=n))
        usual = float(np.exp(pp.mu[victim]))
        tok = int(pp.token[victim])
        for t in times:
            amt = min(usual * rng.uniform(3, 15), 20_000)
            rows.append((t, victim, int(rng.choice(payees)), round(amt, 2), tok))
    elif typology == "mule_fan_in":
        # Scam victims all pay one freshly opened mule account within a day.
        mule = (
            new_account(7) if rng.random() < 0.6 else new_account(900)
        )  # fresh, or a bought dormant account
        k = int(rng.integers(5, 16))
        times = t0 + np.sort(rng.uniform(0, 20 * 3600, size=k))
        for t in times:
            payer = old_consumer()
            rows.append((t, payer, mule, round(rng.uniform(150, 2500), 2), int(pp.token[payer])))
    elif typology == "structuring":
        # Splitting a large sum into payments just below the reporting threshold.
        payer = old_consumer() if rng.random() < 0.5 else new_account(20)
        payees = [
            new_account(60) if rng.random() < 0.6 else pp.merchant(int(rng.integers(0, pp.n_merchants)))
            for _ in range(int(rng.integers(1, 4)))
        ]
        n = int(rng.integers(3, 7))
        times = t0 + np.sort(rng.uniform(0, rng.uniform(1, 48) * 3600, size=n))
        for t in times:
            amt = REPORTING_THRESHOLD_USD * rng.uniform(0.90, 0.999)
            rows.append((t, payer, int(rng.choice(payees)), round(amt, 2), int(rng.integers(0, 2))))
    elif typology == "card_testing":
        # Many micro-payments in minutes to probe which stolen credentials work.
        payer = new_account(3) if rng.random() < 0.7 else old_consumer()
        merchants = [
            pp.merchant(int(rng.integers(0, pp.n_merchants))) for _ in range(int(rng.integers(1, 5)))
        ]
        n = int(rng.integers(8, 26))
        times = t0 + np.sort(rng.uniform(0, rng.uniform(300, 1800), size=n))
        for t in times:
            rows.append(
                (
                    t,
                    payer,
                    int(rng.choice(merchants)),
                    round(rng.uniform(0.5, 3.0), 2),
                    int(rng.integers(0, 2)),
                )
            )
    elif typology == "new_account_large":
        # A days-old account moves a large sum to a fresh, often foreign, payee.
        payer = new_account(2)
        payee = (
            new_account(10, foreign=True)
            if rng.random() < 0.7
            else pp.merchant(int(rng.integers(0, pp.n_merchants)))
        )
        for j in range(int(rng.integers(1, 3))):
            amt = float(np.clip(rng.lognormal(np.log(8000), 0.6), 2500, 60_000))
            rows.append(
                (t0 + j * rng.uniform(600, 6 * 3600), payer, payee, round(amt, 2), int(rng.integers(0, 3)))
            )
    elif typology == "round_trip":
        # Funds cycle through shell accounts back to the originator, a little less each hop.
        origin = old_consumer()
        ring = [origin] + [new_account(45) for _ in range(int(rng.integers(2, 4)))]
        amt = rng.uniform(3000, 25_000)
        t = t0
        for _ in range(int(rng.integers(1, 3))):
            for j in range(len(ring)):
                rows.append((t, ring[j], ring[(j + 1) % len(ring)], round(amt, 2), 0))
                amt *= rng.uniform(0.97, 0.995)
                t += rng.uniform(600, 3 * 3600)
    else:  # pragma: no cover - guarded by callers
        raise DataError(f"unknown typology {typology!r}")
    return rows


def _fraud(
    rng: np.random.Generator,
    pp: _Population,
    target_rows: int | None,
    episodes: list[str] | None,
    t0: int,
    t1: int,
    fx_rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Fraud rows: either exactly `target_rows` (typologies in rotation) or the given episodes.
    fx_rng: mules also cash out abroad (oracle.fx_features), rows drawn from a stream of their own and
    added after the others, so the episodes are the ones they were without them."""
    rows: list[tuple[float, int, int, float, int, str]] = []
    cash_outs: list[tuple[float, int, int, float, int, str]] = []
    plan = list(episodes) if episodes is not None else []
    rotation = [TYPOLOGIES[i] for i in rng.permutation(len(TYPOLOGIES))]
    i = 0
    while (episodes is not None and i < len(plan)) or (episodes is None and len(rows) < (target_rows or 0)):
        typ = plan[i] if episodes is not None else rotation[i % len(rotation)]
        start = t0 + rng.random() * max(t1 - t0 - DAY, 1)
        ep = _episode(rng, pp, typ, start)
        if fx_rng is not None and typ == "mule_fan_in":
            cash_outs.extend(
                (min(t, t1 - 1), a, b, x, tok, typ) for t, a, b, x, tok in cash_out_rows(fx_rng, ep, pp.add)
            )
        rows.extend((min(t, t1 - 1), a, b, x, tok, typ) for t, a, b, x, tok in ep)
        i += 1
    if episodes is None and target_rows is not None:
        rows = rows[:target_rows]
    rows += cash_outs
    return pd.DataFrame(rows, columns=["timestamp", "payer", "payee", "amount_usd", "token", "typology"])


def _finish(pp: _Population, frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    payer = frame["payer"].to_numpy(dtype=np.int64)
    payee = frame["payee"].to_numpy(dtype=np.int64)
    country = np.asarray(pp.country, dtype=object)
    created = np.asarray(pp.created_at, dtype=np.int64)
    token = np.asarray(TOKENS, dtype=object)[frame["token"].to_numpy(dtype=np.int64)]
    price = np.array([USD_PRICES[t] for t in token])
    ids_arr = np.asarray(ids, dtype=object)
    return pd.DataFrame(
        {
            "payment_id": np.arange(len(frame), dtype=np.int64),
            "timestamp": frame["timestamp"].to_numpy().astype(np.int64),
            "payer": ids_arr[payer],
            "payee": ids_arr[payee],
            "token": token,
            "amount": np.round(frame["amount_usd"].to_numpy() / price, 8),
            "amount_usd": frame["amount_usd"].to_numpy(dtype=np.float64),
            "payer_country": country[payer],
            "payee_country": country[payee],
            "payer_created_at": created[payer],
            "payee_created_at": created[payee],
            "is_fraud": (frame["typology"].to_numpy() != "none").astype(np.int64),
            "typology": frame["typology"].to_numpy(dtype=object),
        }
    )


def generate(
    rows: int, seed: int, fraud_rate: float = 0.005, payments_per_consumer_day: float = DEFAULT_DENSITY
) -> pd.DataFrame:
    """A labelled table of `rows` payments (columns in docs/typologies.md), deterministic for `seed`,
    plus the cash-outs of its mules (a few rows, fraud, converting; oracle.fx_features).

    payments_per_consumer_day: how busy the average consumer is (the time span follows from it).
    Velocity features count payments in windows of time, so a model scores traffic of another
    density as unusual: train at the density it will score (`Scenario.payments_per_consumer_day`).
    """
    if not isinstance(rows, int | np.integer) or rows < 1 or rows > MAX_ROWS:
        raise DataError(f"rows must be between 1 and {MAX_ROWS:,}")
    if not 0.0 <= fraud_rate <= 0.5:
        raise DataError("fraud rate must be between 0 and 0.5")
    if not 0.05 <= payments_per_consumer_day <= 50:
        raise DataError("payments_per_consumer_day must be between 0.05 and 50")
    rng = np.random.default_rng(seed)
    n_fraud = int(round(rows * fraud_rate))
    n_legit = rows - n_fraud
    c = max(50, rows // 60)
    m = max(20, c // 8)
    days = max(7, int(np.ceil(n_legit / (c * payments_per_consumer_day))))
    t0, t1 = START_TS, START_TS + days * DAY
    pp = _population(rng, c, m, t0, t1)
    legit = _legit(rng, pp, n_legit, t0, t1)
    fx_rng = np.random.default_rng([seed, FX_STREAM])  # cross-border draws leave domestic rows as they were
    fraud = _fraud(rng, pp, n_fraud, None, t0, t1, fx_rng)
    ids = [f"acct{i:06d}" for i in range(len(pp.country))]
    parts = [f for f in (legit[fraud.columns], fraud) if len(f)]
    frame = pd.concat(parts, ignore_index=True)
    return add_cross_border(_finish(pp, frame, ids), fx_rng)


@dataclass(frozen=True)
class Scenario:
    """Traffic for a live demo, with accounts as indices the demo maps to chain accounts.

    accounts: index, role (consumer/merchant/fraud), country, created_offset (seconds relative to
      the live start; negative = before it).
    history: legitimate payments before the live start (offset_s < 0) to prime the feature store,
      so live accounts have the usual history behind them (`prime_history`).
    live: the payments to send, in order: offset_s (seconds after the live start), payer, payee,
      token, amount (token units), amount_usd, is_fraud, typology. Each typology appears at least
      once. Replay them with block timestamps at live_start + offset_s (anvil can set the next
      block's timestamp); velocity features read timestamps, so compressing a day into a minute
      would make every account look like a burst.
    """

    accounts: pd.DataFrame
    history: pd.DataFrame
    live: pd.DataFrame
    live_start: int = START_TS + 30 * DAY
    """The scenario's own clock at its live start: a midnight UTC, as the training data's days start."""

    def live_start_after(self, now: int, lead: int = 3_600) -> int:
        """The first moment at least `lead` seconds after `now` at the time of day of the scenario's
        live start. A replay starting there keeps each payment's hour of day: the generator's
        consumers pay in daytime hours UTC, in the scenario as in the training data, so a replay
        started at whatever time the chain's clock showed moved the day into the night (hour of day
        is a feature) and the share of legitimate payments reviewed with it."""
        t = int(now) + int(lead)
        return t + (self.live_start - t) % DAY

    @property
    def payments_per_consumer_day(self) -> float:
        """Legitimate history payments per consumer per day: the density to train the model at."""
        consumers = int((self.accounts["role"] == "consumer").sum())
        return float(len(self.history)) / max(consumers, 1) / self.history_days

    @property
    def history_days(self) -> float:
        """Days of history before the live start (at least one)."""
        return max(-float(self.history["offset_s"].min()) / DAY, 1.0) if len(self.history) else 1.0

    def table(self, live_start: int) -> pd.DataFrame:
        """History + live as one datagen-schema table with absolute times and ids "acct<index>"."""
        frames = []
        for part in (self.history, self.live):
            f = part.copy()
            f["timestamp"] = live_start + f["offset_s"]
            frames.append(f)
        both = pd.concat(frames, ignore_index=True)
        acc = self.accounts.set_index("index")
        out = pd.DataFrame(
            {
                "timestamp": both["timestamp"].astype(np.int64),
                "payer": [f"acct{i:06d}" for i in both["payer"]],
                "payee": [f"acct{i:06d}" for i in both["payee"]],
                "token": both["token"],
                "amount_usd": both["amount_usd"],
                "payer_country": acc.loc[both["payer"], "country"].to_numpy(),
                "payee_country": acc.loc[both["payee"], "country"].to_numpy(),
                "payer_created_at": live_start + acc.loc[both["payer"], "created_offset"].to_numpy(),
                "payee_created_at": live_start + acc.loc[both["payee"], "created_offset"].to_numpy(),
                "is_fraud": both["is_fraud"],
                "typology": both["typology"],
            }
        )
        return out


def generate_scenario(
    n_accounts: int,
    n_payments: int,
    seed: int,
    history_days: int = 30,
    live_seconds: int = DAY,
    episodes_per_typology: int = 1,
) -> Scenario:
    """Demo traffic: `n_payments` live payments among `n_accounts` accounts (plus the fresh accounts
    fraud episodes open), every typology at least `episodes_per_typology` times."""
    if n_accounts < 10:
        raise DataError("a scenario needs at least 10 accounts")
    if live_seconds < 3600:
        raise DataError("live_seconds must be at least an hour")
    rng = np.random.default_rng(seed)
    m = max(3, n_accounts // 6)
    c = n_accounts - m
    live_start = START_TS + history_days * DAY
    t_live_end = live_start + live_seconds
    pp = _population(rng, c, m, START_TS, live_start)
    pp.created_at[:c] = [min(x, live_start - 3 * DAY) for x in pp.created_at[:c]]
    # The scenario's merchants are established businesses. With a handful of them the generator's
    # 8% of young merchants is a lottery (seed 7 drew 3 of 10, a third of the traffic), and young
    # payees are what mule typologies look like: young accounts here are the fraud episodes' own.
    pp.created_at[c:] = [min(x, live_start - 180 * DAY) for x in pp.created_at[c:]]
    episodes = [t for t in TYPOLOGIES for _ in range(episodes_per_typology)]
    fraud = _fraud(rng, pp, None, episodes, live_start, t_live_end + DAY)
    # Episodes may run past the window (round trips take hours): keep their order, squeeze them in.
    over = fraud["timestamp"] > t_live_end - 1
    fraud.loc[over, "timestamp"] = t_live_end - 1 - rng.uniform(0, 600, size=int(over.sum()))
    n_legit = n_payments - len(fraud)
    if n_legit < 0:
        raise DataError(f"n_payments must be at least {len(fraud)} to hold every typology")
    live = _legit(rng, pp, n_legit, live_start, t_live_end) if n_legit else fraud.iloc[:0]
    per_day = n_legit / (live_seconds / DAY)
    n_hist = int(min(per_day * history_days, 50_000))
    history = _legit(rng, pp, n_hist, START_TS, live_start)

    def shape(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
        token = np.asarray(TOKENS, dtype=object)[frame["token"].to_numpy(dtype=np.int64)]
        price = np.array([USD_PRICES[t] for t in token]) if len(frame) else np.zeros(0)
        return pd.DataFrame(
            {
                "offset_s": frame["timestamp"].to_numpy().astype(np.int64) - live_start,
                "payer": frame["payer"].to_numpy(dtype=np.int64),
                "payee": frame["payee"].to_numpy(dtype=np.int64),
                "token": token,
                "amount": np.round(
                    frame["amount_usd"].to_numpy(dtype=np.float64) / np.where(price > 0, price, 1), 8
                ),
                "amount_usd": frame["amount_usd"].to_numpy(dtype=np.float64),
                "is_fraud": (frame["typology"].to_numpy() != "none").astype(np.int64),
                "typology": frame["typology"].to_numpy(dtype=object),
            }
        )

    accounts = pd.DataFrame(
        {
            "index": np.arange(len(pp.country), dtype=np.int64),
            "role": pp.role,
            "country": pp.country,
            "created_offset": np.asarray(pp.created_at, dtype=np.int64) - live_start,
        }
    )
    live_frame = pd.concat([live[fraud.columns], fraud], ignore_index=True) if n_legit else fraud
    live_frame["token"] = live_frame["token"].astype(np.int64)
    return Scenario(accounts=accounts, history=shape(history), live=shape(live_frame), live_start=live_start)


def prime_history(online: object, scenario: Scenario, address_of: object, live_start: int) -> int:
    """Load a scenario's account profiles and history into the feature store; returns rows added.

    online: an `oracle.features.OnlineFeatures`; address_of: index -> address (e.g. a chain account).
    """
    if not isinstance(online, OnlineFeatures) or not callable(address_of):
        raise TypeError("prime_history(online: OnlineFeatures, scenario, address_of: callable, live_start)")
    store = online._store  # noqa: SLF001 - same package, the profiles belong with the history
    store.upsert_accounts(
        (str(address_of(int(r.index))), r.country, int(live_start + r.created_offset))
        for r in scenario.accounts.itertuples()
    )
    recs = [
        PaymentRecord(
            f"history:{i}",
            str(address_of(int(r.payer))),
            str(address_of(int(r.payee))),
            r.token,
            float(r.amount_usd),
            int(live_start + r.offset_s),
        )
        for i, r in enumerate(scenario.history.itertuples())
    ]
    for i in range(0, len(recs), 2000):
        online.compute_many(recs[i : i + 2000])
    return len(recs)


# --- table files ------------------------------------------------------------------------------


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet table by the file's extension; DataError on anything unreadable."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{p}: unsupported file type {suffix or '(none)'}; use .csv or .parquet")
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        df = pd.read_csv(p) if suffix == ".csv" else pd.read_parquet(p)
    except ImportError as err:
        raise DataError(f"{p}: Parquet is unavailable here ({_first_line(err)}); use a .csv file") from err
    except pd.errors.EmptyDataError as err:
        raise DataError(f"{p}: the file is empty") from err
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{p}: cannot read the table ({_first_line(err)})") from err
    except Exception as err:  # pyarrow raises its own ArrowInvalid etc. for corrupt parquet
        raise DataError(f"{p}: cannot read the table ({type(err).__name__})") from err
    if len(df) == 0:
        raise DataError(f"{p}: the table is empty (no rows)")
    return df


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{p}: unsupported file type {suffix or '(none)'}; use .csv or .parquet")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            df.to_csv(p, index=False)
        else:
            df.to_parquet(p, index=False)
    except ImportError as err:
        raise DataError(f"{p}: Parquet is unavailable here ({_first_line(err)}); use a .csv file") from err
    except OSError as err:
        raise DataError(f"{p}: cannot write ({err.strerror or err})") from err
    return p
