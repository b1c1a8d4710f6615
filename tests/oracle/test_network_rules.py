"""The network node's deterministic rules and wire format, without a chain: who transmits, how a
window is cut into reports, what a peer's observation must be to count, and the settings."""

from __future__ import annotations

import pytest
from eth_account import Account
from pydantic import ValidationError

from oracle.chain import GateRequest
from oracle.config import Settings
from oracle.network.node import chunks, transmitter, turn_of
from oracle.network.report import Report, content_hash, ordered, recover_signer, sign_observation
from oracle.network.transport import observation_json, parse_observation

NODES = sorted((Account.create().address for _ in range(4)), key=lambda a: int(a, 16))
ORACLE = "0x" + "11" * 20
ROUTER = "0x" + "22" * 20


def request(item_id: int, target: str = ROUTER, block: int = 10) -> GateRequest:
    return GateRequest("router", target, item_id, NODES[0], NODES[1], "0x" + "00" * 20, 5, 99, block, "0x")


def report(ids=(1, 2)) -> Report:
    return Report(
        config_digest=b"\x01" * 32,
        target=ROUTER,
        model_id=b"\x02" * 32,
        round=7,
        ids=tuple(ids),
        content_hashes=tuple(content_hash(NODES[0], NODES[1], "0x" + "00" * 20, i) for i in ids),
    )


def test_rotation_gives_every_window_one_transmitter_and_moves_on_each_attempt():
    assert [transmitter(w, 0, NODES, set()) for w in range(4)] == NODES
    assert transmitter(0, 1, NODES, set()) == NODES[1]


def test_reports_of_every_other_block_still_reach_every_node():
    """On an automining chain payments and reports alternate blocks; the turn must not follow the
    block's parity, or half the nodes would never transmit."""
    turns = {transmitter(turn_of(report_at(2 * w)), 0, NODES, set()) for w in range(40)}
    assert turns == set(NODES)


def report_at(round_: int) -> Report:
    shared = report()
    return Report(
        shared.config_digest, shared.target, shared.model_id, round_, shared.ids, shared.content_hashes
    )


def test_a_node_seen_down_is_passed_over_at_once():
    assert transmitter(0, 0, NODES, {NODES[0]}) == NODES[1]
    assert transmitter(3, 0, NODES, {NODES[3], NODES[0]}) == NODES[1]
    # everyone down (a node never counts itself down): the rotation's choice stands
    assert transmitter(2, 0, NODES, set(NODES)) == NODES[2]


def test_a_window_is_cut_per_target_in_chain_order():
    other = "0x" + "33" * 20
    reqs = [request(1), request(1, other), request(2), request(3), request(2, other)]
    cut = chunks(reqs, 2)
    assert [(t, [r.item_id for r in items]) for t, items in cut] == [
        (ROUTER, [1, 2]),
        (ROUTER, [3]),
        (other, [1, 2]),
    ]


def test_an_observation_survives_the_wire_and_recovers_its_signer():
    key = Account.create()
    shared = report()
    signed = sign_observation(key.key, shared, [100, 9000], [b"\x03" * 32] * 2, chain_id=31337, oracle=ORACLE)
    back_report, back = parse_observation(observation_json(shared, signed))
    assert back_report == shared and back == signed
    assert recover_signer(back, shared, chain_id=31337, oracle=ORACLE) == key.address


def test_an_edited_score_recovers_to_someone_else():
    key = Account.create()
    shared = report()
    signed = sign_observation(
        key.key, shared, [9000, 9000], [b"\x03" * 32] * 2, chain_id=31337, oracle=ORACLE
    )
    edited = signed.__class__(signed.signer, (0, 9000), signed.reasons_hashes, signed.signature)
    assert recover_signer(edited, shared, chain_id=31337, oracle=ORACLE) != key.address
    # and a signature for another chain or oracle does not recover to the node either
    assert recover_signer(signed, shared, chain_id=1, oracle=ORACLE) != key.address


def test_observations_go_in_ascending_signer_order_one_per_signer():
    keys = [Account.create() for _ in range(3)]
    shared = report((5,))
    observed = [sign_observation(k.key, shared, [1], [b"\x00" * 32], chain_id=1, oracle=ORACLE) for k in keys]
    chosen = ordered([*observed, observed[0]])
    assert [int(o.signer, 16) for o in chosen] == sorted(int(k.address, 16) for k in keys)


def test_sign_refuses_a_score_count_that_differs_from_the_items():
    with pytest.raises(ValueError):
        sign_observation(Account.create().key, report(), [1], [b"\x00" * 32], chain_id=1, oracle=ORACLE)


@pytest.mark.parametrize("bad", ["9701", "host:", "host:99999", ":80"])
def test_network_listen_must_be_host_and_port(bad, monkeypatch):
    monkeypatch.setenv("VERDICT_NETWORK_LISTEN", bad)
    with pytest.raises(ValidationError, match="host:port"):
        Settings(_env_file=None)


def test_network_peers_are_a_json_list(monkeypatch):
    monkeypatch.setenv("VERDICT_NETWORK_LISTEN", "127.0.0.1:9701")
    monkeypatch.setenv("VERDICT_NETWORK_PEERS", '["http://127.0.0.1:9702"]')
    settings = Settings(_env_file=None)
    assert settings.network_peers == ["http://127.0.0.1:9702"]
