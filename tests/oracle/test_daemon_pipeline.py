"""The outbox against a fake chain and a manual clock: verdicts go out without waiting for receipts,
with gas limits from their budgets (no estimates), within the in-flight window of half a block's
gas, and are settled when mined; nothing in flight is sent twice."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from oracle.budget import ETH, GasBudget
from oracle.chain import BatchOutcome, GateRequest, SentTx, TokenInfo, VerdictItem
from oracle.clock import ManualClock
from oracle.config import Settings
from oracle.errors import StoreError
from oracle.features import OnlineFeatures
from oracle.isolate import Probe
from oracle.logging import configure_logging
from oracle.metrics import Metrics
from oracle.model import ModelArtifact
from oracle.outbox import INFLIGHT_RECHECK, SETTLE_LEAST, Outbox
from oracle.policy import PolicyCache
from oracle.reorg import REORG_CHECK
from oracle.scoring import Scorer
from oracle.scoring_stage import ScoringStage
from oracle.store import Store

TARGET = "0x" + "11" * 20
GAS_PER_ITEM = 75_000


class FakeChain:
    """Records sends; a transaction is mined when the test says so."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[VerdictItem]]] = []
        self.mined: set[str] = set()
        self.resyncs = 0
        self.hashes: dict[int, str] = {}  # block number -> hash of the current chain
        self.gas: list[int] = []  # the gas limit of each sent transaction
        self.estimates = 0
        self.limit = 1_000_000_000  # the block gas limit
        self.pool: set[str] = set()  # sent, unmined, and still held by the node (none unless a test says)

    def block_of(self, tx_hash: str) -> int:
        return int(tx_hash, 16)  # one block per transaction, numbered like the hashes

    def estimate_verdicts(self, items: list[VerdictItem]) -> Probe:
        self.estimates += 1
        return Probe(GAS_PER_ITEM * len(items))

    def block_gas_limit(self) -> int:
        return self.limit

    def send_verdicts(self, items: list[VerdictItem], gas: int | None = None) -> SentTx:
        assert gas is not None, "the outbox sends with a gas limit of its own"
        tx_hash = "0x" + f"{len(self.sent) + 1:064x}"
        self.sent.append((tx_hash, list(items)))
        self.gas.append(gas)
        return SentTx(tx_hash, len(self.sent) - 1, gas)

    def receipts(self, hashes: list[str]) -> dict[str, dict[str, Any] | None]:
        return {h: self.receipt(h) for h in hashes}

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        if tx_hash not in self.mined:
            return None
        block = self.block_of(tx_hash)
        self.hashes.setdefault(block, "0x" + f"{block:064x}")
        return {
            "transactionHash": tx_hash,
            "status": 1,
            "gasUsed": 1,
            "blockNumber": block,
            "blockHash": self.hashes[block],
        }

    def known_tx(self, tx_hash: str) -> SentTx | None:
        if tx_hash not in self.pool and tx_hash not in self.mined:
            return None
        nonce = next(i for i, (h, _) in enumerate(self.sent) if h == tx_hash)
        return SentTx(tx_hash, nonce, self.gas[nonce])

    def block_hashes(self, numbers: list[int]) -> dict[int, str | None]:
        return {n: self.hashes.get(n) for n in numbers}

    def reorg(self, tx_hash: str) -> None:
        """The transaction's block is replaced by an empty one."""
        self.mined.discard(tx_hash)
        self.hashes[self.block_of(tx_hash)] = "0x" + "ee" * 32

    def batch_outcome(self, receipt: dict[str, Any]) -> BatchOutcome:
        items = next(items for h, items in self.sent if h == receipt["transactionHash"])
        posted = frozenset((i.target, i.item_id) for i in items)
        return BatchOutcome(receipt["transactionHash"], 1, posted, {}, {k: "settled" for k in posted})

    def is_model_approved(self, model_id: str) -> bool:
        return True

    def resync_nonce(self) -> None:
        self.resyncs += 1


def outbox(settings: Settings, chain: FakeChain, store: Store, clock: ManualClock) -> Outbox:
    return Outbox(settings, chain, store, PolicyCache(chain, clock), clock=clock)  # type: ignore[arg-type]


def scored(store: Store, ids: range) -> None:
    store.record_scored_many(
        [
            {
                "key": f"router:{i}",
                "target": TARGET,
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


def test_verdicts_are_pipelined_within_the_window_and_settled_when_mined(store: Store, tmp_path: Path):
    """Batches are cut by count and by their gas budget (no estimates); the gas limits in flight
    stay within half a block; a part batch goes at once, without waiting for a fuller one."""
    configure_logging("json", "info", stream=io.StringIO())  # not a stdout an earlier test captured
    settings = Settings(
        model_dir=tmp_path,
        verdict_batch_size=100,
        verdict_batch_max=200,
        verdict_gas_cap=100_000_000,
        metrics_port=None,
    )
    chain, clock = FakeChain(), ManualClock()
    box = outbox(settings, chain, store, clock)
    scored(store, range(1, 251))
    eth = {f"router:{i}": ETH for i in range(1, 261)}  # ETH payouts: a known, small budget each
    box.enqueue(store.unposted(), clock.monotonic(), eth)

    # A backlog of 250 ETH verdicts: batches of 200 and 50 by count, sent at once, no estimate.
    item = GasBudget().item(TARGET, ETH)
    assert box.flush()
    assert [len(items) for _, items in chain.sent] == [200, 50]
    assert [gas for gas in chain.gas] == [GasBudget.batch([item] * 200), GasBudget.batch([item] * 50)]
    assert sum(chain.gas) <= chain.block_gas_limit() // 2
    assert chain.estimates == 0
    assert store.unposted() == []
    assert not box.flush()  # nothing mined yet: nothing settled, nothing more sent
    assert len(chain.sent) == 2

    # An in-flight recheck does not re-send what is still in flight.
    clock.advance(INFLIGHT_RECHECK + 1)
    box.flush()
    assert len(chain.sent) == 2 and chain.resyncs == 0

    # The window is full: more verdicts wait until what is in flight is mined.
    scored(store, range(251, 261))
    box.enqueue(store.unposted(), clock.monotonic(), eth)
    chain.limit = sum(chain.gas)  # a block that our gas in flight already fills half of
    box.flush()
    assert [len(items) for _, items in chain.sent] == [200, 50]
    chain.mined.update(h for h, _ in chain.sent)
    assert box.flush()  # settles the 250, then sends the 10 at once
    assert [len(items) for _, items in chain.sent] == [200, 50, 10]
    assert len(store.verdict_rows(final=True)) == 250
    chain.mined.update(h for h, _ in chain.sent)
    box.flush()
    assert len(store.verdict_rows(final=True)) == 260
    assert store.verdict_rows(final=False) == []


def test_the_transactions_a_turn_settles_are_written_in_one_commit(store: Store, tmp_path: Path):
    """Each settled verdict transaction was a commit of its own (issue 16): now the finals of all a
    turn settles are one write, and every verdict still ends final with its outcome."""
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, verdict_batch_size=2, verdict_batch_max=2, metrics_port=None)
    chain, clock = FakeChain(), ManualClock()
    box = outbox(settings, chain, store, clock)
    scored(store, range(1, 7))
    box.flush()
    assert [len(items) for _, items in chain.sent] == [2, 2, 2]
    chain.mined.update(h for h, _ in chain.sent)
    commits = store.write_commits
    assert box.flush()
    assert store.write_commits - commits == 1
    assert len(store.verdict_rows(final=True)) == 6 and store.verdict_rows(final=False) == []


def test_deferred_finals_wait_for_the_owners_write_and_a_crash_before_it_loses_none(
    store: Store, tmp_path: Path
):
    """The daemon's outbox keeps settled finals for its next scoring batch (`defer_finals`): until
    written they are only in memory, and a process that dies then leaves verdicts posted and not
    final, which the next one settles again from their receipts."""
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    chain, clock = FakeChain(), ManualClock()
    policy = PolicyCache(chain, clock)  # type: ignore[arg-type]
    box = Outbox(settings, chain, store, policy, clock=clock, defer_finals=True)  # type: ignore[arg-type]
    scored(store, range(1, 4))
    box.flush()
    chain.mined.add(chain.sent[0][0])
    clock.advance(0.5)
    assert box.flush()
    assert set(box.unwritten_finals) == {"router:1", "router:2", "router:3"}
    assert box.finals_age(clock.monotonic()) == 0.0  # settled just now
    assert store.verdict_rows(final=True) == []  # not written yet: the owner's next write carries them

    restarted = outbox(settings, chain, store, clock)  # the process died: its memory is gone
    restarted.flush()
    assert len(store.verdict_rows(final=True)) == 3  # settled again from the receipt
    assert len(chain.sent) == 1  # and nothing sent twice

    box.write_finals()  # the owner's write (here alone): idempotent with the restart's
    assert box.unwritten_finals == {} and len(store.verdict_rows(final=True)) == 3


def test_a_restarted_outbox_settles_what_was_in_flight_and_sends_the_rest(store: Store, tmp_path: Path):
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    chain, clock = FakeChain(), ManualClock()
    scored(store, range(1, 4))
    outbox(settings, chain, store, clock).flush()
    assert [len(items) for _, items in chain.sent] == [3]
    scored(store, range(4, 6))  # scored just before the crash, never sent

    chain.mined.add(chain.sent[0][0])  # mined while the node was down
    outbox(settings, chain, store, clock).flush()  # the new process: read back from the log
    assert [len(items) for _, items in chain.sent] == [3, 2]
    assert len(store.verdict_rows(final=True)) == 3
    assert chain.resyncs == 0


def test_a_verdict_whose_block_is_reorganised_away_is_posted_again(store: Store, tmp_path: Path):
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    chain, clock = FakeChain(), ManualClock()
    box = outbox(settings, chain, store, clock)
    scored(store, range(1, 4))
    box.flush()
    chain.mined.add(chain.sent[0][0])
    box.flush()
    assert len(store.verdict_rows(final=True)) == 3

    clock.advance(REORG_CHECK)
    box.flush()  # the block is still there: nothing to do
    assert len(chain.sent) == 1

    chain.reorg(chain.sent[0][0])
    clock.advance(REORG_CHECK)
    box.flush()  # seen dropped: back to unposted, and sent again at once
    assert [len(items) for _, items in chain.sent] == [3, 3]
    assert chain.resyncs == 1
    assert store.verdict_rows(final=True) == []
    chain.mined.add(chain.sent[1][0])
    box.flush()
    assert len(store.verdict_rows(final=True)) == 3


def test_a_turn_settles_what_its_budget_holds_and_the_next_turns_the_rest_without_asking_again(
    store: Store, tmp_path: Path
):
    """Many verdict transactions mined at once are settled over several turns (at least
    SETTLE_LEAST verdicts each, then while half a turn budget lasts), in sending order; the
    receipts already fetched are not asked for again."""
    configure_logging("json", "info", stream=io.StringIO())
    settings = Settings(
        model_dir=tmp_path,
        verdict_batch_size=150,
        verdict_batch_max=150,
        verdict_gas_cap=100_000_000,
        turn_budget=1e-9,
        metrics_port=None,
    )
    chain, clock = FakeChain(), ManualClock()
    asked: list[str] = []
    receipts = chain.receipts
    chain.receipts = lambda hashes: (asked.extend(hashes), receipts(hashes))[1]  # type: ignore[method-assign]
    box = outbox(settings, chain, store, clock)
    scored(store, range(1, 451))
    box.flush()
    assert [len(items) for _, items in chain.sent] == [150, 150, 150]
    chain.mined.update(h for h, _ in chain.sent)
    asked.clear()

    assert box.flush(head=7)  # the head moved: receipts asked for once, 300 settled (>= SETTLE_LEAST)
    assert len(store.verdict_rows(final=True)) == 300 == 2 * 150 >= SETTLE_LEAST
    assert box.flush(head=7)  # same head: the fetched receipt is settled, not asked for again
    assert len(store.verdict_rows(final=True)) == 450
    assert sorted(asked) == sorted(h for h, _ in chain.sent)
    assert box.in_flight == 0


class _Facts:
    """The chain reads of the scoring stage: every token is ETH, a block an hour after the last."""

    def token_info(self, token: str) -> TokenInfo:
        return TokenInfo("ETH", 18)

    def block_timestamp(self, number: int) -> int:
        return 1_700_000_000 + 3_600 * number


def _tables(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row, but the wall-clock columns (when it was scored, finalised)."""
    out = {}
    with store._db.tx("dumping") as conn:  # noqa: SLF001 - the test compares raw rows
        for table in ("payments", "account_stats", "pairs", "verdicts"):
            rows = conn.exec_driver_sql(f"SELECT * FROM {table}").mappings().all()
            out[table] = [
                tuple(v for k, v in r.items() if k not in ("scored_at", "finalized_at")) for r in rows
            ]
    return out


def _burst(n: int, seed: int = 5) -> list[GateRequest]:
    """n payments in ETH among 30 people, seven to a block."""
    rng = random.Random(seed)
    people = ["0x" + f"{rng.getrandbits(160):040x}" for _ in range(30)]
    return [
        GateRequest(
            "router",
            TARGET,
            i,
            rng.choice(people),
            rng.choice(people),
            ETH,
            rng.randrange(10**14, 10**19),
            0,
            10 + i // 7,
            "0x",
        )
        for i in range(1, n + 1)
    ]


def test_a_batch_scored_at_once_stores_byte_identical_rows_to_one_at_a_time(
    artifact: ModelArtifact, tmp_path: Path
):
    """The batch path (one model call, one TreeSHAP call for the rows that need reasons, one store
    transaction per table, the feature JSON made once) against one request at a time: the same
    scores, decisions, reasons, hashes, features and history rows, byte for byte."""
    configure_logging("json", "info", stream=io.StringIO())
    requests = _burst(60)
    review = 10_001  # the first pass finds the scores; the others give the highest reasons
    results = []
    for name, size in (("probe", 60), ("batch", 60), ("single", 1)):
        store = Store(f"sqlite:///{tmp_path / name / 's.sqlite'}")
        stage = ScoringStage(
            Settings(model_dir=tmp_path, metrics_port=None), _Facts(), OnlineFeatures(store), store, Metrics()
        )
        scorer = Scorer(artifact)
        rows = [
            row
            for at in range(0, len(requests), size)
            for row in stage.score(requests[at : at + size], scorer, artifact, (review, 9_000))
        ]
        if name == "probe":
            review = max(r.score_bps for r in rows)  # new accounts score high: the top ones get reasons
            store.close()
            continue
        store.mark_final_many({r.key: "settled" for r in rows})
        results.append(
            (
                [(r.key, r.score_bps, r.decision, r.reasons, r.reasons_hash, r.features) for r in rows],
                _tables(store),
            )
        )
        store.close()
    (batch_rows, batch_tables), (single_rows, single_tables) = results
    assert batch_rows == single_rows
    assert any(r[3] for r in batch_rows) and any(not r[3] for r in batch_rows)  # both kinds compared
    assert batch_tables == single_tables
    assert len(batch_tables["verdicts"]) == 60


class _RefusingLog:
    """The verdict log; while `refusing`, `record_scored_many` fails as a full disk would: after the
    batch's history rows were written in its transaction. Every other call goes to the store."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.refusing = False

    def record_scored_many(self, items: Any) -> int:
        if self.refusing:
            raise StoreError("store test: logging verdicts failed: database or disk is full")
        return self._store.record_scored_many(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _stage(store: Store, log: Any, tmp_path: Path) -> ScoringStage:
    settings = Settings(model_dir=tmp_path, metrics_port=None)
    return ScoringStage(settings, _Facts(), OnlineFeatures(store), log, Metrics())


def test_a_batch_whose_verdicts_fail_to_log_stores_nothing_and_scores_the_same_again(
    artifact: ModelArtifact, tmp_path: Path
):
    """A batch's history rows and verdicts commit together: a failure after the history rows were
    written leaves nothing of the batch in any table, and the feature state, which had run ahead,
    is rebuilt from the store, so the retry stores exactly what a run without the failure does."""
    configure_logging("json", "info", stream=io.StringIO())
    first, second = _burst(40)[:20], _burst(40)[20:]
    tables = []
    for name in ("clean", "refused"):
        store = Store(f"sqlite:///{tmp_path / name / 's.sqlite'}")
        log = _RefusingLog(store)
        stage, scorer = _stage(store, log, tmp_path), Scorer(artifact)
        stage.score(first, scorer, artifact, (9_000, 9_500))
        if name == "refused":
            log.refusing = True
            with pytest.raises(StoreError, match="disk is full"):
                stage.score(second, scorer, artifact, (9_000, 9_500))
            log.refusing = False
            assert store.scored_keys([r.key for r in second]) == set()
            assert store.known_payments([r.key for r in second]) == {}
        stage.score(second, scorer, artifact, (9_000, 9_500))
        tables.append(_tables(store))
        store.close()
    assert tables[0] == tables[1]
    assert len(tables[0]["payments"]) == len(tables[0]["verdicts"]) == 40


def test_the_stored_json_is_the_plain_encoding_of_each_row_on_either_dialect(
    artifact: ModelArtifact, any_store: Store, tmp_path: Path
):
    """The feature JSON made once for the history row and the verdict, and the empty reasons not
    encoded at all, are the bytes `json.dumps(..., sort_keys=True)` gives; a new node over the same
    store takes the recorded features and logs nothing twice (SQLite, and PostgreSQL if set)."""
    configure_logging("json", "info", stream=io.StringIO())
    requests = _burst(30, seed=9)
    stage, scorer = _stage(any_store, any_store, tmp_path), Scorer(artifact)
    rows = [
        r for at in (0, 15) for r in stage.score(requests[at : at + 15], scorer, artifact, (10_000, 10_000))
    ]
    assert len(rows) == 30 and any(r.reasons for r in rows) and any(not r.reasons for r in rows)
    with any_store._db.tx("dumping") as conn:  # noqa: SLF001 - the test compares raw text
        logged = dict(conn.exec_driver_sql("SELECT key, features FROM verdicts").fetchall())
        reasons = dict(conn.exec_driver_sql("SELECT key, reasons FROM verdicts").fetchall())
        history = dict(conn.exec_driver_sql("SELECT key, features FROM payments").fetchall())
    for row in rows:
        assert logged[row.key] == history[row.key] == json.dumps(row.features, sort_keys=True)
        assert reasons[row.key] == json.dumps(row.reasons, sort_keys=True)
    again = _stage(any_store, any_store, tmp_path).score(requests, scorer, artifact, (9_000, 9_500))
    assert [(r.key, r.features, r.score_bps) for r in again] == [
        (r.key, r.features, r.score_bps) for r in rows
    ]
    assert len(any_store.verdict_rows()) == 30
