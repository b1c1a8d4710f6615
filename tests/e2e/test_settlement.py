"""Payments scored by the real model and decided on-chain by the real daemon."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

from ape import chain, networks
from e2e_helpers import MANIFEST, wait_until

from oracle.datagen import generate
from oracle.features import OnlineFeatures, PaymentRecord
from oracle.model import save
from oracle.store import Store
from oracle.train import train

ETH = "0x0000000000000000000000000000000000000000"
PENDING, HELD, SETTLED, REFUNDED = 1, 2, 3, 4
DAY = 86_400


def status(router, payment_id: int) -> int:
    return int(router.payment(payment_id).status)


def prime_regular_customer(store_path, payer, payee, now: int) -> None:
    """Thirty days of $40-60 payments from payer to payee, and both KYC profiles: the history a
    legitimate customer has in the operator's store."""
    store = Store(f"sqlite:///{store_path}")
    online = OnlineFeatures(store)
    store.upsert_account(str(payer), "US", now - 400 * DAY)
    store.upsert_account(str(payee), "US", now - 900 * DAY)
    for day in range(30, 0, -1):
        online.compute_many(
            [
                PaymentRecord(
                    f"history:{day}", str(payer), str(payee), "mUSD", 40.0 + day % 20, now - day * DAY
                )
            ]
        )
    store.close()


def test_fraud_is_stopped_and_legitimate_payment_settles(
    world, start_daemon, payer, payee, accounts, deployer, tmp_path
):
    contracts, _ = world
    router, stable = contracts["PaymentRouter"], contracts["MockStablecoin"]
    now = chain.pending_timestamp
    prime_regular_customer(tmp_path / "node.sqlite", payer, payee, now)
    stable.mint(payer, 10_000 * 10**6, sender=deployer)
    stable.approve(router, 2**256 - 1, sender=payer)
    start_daemon()

    router.pay(payee, stable, 52 * 10**6, b"\x01" * 32, sender=payer)
    legit = router.paymentCount()
    # A brand-new account with no history moves 40 ETH (~$120k) to a brand-new payee.
    fresh, mule = accounts[15], accounts[16]
    router.pay(mule, ETH, 40 * 10**18, b"\x02" * 32, sender=fresh, value=40 * 10**18)
    fraud = router.paymentCount()

    assert wait_until(lambda: status(router, legit) != PENDING and status(router, fraud) != PENDING)
    assert status(router, legit) == SETTLED
    assert status(router, fraud) in (HELD, REFUNDED)


def test_nothing_settles_without_a_verdict(world, payer, payee, outsider):
    contracts, _ = world
    router = contracts["PaymentRouter"]
    balance_before = payee.balance
    router.pay(payee, ETH, 10**18, b"\x03" * 32, sender=payer, value=10**18)
    payment_id = router.paymentCount()

    chain.pending_timestamp += router.deadlineWindow() + 1
    chain.mine()
    # the router keeps only a hash of the terms: whoever reclaims passes them back
    router.reclaim(payment_id, (payer.address, payee.address, ETH, 10**18), sender=outsider)

    assert status(router, payment_id) == REFUNDED
    assert payee.balance == balance_before


def test_corrupt_model_posts_nothing(world, start_daemon, model_dir, payer, payee, tmp_path):
    contracts, _ = world
    router = contracts["PaymentRouter"]
    broken = tmp_path / "broken-model"
    shutil.copytree(model_dir, broken)
    model_file = next(p for p in broken.iterdir() if p.suffix == ".txt")
    model_file.write_text(model_file.read_text().replace("tree", "tre3", 5))
    daemon = start_daemon(model=broken)

    router.pay(payee, ETH, 10**17, b"\x04" * 32, sender=payer, value=10**17)
    payment_id = router.paymentCount()

    assert daemon.wait_for("model unavailable", timeout=10)
    assert not wait_until(lambda: status(router, payment_id) != PENDING, timeout=2)
    assert daemon.running


def test_daemon_restart_mid_stream_loses_and_doubles_nothing(world, start_daemon, payer, accounts, client):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    daemon = start_daemon(name="first")
    ids = []
    for i in range(24):
        router.pay(
            accounts[10 + i % 5], ETH, 10**16 * (i + 1), bytes([i]) * 32, sender=payer, value=10**16 * (i + 1)
        )
        ids.append(router.paymentCount())
        if i == 11:
            daemon.kill()  # kill -9 halfway through the stream
    start_daemon(name="first")  # same store: it resumes from its checkpoint

    assert wait_until(lambda: all(status(router, i) != PENDING for i in ids), timeout=30)
    # quorum 1: the node's VerdictPosted is the final verdict (no VerdictFinalized follows it)
    finals = oracle.VerdictPosted.query("event_arguments", start_block=0)
    decided = [int(args["id"]) for args in finals["event_arguments"]]
    assert sorted(decided) == sorted(ids)  # every payment exactly one final verdict


def test_two_daemons_with_quorum_two_decide_together(
    world, start_daemon, deployer, node, extra_nodes, payer, payee
):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    second = extra_nodes[0]
    oracle.addNode(second, sender=deployer)
    oracle.setQuorum(2, sender=deployer)
    start_daemon(name="a", key_of=node)

    router.pay(payee, ETH, 10**17, b"\x05" * 32, sender=payer, value=10**17)
    payment_id = router.paymentCount()
    # One node alone is not a quorum: the payment waits.
    assert wait_until(lambda: oracle.voteCount(router, payment_id) == 1, timeout=15)
    assert status(router, payment_id) == PENDING

    start_daemon(name="b", key_of=second)
    assert wait_until(lambda: status(router, payment_id) != PENDING, timeout=15)
    is_final, _ = oracle.finalScore(router, payment_id)
    assert is_final
    assert oracle.voteCount(router, payment_id) == 2


def explain_env(deployment, store_path, model_dir) -> dict[str, str]:
    return {
        **os.environ,
        "VERDICT_RPC_URL": networks.provider.uri,
        "VERDICT_DEPLOYMENT": str(deployment),
        "VERDICT_BUILD_MANIFEST": str(MANIFEST),
        "VERDICT_STORE_URL": f"sqlite:///{store_path}",
        "VERDICT_MODEL_DIR": str(model_dir),
    }


def explain(env: dict[str, str], payment_id: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oracle.cli", "explain", str(payment_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_explain_tells_why_and_checks_the_on_chain_reasons_hash(
    world, start_daemon, payer, payee, model_dir, tmp_path
):
    contracts, deployment = world
    router = contracts["PaymentRouter"]
    start_daemon()
    router.pay(payee, ETH, 2 * 10**18, b"\x06" * 32, sender=payer, value=2 * 10**18)
    payment_id = router.paymentCount()
    assert wait_until(lambda: status(router, payment_id) != PENDING)

    env = explain_env(deployment, tmp_path / "node.sqlite", model_dir)
    out = explain(env, payment_id)
    assert out.returncode == 0, out.stderr
    assert f"Payment {payment_id}" in out.stdout
    assert "Why:" in out.stdout and "1. " in out.stdout
    assert "Verified against on-chain evidence hash" in " ".join(out.stdout.split())  # rich wraps lines

    unknown = subprocess.run(
        [sys.executable, "-m", "oracle.cli", "explain", "999999"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1
    assert "never scored" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_reasons_at_once_for_review_on_demand_and_proven_for_the_rest(
    world, start_daemon, payer, payee, accounts, deployer, model_dir, tmp_path
):
    """Issue 16.3: TreeSHAP only from the review threshold up; the calm payment's reasons are
    recomputed by explain from the stored features and proven against the on-chain evidence hash,
    and a tampered feature vector or another model is refused."""
    contracts, deployment = world
    router, stable = contracts["PaymentRouter"], contracts["MockStablecoin"]
    store_path = tmp_path / "node.sqlite"
    prime_regular_customer(store_path, payer, payee, chain.pending_timestamp)
    stable.mint(payer, 10_000 * 10**6, sender=deployer)
    stable.approve(router, 2**256 - 1, sender=payer)
    start_daemon()
    router.pay(payee, stable, 52 * 10**6, b"\x21" * 32, sender=payer)
    calm = router.paymentCount()
    router.pay(accounts[16], ETH, 40 * 10**18, b"\x22" * 32, sender=accounts[15], value=40 * 10**18)
    risky = router.paymentCount()
    assert wait_until(lambda: status(router, calm) != PENDING and status(router, risky) != PENDING)

    store = Store(f"sqlite:///{store_path}")
    calm_row, risky_row = store.scored(f"router:{calm}"), store.scored(f"router:{risky}")
    store.close()
    assert calm_row.decision == "settle" and calm_row.reasons == []  # no TreeSHAP on the hot path
    assert risky_row.decision in ("review", "reject") and len(risky_row.reasons) == 3  # the queue has them

    # The current model next to another one, as an operator keeps retired models.
    models = tmp_path / "models"
    shutil.copytree(model_dir, models / "current")
    frame = generate(rows=8_000, seed=23, fraud_rate=0.02)
    other, _ = train(frame, label="is_fraud", time_col="timestamp", seed=23)
    save(other, models / "other")
    env = explain_env(deployment, store_path, models / "current")

    for pid in (calm, risky):
        out = explain(env, pid)
        assert out.returncode == 0, out.stderr
        said = " ".join(out.stdout.split())
        assert "Why: 1. " in said and " 3. " in said
        assert "Verified against on-chain evidence hash" in said

    original = json.dumps(calm_row.features, sort_keys=True)
    tampered = json.dumps({**calm_row.features, "amount": calm_row.features["amount"] / 2}, sort_keys=True)
    for column, value in (("features", tampered), ("model_id", other.model_id)):
        with sqlite3.connect(store_path) as db:
            db.execute(f"UPDATE verdicts SET {column} = ? WHERE key = ?", (value, f"router:{calm}"))
        refused = explain(env, calm)
        assert refused.returncode == 1, refused.stdout
        assert "refusing to show reasons" in refused.stderr and "Traceback" not in refused.stderr
        assert "Why:" not in refused.stdout
        with sqlite3.connect(store_path) as db:
            db.execute(
                "UPDATE verdicts SET features = ?, model_id = ? WHERE key = ?",
                (original, calm_row.model_id, f"router:{calm}"),
            )
    assert explain(env, calm).returncode == 0
