"""`build_report` through the public reads it uses (ChainClient.logs / payment, Store.
payments_with_verdicts): first against an offline client and a real store, then `verdict report
suspicious` against a real anvil whose clock runs ahead of the wall clock."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ape import chain as anvil
from eth_abi import encode
from typer.testing import CliRunner
from web3 import Web3

from oracle.chain import ETH, ChainClient, Deployment, RouterPayment, TokenInfo, load_abis
from oracle.cli import app
from oracle.config import Settings
from oracle.features import batch_features
from oracle.records import PaymentRecord as StoredPayment
from oracle.report import build_report, report_period
from oracle.scoring import Scorer
from oracle.store import Store
from verdict_deploy import deploy_world, verdict_settings

ROUTER = Web3.to_checksum_address("0x" + "11" * 20)


def _offline_chain(manifest: Path, monkeypatch, status: dict[int, int]) -> tuple[ChainClient, list[tuple]]:
    """A ChainClient whose reads are answered here: payments 1 and 2 requested, 1 held and 2
    settled in the logs, `status` as their on-chain status; and the list of log queries made."""
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

    monkeypatch.setattr(chain, "logs", logs)
    monkeypatch.setattr(
        chain, "payment", lambda pid: RouterPayment(pid, "0xA", "0xB", ETH, 10**18, 0, status[pid])
    )
    monkeypatch.setattr(chain, "token_info", lambda token: TokenInfo("ETH", 18))
    monkeypatch.setattr(chain, "block_number", lambda: 50)
    return chain, asked


def test_report_lists_held_and_high_scored_payments_from_public_reads(
    store: Store, manifest: Path, monkeypatch
):
    chain, asked = _offline_chain(manifest, monkeypatch, {1: 2, 2: 3})  # held, settled
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


def test_a_flagged_payment_scored_below_review_gets_its_reasons_recomputed(
    store: Store, manifest: Path, monkeypatch, artifact, model_dir: Path, payments
):
    """The node stores no reasons below the review threshold (16.3), yet the gate can still hold
    such a payment; the report recomputes them from the stored features, as `verdict explain` does,
    and only while they still hash to the verdict's evidence."""
    scorer = Scorer(artifact, compiled=False)
    X = scorer.model_matrix(batch_features(payments.iloc[-400:]).to_numpy())
    results = scorer.score_many(X, reasons_from_bps=artifact.review_threshold_bps)
    calm = [i for i, r in enumerate(results) if not r.reasons][:2]
    chain, _ = _offline_chain(manifest, monkeypatch, {1: 2, 2: 2})  # both held by the gate
    for pid, i in zip((1, 2), calm, strict=True):
        key = f"router:{pid}"
        features = dict(zip(scorer.feature_names, X[i].tolist(), strict=True))
        if pid == 2:
            features[scorer.feature_names[0]] = 12_345.678  # edited after scoring: no longer its evidence
        store.record_payments([(StoredPayment(key, "0xA", "0xB", "ETH", 30.0, 1_000 + pid), None)], [], [])
        store.record_scored(
            key, ROUTER, pid, results[i].score_bps, "settle", artifact.model_id, [],
            results[i].evidence_hash, features,
        )  # fmt: skip

    report = build_report(Settings(model_dir=str(model_dir)), 0, 2_000, store=store, chain=chain)

    by_id = {a.payment_id: a for a in report.activities}
    expected = [r["text"] for r in scorer.score_many(X[calm[0] : calm[0] + 1])[0].reasons_dicts()]
    assert expected and by_id[1].reasons == expected
    assert by_id[2].reasons == []


# --- against a real chain: anvil, the deployed suite, a real store and the `verdict` CLI ------------

MODEL = "0x" + "5e" * 32
REASONS_HASH = "0x" + "00" * 32
DAY = 86_400


@pytest.fixture
def deployed(local_roles, tmp_path):
    """The suite deployed for this test with MODEL approved; (contracts, deployment record)."""
    world = deploy_world(local_roles, models=[MODEL], root=tmp_path)
    return world.contracts, world.deployment


def _pay(router, payer, payee, eth: int, ref: int) -> tuple[int, int]:
    """A payment of `eth` ETH; its id and the block time of its request."""
    receipt = router.pay(payee, ETH, eth * 10**18, ref.to_bytes(32, "big"), sender=payer, value=eth * 10**18)
    return int(router.paymentCount()), int(anvil.blocks[receipt.block_number].timestamp)


def _verdict(contracts, node, pid: int, score: int) -> None:
    """The node's verdict, with the payment's terms from its log (the router keeps their hash)."""
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    [log] = [e for e in router.PaymentRequested.range(0, anvil.blocks.height + 1) if int(e.id) == pid]
    terms = (log.payer, log.payee, log.token, int(log.amount))
    oracle.submitVerdicts([(router.address, MODEL, [(pid, score, REASONS_HASH, terms)])], sender=node)


def _remember(store: Store, router: str, pid: int, payer, payee, at: int, score: int, decision: str) -> None:
    """What a node that saw payment `pid` keeps: the payment, then its score."""
    key = f"router:{pid}"
    store.record_payments([(StoredPayment(key, str(payer), str(payee), "ETH", 3000.0, at), None)], [], [])
    store.record_scored(
        key, router, pid, score, decision, MODEL,
        [{"feature": "amount", "value": 1.0, "contribution": 0.5, "text": "amount is high"}],
        REASONS_HASH, {"amount": 1.0},
    )  # fmt: skip


def test_default_period_follows_chain_time_and_lists_chain_only_payments(
    deployed, node, payer, payee, tmp_path
):
    """The chain runs 60 days ahead of the wall clock (as demo chains do). With default dates the
    report still lists the flagged payments, and a payment the chain held that the node's store
    never saw appears as chain-only; it names the store, chain, router and block range it read."""
    contracts, deployment = deployed
    router = contracts["PaymentRouter"]
    anvil.pending_timestamp = int(time.time()) + 60 * DAY
    anvil.mine()
    store_path = tmp_path / "node.sqlite"
    store = Store(f"sqlite:///{store_path}")

    review, reject = int(router.reviewThreshold()), int(router.rejectThreshold())
    refunded, refunded_at = _pay(router, payer, payee, 1, 1)
    _remember(store, router.address, refunded, payer, payee, refunded_at, reject, "reject")
    _verdict(contracts, node, refunded, reject)
    settled, settled_at = _pay(router, payer, payee, 1, 2)
    _remember(store, router.address, settled, payer, payee, settled_at, 10, "settle")
    _verdict(contracts, node, settled, 10)
    unseen, unseen_at = _pay(router, payer, payee, 2, 3)  # another node's: never in this store
    _verdict(contracts, node, unseen, review)
    store.close()
    assert int(router.payment(unseen).status) == 2  # held
    assert min(refunded_at, unseen_at) > time.time() + 30 * DAY  # the premise: past the wall clock

    env = verdict_settings(deployment, store_url=f"sqlite:///{store_path}", model_dir=tmp_path / "no-model")
    result = CliRunner().invoke(app, ["report", "suspicious", "--format", "json"], env=env)

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    ids = {a["payment_id"]: a for a in body["activities"]}
    assert set(ids) == {refunded, unseen}
    assert ids[refunded]["source"] == "store" and ids[refunded]["score_bps"] == reject
    assert ids[unseen]["source"] == "chain-only" and ids[unseen]["status_now"] == "held"
    assert ids[unseen]["amount"] == "2" and ids[unseen]["subject"] == str(payer)
    assert ids[unseen]["flags"][0].startswith("held:") and "chain-only" in ids[unseen]["flags"][0]
    sources = body["report"]["sources"]
    assert sources["store"] == f"sqlite:///{store_path}"
    assert sources["chain"]["payment_router"] == router.address
    assert sources["chain"]["blocks"] == [Deployment.load(deployment).block, anvil.blocks.height]
    assert sources["clock"].startswith("now from chain time")
    assert "now from chain time" in result.stderr and str(store_path) in result.stderr


def test_without_a_chain_now_is_the_stores_latest_payment_and_the_period_says_so(
    store: Store, manifest: Path
):
    """Offline (nothing listens on the RPC port) the default period ends at the store's latest
    router payment, not at the wall clock, and the clock phrase names the store and the failure."""
    deployment = Deployment("local", 31337, 5, {"RiskOracle": "0x" + "22" * 20, "PaymentRouter": ROUTER})
    offline = ChainClient("http://127.0.0.1:9", deployment, load_abis(manifest))
    future = int(time.time()) + 90 * DAY
    store.record_payments(
        [
            (StoredPayment("router:1", "0xA", "0xB", "ETH", 1.0, future - DAY), None),
            (StoredPayment("router:2", "0xA", "0xB", "ETH", 1.0, future), None),
        ],
        [],
        [],
    )
    period = report_period(None, None, chain=offline, store=store)
    assert period.end == future and period.start == future - 30 * DAY
    assert period.clock.startswith("now from the store's latest payment") and "127.0.0.1:9" in period.clock

    given = report_period("2026-11-01", "2026-11-02", chain=offline, store=store)
    assert (given.start, given.end, given.clock) == (1_793_491_200, 1_793_663_999, "given by --from and --to")
    only_to = report_period(None, "2026-11-30", chain=offline, store=store)
    assert only_to.end - only_to.start == 30 * DAY and only_to.clock == "from 30 days before --to"


@pytest.mark.parametrize("seen", [False, True], ids=["chain-only", "stored"])
def test_an_escrow_release_the_gate_rejected_is_reported_whether_or_not_the_node_saw_it(
    local_roles, node, payer, payee, tmp_path, seen
):
    """A milestone release the gate rejected (ReleaseRejected) is reported as an escrow case: the
    buyer as subject, the amount from the request; with the node's score if its store has the
    release, else as chain-only."""
    world = deploy_world(local_roles, models=[MODEL], escrow=True, root=tmp_path)
    contracts = world.contracts
    escrow, stable, oracle = contracts["Escrow"], contracts["MockStablecoin"], contracts["RiskOracle"]
    buyer, supplier = payer, payee
    amount = 9_500 * 10**6
    stable.mint(buyer, amount, sender=local_roles.deployer)
    stable.approve(escrow, amount, sender=buyer)
    due = anvil.pending_timestamp + 7 * DAY
    agreement = int(escrow.createAgreement(supplier, stable, [amount], [due], sender=buyer).return_value)
    escrow.requestRelease(agreement, 0, sender=supplier)
    confirmed = escrow.confirmRelease(agreement, 0, sender=buyer)
    [requested] = list(confirmed.decode_logs(escrow.ReleaseRequested))
    gate_id = int(requested.gateId)
    no_terms = (ETH, ETH, ETH, 0)  # the escrow stores its terms in full and ignores a verdict's
    oracle.submitVerdicts([(escrow.address, MODEL, [(gate_id, 10_000, REASONS_HASH, no_terms)])], sender=node)
    store_path = tmp_path / "node.sqlite"
    store = Store(f"sqlite:///{store_path}")
    if seen:
        at = int(anvil.blocks[confirmed.block_number].timestamp)
        key = f"escrow:{gate_id}"
        store.record_payments(
            [(StoredPayment(key, str(buyer), str(supplier), "mUSD", 9_500.0, at), None)], [], []
        )
        store.record_scored(key, escrow.address, gate_id, 10_000, "reject", MODEL, [], REASONS_HASH, {})
    store.close()

    env = verdict_settings(world.deployment, store_url=f"sqlite:///{store_path}", model_dir=tmp_path / "m")
    result = CliRunner().invoke(app, ["report", "suspicious", "--format", "json"], env=env)

    assert result.exit_code == 0, result.output
    [activity] = json.loads(result.stdout)["activities"]
    assert activity["case_id"] == f"escrow:{gate_id}"
    assert activity["source"] == ("store" if seen else "chain-only")
    assert activity["score_bps"] == (10_000 if seen else None)
    assert activity["status_now"] == "flagged" and activity["flags"][0].startswith("flagged:")
    assert (activity["subject"], activity["counterparty"]) == (str(buyer), str(supplier))
    assert activity["amount"] == "9500" and activity["token"] == "mUSD"
    assert activity["request_tx"].lower() == str(confirmed.txn_hash).lower()
