"""`build_report` through the public reads it now uses (ChainClient.logs / payment, Store.
payments_with_verdicts), against an offline client and a real store (no chain)."""

from __future__ import annotations

from pathlib import Path

from eth_abi import encode
from web3 import Web3

from oracle.chain import ETH, ChainClient, Deployment, RouterPayment, TokenInfo, load_abis
from oracle.config import Settings
from oracle.records import PaymentRecord as StoredPayment
from oracle.report import build_report
from oracle.store import Store

ROUTER = Web3.to_checksum_address("0x" + "11" * 20)


def test_report_lists_held_and_high_scored_payments_from_public_reads(
    store: Store, manifest: Path, monkeypatch
):
    deployment = Deployment("local", 31337, 5, {"RiskOracle": "0x" + "22" * 20, "PaymentRouter": ROUTER})
    chain = ChainClient("http://127.0.0.1:9", deployment, load_abis(manifest))
    requested = ChainClient.topic(chain.router, "PaymentRequested")
    held = ChainClient.topic(chain.router, "PaymentHeld")
    settled = ChainClient.topic(chain.router, "PaymentSettled")

    def log(topic: bytes, pid: int, tx: int) -> dict:
        return {
            "topics": [topic, encode(["uint256"], [pid])],
            "data": b"",
            "transactionHash": bytes([tx]) * 32,
        }

    asked: list[tuple] = []

    def logs(address, topics, from_block=None, to_block="latest"):
        asked.append((address, len(list(topics))))
        return [log(requested, 1, 1), log(requested, 2, 2), log(held, 1, 3), log(settled, 2, 4)]

    status = {1: 2, 2: 3}  # held, settled
    monkeypatch.setattr(chain, "logs", logs)
    monkeypatch.setattr(
        chain, "payment", lambda pid: RouterPayment(pid, "0xA", "0xB", ETH, 10**18, 0, status[pid])
    )
    monkeypatch.setattr(chain, "token_info", lambda token: TokenInfo("ETH", 18))

    store.record_payments(
        [
            (StoredPayment("router:1", "0xA", "0xB", "ETH", 3000.0, 1_000), None),
            (StoredPayment("router:2", "0xA", "0xC", "ETH", 3000.0, 1_100), None),
        ],
        [],
        [],
    )
    for pid, score, decision in ((1, 9000, "reject"), (2, 100, "settle")):
        store.record_scored(
            f"router:{pid}", ROUTER, pid, score, decision, "0x" + "ab" * 32,
            [{"feature": "amount", "value": 1.0, "contribution": 0.5, "text": "amount is high"}],
            "0x" + "cd" * 32, {"amount": 1.0},
        )  # fmt: skip

    report = build_report(Settings(), 0, 2_000, store=store, chain=chain)

    assert asked == [(ROUTER, 5)]
    assert [a.payment_id for a in report.activities] == [1]
    activity = report.activities[0]
    assert activity.status_now == "held" and activity.score_bps == 9000
    assert activity.reasons == ["amount is high"] and activity.amount == "1"
    assert activity.request_tx == "0x" + "01" * 32 and activity.outcome_tx == "0x" + "03" * 32
