"""The oracle daemon under crashes, a broke or out-raced node key, bad model files and a lost or
locked store: every payment still gets exactly one final verdict, or none and a log line that
says why. Each test runs real `verdict run` processes against ape's anvil (tests/e2e fixtures)."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from ape import chain
from fault_helpers import PENDING, finalized_counts, pay_eth, wait_until

from oracle.datagen import generate
from oracle.model import save
from oracle.train import train


def statuses(router, ids):
    return [int(router.payment(i).status) for i in ids]


def all_decided(router, ids) -> bool:
    return all(s != PENDING for s in statuses(router, ids))


# --- kill -9 at each point of the loop ---------------------------------------------------------


@pytest.mark.parametrize("point", ["scored", "sent", "posted"])
def test_crash_at_each_point_then_restart_gives_each_payment_exactly_one_final_verdict(
    world, start_daemon, payer, accounts, point
):
    """`VERDICT_FAULT_POINT` makes the process `os._exit` (kill -9 semantics) right after the
    scores are stored (`scored`), after the verdict transaction is sent but before the store knows
    (`sent`), or after the store knows but before the receipt is read (`posted`)."""
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    crashing = start_daemon(name="node", fault_point=point)
    ids = pay_eth(router, payer, accounts[10:14], 4)
    assert wait_until(lambda: not crashing.running, timeout=30), "the fault point was never reached"
    assert crashing.proc.returncode == 137
    assert "test fault point reached" in crashing.log_text()

    restarted = start_daemon(name="node")  # the same store, no fault
    ids += pay_eth(router, payer, accounts[10:14], 2, start=4)

    assert wait_until(lambda: all_decided(router, ids))
    assert finalized_counts(oracle) == {i: 1 for i in ids}
    assert restarted.running


# --- the node's key --------------------------------------------------------------------------


def test_unfunded_node_key_fails_at_start_with_one_clear_line(world, start_daemon, deployer, extra_nodes):
    contracts, _ = world
    broke = extra_nodes[1]
    contracts["RiskOracle"].addNode(broke, sender=deployer)
    chain.set_balance(broke, 0)

    daemon = start_daemon(key_of=broke, name="broke", wait=False)

    assert wait_until(lambda: not daemon.running, timeout=30)
    assert daemon.proc.returncode == 1
    text = daemon.log_text()
    assert f"oracle node {broke.address} has no funds to pay for gas; top it up" in text
    assert "Traceback" not in text


def test_node_running_dry_backs_off_with_a_clear_error_and_resumes_when_topped_up(
    world, start_daemon, node, payer, accounts
):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    daemon = start_daemon()
    funds = node.balance
    chain.set_balance(node, 0)

    ids = pay_eth(router, payer, accounts[10:12], 2)
    assert daemon.wait_for("has no funds to pay for gas; top it up", timeout=30)
    assert statuses(router, ids) == [PENDING, PENDING]
    assert daemon.running

    chain.set_balance(node, funds)
    assert wait_until(lambda: all_decided(router, ids))
    assert finalized_counts(oracle) == {i: 1 for i in ids}


def test_nonce_taken_by_another_sender_is_recovered(world, start_daemon, node, outsider, payer, accounts):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    daemon = start_daemon()
    first = pay_eth(router, payer, accounts[10:11], 1)
    assert wait_until(lambda: all_decided(router, first))

    # Someone else with the node's key (an operator's wallet, a second process) uses the nonce
    # the daemon holds locally as its next one.
    node.transfer(outsider, 1)
    node.transfer(outsider, 1)

    later = pay_eth(router, payer, accounts[10:12], 3, start=1)
    assert wait_until(lambda: all_decided(router, later))
    assert finalized_counts(oracle) == {i: 1 for i in first + later}
    assert daemon.running


# --- the model -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unapproved_model(tmp_path_factory):
    """A real, well-formed model that governance never approved (another seed, another id)."""
    frame = generate(rows=4_000, seed=5, fraud_rate=0.05)
    artifact, _ = train(frame, label="is_fraud", time_col="timestamp", seed=5)
    directory = tmp_path_factory.mktemp("unapproved-model")
    save(artifact, directory)
    return directory, artifact.model_id


def replace_dir(target, source):
    for path in target.iterdir():
        path.unlink()
    for path in source.iterdir():
        shutil.copy2(path, target / path.name)


def test_model_swapped_for_an_unapproved_one_posts_nothing_and_says_why(
    world, start_daemon, model_dir, unapproved_model, payer, accounts, tmp_path
):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    live = tmp_path / "live-model"
    shutil.copytree(model_dir, live)
    daemon = start_daemon(model=live)
    first = pay_eth(router, payer, accounts[10:11], 1)
    assert wait_until(lambda: all_decided(router, first))

    source, model_id = unapproved_model
    replace_dir(live, source)
    assert daemon.wait_for("model is not approved by governance, posting nothing for it", timeout=20)
    assert model_id in daemon.log_text()
    waiting = pay_eth(router, payer, accounts[10:12], 2, start=1)
    assert not wait_until(lambda: not all(s == PENDING for s in statuses(router, waiting)), timeout=3)

    replace_dir(live, model_dir)  # the approved model is back: the daemon catches up
    assert wait_until(lambda: all_decided(router, waiting))
    assert finalized_counts(oracle) == {i: 1 for i in first + waiting}
    assert daemon.running


def test_model_file_corrupted_under_a_running_daemon_posts_nothing_and_says_why(
    world, start_daemon, model_dir, payer, accounts, tmp_path
):
    contracts, _ = world
    router = contracts["PaymentRouter"]
    live = tmp_path / "live-model"
    shutil.copytree(model_dir, live)
    daemon = start_daemon(model=live)
    assert daemon.wait_for("model loaded")

    for path in live.iterdir():
        if path.suffix == ".txt":
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # a torn write
    assert daemon.wait_for("model unavailable, posting nothing", timeout=20)
    waiting = pay_eth(router, payer, accounts[10:12], 2)
    assert not wait_until(lambda: not all(s == PENDING for s in statuses(router, waiting)), timeout=3)
    assert daemon.running

    replace_dir(live, model_dir)
    assert wait_until(lambda: all_decided(router, waiting))


# --- the store -------------------------------------------------------------------------------


def test_store_deleted_between_runs_is_rebuilt_from_chain_logs_without_double_verdicts(
    world, start_daemon, payer, accounts, tmp_path
):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    daemon = start_daemon(name="node")
    before = pay_eth(router, payer, accounts[10:13], 4)
    assert wait_until(lambda: all_decided(router, before))
    daemon.stop()
    for path in tmp_path.glob("node.sqlite*"):
        path.unlink()

    rebuilt = start_daemon(name="node")
    after = pay_eth(router, payer, accounts[10:13], 2, start=4)

    assert wait_until(lambda: all_decided(router, after))
    # The old payments were read again from the chain logs; the oracle told the daemon they were
    # already final, and nothing was decided twice.
    assert rebuilt.wait_for("already_final", timeout=20)
    assert finalized_counts(oracle) == {i: 1 for i in before + after}


def test_store_locked_by_another_writer_backs_off_with_a_clear_error_then_catches_up(
    world, start_daemon, payer, accounts, tmp_path
):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    daemon = start_daemon(name="node")
    assert daemon.wait_for("oracle node ready")

    lock = sqlite3.connect(tmp_path / "node.sqlite", timeout=0)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        ids = pay_eth(router, payer, accounts[10:12], 2)
        assert daemon.wait_for("store unavailable, backing off", timeout=30)
        assert "locked" in daemon.log_text()
        assert daemon.running
    finally:
        lock.rollback()
        lock.close()

    assert wait_until(lambda: all_decided(router, ids))
    assert finalized_counts(oracle) == {i: 1 for i in ids}
    assert "Traceback" not in daemon.log_text()


def test_unreachable_store_fails_at_start_with_one_clear_line(world, start_daemon, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    daemon = start_daemon(name="nostore", wait=False, store_url=f"sqlite:///{blocker}/store.sqlite")

    assert wait_until(lambda: not daemon.running, timeout=30)
    assert daemon.proc.returncode == 1
    text = daemon.log_text()
    assert "store" in text and "Traceback" not in text


def test_store_deleted_under_a_running_daemon_loses_nothing(world, start_daemon, payer, accounts, tmp_path):
    """SQLite keeps writing to the unlinked file: the running daemon carries on; its successor
    starts from an empty store and rebuilds from the chain logs."""
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    daemon = start_daemon(name="node")
    first = pay_eth(router, payer, accounts[10:12], 2)
    assert wait_until(lambda: all_decided(router, first))

    for path in tmp_path.glob("node.sqlite*"):
        path.unlink()
    during = pay_eth(router, payer, accounts[10:12], 2, start=2)
    assert wait_until(lambda: all_decided(router, during))
    assert daemon.running
    daemon.stop()

    start_daemon(name="node")
    after = pay_eth(router, payer, accounts[10:12], 2, start=4)
    assert wait_until(lambda: all_decided(router, after))
    assert finalized_counts(oracle) == {i: 1 for i in first + during + after}


def test_store_locked_when_the_daemon_starts_backs_off_then_catches_up(
    world, start_daemon, payer, accounts, tmp_path
):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    first = start_daemon(name="node")  # creates the store and its tables
    first.stop()
    lock = sqlite3.connect(tmp_path / "node.sqlite", timeout=0)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        ids = pay_eth(router, payer, accounts[10:12], 2)
        daemon = start_daemon(name="node")
        assert daemon.wait_for("store unavailable, backing off", timeout=40)
        assert "database is locked" in daemon.log_text()
        assert daemon.running
    finally:
        lock.rollback()
        lock.close()
    assert wait_until(lambda: all_decided(router, ids))
    assert finalized_counts(oracle) == {i: 1 for i in ids}
    assert "Traceback" not in daemon.log_text()
