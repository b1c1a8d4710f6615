"""The outbox's split-and-park rule (issue 13, items 6 to 8; issue 16: no estimate per batch) against
a fake chain: batches go with gas limits from their items' budgets; a batch mined but reverted is
sent again in halves, each checked with an `eth_call` and split until its failing items are parked;
a parked verdict is never sent again."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from oracle.budget import ETH, GasBudget
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
    """A batch holding an item of `refused` reverts (mined, or in an `eth_call`) with UNKNOWN; one
    holding a `heavy` item needs a million gas for it, and reverts when its gas limit is short of
    what its items need; one holding an item of `revert_mined` passes calls and estimates but
    reverts once mined (attack 7's shape). Every sent transaction is mined at once."""

    def __init__(self, refused=(), heavy=(), revert_mined=(), sources=None) -> None:
        self.refused, self.heavy, self.revert_mined = set(refused), set(heavy), set(revert_mined)
        self.sent: list[tuple[str, list[VerdictItem], int | None]] = []
        self.estimates = 0
        self.calls = 0
        self.sources = sources if sources is not None else {"router": TARGET}

    def needs(self, items: list[VerdictItem]) -> int:
        return sum(1_000_000 if i.item_id in self.heavy else GAS_PER_ITEM for i in items)

    def fails(self, items: list[VerdictItem], gas: int) -> str | None:
        if any(i.item_id in self.refused for i in items):
            return UNKNOWN
        if self.needs(items) > gas:
            return "out of gas"
        return None

    def estimate_verdicts(self, items: list[VerdictItem]) -> Probe:
        self.estimates += 1
        if any(i.item_id in self.refused for i in items):
            return Probe(None, UNKNOWN)
        return Probe(self.needs(items))

    def call_verdicts(self, items: list[VerdictItem], gas: int) -> Probe:
        self.calls += 1
        reason = self.fails(items, gas)
        return Probe(None, reason) if reason else Probe(gas)

    def block_gas_limit(self) -> int:
        return 30_000_000

    def send_verdicts(self, items: list[VerdictItem], gas: int | None = None) -> SentTx:
        assert gas is not None, "the outbox sends with a gas limit of its own"
        tx_hash = "0x" + f"{len(self.sent) + 1:064x}"
        self.sent.append((tx_hash, list(items), gas))
        return SentTx(tx_hash, len(self.sent) - 1, gas)

    def sent_tx(self, tx_hash: str) -> tuple[list[VerdictItem], int]:
        return next((items, gas) for h, items, gas in self.sent if h == tx_hash)

    def receipts(self, hashes: list[str]) -> dict[str, dict[str, Any] | None]:
        return {h: self.receipt(h) for h in hashes}

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        block = int(tx_hash, 16)
        items, gas = self.sent_tx(tx_hash)
        bad = self.fails(items, gas or 0) or any(i.item_id in self.revert_mined for i in items)
        return {
            "transactionHash": tx_hash,
            "status": 0 if bad else 1,
            "gasUsed": 1,
            "blockNumber": block,
            "blockHash": "0x" + f"{block:064x}",
        }

    def block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        return {n: "0x" + f"{n:064x}" for n in numbers}

    def batch_outcome(self, receipt: dict[str, Any]) -> BatchOutcome:
        items, _ = self.sent_tx(receipt["transactionHash"])
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


def settled_once(chain: HostileChain, ids) -> bool:
    """Each of `ids` is in exactly one transaction that was mined without reverting."""
    mined = [
        i.item_id
        for h, items, _ in chain.sent
        if chain.receipt(h)["status"] == 1
        for i in items  # type: ignore[index]
    ]
    return sorted(mined) == sorted(ids)


def sent_ids(chain: HostileChain) -> list[list[int]]:
    return [[i.item_id for i in items] for _, items, _ in chain.sent]


def finals(store: Store) -> dict[str, str | None]:
    return {r.key: r.final_status for r in store.verdict_rows()}


def test_a_refused_batch_is_split_and_only_the_failing_items_are_parked(store: Store, tmp_path: Path):
    """No estimate up front: the batch goes, reverts once mined, and its halves are checked with
    `eth_call`s; only the two refused items are parked."""
    chain = HostileChain(refused={17, 60})
    box, metrics = make(store, chain, tmp_path)
    scored(store, range(1, 101))

    drain(box)

    honest = [i for i in range(1, 101) if i not in (17, 60)]
    assert settled_once(chain, honest)
    status = finals(store)
    assert status["router:17"] == status["router:60"] == "parked"
    assert all(v == "settled" for k, v in status.items() if k not in ("router:17", "router:60"))
    parked = {p["key"]: p["reason"] for p in store.parked_items()}
    assert parked == {"router:17": UNKNOWN, "router:60": UNKNOWN}
    assert b'verdict_parked_total{reason="RiskOracleUnknownTarget"} 2.0' in generate_latest(metrics.registry)
    # No eth_estimateGas at all, and about 2·k·log2(n) calls, only for the batches that reverted.
    assert chain.estimates == 0
    assert 0 < chain.calls <= 2 * 2 * 7 + 2

    # Parked is final: never sent again, however often the loop turns.
    before = len(chain.sent)
    drain(box)
    assert len(chain.sent) == before


def test_a_backlog_goes_in_batches_under_the_gas_cap_from_the_items_budgets(store: Store, tmp_path: Path):
    """Every item's worst case (its token's push budget; the dearest token's when the token is not
    known) bounds its batch: no batch is estimated, none passes the cap, and none runs out of gas."""
    chain = HostileChain()
    box, _ = make(store, chain, tmp_path, verdict_gas_cap=2_000_000)
    scored(store, range(1, 41))

    drain(box)

    assert chain.estimates == 0 and chain.calls == 0
    assert all(gas is not None and gas <= 2_000_000 for _, _, gas in chain.sent)
    dearest = GasBudget.batch([GasBudget().worst_item] * len(chain.sent[0][1]))
    assert chain.sent[0][2] == dearest
    assert settled_once(chain, range(1, 41))
    assert set(finals(store).values()) == {"settled"}


def test_a_token_listed_with_a_small_budget_packs_more_verdicts_per_batch():
    token = "0x" + "33" * 20
    listed = GasBudget({token: 40_000}, TARGET)
    assert listed.item(TARGET, token) < listed.item(TARGET, None) == GasBudget().worst_item
    assert listed.item(TARGET, ETH) < listed.worst_item
    # an unlisted token, or one at another target, is given the largest token budget
    assert listed.item(TARGET, "0x" + "44" * 20) == listed.item(OTHER, token) > listed.item(TARGET, token)


def test_a_verdict_dearer_than_its_budget_is_parked_without_an_estimate_per_batch(
    store: Store, tmp_path: Path
):
    """A hostile token whose payout costs more than its listed budget (here a million gas, past the
    cap): its batch runs out of gas once mined; the halves are checked with calls; alone, short of
    gas, it is estimated once, found above the cap, and parked. The honest verdicts settle."""
    chain = HostileChain(heavy={5})
    box, metrics = make(store, chain, tmp_path, verdict_gas_cap=900_000)
    scored(store, range(1, 13))

    drain(box)

    assert finals(store)["router:5"] == "parked"
    (parked,) = store.parked_items()
    assert parked["reason"].startswith("needs ") and "more than the cap of 900,000" in parked["reason"]
    assert settled_once(chain, [i for i in range(1, 13) if i != 5])
    assert chain.estimates == 1  # the lone item's, never a batch's
    assert b'verdict_parked_total{reason="over_gas_cap"} 1.0' in generate_latest(metrics.registry)


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
    assert len(batches) <= 2 + 2 * 3  # halves down to the lone item (about 2·log2(8)), which gets one more go
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
