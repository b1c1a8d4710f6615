"""The demo's moving parts, kept out of `verdict_demo/story.py` so that file reads as the story it tells."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.datagen import DAY, Scenario, generate, prime_history
from oracle.features import OnlineFeatures, PaymentRecord
from oracle.gate import ROUTER_STATUS
from oracle.model import ModelArtifact, save
from oracle.store import Store
from oracle.traffic import OutcomeWatcher, Sender, fund, pay_tx, payment_id_from_receipt, percentile, wallets
from oracle.train import recalibrate, train

TRAINING_ROWS = 40_000  # labelled synthetic payments the demo's model is trained on (README.md says so)
CALIBRATION_SHARE = 1 / 3
"""The newest share of the scenario's primed history that places the demo model's risk scale: the
older days are the store's warm-up, when windows and payment counts start from nothing (every
account looks new), as no live payment's do."""


@dataclass
class ScenarioClock:
    """Chain time of each scenario payment: the live start plus its offset, plus however far the
    chain's clock was moved past the scenario's by something else (the DAO's vote takes minutes of
    chain time), so every account keeps the spacing of its payments and with it its velocity features
    (pressed one second apart after a vote, a payer's ordinary payments look like a burst)."""

    live_start: int
    shift: int = 0

    def at(self, offset_s: int, latest: int) -> int:
        """The timestamp for a payment at `offset_s` on a chain whose latest block is at `latest`."""
        when = self.live_start + self.shift + int(offset_s)
        if when <= latest:
            self.shift += latest + 1 - when
            when = latest + 1
        return when


@dataclass
class Replay:
    """Maps scenario accounts to chain accounts and tokens, and sends the scenario's payments."""

    chain: ChainClient
    sender: Sender
    scenario: Scenario
    wallets: list[LocalAccount]
    tokens: dict[str, str]  # symbol -> token address
    clock: ScenarioClock
    watcher: OutcomeWatcher
    sent: list[tuple[int, Any]] = field(default_factory=list)  # (payment id, scenario row)

    @classmethod
    def on(cls, world: Any, scenario: Scenario, seed: int, rpc_url: str, manifest: Path) -> Replay:
        """A replay of `scenario` against a deployed `verdict_deploy.World`: its chain client, sender
        and outcome watcher (started); live payments begin at least an hour of chain time from now,
        at the time of day the scenario's own live start has (`Scenario.live_start_after`)."""
        client = connect(rpc_url, world.deployment, manifest)
        stable = str(world.stablecoin.address)
        usdc = world.contracts.get("MockUSDC")
        return cls(
            chain=client,
            sender=Sender(client.w3, client.chain_id()),
            scenario=scenario,
            wallets=demo_wallets(scenario, seed),
            tokens={"ETH": "0x" + "00" * 20, "mUSD": stable, "USDC": str(usdc.address) if usdc else stable},
            clock=ScenarioClock(
                scenario.live_start_after(int(client.w3.eth.get_block("latest")["timestamp"]))
            ),
            watcher=OutcomeWatcher(client, from_block=world.start_block).start(),
        )

    @property
    def live_start(self) -> int:
        return self.clock.live_start

    def address_of(self, index: int) -> str:
        return self.wallets[index].address

    def base_units(self, symbol: str, amount: float) -> int:
        decimals = 18 if symbol == "ETH" else 6
        return max(1, round(amount * 10**decimals))

    def send(self, row: Any) -> int:
        """Sends one payment at its scenario time and returns its id once the receipt is in."""
        w3 = self.chain.w3
        latest = w3.eth.get_block("latest")["timestamp"]
        when = self.clock.at(int(row.offset_s), int(latest))
        w3.provider.make_request("evm_setNextBlockTimestamp", [when])
        token = self.tokens[row.token]
        tx = pay_tx(
            self.chain,
            self.address_of(int(row.payee)),
            token,
            self.base_units(row.token, float(row.amount)),
            keccak(text=f"demo:{len(self.sent)}"),
        )
        account = self.wallets[int(row.payer)]
        receipt = self.sender.wait(self.sender.send(account, tx))
        if int(receipt["status"]) != 1:
            try:
                w3.eth.call({**tx, "from": account.address}, receipt["blockNumber"] - 1)
                reason = "out of gas?"
            except Exception as exc:  # noqa: BLE001 - the revert reason is all we want from it
                reason = str(exc)
            raise RuntimeError(f"pay() reverted for {row.token} {row.amount}: {reason}")
        payment_id = payment_id_from_receipt(self.chain, receipt)
        self.watcher.requested(payment_id)
        self.sent.append((payment_id, row))
        return payment_id

    def wait_outcome(self, payment_id: int, timeout: float = 15.0) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcome = self.watcher.outcomes.get(payment_id)
            if outcome is not None:
                return outcome[0]
            time.sleep(0.002)
        return None


def train_model(
    model_dir: Path, seed: int, console: Console, scenario: Scenario
) -> tuple[ModelArtifact, dict[str, Any]]:
    """A fresh model for `scenario`'s traffic: seconds, not minutes.

    Trained on labelled synthetic history at the scenario's density (payments per consumer a day:
    velocity features count payments per hour and day), then its risk scale is placed on the
    legitimate traffic of the scenario's own population, the newest part of the month the node's
    store is primed with (`oracle.train.recalibrate`), as an operator calibrates on recent traffic
    of the population the node serves. The training table's population (hundreds of consumers,
    about ten days of history each) is not the demo's (50 consumers with a month behind them, ten
    merchants), and the score is a quantile of legitimate traffic: calibrated on the training
    table, the model reviewed several times the share of the demo's payments its thresholds mean.
    """
    density = scenario.payments_per_consumer_day
    with console.status(
        f"training LightGBM on {TRAINING_ROWS:,} labelled payments ({density:.1f} per consumer a day)..."
    ):
        started = time.perf_counter()
        frame = generate(rows=TRAINING_ROWS, seed=seed, fraud_rate=0.01, payments_per_consumer_day=density)
        if model_dir.exists():
            shutil.rmtree(model_dir)
        trained, metrics = train(frame, label="is_fraud", time_col="timestamp", seed=seed, out=model_dir)
        history = scenario.table(scenario.live_start).iloc[: len(scenario.history)]
        artifact = recalibrate(
            trained,
            history,
            since=int(scenario.live_start - scenario.history_days * CALIBRATION_SHARE * DAY),
            source="the demo population's primed history (its newest third)",
        )
        save(artifact, model_dir)
    table = Table(title=f"model {artifact.model_id[:18]}… trained in {time.perf_counter() - started:.1f} s")
    for column in ("auprc", "roc_auc", "recall_at_1pct_fpr", "n_train", "n_test", "positives_test"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            _fmt(metrics.get(c))
            for c in ("auprc", "roc_auc", "recall_at_1pct_fpr", "n_train", "n_test", "positives_test")
        )
    )
    console.print(table)
    return artifact, metrics


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def prime_store(store_url: str, scenario: Scenario, replay: Replay) -> int:
    """Account profiles (KYC data) and a month of history, as an operator would have them."""
    store = Store(store_url)
    try:
        return prime_history(OnlineFeatures(store), scenario, replay.address_of, replay.live_start)
    finally:
        store.close()


def prime_trading_partners(store_url: str, buyer: str, supplier: str, now: int) -> None:
    """A buyer and a supplier who have traded monthly for two years: their KYC profiles and history."""
    store = Store(store_url)
    try:
        store.upsert_account(buyer, "US", now - 900 * 86_400)
        store.upsert_account(supplier, "US", now - 1200 * 86_400)
        OnlineFeatures(store).compute_many(
            [
                PaymentRecord(
                    f"history:escrow:{m}",
                    buyer,
                    supplier,
                    "mUSD",
                    1000.0 + 250 * (m % 7),
                    now - m * 30 * 86_400,
                )
                for m in range(24, 0, -1)
            ]
        )
    finally:
        store.close()


def summarize(replay: Replay, risk_oracle: Any, split: int | None = None) -> dict[str, Any]:
    """The figures `demo-summary.json` reports, read back from the chain. `split`: how many of the
    payments were sent before the DAO's threshold vote (the legitimate review rate on each side)."""
    counts: Counter[str] = Counter()
    caught = missed = without_verdict = 0
    legit = [[0, 0, 0], [0, 0, 0]]  # before / after the vote: legitimate payments, held, refunded
    router = replay.chain.router
    for n, (payment_id, row) in enumerate(replay.sent):
        first = replay.watcher.outcomes.get(payment_id, ("pending", 0.0))[0]
        counts[first] += 1
        if int(row.is_fraud):
            if first in ("held", "refunded"):
                caught += 1
            elif first == "settled":
                missed += 1
        elif first in ("settled", "held", "refunded"):
            side = legit[int(split is not None and n >= split)]
            side[0] += 1
            side[1] += first == "held"
            side[2] += first == "refunded"
        status = ROUTER_STATUS[int(router.functions.payment(payment_id).call()[5])]
        is_final, _ = risk_oracle.functions.finalScore(router.address, payment_id).call()
        if status == "settled" and not is_final:
            without_verdict += 1
    latencies = replay.watcher.latencies_ms()
    n_legit = legit[0][0] + legit[1][0]
    rates = {
        "legit_payments": n_legit,
        # held for review or refunded at once: the share of legitimate traffic the policy stops
        "legit_review_rate": _rate(legit[0][1] + legit[1][1] + legit[0][2] + legit[1][2], n_legit),
        "legit_refund_rate": _rate(legit[0][2] + legit[1][2], n_legit),
    }
    if split is not None:
        rates["legit_review_rate_before_vote"] = _rate(legit[0][1] + legit[0][2], legit[0][0])
        rates["legit_review_rate_after_vote"] = _rate(legit[1][1] + legit[1][2], legit[1][0])
    return {
        **rates,
        "payments": len(replay.sent),
        "verdicts": counts["settled"] + counts["held"] + counts["refunded"],
        "settled": counts["settled"],
        "held": counts["held"],
        "refunded": counts["refunded"],
        "pending": counts["pending"],
        "settled_without_verdict": without_verdict,
        "frauds": int(sum(int(r.is_fraud) for _, r in replay.sent)),
        "frauds_caught": caught,
        "frauds_missed": missed,
        "latency_ms_p50": _round(percentile(latencies, 50)),
        "latency_ms_p99": _round(percentile(latencies, 99)),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def connect(rpc_url: str, deployment_path: Path, manifest: Path) -> ChainClient:
    return ChainClient(rpc_url, Deployment.load(deployment_path), load_abis(manifest))


def demo_wallets(scenario: Scenario, seed: int) -> list[LocalAccount]:
    return wallets(len(scenario.accounts), seed=f"verdict-demo-{seed}")


def fund_payers(replay: Replay, scenario: Scenario) -> None:
    payers = sorted(set(scenario.live["payer"].astype(int)))
    accounts = [replay.wallets[i] for i in payers]
    for symbol in sorted(set(scenario.live["token"]) - {"ETH"}):
        need = scenario.live.loc[scenario.live["token"] == symbol, "amount"].sum()
        fund(
            replay.chain,
            accounts,
            eth_wei=10**24,
            token=replay.tokens[symbol],
            token_units=replay.base_units(symbol, float(need) * 2 + 1),
            sender=replay.sender,
        )
    fund(replay.chain, accounts, eth_wei=10**24, token=None, token_units=0, sender=replay.sender)
