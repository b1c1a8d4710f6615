"""The oracle daemon when the chain goes away: the RPC unreachable for a while (a TCP proxy that is
cut and restored), at start and mid-run, and the node itself stopped and restarted from its dumped
state (`anvil --dump-state` / `--load-state`). The daemon backs off without crashing, reconnects
and catches up, and every payment gets exactly one final verdict."""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlparse

from ape import networks
from eth_account import Account
from fault_helpers import PENDING, FlakyRpc, PrivateAnvil, TcpProxy, finalized_counts, pay_eth, wait_until

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.traffic import Sender, pay_tx

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


def test_node_restarted_from_its_dumped_state_under_a_running_daemon(
    world, start_daemon, payer, accounts, tmp_path
):
    """A private anvil carries the deployed world (ape's chain, dumped and loaded with --load-state);
    it is stopped (dumping its state) and started again from that dump while the daemon runs."""
    _, deployment = world
    # ape's chain as a state file (anvil_dumpState is gzip'd JSON; a large state is too big to
    # send back through anvil_loadState, so the private node reads it with --load-state).
    dumped = networks.provider.make_request("anvil_dumpState", [])
    state = tmp_path / "anvil-state.json"
    state.write_bytes(gzip.decompress(bytes.fromhex(str(dumped).removeprefix("0x"))))
    anvil = PrivateAnvil(state, tmp_path / "anvil.log").start()
    try:
        client = ChainClient(anvil.url, Deployment.load(deployment), load_abis(MANIFEST))
        paying = Account.from_key(payer.private_key)
        sender = Sender(client.w3, client.chain_id())
        payees = [str(a) for a in accounts[10:12]]

        def pay(count: int, start: int) -> list[int]:
            eth = "0x" + "00" * 20
            hashes = [
                sender.send(paying, pay_tx(client, payees[i % 2], eth, 10**15 * (i + 1), bytes(32)))
                for i in range(start, start + count)
            ]
            receipts = [sender.wait(h) for h in hashes]
            topic = ChainClient._topic(client.router, "PaymentRequested")
            return [
                int.from_bytes(bytes(log["topics"][1]), "big")
                for r in receipts
                for log in r["logs"]
                if bytes(log["topics"][0]) == topic
            ]

        def decided(ids) -> bool:
            try:
                return all(client.router.functions.payment(i).call()[5] != PENDING for i in ids)
            except Exception:  # noqa: BLE001 - the node may be between stop and start
                return False

        def finals() -> dict[int, int]:
            logs = client.oracle.events.VerdictFinalized().get_logs(from_block=0)
            counts: dict[int, int] = {}
            for log in logs:
                counts[int(log["args"]["id"])] = counts.get(int(log["args"]["id"]), 0) + 1
            return counts

        daemon = start_daemon(rpc_url=anvil.url)
        before = pay(2, 0)
        assert wait_until(lambda: decided(before))
        head_before = client.block_number()

        anvil.stop()
        assert anvil.state.exists() and anvil.state.stat().st_size > 0
        assert daemon.wait_for("chain unavailable, backing off", timeout=30)
        anvil.start()  # same port, state loaded from the dump
        assert client.block_number() >= head_before, "the restarted node lost blocks"

        sender = Sender(client.w3, client.chain_id())  # nonces are read again from the node
        after = pay(3, 2)
        assert wait_until(lambda: decided(after), timeout=60)
        counts = finals()
        assert all(counts.get(i) == 1 for i in before + after), counts
        assert daemon.running
    finally:
        anvil.stop()


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
