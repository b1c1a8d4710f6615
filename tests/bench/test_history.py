"""The bench's end-to-end burst is ordinary traffic between accounts with a history, not an attack
burst of strangers: its features, computed over the primed store, are those of returning customers
paying an hour apart (bench.history's rounds), and the load generator moves the chain's clock on
between rounds, only there."""

import sqlite3
import time

import numpy as np
import pytest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from bench.anvil import Anvil
from bench.history import ROUND_GAP_S, Population, copy_template, prime_template, rounds
from bench.loadgen import TRANSFER_GAS, Batch, Signer, _batched, send_batch
from oracle.features import FEATURES, OnlineFeatures, PaymentRecord
from oracle.rpc import RawRpc
from oracle.store import Store

PAYERS, PAYEES, PER_PAYER = 120, 30, 3


def addresses(n: int, tag: int) -> list[str]:
    return [f"0x{tag:02x}{i:038x}" for i in range(n)]


@pytest.fixture(scope="module")
def primed(tmp_path_factory):
    """One primed template for the module: (its directory, the population)."""
    work = tmp_path_factory.mktemp("history")
    population = Population(addresses(PAYERS, 1), addresses(PAYEES, 2))
    out = prime_template(work, population)
    assert out["history_rows"] > PAYERS * 10
    return work, population


def burst_features(store_path, population: Population, count: int, now: int, gap: int) -> np.ndarray:
    """The burst's features as the node computes them: round r's payments `gap` seconds of block
    time after round r - 1's, a round's own payments a second per hundred apart."""
    store = Store(f"sqlite:///{store_path}")
    n = len(population.payers)
    try:
        payers, payees = population.payers, population.payees
        recs = [
            PaymentRecord(
                f"burst:{k}", payers[p], payees[m], "mUSD", usd, now + (k // n) * gap + (k % n) // 100
            )
            for k, (p, m, usd) in enumerate(population.burst(count))
        ]
        return OnlineFeatures(store).compute_many(recs)
    finally:
        store.close()


def test_the_burst_pays_known_payees_from_accounts_with_a_month_of_history(primed, tmp_path):
    work, population = primed
    node = tmp_path / "node.sqlite"
    assert copy_template(work, node)
    X = burst_features(node, population, PAYERS * PER_PAYER, int(time.time()), ROUND_GAP_S + 5)
    col = {name: X[:, i] for i, name in enumerate(FEATURES)}
    assert (col["payer_count_1h"] == 0).all()  # a payer's payments are rounds, an hour apart
    assert col["pair_is_new"].mean() < 0.5  # mostly favourite merchants, as in the history
    assert np.median(col["payer_txn_count"]) >= 10  # a month of earlier payments
    assert (col["account_age_days"] > 0).all()  # KYC profiles: no account opened this second
    assert 1 <= np.median(col["amount"]) <= 500  # ordinary amounts


def test_without_the_hour_between_rounds_the_same_payers_show_velocity(primed, tmp_path):
    """What the clock jump is for: the same rounds seconds apart are a wallet paying every few
    seconds, which the model's hour window sees."""
    work, population = primed
    node = tmp_path / "node.sqlite"
    copy_template(work, node)
    X = burst_features(node, population, PAYERS * PER_PAYER, int(time.time()), 2)
    late = X[PAYERS * (PER_PAYER - 1) :, FEATURES.index("payer_count_1h")]
    assert (late == PER_PAYER - 1).all()


def test_the_history_is_kept_without_its_feature_json(primed):
    work, _ = primed
    with sqlite3.connect(work / "history.sqlite") as db:
        rows, with_json = db.execute("SELECT COUNT(*), COUNT(features) FROM payments").fetchone()
    assert rows > 0 and with_json == 0


def test_without_the_template_the_node_starts_on_an_empty_store(tmp_path):
    assert not copy_template(tmp_path, tmp_path / "node.sqlite")
    population = Population(addresses(20, 3), addresses(5, 4))
    X = burst_features(tmp_path / "node.sqlite", population, 20, int(time.time()), ROUND_GAP_S)
    assert (X[:, FEATURES.index("pair_is_new")] == 1).all()
    assert (X[:, FEATURES.index("payer_txn_count")] == 0).all()


def test_rounds_start_where_every_payer_has_paid_once_more():
    assert rounds(15_000, 3_000) == [3_000, 6_000, 9_000, 12_000]
    assert rounds(2_500, 3_000) == []  # a burst shorter than a round has no clock jump
    assert rounds(100, 0) == []


def test_each_payer_pays_a_round_gap_of_block_time_after_its_last_payment():
    """On a real interval-mined anvil: the load generator's rounds land an hour of block time
    apart, and each round's transactions within seconds of each other (no jump inside a round)."""
    payers = [Account.from_key(keccak(text=f"test-rounds:{i}")) for i in range(40)]
    with Anvil(0.1) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        w3.provider.make_batch_request([("anvil_setBalance", [a.address, hex(10**18)]) for a in payers])
        signer = Signer(w3, w3.eth.chain_id)
        sink = payers[0].address
        signed = [
            (payers[i % 40], signer.sign(payers[i % 40], {"to": sink, "value": 1, "gas": TRANSFER_GAS}))
            for i in range(120)
        ]
        rpc = RawRpc(anvil.url)
        out = _batched(rpc, signed, 20, 1_000, rounds(120, 40), 3_600)
        assert out["clock_jumps"] == 2
        mined_at, blocks = [], []
        for _, raw in signed:
            receipt = w3.eth.get_transaction_receipt(keccak(raw))
            assert receipt is not None  # every one mined when _batched returns
            blocks.append(receipt["blockNumber"])
            mined_at.append(w3.eth.get_block(receipt["blockNumber"])["timestamp"])
        assert out["last_included_block"] == max(blocks)
        assert out["blocks_with_ours"] == len(set(blocks))
        assert len(out["barrier_gap_blocks"]) == 2 and min(out["barrier_gap_blocks"]) >= 0
        # The same batch again: the node refuses it (nonces used), and the load generator says so.
        with pytest.raises(RuntimeError, match="20 of 20 transactions refused"):
            send_batch(rpc, Batch.of(0, [raw for _, raw in signed[:20]]))
    for k in range(40, 120):
        assert mined_at[k] - mined_at[k - 40] >= 3_600  # the same payer, one round later
    for r in range(3):
        in_round = mined_at[r * 40 : (r + 1) * 40]
        assert max(in_round) - min(in_round) < 600
