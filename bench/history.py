"""The end-to-end burst's accounts as the demo's are: KYC profiles and a month of ordinary payments
between the same payers and payees, primed into the node's store before the clock starts, and a
burst drawn like the generator's legitimate payments (`oracle.datagen`).

A burst of fresh accounts paying dozens of times each in seconds is an attack burst: the model flags
most of it (93% reached review), so it measured TreeSHAP rather than settlement. Real traffic is
about 2% flagged; so is this burst, and `make bench` reports the share it measured.

The burst's shape (bench/NOTES.md, "The burst's shape"): BURST_PAYERS payers, taken in turn, so
the burst is rounds of one payment per payer; between rounds the load generator moves the chain's
clock on by ROUND_GAP_S (`evm_increaseTime`), so each payer's payments are an hour apart in block
time, as the generator's legitimate payers' are, not milliseconds apart. Fewer payers paying in
rounds rather than one payer per payment because anvil's cost per block grows with the accounts in
its state (it rehashes the whole state trie every block), not with distinct senders: 15,000 funded
payers cost it about 28 ms of CPU per 0.1 s block before any load.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oracle.datagen import DAY, TOKENS, _legit, _population
from oracle.features import OnlineFeatures, PaymentRecord
from oracle.store import Store

HISTORY_DAYS = 30
BURST_PAYERS = 3_000
"""Payers of the end-to-end burst: 15,000 payments are five rounds of one payment each."""
ROUND_GAP_S = 3_600
"""Block time between two rounds of the burst: a payer's payments an hour apart (the model's
shortest velocity window is an hour; offline, 3,000 payers paying five times reached review at
25% with no gap, 11% 10 minutes apart, 0.8% an hour apart)."""
DEADLINE_WINDOW_S = 86_400
"""The bench router's deadline window (the default is an hour): a payment requested just before a
round's clock jump is decided just after it, so its deadline must outlast a few jumps."""
SEED = 16  # issue 16
TEMPLATE = "history.sqlite"


@dataclass(frozen=True)
class Population:
    """The generator's population over the bench's wallets: consumer i is payer i, merchant j payee j."""

    payers: list[str]
    payees: list[str]
    seed: int = SEED

    def _pp(self, t0: int, t1: int):  # noqa: ANN202 - datagen's private _Population
        rng = np.random.default_rng(self.seed)
        return _population(rng, len(self.payers), len(self.payees), t0, t1), rng

    def address(self, index: int) -> str:
        n = len(self.payers)
        return self.payers[index] if index < n else self.payees[index - n]

    def prime(self, store_path: Path, now: int) -> int:
        """KYC profiles and a month of payments up to an hour before `now` (about 1.2 per payer per
        day, as `oracle.datagen.generate`); returns the history's rows."""
        t0 = now - HISTORY_DAYS * DAY
        pp, rng = self._pp(t0, now - 3_600)
        store = Store(f"sqlite:///{store_path}")
        try:
            store.upsert_accounts(
                (self.address(i), pp.country[i], int(pp.created_at[i])) for i in range(len(pp.country))
            )
            hist = _legit(rng, pp, int(len(self.payers) * 1.2 * HISTORY_DAYS), t0, now - 3_600)
            recs = [
                PaymentRecord(
                    f"history:{k}",
                    self.address(int(r.payer)),
                    self.address(int(r.payee)),
                    "ETH" if TOKENS[int(r.token)] == "ETH" else "mUSD",
                    float(r.amount_usd),
                    int(r.timestamp),
                )
                for k, r in enumerate(hist.sort_values("timestamp", kind="stable").itertuples())
            ]
            online = OnlineFeatures(store)
            for i in range(0, len(recs), 2_000):
                online.compute_many(recs[i : i + 2_000])
        finally:
            store.close()
        _drop_feature_json(store_path)
        return len(recs)

    def burst(self, count: int) -> list[tuple[int, int, float]]:
        """(payer index, payee index into `payees`, USD) for `count` payments, payers in turn: a
        favourite merchant four times in five, else a popular one, at the payer's own amount level
        (the generator's legitimate draw; its timestamps are the chain's)."""
        now = int(time.time())
        pp, _ = self._pp(now - HISTORY_DAYS * DAY, now - 3_600)
        rng = np.random.default_rng(self.seed + 1)
        out = []
        n = len(self.payers)
        for i in range(count):
            p = i % n
            slot = min(int(pp.n_fav[p] * rng.random() ** 1.7), int(pp.n_fav[p]) - 1)
            if rng.random() < 0.8:
                m = int(pp.favourites[p, slot])
            else:
                m = int(rng.choice(len(self.payees), p=pp.merchant_pop))
            usd = float(np.exp(pp.mu[p] + pp.merchant_level[m] + rng.normal() * pp.sigma[p]))
            out.append((p, m, round(float(np.clip(usd, 1.0, 20_000.0)), 2)))
        return out


def rounds(count: int, payers: int) -> list[int]:
    """Indexes in a burst of `count` payments, payers taken in turn, at which a new round starts
    (every payer has paid once more): where the load generator moves the chain's clock on."""
    return list(range(payers, count, payers)) if payers > 0 else []


def _drop_feature_json(store_path: Path) -> None:
    """The history's feature JSON is most of its bytes and nobody explains a primed payment: a
    month for the burst's accounts is a quarter of the size without it (the column is nullable)."""
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE payments SET features = NULL")
    db = sqlite3.connect(store_path)
    try:
        db.execute("VACUUM")
    finally:
        db.close()


def prime_template(work: Path, population: Population) -> dict[str, float]:
    """The primed store every end-to-end run starts from (copied, so each run starts alike)."""
    path = work / TEMPLATE
    for stale in work.glob(TEMPLATE + "*"):
        stale.unlink()
    started = time.perf_counter()
    rows = population.prime(path, int(time.time()))
    return {"history_rows": rows, "prime_seconds": round(time.perf_counter() - started, 1)}


def drop_store(store: Path) -> None:
    """Removes a run's copy of the primed store (hundreds of MB at 15,000 payers)."""
    for path in store.parent.glob(store.name + "*"):
        path.unlink()


def copy_template(work: Path, store: Path) -> bool:
    """Copies the primed store to `store`; False if there is none (an all-fresh burst)."""
    template = work / TEMPLATE
    if not template.exists():
        return False
    shutil.copyfile(template, store)
    return True
