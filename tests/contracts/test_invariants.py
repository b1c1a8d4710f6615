"""Invariants of the real PaymentRouter + RiskOracle under thousands of random action sequences.

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
  reviews revert with the named access errors.

The contracts are deployed by the ape fixtures; the machine drives them through `fastchain`
(raw JSON-RPC, one batch of views per check), at a few milliseconds per action. Each example
starts from an anvil snapshot and reverts to it at the end, so examples never see each other's
state. Example counts follow `VERDICT_HYPOTHESIS_PROFILE` (tests/profiles.py): `make test` 200
sequences of up to 25 steps, `make test-soak` (`soak`) 1,000 of 25 (about 2 minutes on 2 shared
cores), `deep` 5,000 of 40, `long` 50,000 of 60, `smoke` 50 of 25.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fastchain import FastChain, Reverted, fast
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from profiles import is_smoke, machine_settings
from router_helpers import ETH, HELD, PENDING, REF, REFUNDED, SETTLED, USD, batches, verdict

BPS = 10_000
MAX_FEE_BPS = 1000
DAY = 86_400
MAX_PAYMENTS = 24
SCORES = [0, 1, 5000, 9899, 9900, 9945, 9989, 9990, 9999, 10_000]  # around the default thresholds
# Payment struct fields, as `payment(id)` returns them
P_AMOUNT, P_DEADLINE, P_STATUS = 3, 4, 5


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


class RouterMachine(RuleBasedStateMachine):
    env: dict = {}
    stats: Counter = Counter()

    @initialize()
    def start(self):
        env = self.env
        self.chain: FastChain = env["chain"]
        self.router, self.oracle, self.coin, self.refuser = (
            env["router"],
            env["oracle"],
            env["coin"],
            env["refuser"],
        )
        self.snapshot = self.chain.snapshot()
        self.tokens = [ETH, self.coin.address.lower()]
        self.payments: dict[int, dict] = {}
        self.next_id = env["first_id"]
        self.touched: set[int] = set()  # ids whose state a step may have changed
        self.paid_out: Counter = Counter()  # payment id -> Settled/Refunded events seen
        self.ghost_credit: Counter = Counter()  # (account, token) -> credited
        self.ghost_fees: Counter = Counter()  # token -> accrued
        self.ghost_received: Counter = Counter()  # (account, token) -> pushed to it
        self.policy = dict(env["policy"])  # fee, review, reject, paused: what the ghost expects
        self.accepting = False
        self.listed = True  # the stablecoin is on the router's token list (issue 13.6)
        self.exact = False  # the stablecoin declared exact-transfer (issue 16.4): no balance measured
        self.blocked: set[str] = set()  # blocklisted payers (issue 16.4 skips lookups while none is)
        self.watched = [*env["payees"], env["treasury"]]
        self.start_balances = dict(zip(self._balance_keys(), self._read_balances(), strict=True))

    def teardown(self):
        if hasattr(self, "snapshot"):
            try:
                self._check_all()
            finally:
                self.chain.revert(self.snapshot)

    # --- helpers -------------------------------------------------------------------------------

    def _balance_keys(self) -> list[tuple[str, str]]:
        return [(a, t) for a in self.watched for t in self.tokens]

    def _balance_requests(self, pairs) -> list[tuple[str, list]]:
        return [self.chain.balance(a) if t == ETH else self.coin.call("balanceOf", a) for a, t in pairs]

    def _read_balances(self) -> list[int]:
        return [int(raw, 16) for raw in self.chain.batch(self._balance_requests(self._balance_keys()))]

    def _send(self, name, contract, sender, fn, *args, value=0, expect_error=None):
        """Sends; returns the receipt, or None if it reverted (with `expect_error` if given).

        Records which ids it paid out and checks every settlement's fee."""
        try:
            receipt = contract.transact(sender, fn, *args, value=value)
        except Reverted as reverted:
            self.stats[f"{name}:reverted"] += 1
            if expect_error is not None:
                assert reverted.error == expect_error, f"{name}: {reverted} instead of {expect_error}"
            return None
        assert expect_error is None, f"{name} succeeded; expected {expect_error}"
        self.stats[name] += 1
        settled, refunded = receipt.named("PaymentSettled"), receipt.named("PaymentRefunded")
        for event in settled + refunded:
            self.paid_out[event.args["id"]] += 1
            self.touched.add(event.args["id"])
        if settled and name not in ("verdict", "approve"):
            raise AssertionError(f"{name} moved money to a payee: only a verdict or a review may")
        for event in settled:
            p = self.payments[event.args["id"]]
            assert event.args["fee"] == p["amount"] * p["fee"] // BPS, (
                "fee differs from the bps quoted when the payment was made"
            )
            assert event.args["fee"] * BPS <= p["amount"] * MAX_FEE_BPS, "fee above MAX_FEE_BPS"
        return receipt

    def _settle(self, pid):
        p = self.payments[pid]
        fee = p["amount"] * p["fee"] // BPS
        p["status"] = SETTLED
        self.ghost_fees[p["token"]] += fee
        self._push(p["payee"], p["token"], p["amount"] - fee)

    def _refund(self, pid):
        p = self.payments[pid]
        p["status"] = REFUNDED
        self._push(p["payer"], p["token"], p["amount"])

    def _push(self, to, token, amount):
        delisted = token != ETH and not self.listed  # a delisted token is never pushed: credited
        refused = to == self.refuser.address.lower() and token == ETH and not self.accepting
        if delisted or refused:
            self.ghost_credit[(to, token)] += amount
        else:
            self.ghost_received[(to, token)] += amount

    def _ids(self, data, n=1):
        return data.draw(st.lists(st.sampled_from(sorted(self.payments)), min_size=1, max_size=n))

    def _record(self, receipt, payer, payees, token, amounts):
        requested = receipt.named("PaymentRequested")
        assert [e.args["id"] for e in requested] == list(range(self.next_id, self.next_id + len(amounts)))
        for event, payee, amount in zip(requested, payees, amounts, strict=True):
            assert event.args["amount"] == amount and event.args["payee"] == payee
            pid = event.args["id"]
            self.touched.add(pid)
            self.payments[pid] = {
                "payer": payer,
                "payee": payee,
                "token": token,
                "amount": amount,
                "status": PENDING,
                "deadline": event.args["deadline"],
                "fee": self.policy["fee"],  # quoted at pay time: the fee it settles at
            }
        self.next_id += len(amounts)

    # --- paying --------------------------------------------------------------------------------

    @precondition(lambda self: len(self.payments) < MAX_PAYMENTS)
    @rule(payer=st.integers(0, 2), payee=st.integers(0, 2), eth=st.booleans(), amount=st.integers(1, 10**6))
    def pay(self, payer, payee, eth, amount):
        self._pay(payer, payee, eth, amount)

    def _pay(self, payer, payee, eth, amount):
        payer, payee = self.env["payers"][payer], self.env["payees"][payee]
        token = ETH if eth else self.tokens[1]
        value = amount * 10**9 if eth else amount
        receipt = self._send(
            "pay",
            self.router,
            payer,
            "pay",
            payee,
            token,
            value,
            REF,
            value=value if eth else 0,
            expect_error=self._pay_error(eth, payer),
        )
        if receipt is not None:
            self._record(receipt, payer, [payee], token, [value])

    def _pay_error(self, eth, payer):
        if self.policy["paused"]:
            return "EnforcedPause"
        if payer in self.blocked:
            return "PaymentRouterBlocked"
        return None if eth or self.listed else "PaymentRouterTokenNotListed"

    @precondition(lambda self: len(self.payments) < MAX_PAYMENTS)
    @rule(
        payer=st.integers(0, 2),
        eth=st.booleans(),
        items=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 10**6)), min_size=1, max_size=4),
    )
    def pay_many(self, payer, eth, items):
        payer = self.env["payers"][payer]
        payees = [self.env["payees"][i] for i, _ in items]
        token = ETH if eth else self.tokens[1]
        amounts = [a * 10**9 if eth else a for _, a in items]
        receipt = self._send(
            "pay_many",
            self.router,
            payer,
            "payMany",
            payees,
            token,
            amounts,
            [REF] * len(items),
            value=sum(amounts) if eth else 0,
            expect_error=self._pay_error(eth, payer),
        )
        if receipt is not None:
            self._record(receipt, payer, payees, token, amounts)

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

    def _terms(self, pid):
        """IRiskGated.Terms of `pid` as the machine recorded them (its PaymentRequested log)."""
        p = self.payments[pid]
        return tuple(str(getattr(p[k], "address", p[k])) for k in ("payer", "payee", "token")) + (
            p["amount"],
        )

    def _post(self, ids, score):
        self.touched.update(ids)
        batch = [verdict(self.router, i, score, terms=self._terms(i)) for i in ids]
        receipt = self._send("verdict", self.oracle, self.env["node"], "submitVerdicts", batches(batch))
        assert receipt is not None, "a batch of in-range verdicts from a registered node reverted"
        now = self.chain.timestamp(receipt)
        for pid in ids:
            p = self.payments[pid]
            if p["status"] != PENDING or now > p["deadline"]:
                continue  # already decided or late: skipped, nothing moves
            if score >= self.policy["reject"]:
                self._refund(pid)
            elif score >= self.policy["review"] or self.policy["paused"]:
                p["status"] = HELD
            else:
                self._settle(pid)

    def _intrude(self, data):
        """An outsider may neither apply a verdict directly nor review; both revert, nothing moves."""
        pid = self._ids(data)[0]
        self.touched.add(pid)
        outsider = self.env["outsider"]
        self._send(
            "forged_verdict",
            self.router,
            outsider,
            "applyVerdict",
            pid,
            0,
            self._terms(pid),
            expect_error="PaymentRouterOnlyOracle",
        )
        # the node itself with another payee (its own account): skipped, nothing moves (the
        # machine's ghost balances would catch any payout)
        forged = (*self._terms(pid)[:1], str(getattr(outsider, "address", outsider)), *self._terms(pid)[2:])
        self._send(
            "forged_terms",
            self.oracle,
            self.env["node"],
            "submitVerdicts",
            batches([verdict(self.router, pid, 0, terms=forged)]),
        )
        self._send(
            "outsider_review",
            self.router,
            outsider,
            "review",
            pid,
            True,
            expect_error="AccessControlUnauthorizedAccount",
        )

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
        p, paused = self.payments[pid], self.policy["paused"]
        name = "approve" if approve else "reject"
        # the review's block is a second after the latest; the window closes where reclaim opens
        late = self.chain.latest_timestamp() + 1 > p.get("deadline", 0) + self.env["review_window"]
        receipt = self._send(name, self.router, self.env["reviewer"], "review", pid, approve)
        if p["status"] == HELD and not (approve and paused) and not late:
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
        pay (after lifting a pause, a delisting or the payer's block), a verdict relative to the
        thresholds in force (settle, hold or reject, in turn), a review of a hold, then the fee
        sweep and the refusing payee's withdrawal when due."""
        if self.policy["paused"]:
            self._set_paused(False)
        if not self.listed:
            self._set_listed(True)
        self.stats["lifecycle"] += 1
        k = self.stats["lifecycle"]
        payee_index = k % 3  # 2 is the payee that refuses ETH: its settlements are credited
        eth = eth or payee_index == 2
        payer = data.draw(st.integers(0, 2))
        address = self.env["payers"][payer]
        if address in self.blocked:  # a blocklisted payer's payment reverts: lift the block first
            assert self._admin_send("block", self.env["deployer"], "setBlocked", address, False) is not None
            self.blocked.discard(address)
        self._pay(payer, payee_index, eth, data.draw(st.integers(10, 10**6)))
        pid = self.next_id - 1
        review, reject = self.policy["review"], self.policy["reject"]
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
        receipt = self._send("reclaim", self.router, self.env["outsider"], "reclaim", pid, self._terms(pid))
        if receipt is None:
            return
        now = self.chain.timestamp(receipt)
        assert (p["status"] == PENDING and now > p["deadline"]) or (
            p["status"] == HELD and now > p["deadline"] + self.env["review_window"]
        ), "reclaim succeeded before it was due"
        self._refund(pid)

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def reclaim_due(self, data):
        """A reclaim that is due succeeds, paused or not (the next block is a second after `now`)."""
        now, window = self.chain.latest_timestamp(), self.env["review_window"]
        due = [
            pid
            for pid, p in self.payments.items()
            if (p["status"] == PENDING and now > p["deadline"])
            or (p["status"] == HELD and now > p["deadline"] + window)
        ]
        if not due:
            return
        pid = data.draw(st.sampled_from(due))
        self.touched.add(pid)
        receipt = self._send("reclaim", self.router, self.env["outsider"], "reclaim", pid, self._terms(pid))
        assert receipt is not None, f"a due reclaim reverted (paused={self.policy['paused']})"
        self._refund(pid)

    @rule(seconds=st.sampled_from([60, 1800, 3601, 3 * DAY + 1]))
    def warp(self, seconds):
        self.chain.warp(seconds)

    # --- administration and withdrawals ----------------------------------------------------------

    def _admin_send(self, name, sender, fn, *args, expect_error=None):
        return self._send(name, self.router, sender, fn, *args, expect_error=expect_error)

    @rule(
        data=st.data(),
        action=st.sampled_from(["pause", "thresholds", "fee", "sweep", "list", "exact", "block"]),
    )
    def admin(self, data, action):
        """Pause or unpause, new thresholds or fee (some invalid), a fee sweep by anyone, delist or
        relist the stablecoin (payments already made in it must still settle, refund and withdraw),
        declare it exact-transfer or not, block or unblock a payer (some twice)."""
        env = self.env
        if action == "pause":
            self._set_paused(not self.policy["paused"])
        elif action == "list":
            self._set_listed(not self.listed)
        elif action == "exact":
            exact = data.draw(st.booleans())
            error = None if self.listed else "PaymentRouterTokenNotListed"
            sent = self._admin_send(
                action, env["deployer"], "setTokenExactTransfer", self.coin.address, exact, expect_error=error
            )
            if sent is not None:
                self.exact = exact
        elif action == "block":
            payer, blocked = data.draw(st.sampled_from(env["payers"])), data.draw(st.booleans())
            assert self._admin_send(action, env["deployer"], "setBlocked", payer, blocked) is not None
            (self.blocked.add if blocked else self.blocked.discard)(payer)
        elif action == "thresholds":
            review, gap = data.draw(st.integers(0, BPS)), data.draw(st.integers(0, 4000))
            reject = min(BPS, review + gap)
            valid = review < reject
            self._admin_send(
                action,
                env["deployer"],
                "setThresholds",
                review,
                reject,
                expect_error=None if valid else "PaymentRouterInvalidThresholds",
            )
            if valid:
                self.policy.update(review=review, reject=reject)
        elif action == "fee":
            fee = data.draw(st.sampled_from([0, 1, 30, 999, 1000, 1001, 5000]))
            valid = fee <= MAX_FEE_BPS
            self._admin_send(
                action,
                env["deployer"],
                "setFeeBps",
                fee,
                expect_error=None if valid else "PaymentRouterFeeTooHigh",
            )
            if valid:
                self.policy["fee"] = fee
        else:
            self._sweep(ETH if data.draw(st.booleans()) else self.tokens[1])

    def _set_paused(self, paused: bool) -> None:
        if paused:
            assert self._admin_send("pause", self.env["guardian"], "pause") is not None
        else:
            assert self._admin_send("unpause", self.env["deployer"], "unpause") is not None
        self.policy["paused"] = paused

    def _set_listed(self, listed: bool) -> None:
        deployer, coin = self.env["deployer"], self.coin.address
        if listed:
            assert self._admin_send("relist", deployer, "setToken", coin, 100_000) is not None
        else:
            assert self._admin_send("delist", deployer, "delistToken", coin) is not None
        self.listed = listed

    def _token_credits_of_payers(self) -> list[tuple[str, str]]:
        # payers only: a watched payee would pay the withdrawal's gas in ETH, which the ghost does
        # not follow; payees' token credits are checked by the books and `_check_all`
        payers = self.env["payers"]
        return sorted(k for k, v in self.ghost_credit.items() if v and k[1] != ETH and k[0] in payers)

    @precondition(lambda self: self._token_credits_of_payers())
    @rule(data=st.data())
    def token_credit_withdrawn(self, data):
        """A payer refunded in the delisted stablecoin (credited, not pushed) pulls its credit."""
        owed = self._token_credits_of_payers()
        account, token = data.draw(st.sampled_from(owed))
        assert self._send("withdraw_token", self.router, account, "withdraw", token) is not None
        self.ghost_received[(account, token)] += self.ghost_credit.pop((account, token))

    def _sweep(self, token):
        if self._send("sweep", self.router, self.env["outsider"], "sweepFees", token) is not None:
            self.ghost_received[(self.env["treasury"], token)] += self.ghost_fees.pop(token, 0)
        else:
            assert self.ghost_fees[token] == 0

    @precondition(lambda self: any(v for (a, t), v in self.ghost_credit.items()))
    @rule()
    def refuser_withdraws(self):
        self._withdraw()

    def _withdraw(self):
        """The refusing payee starts accepting ETH and pulls its credit."""
        refuser, deployer = self.refuser, self.env["deployer"]
        key = (refuser.address.lower(), ETH)
        refuser.transact(deployer, "setAccepting", True)
        self.accepting = True
        if self._send("withdraw", refuser, deployer, "withdrawFrom", self.router.address, ETH) is not None:
            self.ghost_received[key] += self.ghost_credit.pop(key, 0)
        else:
            assert self.ghost_credit[key] == 0
        refuser.transact(deployer, "setAccepting", False)
        self.accepting = False

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def books_states_and_payouts(self):
        """One batch of views per step: the router's books, the touched payments, the watched
        accounts' balances and the policy, all against the ghost."""
        if not hasattr(self, "router"):
            return
        router = self.router
        touched = sorted(self.touched)
        requests = self._balance_requests([(router.address, t) for t in self.tokens])
        creditors = [*self.env["payers"], *self.env["payees"]]  # the refuser is a payee
        requests += [router.call("credited", a, t) for t in self.tokens for a in creditors]
        requests += [router.call("feesAccrued", t) for t in self.tokens]
        requests += [router.call("payment", pid) for pid in touched]
        requests += self._balance_requests(self._balance_keys())
        policy_views = ("feeBps", "reviewThreshold", "rejectThreshold", "paused")
        requests += [router.call(fn) for fn in policy_views]
        raw = iter(self.chain.batch(requests))

        held = [int(next(raw), 16) for _ in self.tokens]
        credited = [{a: router.result("credited", next(raw)) for a in creditors} for _ in self.tokens]
        fees = [router.result("feesAccrued", next(raw)) for _ in self.tokens]
        for token, balance, credits, fee in zip(self.tokens, held, credited, fees, strict=True):
            # Pushes to EOAs and listed-token pushes succeed here: only the refuser (ETH) and, while
            # the stablecoin is delisted, its payees and payers hold credit.
            unsettled = sum(
                p["amount"]
                for p in self.payments.values()
                if p["token"] == token and p["status"] in (PENDING, HELD)
            )
            for account, credit in credits.items():
                assert credit == self.ghost_credit[(account, token)], f"{account} {token}: credit off"
            credit = sum(credits.values())
            assert fee == self.ghost_fees[token], f"{token}: fees off"
            assert balance == unsettled + credit + fee, f"{token}: books off"
        for pid in touched:
            on_chain = router.result("payment", next(raw))
            self._check_state(pid, on_chain[P_STATUS])
        self.touched = set()
        for (account, token), raw_balance in zip(self._balance_keys(), raw, strict=False):
            moved = int(raw_balance, 16) - self.start_balances[(account, token)]
            assert moved == self.ghost_received[(account, token)], f"{account} received {moved} in {token}"
        policy = [router.result(fn, next(raw)) for fn in policy_views]
        expected = [self.policy[k] for k in ("fee", "review", "reject", "paused")]
        assert policy == expected, f"policy {policy} != {expected}"

    def _check_state(self, pid, status):
        p = self.payments[pid]
        assert status == p["status"], f"payment {pid}: {status} != {p['status']}"
        assert self.paid_out[pid] == (1 if p["status"] in (SETTLED, REFUNDED) else 0), (
            f"payment {pid} paid {self.paid_out[pid]}x"
        )

    def _check_all(self):
        """Every payment's state and every account's credit, once per example."""
        router, pids = self.router, sorted(self.payments)
        accounts = [*self.env["payers"], *self.env["payees"], self.env["treasury"]]
        pairs = [(a, t) for a in accounts for t in self.tokens]
        raw = self.chain.batch(
            [router.call("payment", pid) for pid in pids] + [router.call("credited", a, t) for a, t in pairs]
        )
        for pid, one in zip(pids, raw, strict=False):
            self._check_state(pid, router.result("payment", one)[P_STATUS])
        for (account, token), one in zip(pairs, raw[len(pids) :], strict=True):
            assert router.result("credited", one) == self.ghost_credit[(account, token)], f"{account} credit"


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
    rpc = FastChain(chain.provider.http_uri)
    fast_router = fast(rpc, router)
    lower = str.lower
    RouterMachine.env = {
        "chain": rpc,
        "router": fast_router,
        "oracle": fast(rpc, risk_oracle),
        "coin": fast(rpc, stablecoin),
        "refuser": fast(rpc, refuser),
        "deployer": lower(deployer.address),
        "payers": [lower(p.address) for p in payers],
        "payees": [lower(payee.address), lower(accounts[12].address), lower(refuser.address)],
        "node": lower(node.address),
        "reviewer": lower(reviewer.address),
        "guardian": lower(guardian.address),
        "treasury": lower(treasury.address),
        "outsider": lower(outsider.address),
        "first_id": router.paymentCount() + 1,
        "review_window": router.reviewWindow(),
        "policy": {
            "fee": router.feeBps(),
            "review": router.reviewThreshold(),
            "reject": router.rejectThreshold(),
            "paused": router.paused(),
        },
    }
    RouterMachine.stats = Counter()
    rpc.deterministic_time()
    try:
        run_state_machine_as_test(RouterMachine, settings=machine_settings())
    finally:
        rpc.deterministic_time(False)
    print("\nactions:", dict(sorted(RouterMachine.stats.items())))
    if is_smoke():  # too short to reach every action
        return
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
        "forged_verdict:reverted",
        "outsider_review:reverted",
    ):
        assert RouterMachine.stats[action] > 0, f"the machine never managed to {action}"
