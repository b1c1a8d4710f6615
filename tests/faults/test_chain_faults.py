"""The oracle daemon when the chain goes away: the RPC unreachable for a while (a TCP proxy that is
cut and restored), at start and mid-run, and the node itself stopped and restarted from its dumped
state (`anvil --dump-state` / `--load-state`), and the chain reorganised under the daemon. The
daemon backs off without crashing, reconnects and catches up, and every payment gets exactly one
final verdict."""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from ape import networks
from fault_helpers import (
    PENDING,
    FlakyRpc,
    PrivateAnvil,
    PrivateWorld,
    TcpProxy,
    finalized_counts,
    pay_eth,
    wait_until,
)

from oracle.chain import ChainClient, Deployment, load_abis

MANIFEST = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"


def all_decided(router, ids) -> bool:
    return all(int(router.payment(i).status) != PENDING for i in ids)


def test_rpc_unreachable_for_a_while_backs_off_and_catches_up(world, start_daemon, payer, accounts):
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    target = urlparse(networks.provider.uri)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 8545)

    # Down at start: the daemon waits for the RPC instead of exiting.
    daemon = start_daemon(rpc_url=proxy.url, wait=False)
    assert daemon.wait_for("RPC unavailable at startup, retrying", timeout=30)
    proxy.up()
    try:
        daemon.wait_ready()
        first = pay_eth(router, payer, accounts[10:12], 2)
        assert wait_until(lambda: all_decided(router, first))

        # Down mid-run while payments keep arriving on the chain.
        proxy.down()
        during = pay_eth(router, payer, accounts[10:12], 3, start=2)
        assert daemon.wait_for("chain unavailable, backing off", timeout=30)
        assert wait_until(lambda: "retry_in" in daemon.log_text(), timeout=5)
        assert daemon.running
        assert not any(int(router.payment(i).status) != PENDING for i in during)

        proxy.up()
        assert wait_until(lambda: all_decided(router, during), timeout=60)
        assert finalized_counts(oracle) == {i: 1 for i in first + during}
        assert daemon.running
        assert "Traceback" not in daemon.log_text()
    finally:
        proxy.down()


@pytest.fixture
def private(world, payer, accounts, tmp_path) -> Iterator[PrivateWorld]:
    """The test's world on a private anvil: ape's chain dumped (anvil_dumpState is gzip'd JSON; a
    large state is too big to send back through anvil_loadState, so the private node reads it with
    --load-state)."""
    _, deployment = world
    dumped = networks.provider.make_request("anvil_dumpState", [])
    state = tmp_path / "anvil-state.json"
    state.write_bytes(gzip.decompress(bytes.fromhex(str(dumped).removeprefix("0x"))))
    anvil = PrivateAnvil(state, tmp_path / "anvil.log").start()
    try:
        client = ChainClient(anvil.url, Deployment.load(deployment), load_abis(MANIFEST))
        yield PrivateWorld(anvil, client, payer.private_key, [str(a) for a in accounts[10:12]])
    finally:
        anvil.stop()


def test_node_restarted_from_its_dumped_state_under_a_running_daemon(private, start_daemon):
    """The private node is stopped (dumping its state) and started again from that dump while the
    daemon runs."""
    daemon = start_daemon(rpc_url=private.anvil.url)
    before = private.pay(2, 0)
    assert wait_until(lambda: private.decided(before))
    head_before = private.client.block_number()

    private.anvil.stop()
    assert private.anvil.state.exists() and private.anvil.state.stat().st_size > 0
    assert daemon.wait_for("chain unavailable, backing off", timeout=30)
    private.anvil.start()  # same port, state loaded from the dump
    assert private.client.block_number() >= head_before, "the restarted node lost blocks"

    private.resync()
    after = private.pay(3, 2)
    assert wait_until(lambda: private.decided(after), timeout=60)
    counts = private.finals()
    assert all(counts.get(i) == 1 for i in before + after), counts
    assert daemon.running


def test_a_reorg_shallower_than_the_confirmations_never_reaches_the_daemon(private, start_daemon, tmp_path):
    """With VERDICT_CONFIRMATIONS=2, a payment whose block is reorganised away one block later was
    never seen; the payment that takes its id on the new chain is scored and decided exactly once."""
    daemon = start_daemon(rpc_url=private.anvil.url, confirmations="2")
    (orphan,) = private.pay(1, 0, payee=0, amount=10**15)
    private.anvil.rpc("anvil_reorg", [1, []])  # the block with the payment becomes an empty one
    assert private.client.router.functions.paymentCount().call() == orphan - 1
    private.resync()
    (replacement,) = private.pay(1, 1, payee=1, amount=3 * 10**15)
    assert replacement == orphan  # the same id, another payment
    for _ in range(2):
        private.anvil.rpc("evm_mine", [])
    assert wait_until(lambda: private.decided([replacement]), timeout=60), daemon.log_text()[-2000:]
    assert private.finals()[replacement] == 1
    with sqlite3.connect(tmp_path / "node.sqlite") as db:
        seen = {payee.lower() for (payee,) in db.execute("SELECT payee FROM payments")}
    assert seen == {private.payees[1].lower()}, "the daemon saw the orphaned payment"
    assert daemon.running


def test_a_reorg_that_drops_a_mined_verdict_gets_it_posted_again(private, start_daemon):
    """The block holding a final verdict is reorganised away after the daemon saw its receipt: the
    payment is pending again on the new chain, and the daemon must post again, not trust its store."""
    daemon = start_daemon(rpc_url=private.anvil.url)
    (payment,) = private.pay(1, 0)
    assert wait_until(lambda: private.decided([payment]), timeout=60)
    private.anvil.rpc("anvil_reorg", [1, []])  # the verdict's block becomes an empty one
    assert private.status(payment) == PENDING and private.finals()[payment] == 0
    assert wait_until(lambda: private.decided([payment]), timeout=60), daemon.log_text()[-2000:]
    assert private.finals()[payment] == 1
    assert daemon.running


def test_rpc_answering_garbage_for_a_while_backs_off_and_catches_up(world, start_daemon, payer, accounts):
    """A proxy in front of the node answers `200 OK` with an HTML page instead of JSON-RPC."""
    contracts, _ = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    rpc = FlakyRpc(networks.provider.uri)
    try:
        daemon = start_daemon(rpc_url=rpc.url)
        first = pay_eth(router, payer, accounts[10:12], 2)
        assert wait_until(lambda: all_decided(router, first))

        rpc.broken = True
        during = pay_eth(router, payer, accounts[10:12], 3, start=2)
        assert daemon.wait_for("chain unavailable, backing off", timeout=30)
        assert daemon.running, daemon.log_text()[-2000:]

        rpc.broken = False
        assert wait_until(lambda: all_decided(router, during), timeout=60)
        assert finalized_counts(oracle) == {i: 1 for i in first + during}
        assert daemon.running
    finally:
        rpc.close()
