"""Payment traffic against a long-lived local deployment (`ape run traffic`).

The payments come from `oracle.datagen.generate_scenario` (legitimate consumers and merchants plus
every fraud typology of docs/typologies.md), the wallets, funding, signing and outcome watching from
`oracle.traffic`, as in the demo; unlike the demo, payments go out at a steady rate in real chain time
and the command does not wait for each verdict before the next payment.

    summary = send_traffic(client, count=200, rate=20, mix="default", seed=1, wait=60)

Local chains only: the payers' wallets are deterministic throwaway keys funded with `anvil_setBalance`
and the open-mint mock stablecoins.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from oracle.chain import ChainClient
from oracle.datagen import Scenario, generate_scenario, prime_history
from oracle.features import OnlineFeatures
from oracle.store import Store
from oracle.traffic import OutcomeWatcher, Sender, fund, pay_tx, payment_id_from_receipt, wallets

ETH = "0x" + "00" * 20
# The mixes: which of a scenario's payments go out. "default" is the scenario as generated (about
# 1% legitimate-looking noise aside, every typology at least once among legitimate traffic).
MIXES = ("default", "legit", "fraud")
DECIMALS = {"ETH": 18, "mUSD": 6, "USDC": 6}


@dataclass(frozen=True)
class TrafficPlan:
    """The payments to send (scenario rows) and the wallets and tokens they use."""

    rows: list[Any]
    wallets: list[Any]
    tokens: dict[str, str]  # symbol -> token address
    scenario: Scenario

    def address_of(self, index: int) -> str:
        return self.wallets[index].address


def plan_traffic(client: ChainClient, *, count: int, mix: str, seed: int) -> TrafficPlan:
    """`count` payments of the `mix` from a scenario generated for `seed` (ValueError on bad input)."""
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}: choose one of {', '.join(MIXES)}")
    if count < 1:
        raise ValueError("count must be at least 1")
    contracts = client.deployment.contracts
    if "MockStablecoin" not in contracts:
        raise ValueError("the deployment has no MockStablecoin: traffic runs against a local deployment only")
    episodes = max(1, count // 40) if mix == "fraud" else 1
    # generate_scenario needs room for every typology's episode; ask for more and keep `count`.
    scenario = generate_scenario(
        n_accounts=max(20, count // 2),
        n_payments=max(count, 60 * episodes),
        seed=seed,
        episodes_per_typology=episodes,
    )
    live = scenario.live[scenario.live["payer"] != scenario.live["payee"]]
    if mix == "legit":
        live = live[live["is_fraud"] == 0]
    elif mix == "fraud":
        live = live[live["is_fraud"] == 1]
    rows = list(live.head(count).itertuples())
    stable = contracts["MockStablecoin"]
    tokens = {"ETH": ETH, "mUSD": stable, "USDC": contracts.get("MockUSDC", stable)}
    return TrafficPlan(
        rows, wallets(len(scenario.accounts), seed=f"verdict-traffic-{seed}"), tokens, scenario
    )


def onboard(store_url: str, plan: TrafficPlan, now: int) -> int:
    """Loads the generated customers' KYC profiles (country, account opening) and their last month of
    payments into the node's store, as an operator's onboarding would; without them every payer looks
    like an account opened a moment ago. Returns the history rows added."""
    store = Store(store_url)
    try:
        return prime_history(OnlineFeatures(store), plan.scenario, plan.address_of, now)
    finally:
        store.close()


def base_units(symbol: str, amount: float) -> int:
    return max(1, round(amount * 10 ** DECIMALS.get(symbol, 18)))


def fund_plan(client: ChainClient, plan: TrafficPlan, sender: Sender) -> None:
    """ETH for gas (and ETH payments) and the mock stablecoins with a router allowance, per payer."""
    payers = sorted({int(row.payer) for row in plan.rows})
    accounts = [plan.wallets[i] for i in payers]
    for address in sorted(set(plan.tokens.values()) - {ETH}):
        need = sum(base_units(r.token, float(r.amount)) for r in plan.rows if plan.tokens[r.token] == address)
        if need:
            fund(client, accounts, eth_wei=10**24, token=address, token_units=2 * need + 1, sender=sender)
    fund(client, accounts, eth_wei=10**24, token=None, token_units=0, sender=sender)


def send_traffic(
    client: ChainClient,
    plan: TrafficPlan,
    *,
    rate: float,
    wait: float,
    progress: Any = None,
) -> dict[str, Any]:
    """Sends the plan's payments at `rate` per second, then waits up to `wait` seconds for their
    outcomes. Returns the summary: payment ids, outcomes overall and by typology."""
    w3 = client.w3
    # The node's own gas price rule: what the chain asks now, doubled for headroom (anvil's base fee
    # moves from block to block).
    sender = Sender(w3, client.chain_id(), gas_price=2 * int(w3.eth.gas_price) + 1)
    fund_plan(client, plan, sender)
    watcher = OutcomeWatcher(client, from_block=client.block_number() + 1).start()
    try:
        hashes: list[tuple[str, Any]] = []
        started = time.monotonic()
        for n, row in enumerate(plan.rows):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            tx = pay_tx(
                client,
                plan.wallets[int(row.payee)].address,
                plan.tokens[row.token],
                base_units(row.token, float(row.amount)),
                keccak(text=f"traffic:{time.time_ns()}:{n}"),
            )
            hashes.append((sender.send(plan.wallets[int(row.payer)], tx), row))
            if progress is not None:
                progress(n + 1)
        sent: list[tuple[int, Any]] = []
        failed = 0
        for tx_hash, row in hashes:
            receipt = sender.wait(tx_hash)
            if int(receipt["status"]) != 1:
                failed += 1
                continue
            payment_id = payment_id_from_receipt(client, receipt)
            watcher.requested(payment_id)
            sent.append((payment_id, row))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(pid not in watcher.outcomes for pid, _ in sent):
            time.sleep(0.1)
        return _summary(sent, failed, watcher.outcomes)
    finally:
        watcher.stop()


def _summary(
    sent: list[tuple[int, Any]], failed: int, outcomes: dict[int, tuple[str, float]]
) -> dict[str, Any]:
    overall: Counter[str] = Counter()
    by_typology: dict[str, Counter[str]] = {}
    for payment_id, row in sent:
        outcome = outcomes.get(payment_id, ("pending", 0.0))[0]
        overall[outcome] += 1
        by_typology.setdefault(str(row.typology), Counter())[outcome] += 1
    ids = [pid for pid, _ in sent]
    return {
        "sent": len(sent),
        "reverted": failed,
        "first_id": min(ids) if ids else None,
        "last_id": max(ids) if ids else None,
        "outcomes": dict(overall),
        "by_typology": {t: dict(c) for t, c in sorted(by_typology.items())},
        "frauds": [pid for pid, row in sent if int(row.is_fraud)],
    }
