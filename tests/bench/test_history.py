"""The bench's end-to-end burst is ordinary traffic between accounts with a history, not an attack
burst of strangers: its features, computed over the primed store, are those of returning customers."""

import time

import numpy as np

from bench.history import Population, copy_template, prime_template
from oracle.features import FEATURES, OnlineFeatures, PaymentRecord
from oracle.store import Store


def addresses(n: int, tag: int) -> list[str]:
    return [f"0x{tag:02x}{i:038x}" for i in range(n)]


def burst_features(store_path, population: Population, count: int, now: int) -> np.ndarray:
    store = Store(f"sqlite:///{store_path}")
    try:
        payers, payees = population.payers, population.payees
        recs = [
            PaymentRecord(f"burst:{k}", payers[p], payees[m], "mUSD", usd, now + k // 100)
            for k, (p, m, usd) in enumerate(population.burst(count))
        ]
        return OnlineFeatures(store).compute_many(recs)
    finally:
        store.close()


def test_the_burst_pays_known_payees_from_accounts_with_a_month_of_history(tmp_path):
    population = Population(addresses(120, 1), addresses(30, 2))
    prime_template(tmp_path, population)
    now = int(time.time())
    primed = tmp_path / "node.sqlite"
    assert copy_template(tmp_path, primed)
    X = burst_features(primed, population, 120, now)
    col = {name: X[:, i] for i, name in enumerate(FEATURES)}
    assert (col["payer_count_1h"] == 0).all()  # each payer pays once in the burst
    assert col["pair_is_new"].mean() < 0.5  # mostly favourite merchants, as in the history
    assert np.median(col["payer_txn_count"]) >= 10  # a month of earlier payments
    assert (col["account_age_days"] > 0).all()  # KYC profiles: no account opened this second
    assert 1 <= np.median(col["amount"]) <= 500  # ordinary amounts


def test_without_the_template_the_node_starts_on_an_empty_store(tmp_path):
    assert not copy_template(tmp_path, tmp_path / "node.sqlite")
    population = Population(addresses(20, 3), addresses(5, 4))
    X = burst_features(tmp_path / "node.sqlite", population, 20, int(time.time()))
    assert (X[:, FEATURES.index("pair_is_new")] == 1).all()
    assert (X[:, FEATURES.index("payer_txn_count")] == 0).all()
