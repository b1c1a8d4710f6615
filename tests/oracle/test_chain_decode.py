"""The daemon's fast paths against web3's own: log decoding with eth_abi, raw receipts (no chain)."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples
from web3 import Web3

from oracle.chain import ChainClient, Deployment, EventDecoder, load_abis
from oracle.errors import ChainError
from oracle.events import Checksums, eip55

ROUTER = "0x" + "11" * 20
ORACLE = "0x" + "22" * 20
PAYER = "0x" + "ab" * 20
PAYEE = "0x" + "cd" * 20
TOKEN = "0x" + "ef" * 20


@pytest.fixture(scope="module")
def client(manifest: Path) -> ChainClient:
    deployment = Deployment("local", 31337, 5, {"RiskOracle": ORACLE, "PaymentRouter": ROUTER})
    return ChainClient("http://127.0.0.1:9", deployment, load_abis(manifest))


def topic(value: int | str) -> str:
    raw = encode(["address"], [value]) if isinstance(value, str) else encode(["uint256"], [value])
    return Web3.to_hex(raw)


def request_log(client: ChainClient, pid: int, block: int) -> dict:
    data = encode(
        ["address", "uint256", "bytes32", "uint64"], [TOKEN, 10**18 + pid, b"\x07" * 32, 1_900_000_000]
    )
    return {
        "address": ROUTER.lower(),
        "topics": [
            Web3.to_hex(ChainClient.topic(client.router, "PaymentRequested")),
            topic(pid),
            topic(PAYER),
            topic(PAYEE),
        ],
        "data": Web3.to_hex(data),
        "blockNumber": hex(block),
        "blockTimestamp": hex(1_800_000_000 + block),
        "transactionHash": "0x" + f"{pid:064x}",
        "logIndex": "0x0",
    }


def test_event_decoder_matches_web3_process_log(client):
    log = request_log(client, 42, 9)
    ours = EventDecoder(next(e for e in client.router.abi if e.get("name") == "PaymentRequested")).decode(log)
    formatted = {
        **log,
        "address": Web3.to_checksum_address(log["address"]),
        "topics": [Web3.to_bytes(hexstr=t) for t in log["topics"]],
        "data": Web3.to_bytes(hexstr=log["data"]),
        "blockNumber": 9,
        "logIndex": 0,
        "transactionIndex": 0,
        "blockHash": b"\x00" * 32,
        "transactionHash": Web3.to_bytes(hexstr=log["transactionHash"]),
    }
    theirs = dict(client.router.events.PaymentRequested().process_log(formatted)["args"])
    assert ours == theirs
    assert ours["payer"] == Web3.to_checksum_address(PAYER)


def test_gate_requests_from_raw_logs(client, monkeypatch):
    logs = [request_log(client, 1, 7), request_log(client, 2, 8)]
    monkeypatch.setattr(client, "request", lambda method, params: logs)
    got = client.gate_requests(7, "latest")
    assert [(r.key, r.block_number, r.amount) for r in got] == [
        ("router:1", 7, 10**18 + 1),
        ("router:2", 8, 10**18 + 2),
    ]
    assert got[0].target == Web3.to_checksum_address(ROUTER)
    assert got[0].token == Web3.to_checksum_address(TOKEN)
    assert client.block_timestamp(8) == 1_800_000_008  # from the log, no eth_getBlock


def test_malformed_logs_are_a_chain_error(client, monkeypatch):
    from oracle.errors import ChainError

    monkeypatch.setattr(client, "request", lambda method, params: [{"topics": []}])
    with pytest.raises(ChainError):
        client.gate_requests(1, 2)


def test_a_request_log_with_short_data_is_a_chain_error_not_a_crash(client, monkeypatch):
    """A hostile RPC's log whose data stops short of its fields: eth_abi raises its own
    DecodingError, which the loop would not have caught; it is the RPC's fault, a ChainError."""
    from oracle.errors import ChainError

    short = {**request_log(client, 1, 7), "data": "0x" + "00" * 40}
    monkeypatch.setattr(client, "request", lambda method, params: [short])
    with pytest.raises(ChainError, match="malformed logs: InsufficientDataBytes"):
        client.gate_requests(1, 2)


def test_batch_outcome_reads_raw_and_formatted_receipts_alike(client):
    posted = Web3.to_hex(ChainClient.topic(client.oracle, "VerdictPosted"))
    skipped = Web3.to_hex(ChainClient.topic(client.oracle, "VerdictSkipped"))
    settled = Web3.to_hex(ChainClient.topic(client.router, "PaymentSettled"))
    node = topic("0x" + "33" * 20)
    raw = {
        "transactionHash": "0x" + "aa" * 32,
        "gasUsed": 123,
        "status": 1,
        "logs": [
            {"address": ORACLE, "topics": [posted, topic(ROUTER), topic(1), node], "data": "0x" + "00" * 96},
            {"address": ROUTER, "topics": [settled, topic(1)], "data": "0x"},
            {"address": ORACLE, "topics": [skipped, topic(ROUTER), topic(2), node], "data": topic(1)},
        ],
    }
    formatted = {
        **raw,
        "transactionHash": Web3.to_bytes(hexstr=raw["transactionHash"]),
        "logs": [
            {
                "address": Web3.to_checksum_address(log["address"]),
                "topics": [Web3.to_bytes(hexstr=t) for t in log["topics"]],
                "data": Web3.to_bytes(hexstr=log["data"]),
            }
            for log in raw["logs"]
        ],
    }
    router = Web3.to_checksum_address(ROUTER)
    for receipt in (raw, formatted):
        out = client.batch_outcome(receipt)
        assert out.posted == frozenset({(router, 1)})
        assert out.finals == {(router, 1): "settled"}
        assert out.skipped == {(router, 2): "already_final"}
        assert out.tx_hash == raw["transactionHash"] and out.gas_used == 123


def test_verdict_calldata_is_what_web3_encodes(client):
    from oracle.chain import VerdictItem
    from oracle.verdict_codec import NO_TERMS, Terms, batches, runs

    router = Web3.to_checksum_address(ROUTER)
    payer, payee = (Web3.to_checksum_address(f"0x{k:040x}") for k in (0xA11CE, 0xB0B))
    items = [
        VerdictItem(
            router,
            i * 2**190 + 7,
            9_999 - i,
            "0x" + "ab" * 32,
            "0x" + f"{i:064x}",
            Terms(payer, payee, router if i % 2 else NO_TERMS.token, 10**18 * i + 1) if i else NO_TERMS,
        )
        for i in range(5)
    ]
    # runs of one target and model become groups (IRiskOracle.VerdictBatch), in order
    other = Web3.to_checksum_address("0x" + "ee" * 20)
    items += [VerdictItem(other, 9, 1, "0x" + "ab" * 32, "0x" + "01" * 32)]
    items += [VerdictItem(router, 10, 2, "0x" + "cd" * 32, "0x" + "02" * 32)] * 2
    assert [len(run) for run in runs(items)] == [5, 1, 2]
    ref = client.oracle.encode_abi("submitVerdicts", args=[batches(items)])
    assert client.verdicts_calldata(items) == ref
    assert client.verdicts_calldata(items[:1]) == client.oracle.encode_abi(
        "submitVerdicts", args=[batches(items[:1])]
    )
    assert client.verdicts_calldata([]) == client.oracle.encode_abi("submitVerdicts", args=[[]])
    with pytest.raises(ValueError):
        client.verdicts_calldata([VerdictItem(ROUTER, 1, 70_000, "0x" + "ab" * 32, "0x" + "cd" * 32)])
    with pytest.raises(ValueError):  # an amount that does not fit a uint256
        client.verdicts_calldata(
            [
                VerdictItem(
                    ROUTER, 1, 1, "0x" + "ab" * 32, "0x" + "cd" * 32, Terms(payer, payee, payee, 2**256)
                )
            ]
        )


addresses = st.binary(min_size=20, max_size=20)


@settings(max_examples=examples(300), deadline=None)
@given(raw=addresses, spelling=st.sampled_from(["lower", "upper", "bare"]))
def test_eip55_is_eth_utils_checksum(raw: bytes, spelling: str):
    text = {"lower": "0x" + raw.hex(), "upper": "0x" + raw.hex().upper(), "bare": raw.hex()}[spelling]
    assert eip55(text) == to_checksum_address(text)
    cache = Checksums(size=4)
    assert cache(text) == cache.of_bytes(raw) == to_checksum_address(raw)


@pytest.mark.parametrize(
    "bad", ["", "0x", "0x" + "ab" * 19, "0x" + "ab" * 21, "0x" + "zz" * 20, " " + "ab" * 20]
)
def test_eip55_refuses_what_is_no_address(bad: str):
    with pytest.raises(ValueError):
        eip55(bad)
    with pytest.raises(ValueError):
        to_checksum_address(bad)


@settings(max_examples=examples(200), deadline=None)
@given(
    words=st.lists(st.binary(min_size=32, max_size=32), min_size=7, max_size=7),
    extra=st.sampled_from([0, -1, 1, 32, -64]),
    topic_count=st.integers(min_value=1, max_value=5),
)
def test_request_logs_decode_word_by_word_and_hostile_ones_are_refused(client, words, extra, topic_count):
    """Any words at all (padding bytes set, huge numbers), a data field of the wrong length, too
    few or too many topics: read as the words say, or refused as a malformed-logs ChainError."""
    decoder = EventDecoder(next(e for e in client.router.abi if e.get("name") == "PaymentRequested"))
    topic0 = Web3.to_hex(ChainClient.topic(client.router, "PaymentRequested"))
    data = b"".join(words[3:])
    data = data + b"\x01" * extra if extra >= 0 else data[:extra]
    log = {
        "address": ROUTER,
        "topics": [topic0, *(Web3.to_hex(w) for w in words[:3])][:topic_count],
        "data": Web3.to_hex(data),
        "blockNumber": "0x7",
        "transactionHash": "0x" + "00" * 32,
    }
    if topic_count < 4:  # (the data whole: eth_abi's refusal of a short one is another error)
        log["data"] = Web3.to_hex(b"".join(words[3:]))
        with patch.object(client, "request", lambda method, params: [log]), pytest.raises(ChainError):
            client.gate_requests(7, 7)
        return
    if extra != 0:  # the wrong length: eth_abi reads it, or it is refused
        try:
            expected = dict(zip(decoder.names, abi_decode(decoder.types, data), strict=True))
        except Exception:  # noqa: BLE001 - eth_abi's errors: whatever it refuses, so must we
            with pytest.raises(Exception):  # noqa: B017, PT011
                decoder.decode(log)
            return
        got = decoder.decode(log)
        assert got["amount"] == expected["amount"] and got["token"] == to_checksum_address(expected["token"])
        return
    got = decoder.decode(log)
    assert got == {
        "id": int.from_bytes(words[0], "big"),
        "payer": to_checksum_address(words[1][12:]),
        "payee": to_checksum_address(words[2][12:]),
        "token": to_checksum_address(words[3][12:]),
        "amount": int.from_bytes(words[4], "big"),
        "ref": words[5],
        "deadline": int.from_bytes(words[6], "big"),
    }
