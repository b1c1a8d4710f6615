"""Invariants of the real PaymentRouter + RiskOracle under random action sequences on anvil.

A Hypothesis state machine pays (ETH and the stablecoin, `pay` and `payMany`, three payers, two
EOA payees and a payee contract that refuses ETH), posts verdicts with random scores through the
real RiskOracle, reviews, reclaims after time jumps, pauses and unpauses, withdraws, sweeps fees
and changes the thresholds and the fee. A Python ghost ledger predicts every outcome; after every
step the chain must agree with it:

* conservation, per token t in {ETH, stablecoin}:
      balance(router, t) == sum(amount of every Pending or Held payment in t)
                            + sum over accounts a of credited(a, t) + feesAccrued(t)
  and credited(a, t), feesAccrued(t) equal the ghost's own sums;
* every payment is in exactly one state, the one the ghost predicts; Settled and Refunded are
  terminal (a verdict, review or reclaim on them changes nothing);
* nothing is paid out twice: every payment id appears in at most one PaymentSettled or
  PaymentRefunded event, and every payee's and the treasury's balance moved by exactly what the
  ghost paid them (payees and the treasury never send transactions, so their ETH is exact too);
* a settlement's fee is floor(amount * feeBps / 10_000) with the fee in force, never above
  MAX_FEE_BPS;
* pause never blocks a refund: a rejecting verdict, a rejecting review and a due reclaim all
  succeed while paused;
* only a final verdict (a transaction of the oracle node through the RiskOracle) or a reviewer's
  approval of a Held payment emits PaymentSettled; direct `applyVerdict` calls and outsiders'
  reviews revert.

Each Hypothesis example starts from an anvil snapshot and restores it at the end, so examples
never see each other's state. Example counts: `VERDICT_HYPOTHESIS_PROFILE=ci` (default: 8
examples of up to 30 steps, about 1.5 minutes on 2 shared cores), `soak` (40 of 40, about 4.5
minutes) or `long` (300 of 60, over an hour).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from ape.exceptions import ApeException
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from router_helpers import ETH, HELD, PENDING, REF, REFUNDED, SETTLED, USD, verdict

BPS = 10_000
DAY = 86_400
MAX_PAYMENTS = 24
SCORES = [0, 1, 2999, 5999, 6000, 7500, 8999, 9000, 9999, 10_000]
PROFILES = {
    "ci": {"max_examples": 8, "stateful_step_count": 30},
    "soak": {"max_examples": 40, "stateful_step_count": 40},
    "long": {"max_examples": 300, "stateful_step_count": 60},
}


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


class RouterMachine(RuleBasedStateMachine):
    env: dict = {}
    stats: Counter = Counter()

    @initialize()
    def start(self):
        env = self.env
        self.chain, self.router, self.oracle, self.coin = (
            env["chain"],
            env["router"],
            env["oracle"],
            env["coin"],
        )
        self.snapshot = self.chain.snapshot()
        self.tokens = [ETH, self.coin.address]
        self.payments: dict[int, dict] = {}
        self.touched: set[int] = set()  # ids whose state a step may have changed
        self.paid_out: Counter = Counter()  # payment id -> Settled/Refunded events seen
        self.ghost_credit: Counter = Counter()  # (account, token) -> credited
        self.ghost_fees: Counter = Counter()  # token -> accrued
        self.ghost_received: Counter = Counter()  # (account, token) -> pushed to it
        self.accepting = False
        self.env["refuser"].setAccepting(False, sender=env["deployer"])
        self.watched = [*env["payees"], env["treasury"]]
        self.start_balances = {(str(a), t): self._balance(a, t) for a in self.watched for t in self.tokens}

    def teardown(self):
        if hasattr(self, "snapshot"):
            try:
                self._check_all()
            finally:
                self.chain.restore(self.snapshot)

    # --- helpers -------------------------------------------------------------------------------

    def _balance(self, account, token) -> int:
        return account.balance if token == ETH else self.coin.balanceOf(account)

    def _send(self, name, fn, *args, **kwargs):
        """Sends; returns the receipt or None if it reverted. Records which ids it paid out."""
        try:
            receipt = fn(*args, **kwargs)
        except ApeException:
            self.stats[f"{name}:reverted"] += 1
            return None
        self.stats[name] += 1
        settled = [log for log in self.router.PaymentSettled.from_receipt(receipt)]
        refunded = [log for log in self.router.PaymentRefunded.from_receipt(receipt)]
        for log in settled + refunded:
            self.paid_out[int(log.id)] += 1
            self.touched.add(int(log.id))
        if settled and name not in ("verdict", "approve"):
            raise AssertionError(f"{name} moved money to a payee: only a verdict or a review may")
        for log in settled:
            p = self.payments[int(log.id)]
            assert int(log.fee) == p["amount"] * self.fee // BPS, "fee differs from the configured bps"
            assert int(log.fee) * BPS <= p["amount"] * 1000, "fee above MAX_FEE_BPS"
        return receipt

    def _ts(self, receipt) -> int:
        return self.chain.blocks[receipt.block_number].timestamp

    def _settle(self, pid):
        p = self.payments[pid]
        fee = p["amount"] * self.fee // BPS
        p["status"] = SETTLED
        self.ghost_fees[p["token"]] += fee
        self._push(p["payee"], p["token"], p["amount"] - fee)

    def _refund(self, pid):
        p = self.payments[pid]
        p["status"] = REFUNDED
        self._push(p["payer"], p["token"], p["amount"])

    def _push(self, to, token, amount):
        if to == str(self.env["refuser"]) and token == ETH and not self.accepting:
            self.ghost_credit[(to, token)] += amount
        else:
            self.ghost_received[(to, token)] += amount

    def _ids(self, data, n=1):
        return data.draw(st.lists(st.sampled_from(sorted(self.payments)), min_size=1, max_size=n))

    @property
    def fee(self) -> int:
        return self.router.feeBps()

    def _record(self, first_id, payer, payees, token, amounts):
        for offset, (payee, amount) in enumerate(zip(payees, amounts, strict=True)):
            pid = first_id + offset
            on_chain = self.router.payment(pid)
            assert on_chain.amount == amount and on_chain.status == PENDING
            self.touched.add(pid)
            self.payments[pid] = {
                "payer": str(payer),
                "payee": str(payee),
                "token": token,
                "amount": amount,
                "status": PENDING,
                "deadline": on_chain.deadline,
            }

    # --- paying --------------------------------------------------------------------------------

    @precondition(lambda self: len(self.payments) < MAX_PAYMENTS)
    @rule(payer=st.integers(0, 2), payee=st.integers(0, 2), eth=st.booleans(), amount=st.integers(1, 10**6))
    def pay(self, payer, payee, eth, amount):
        self._pay(payer, payee, eth, amount)

    def _pay(self, payer, payee, eth, amount):
        payer, payee = self.env["payers"][payer], self.env["payees"][payee]
        token = ETH if eth else self.coin.address
        value = amount * 10**9 if eth else amount
        first = self.router.paymentCount() + 1
        kwargs = {"value": value} if eth else {}
        if self._send("pay", self.router.pay, payee, token, value, REF, sender=payer, **kwargs) is None:
            assert self.router.paused(), "pay reverted while not paused"
            return
        self._record(first, payer, [payee], token, [value])

    @precondition(lambda self: len(self.payments) < MAX_PAYMENTS)
    @rule(
        payer=st.integers(0, 2),
        eth=st.booleans(),
        items=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 10**6)), min_size=1, max_size=4),
    )
    def pay_many(self, payer, eth, items):
        payer = self.env["payers"][payer]
        payees = [self.env["payees"][i] for i, _ in items]
        token = ETH if eth else self.coin.address
        amounts = [a * 10**9 if eth else a for _, a in items]
        first = self.router.paymentCount() + 1
        kwargs = {"value": sum(amounts)} if eth else {}
        receipt = self._send(
            "pay_many",
            self.router.payMany,
            payees,
            token,
            amounts,
            [REF] * len(items),
            sender=payer,
            **kwargs,
        )
        if receipt is None:
            assert self.router.paused(), "payMany reverted while not paused"
            return
        self._record(first, payer, payees, token, amounts)

    # --- the gate ------------------------------------------------------------------------------

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), score=st.sampled_from(SCORES))
    def post_verdicts(self, data, score):
        pending = sorted(pid for pid, p in self.payments.items() if p["status"] == PENDING)
        if pending and data.draw(st.booleans()):  # mostly live payments, sometimes anything
            ids = sorted(set(data.draw(st.lists(st.sampled_from(pending), min_size=1, max_size=3))))
        else:
            ids = sorted(set(self._ids(data, 3)))
        self._post(ids, score)
        if data.draw(st.booleans()):  # a reviewer looks at the queue right away
            self._review(data, data.draw(st.sampled_from([True, True, False])))
        if data.draw(st.integers(0, 3)) == 0:  # an outsider tries to shortcut the gate
            self._intrude(data)

    def _post(self, ids, score):
        self.touched.update(ids)
        batch = [verdict(self.router, i, score) for i in ids]
        review, reject, paused = (
            self.router.reviewThreshold(),
            self.router.rejectThreshold(),
            self.router.paused(),
        )
        fee = self.fee
        receipt = self._send("verdict", self.oracle.submitVerdicts, batch, sender=self.env["node"])
        assert receipt is not None, "a batch of in-range verdicts from a registered node reverted"
        ts = self._ts(receipt)
        for pid in ids:
            p = self.payments[pid]
            if p["status"] != PENDING or ts > p["deadline"]:
                continue  # already decided or late: skipped, nothing moves
            p["score"] = score
            if score >= reject:
                self._refund(pid)
            elif score >= review or paused:
                p["status"] = HELD
            else:
                assert fee == self.fee
                self._settle(pid)

    def _intrude(self, data):
        """An outsider may neither apply a verdict directly nor review; both revert, nothing moves."""
        pid = self._ids(data)[0]
        self.touched.add(pid)
        outsider = self.env["outsider"]
        assert self._send("forged_verdict", self.router.applyVerdict, pid, 0, sender=outsider) is None
        assert self._send("outsider_review", self.router.review, pid, True, sender=outsider) is None

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), approve=st.booleans())
    def review(self, data, approve):
        self._review(data, approve)

    def _review(self, data, approve):
        held = sorted(pid for pid, p in self.payments.items() if p["status"] == HELD)
        if held and data.draw(st.integers(0, 3)) > 0:  # mostly the review queue, sometimes anything
            pid = data.draw(st.sampled_from(held))
        else:
            pid = self._ids(data)[0]
        self._review_one(pid, approve)

    def _review_one(self, pid, approve):
        self.touched.add(pid)
        p, paused = self.payments[pid], self.router.paused()
        name = "approve" if approve else "reject"
        receipt = self._send(name, self.router.review, pid, approve, sender=self.env["reviewer"])
        if p["status"] == HELD and not (approve and paused):
            assert receipt is not None, f"{name} of a held payment reverted (paused={paused})"
            self._settle(pid) if approve else self._refund(pid)
        else:
            assert receipt is None, (
                "review of a payment that is not held (or approval while paused) succeeded"
            )

    @precondition(lambda self: len(self.payments) < MAX_PAYMENTS)
    @rule(data=st.data(), eth=st.booleans())
    def lifecycle(self, data, eth):
        """A fresh payment driven to the end in one step, so that short runs reach every outcome:
        pay, a verdict relative to the thresholds in force (settle, hold or reject, in turn), a
        review of a hold, then the fee sweep and the refusing payee's withdrawal when due."""
        env = self.env
        if self.router.paused():
            self._send("unpause", self.router.unpause, sender=env["deployer"])
        self.stats["lifecycle"] += 1
        k = self.stats["lifecycle"]
        payee_index = k % 3  # 2 is the payee that refuses ETH: its settlements are credited
        eth = eth or payee_index == 2
        self._pay(data.draw(st.integers(0, 2)), payee_index, eth, data.draw(st.integers(10, 10**6)))
        pid = max(self.payments)
        review, reject = self.router.reviewThreshold(), self.router.rejectThreshold()
        self._post([pid], [max(review - 1, 0), review, reject][(k // 3) % 3])
        if self.payments[pid]["status"] == HELD:
            self._review_one(pid, k % 4 < 2)
        token = self.payments[pid]["token"]
        if self.ghost_fees[token]:
            self._sweep(token)
        if any(self.ghost_credit.values()):
            self._withdraw()

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def reclaim(self, data):
        pid = self._ids(data)[0]
        self.touched.add(pid)
        p = self.payments[pid]
        receipt = self._send("reclaim", self.router.reclaim, pid, sender=self.env["outsider"])
        if receipt is None:
            return
        ts = self._ts(receipt)
        window = self.router.reviewWindow()
        assert (p["status"] == PENDING and ts > p["deadline"]) or (
            p["status"] == HELD and ts > p["deadline"] + window
        ), "reclaim succeeded before it was due"
        self._refund(pid)

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def reclaim_due(self, data):
        """A reclaim that is due succeeds, paused or not."""
        due = [
            pid
            for pid, p in self.payments.items()
            if (p["status"] == PENDING and self.chain.pending_timestamp > p["deadline"] + 5)
            or (
                p["status"] == HELD
                and self.chain.pending_timestamp > p["deadline"] + self.router.reviewWindow() + 5
            )
        ]
        if not due:
            return
        pid = data.draw(st.sampled_from(due))
        self.touched.add(pid)
        receipt = self._send("reclaim", self.router.reclaim, pid, sender=self.env["outsider"])
        assert receipt is not None, f"a due reclaim reverted (paused={self.router.paused()})"
        self._refund(pid)

    @rule(seconds=st.sampled_from([60, 1800, 3601, 3 * DAY + 1]))
    def warp(self, seconds):
        self.chain.pending_timestamp += seconds

    # --- administration and withdrawals ----------------------------------------------------------

    @rule(data=st.data(), action=st.sampled_from(["pause", "thresholds", "fee", "sweep"]))
    def admin(self, data, action):
        """Pause or unpause, new thresholds or fee (some invalid), a fee sweep by anyone."""
        env = self.env
        if action == "pause":
            if self.router.paused():
                self._send("unpause", self.router.unpause, sender=env["deployer"])
            else:
                self._send("pause", self.router.pause, sender=env["guardian"])
        elif action == "thresholds":
            review, gap = data.draw(st.integers(0, BPS)), data.draw(st.integers(0, 4000))
            reject = min(BPS, review + gap)
            receipt = self._send(action, self.router.setThresholds, review, reject, sender=env["deployer"])
            assert (receipt is None) == (review >= reject)
        elif action == "fee":
            fee = data.draw(st.sampled_from([0, 1, 30, 999, 1000, 1001, 5000]))
            receipt = self._send(action, self.router.setFeeBps, fee, sender=env["deployer"])
            assert (receipt is None) == (fee > 1000)
        else:
            self._sweep(ETH if data.draw(st.booleans()) else self.coin.address)

    def _sweep(self, token):
        if self._send("sweep", self.router.sweepFees, token, sender=self.env["outsider"]) is not None:
            self.ghost_received[(str(self.env["treasury"]), token)] += self.ghost_fees.pop(token, 0)
        else:
            assert self.ghost_fees[token] == 0

    @precondition(lambda self: any(v for (a, t), v in self.ghost_credit.items()))
    @rule()
    def refuser_withdraws(self):
        self._withdraw()

    def _withdraw(self):
        """The refusing payee starts accepting ETH and pulls its credit."""
        refuser, key = self.env["refuser"], (str(self.env["refuser"]), ETH)
        refuser.setAccepting(True, sender=self.env["deployer"])
        self.accepting = True
        if (
            self._send("withdraw", refuser.withdrawFrom, self.router, ETH, sender=self.env["deployer"])
            is not None
        ):
            self.ghost_received[key] += self.ghost_credit.pop(key, 0)
        else:
            assert self.ghost_credit[key] == 0
        refuser.setAccepting(False, sender=self.env["deployer"])
        self.accepting = False

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def books_balance(self):
        if not hasattr(self, "router"):
            return
        # Pushes to EOAs and token pushes always succeed here: only the refuser can hold credit.
        # (`_check_all` at the end of each example reads every account's credit.)
        accounts = [str(self.env["refuser"])]
        for token in self.tokens:
            unsettled = sum(
                p["amount"]
                for p in self.payments.values()
                if p["token"] == token and p["status"] in (PENDING, HELD)
            )
            credited = sum(self.router.credited(a, token) for a in accounts)
            fees = self.router.feesAccrued(token)
            assert credited == sum(v for (a, t), v in self.ghost_credit.items() if t == token)
            assert fees == self.ghost_fees[token]
            assert self._balance(self.router, token) == unsettled + credited + fees, f"{token}: books off"

    @invariant()
    def states_match_and_nothing_paid_twice(self):
        if not hasattr(self, "router"):
            return
        self._check_states(self.touched)
        self.touched = set()
        for account in self.watched:
            for token in self.tokens:
                moved = self._balance(account, token) - self.start_balances[(str(account), token)]
                assert moved == self.ghost_received[(str(account), token)], (
                    f"{account} received {moved} in {token}"
                )

    def _check_states(self, ids):
        for pid in ids:
            p = self.payments[pid]
            assert self.router.payment(pid).status == p["status"], f"payment {pid}"
            assert self.paid_out[pid] == (1 if p["status"] in (SETTLED, REFUNDED) else 0), (
                f"payment {pid} paid {self.paid_out[pid]}x"
            )

    def _check_all(self):
        """Every payment's state and every account's credit, once per example (costly to read)."""
        self._check_states(self.payments)
        for account in (*self.env["payers"], *self.env["payees"], self.env["treasury"]):
            for token in self.tokens:
                assert self.router.credited(account, token) == self.ghost_credit[(str(account), token)]


def test_router_books_states_and_payouts_hold_under_random_sequences(
    project,
    chain,
    router,
    risk_oracle,
    stablecoin,
    deployer,
    payer,
    payee,
    node,
    reviewer,
    guardian,
    treasury,
    outsider,
    accounts,
):
    payers = [payer, accounts[10], accounts[11]]
    for extra in payers[1:]:
        stablecoin.mint(extra, 1_000_000 * USD, sender=deployer)
        stablecoin.approve(router, 2**256 - 1, sender=extra)
    refuser = deployer.deploy(project.RevertingPayee)
    RouterMachine.env = {
        "chain": chain,
        "router": router,
        "oracle": risk_oracle,
        "coin": stablecoin,
        "deployer": deployer,
        "payers": payers,
        "payees": [payee, accounts[12], refuser],
        "refuser": refuser,
        "node": node,
        "reviewer": reviewer,
        "guardian": guardian,
        "treasury": treasury,
        "outsider": outsider,
    }
    RouterMachine.stats = Counter()
    profile = PROFILES[os.environ.get("VERDICT_HYPOTHESIS_PROFILE", "ci")]
    run_state_machine_as_test(
        RouterMachine,
        settings=settings(
            **profile, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
        ),
    )
    print("\nactions:", dict(sorted(RouterMachine.stats.items())))
    for action in (
        "pay",
        "pay_many",
        "verdict",
        "approve",
        "reject",
        "reclaim",
        "pause",
        "sweep",
        "withdraw",
    ):
        assert RouterMachine.stats[action] > 0, f"the machine never managed to {action}"
