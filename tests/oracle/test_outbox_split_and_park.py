"""The outbox's split-and-park rule (issue 13, items 6 to 8) against a fake chain: a batch the node
refuses or that needs more gas than the cap is split and its failing items parked; a batch mined
but reverted is sent again in halves, never as it was; a parked verdict is never sent again."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from oracle.chain import BatchOutcome, SentTx, VerdictItem
from oracle.clock import ManualClock
from oracle.config import Settings
from oracle.isolate import Probe
from oracle.logging import configure_logging
from oracle.metrics import Metrics
from oracle.outbox import Outbox, reason_label
from oracle.policy import PolicyCache
from oracle.sender import TxSender
from oracle.store import Store

TARGET = "0x" + "11" * 20
OTHER = "0x" + "22" * 20
GAS_PER_ITEM = 50_000
UNKNOWN = f"RiskOracleUnknownTarget({TARGET})"


class HostileChain:
    """Estimates refuse items in `refused`, charge `heavy` items a million gas each; a mined batch
    holding an item of `revert_mined` reverts (status 0). Every sent transaction is mined at once."""

    def __init__(self, refused=(), heavy=(), revert_mined=(), sources=None) -> None:
        self.refused, self.heavy, self.revert_mined = set(refused), set(heavy), set(revert_mined)
        self.sent: list[tuple[str, list[VerdictItem], int | None]] = []
        self.estimates = 0
        self.sources = sources if sources is not None else {"router": TARGET}

    def estimate_verdicts(self, items: list[VerdictItem]) -> Probe:
        self.estimates += 1
        if any(i.item_id in self.refused for i in items):
            return Probe(None, UNKNOWN)
        return Probe(sum(1_000_000 if i.item_id in self.heavy else GAS_PER_ITEM for i in items))

    def block_gas_limit(self) -> int:
        return 30_000_000

    def send_verdicts(self, items: list[VerdictItem], estimate: int | None = None) -> SentTx:
        tx_hash = "0x" + f"{len(self.sent) + 1:064x}"
        self.sent.append((tx_hash, list(items), estimate))
        return SentTx(tx_hash, len(self.sent) - 1, estimate or 0)

    def items_of(self, tx_hash: str) -> list[VerdictItem]:
        return next(items for h, items, _ in self.sent if h == tx_hash)

    def receipts(self, hashes: list[str]) -> dict[str, dict[str, Any] | None]:
        return {h: self.receipt(h) for h in hashes}

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        block = int(tx_hash, 16)
        status = 0 if any(i.item_id in self.revert_mined for i in self.items_of(tx_hash)) else 1
        return {
            "transactionHash": tx_hash,
            "status": status,
            "gasUsed": 1,
            "blockNumber": block,
            "blockHash": "0x" + f"{block:064x}",
        }

    def block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        return {n: "0x" + f"{n:064x}" for n in numbers}

    def batch_outcome(self, receipt: dict[str, Any]) -> BatchOutcome:
        items = self.items_of(receipt["transactionHash"])
        posted = frozenset((i.target, i.item_id) for i in items) if receipt["status"] == 1 else frozenset()
        return BatchOutcome(receipt["transactionHash"], 1, posted, {}, {k: "settled" for k in posted})

    def thresholds(self) -> tuple[int, int]:
        return (5000, 8000)

    def is_model_approved(self, model_id: str) -> bool:
        return True

    def resync_nonce(self) -> None:
        pass


def scored(store: Store, ids, target: str = TARGET) -> None:
    store.record_scored_many(
        [
            {
                "key": f"router:{i}",
                "target": target,
                "item_id": i,
                "score_bps": 10,
                "decision": "settle",
                "model_id": "0x" + "ab" * 32,
                "reasons": [],
                "reasons_hash": "0x" + "cd" * 32,
                "features": {},
            }
            for i in ids
        ]
    )


def make(store: Store, chain: HostileChain, tmp_path: Path, **settings: Any) -> tuple[Outbox, Metrics]:
    configure_logging("json", "info", stream=io.StringIO())
    metrics = Metrics()
    clock = ManualClock()
    box = Outbox(
        Settings(model_dir=tmp_path, metrics_port=None, **settings),
        chain,  # type: ignore[arg-type]
        store,
        PolicyCache(chain, clock),  # type: ignore[arg-type]
        metrics,
        clock,
    )
    return box, metrics


def drain(box: Outbox, turns: int = 50) -> None:
    for _ in range(turns):
        box.flush()


def sent_ids(chain: HostileChain) -> list[list[int]]:
    return [[i.item_id for i in items] for _, items, _ in chain.sent]


def finals(store: Store) -> dict[str, str | None]:
    return {r.key: r.final_status for r in store.verdict_rows()}


def test_a_refused_batch_is_split_and_only_the_failing_items_are_parked(store: Store, tmp_path: Path):
    chain = HostileChain(refused={17, 60})
    box, metrics = make(store, chain, tmp_path)
    scored(store, range(1, 101))

    drain(box)

    sent = [i for ids in sent_ids(chain) for i in ids]
    assert sorted(sent) == [i for i in range(1, 101) if i not in (17, 60)]  # each sent once
    status = finals(store)
    assert status["router:17"] == status["router:60"] == "parked"
    assert all(v == "settled" for k, v in status.items() if k not in ("router:17", "router:60"))
    parked = {p["key"]: p["reason"] for p in store.parked_items()}
    assert parked == {"router:17": UNKNOWN, "router:60": UNKNOWN}
    assert b'verdict_parked_total{reason="RiskOracleUnknownTarget"} 2.0' in generate_latest(metrics.registry)
    # About 2·k·log2(n) estimates, and every batch was sent with the estimate it was probed at.
    assert chain.estimates <= 2 * 2 * 7 + 1
    assert all(estimate is not None for _, _, estimate in chain.sent)

    # Parked is final: never sent again, however often the loop turns.
    before = len(chain.sent)
    drain(box)
    assert len(chain.sent) == before


def test_a_batch_over_the_gas_cap_goes_in_parts_under_it_and_fresh_verdicts_do_not_wait(
    store: Store, tmp_path: Path
):
    chain = HostileChain(heavy=set(range(1, 41)))
    box, _ = make(store, chain, tmp_path, verdict_gas_cap=12_000_000)
    scored(store, range(1, 41))  # 40 items of 1M gas: 40M, past the block
    box.flush()
    assert sent_ids(chain) == [list(range(1, 11))]  # the first part; the others wait their turn

    scored(store, range(41, 44))  # honest verdicts that arrive meanwhile
    box.enqueue(store.verdict_rows(posted=False, final=False)[-3:], 0.0)
    box.flush()
    assert [41, 42, 43] in sent_ids(chain)[:3]  # ahead of the remaining heavy parts
    drain(box)
    assert all(estimate is None or estimate <= 12_000_000 for _, _, estimate in chain.sent)
    assert sorted(i for ids in sent_ids(chain) for i in ids) == list(range(1, 44))
    assert set(finals(store).values()) == {"settled"}


def test_a_reverted_batch_is_sent_again_in_halves_and_the_lone_failing_item_parked(
    store: Store, tmp_path: Path
):
    """Attack 7's shape: the estimate passes, the mined transaction reverts."""
    chain = HostileChain(revert_mined={3})
    box, metrics = make(store, chain, tmp_path)
    scored(store, range(1, 9))

    drain(box)

    batches = sent_ids(chain)
    assert batches[0] == list(range(1, 9))
    assert batches.count(list(range(1, 9))) == 1  # never sent again as it was
    assert len(batches) <= 1 + 2 * 3  # halves down to the lone item: about 2·log2(8) more
    status = finals(store)
    assert status.pop("router:3") == "parked"
    assert set(status.values()) == {"settled"}
    (parked,) = store.parked_items()
    assert parked["reason"].startswith("reverted once mined, alone")
    assert b'verdict_parked_total{reason="reverted_once_mined"} 1.0' in generate_latest(metrics.registry)


def test_a_batch_that_reverted_while_the_node_was_down_is_split_after_a_restart(store: Store, tmp_path: Path):
    chain = HostileChain(revert_mined={2})
    box, _ = make(store, chain, tmp_path)
    scored(store, range(1, 5))
    original = chain.receipts
    chain.receipts = lambda hashes: {h: None for h in hashes}  # type: ignore[method-assign]
    box.flush()  # sent; the node stops before it sees the receipt
    chain.receipts = original  # type: ignore[method-assign]

    restarted, _ = make(store, chain, tmp_path)
    drain(restarted)

    status = finals(store)
    assert status.pop("router:2") == "parked"
    assert set(status.values()) == {"settled"}
    assert sent_ids(chain).count([1, 2, 3, 4]) == 1


def test_rows_for_a_target_outside_the_deployment_are_parked_not_sent(store: Store, tmp_path: Path):
    """A store left over from an earlier deployment: its rows never wedge the new one."""
    chain = HostileChain()
    box, _ = make(store, chain, tmp_path)
    scored(store, range(1, 4), target=OTHER)
    scored(store, range(4, 6))

    drain(box, 5)

    assert sent_ids(chain) == [[4, 5]]
    assert [finals(store)[f"router:{i}"] for i in range(1, 4)] == ["parked"] * 3
    assert all("not a gated contract" in p["reason"] for p in store.parked_items())


def test_reason_labels_stay_few():
    assert reason_label(UNKNOWN) == "RiskOracleUnknownTarget"
    assert reason_label("needs 1,234,567 gas alone, more than the cap of 12,000,000") == "over_gas_cap"
    assert reason_label("Out of gas: gas required exceeds allowance: 30000000") == "out_of_gas"


class _Provider:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, list[Any]]] = []

    def make_request(self, method: str, params: list[Any]) -> dict[str, Any]:
        self.calls.append((method, params))
        return self.answer


class _W3:
    def __init__(self, provider: _Provider) -> None:
        self.provider = provider

        class _Eth:
            gas_price = 7_000_000_000

        self.eth = _Eth()


def test_the_estimate_carries_the_fee_fields_the_transaction_will_carry():
    """Attack 7: estimated at gas price 0, a token that looks at tx.gasprice was estimated too low."""
    from eth_account import Account

    provider = _Provider({"jsonrpc": "2.0", "id": 1, "result": "0x5208"})
    sender = TxSender(_W3(provider), Account.create(), lambda: 1, lambda fn: fn())  # type: ignore[arg-type]
    assert sender.estimate(TARGET, "0x") == 21_000
    (method, (call,)) = provider.calls[0]
    assert method == "eth_estimateGas"
    assert call["type"] == "0x2"
    assert int(call["maxFeePerGas"], 16) == 2 * 7_000_000_000 + 1
    assert int(call["maxPriorityFeePerGas"], 16) > 0


def test_an_estimate_refused_for_want_of_gas_money_is_a_chain_error_not_a_reason_to_park():
    """With fee fields the node caps the estimate at what the balance pays for: an empty wallet reads
    "exceeds allowance: 0", which must back off with the usual message, never split or park."""
    from eth_account import Account

    from oracle.errors import ChainError
    from oracle.sender import EstimateRefused

    def sender_answering(message: str) -> TxSender:
        answer = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32003, "message": message}}
        return TxSender(_W3(_Provider(answer)), Account.create(), lambda: 1, lambda fn: fn())  # type: ignore[arg-type]

    broke = sender_answering("Out of gas: gas required exceeds allowance: 0")
    try:
        broke.estimate(TARGET, "0x")
    except EstimateRefused:
        raise AssertionError("an empty wallet was taken for a refused batch") from None
    except ChainError as exc:
        assert "has no funds to pay for gas; top it up" in str(exc)
    else:
        raise AssertionError("no error")

    too_big = sender_answering("Out of gas: gas required exceeds allowance: 30000000")
    try:
        too_big.estimate(TARGET, "0x")
    except EstimateRefused as exc:
        assert "30000000" in str(exc)
    else:
        raise AssertionError("a batch past the block gas limit was not refused")
