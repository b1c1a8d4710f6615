"""Outcome names per gate: a rejected escrow release is Flagged (the money stays in escrow), and the
verdict log records it as a flag, not as a refund. Real ABIs and receipt decoding, no chain."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3

from oracle.chain import BatchOutcome, ChainClient, Deployment, SentTx, VerdictItem, load_abis
from oracle.clock import ManualClock
from oracle.config import Settings
from oracle.gate import ESCROW, FLAGGED, OUTCOME_EVENTS, ROUTER, GateKey, band_of, decide, key_of, parse_key
from oracle.logging import configure_logging
from oracle.outbox import Outbox
from oracle.policy import PolicyCache
from oracle.store import Store

ROUTER_ADDRESS = Web3.to_checksum_address("0x" + "11" * 20)
ORACLE_ADDRESS = Web3.to_checksum_address("0x" + "22" * 20)
ESCROW_ADDRESS = Web3.to_checksum_address("0x" + "33" * 20)
NODE = "0x" + "44" * 20
GATE_ID = 7


@pytest.fixture(scope="module")
def client(manifest: Path) -> ChainClient:
    contracts = {"RiskOracle": ORACLE_ADDRESS, "PaymentRouter": ROUTER_ADDRESS, "Escrow": ESCROW_ADDRESS}
    return ChainClient("http://127.0.0.1:9", Deployment("local", 31337, 5, contracts), load_abis(manifest))


@pytest.fixture(scope="module")
def receipt_of(client: ChainClient, manifest: Path) -> Any:
    escrow = client.w3.eth.contract(ESCROW_ADDRESS, abi=load_abis(manifest)["IEscrow"])
    return lambda tx_hash: rejected_release_receipt(client, escrow, tx_hash)


def word(value: int | str) -> str:
    return Web3.to_hex(
        encode(["address"], [value]) if isinstance(value, str) else encode(["uint256"], [value])
    )


def rejected_release_receipt(client: ChainClient, escrow: Any, tx_hash: str) -> dict[str, Any]:
    """What the RiskOracle and the Escrow log when a verdict at or above reject finalises a release."""
    posted = Web3.to_hex(ChainClient.topic(client.oracle, "VerdictPosted"))
    rejected = Web3.to_hex(ChainClient.topic(escrow, "ReleaseRejected"))
    data = Web3.to_hex(encode(["uint256", "uint16", "uint64"], [0, 9_500, 1_900_000_000]))
    return {
        "transactionHash": tx_hash,
        "status": 1,
        "gasUsed": 1,
        "blockNumber": 9,
        "blockHash": "0x" + "09" * 32,
        "logs": [
            {
                "address": ORACLE_ADDRESS.lower(),
                "topics": [posted, word(ESCROW_ADDRESS), word(GATE_ID), word(NODE)],
                "data": "0x" + "00" * 96,
            },
            {"address": ESCROW_ADDRESS.lower(), "topics": [rejected, word(GATE_ID), word(3)], "data": data},
        ],
    }


class OneTxChain:
    """Sends go nowhere; every sent transaction is mined with the receipt the test gives."""

    def __init__(self, client: ChainClient, receipt_of: Any) -> None:
        self.client = client
        self.receipt_of = receipt_of
        self.sent: list[list[VerdictItem]] = []

    def send_verdicts(self, items: list[VerdictItem]) -> SentTx:
        self.sent.append(list(items))
        return SentTx("0x" + f"{len(self.sent):064x}", len(self.sent) - 1, 100_000)

    def receipts(self, hashes: list[str]) -> dict[str, dict[str, Any] | None]:
        return {h: self.receipt(h) for h in hashes}

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.receipt_of(tx_hash)

    def block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        return {n: "0x" + "09" * 32 for n in numbers}

    def batch_outcome(self, receipt: dict[str, Any]) -> BatchOutcome:
        return self.client.batch_outcome(receipt)  # the real decoder

    def is_model_approved(self, model_id: str) -> bool:
        return True

    def resync_nonce(self) -> None:
        pass


def test_a_rejected_escrow_release_decodes_as_a_flag(client: ChainClient, receipt_of: Any):
    out = client.batch_outcome(receipt_of("0x" + "ab" * 32))
    assert out.posted == frozenset({(ESCROW_ADDRESS, GATE_ID)})
    assert out.finals == {(ESCROW_ADDRESS, GATE_ID): FLAGGED}


def test_an_escrow_flag_is_recorded_as_a_flag(
    client: ChainClient, receipt_of: Any, store: Store, tmp_path: Path
):
    configure_logging("json", "info", stream=io.StringIO())
    key = GateKey(ESCROW, ESCROW_ADDRESS, GATE_ID)
    store.record_scored(
        str(key), key.target, key.item_id, 9_500, "reject", "0x" + "ab" * 32, [], "0x" + "cd" * 32, {}
    )
    chain, clock = OneTxChain(client, receipt_of), ManualClock()
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    box = Outbox(settings, chain, store, PolicyCache(chain, clock), clock=clock)  # type: ignore[arg-type]
    box.flush()  # sends it
    box.flush()  # mined: settles it
    row = store.scored("escrow:7")
    assert row is not None and row.final_status == "flagged"
    assert row.final_status != "refunded"


def test_one_vocabulary_for_keys_and_decisions():
    assert str(GateKey(ROUTER, ROUTER_ADDRESS, 17)) == key_of(ROUTER, 17) == "router:17"
    assert parse_key("escrow:7") == (ESCROW, 7)
    # A histogram bucket's band is the decision of every score in it (`decide` is tested with scoring).
    bands = [band_of(lo, lo + 500, 6_000, 9_000) for lo in (5_000, 5_800, 6_000, 8_800, 9_000)]
    assert bands == ["settle", "mixed", "review", "mixed", "reject"]
    assert band_of(0, 500, 6_000, 9_000) == decide(499, 6_000, 9_000)
    assert "refunded" not in OUTCOME_EVENTS[ESCROW].values()
