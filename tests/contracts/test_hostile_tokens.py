"""Hostile tokens and payees against the gas-capped payouts (contracts/utils/SafePush.sol).

A payout is a push with a bounded amount of gas; a push that fails is credited for `withdraw`.
These tests show that a token whose `transfer` burns all the gas it is given, or returns a
"return-data bomb", costs a verdict batch at most the cap, so it cannot starve the other
payments in the same `submitVerdicts` transaction; and that real tokens fit under the cap.
"""

from __future__ import annotations

import pytest
from router_helpers import (
    ETH,
    ETHER,
    FRAUD_SCORE,
    REF,
    REFUNDED,
    SAFE_SCORE,
    SETTLED,
    USD,
    fee_of,
    submit,
    terms_of,
    verdict,
)

from verdict_deploy.suite import list_token

# GasBurningToken.Mode
NORMAL, BURN_ALL_GAS, BURN_GAS, RETURN_BOMB, RETURN_NOTHING = range(5)

BATCH = 20
HOSTILE_AT = 10  # in the middle: every item after it needs the gas the token would take
# A batch of 20 costs about 1.2M gas with the hostile item; the node would send about that. Without
# the cap the hostile token took 63/64 of what was left at item 10 and the batch ran out of gas.
BATCH_GAS_LIMIT = 1_500_000
TOKEN_PUSH_GAS = 150_000
MIN_TOKEN_PUSH_GAS = 40_000  # the router's lower bound of a listed token's push budget


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


@pytest.fixture
def burner(project, deployer, router, payer):
    """A GasBurningToken the payer holds and has approved, listed at the largest push budget (the
    cap these tests measure against); it behaves until a test arms it."""
    token = deployer.deploy(project.GasBurningToken)
    list_token(router, token, deployer, TOKEN_PUSH_GAS)
    token.mint(payer, 10**30, sender=deployer)
    token.approve(router, 2**256 - 1, sender=payer)
    return token


@pytest.fixture
def harness(project, deployer):
    return deployer.deploy(project.SafePushHarness)


def _fresh(base: int, n: int) -> list[str]:
    """n addresses that hold nothing yet (the dearest case for a transfer)."""
    return [f"0x{base + i:040x}" for i in range(n)]


def _pay_batch(router, payer, stablecoin, odd_token, payees, amount) -> list[int]:
    """Pays each payee `amount`: the HOSTILE_AT-th in `odd_token`, the others in the stablecoin
    (one payMany). Returns the payment ids in payee order."""
    normal = [p for i, p in enumerate(payees) if i != HOSTILE_AT]
    first = router.paymentCount() + 1
    router.payMany(normal, stablecoin, [amount] * len(normal), [REF] * len(normal), sender=payer)
    router.pay(payees[HOSTILE_AT], odd_token, amount, REF, sender=payer)
    ids = list(range(first, first + len(normal)))
    ids.insert(HOSTILE_AT, router.paymentCount())
    return ids


def _pushed(receipt, harness):
    event = receipt.events.filter(harness.Pushed)[0]
    return bool(event.ok), event.gasUsed


# --------------------------------------------------------------------------------------------
# PaymentRouter: a verdict batch with one hostile item
# --------------------------------------------------------------------------------------------


def test_router_exposes_the_token_push_gas_cap(router):
    assert router.TOKEN_PUSH_GAS() == TOKEN_PUSH_GAS
    assert router.PUSH_GAS() == router.ETH_PUSH_GAS() == 50_000


def test_gas_burning_token_cannot_starve_a_verdict_batch(
    router, risk_oracle, stablecoin, burner, payer, node, deployer
):
    amount = 100 * USD
    payout = amount - fee_of(amount)
    control_payees = _fresh(0xC0DE0000, BATCH)
    hostile_payees = _fresh(0xBAD00000, BATCH)
    control_ids = _pay_batch(router, payer, stablecoin, burner, control_payees, amount)
    hostile_ids = _pay_batch(router, payer, stablecoin, burner, hostile_payees, amount)

    # the same batch shape with the token behaving: the reference cost
    control = submit(
        risk_oracle,
        [verdict(router, i, SAFE_SCORE) for i in control_ids],
        sender=node,
        gas_limit=BATCH_GAS_LIMIT,
    )
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)
    receipt = submit(
        risk_oracle,
        [verdict(router, i, SAFE_SCORE) for i in hostile_ids],
        sender=node,
        gas_limit=BATCH_GAS_LIMIT,
    )

    assert [router.payment(i).status for i in hostile_ids] == [SETTLED] * BATCH
    for i, account in enumerate(hostile_payees):
        if i == HOSTILE_AT:
            assert burner.balanceOf(account) == 0
            assert router.credited(account, burner) == payout
        else:
            assert stablecoin.balanceOf(account) == payout
    assert receipt.events.filter(router.PaymentCredited) == [
        router.PaymentCredited(
            id=hostile_ids[HOSTILE_AT], account=hostile_payees[HOSTILE_AT], token=burner, amount=payout
        )
    ]
    # the hostile token cost the batch at most the cap plus the credit (a fresh storage slot)
    extra = receipt.gas_used - control.gas_used
    print(f"\nbatch of {BATCH}: {control.gas_used:,} gas behaving, ", end="")
    print(f"{receipt.gas_used:,} with a gas burner (+{extra:,})")
    assert extra < TOKEN_PUSH_GAS + 30_000


def test_gas_burning_token_refund_is_credited_to_the_payer(
    router, stablecoin, burner, payer, payee, post, deployer
):
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    router.pay(payee, burner, 100 * USD, REF, sender=payer)
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)
    stable_before = stablecoin.balanceOf(payer)

    receipt = post([1, 2], FRAUD_SCORE)

    assert [router.payment(i).status for i in (1, 2)] == [REFUNDED, REFUNDED]
    assert stablecoin.balanceOf(payer) == stable_before + 100 * USD
    assert router.credited(payer, burner) == 100 * USD
    assert receipt.events.filter(router.PaymentCredited) == [
        router.PaymentCredited(id=2, account=payer, token=burner, amount=100 * USD)
    ]
    assert receipt.gas_used < 200_000 + TOKEN_PUSH_GAS


def test_token_needing_more_than_the_cap_is_credited_then_withdrawn_with_all_gas(
    router, burner, payer, payee, post, deployer
):
    router.pay(payee, burner, 100 * USD, REF, sender=payer)
    burner.setMode(BURN_GAS, 200_000, sender=deployer)  # honest, but dearer than the cap

    post(1, SAFE_SCORE)
    payout = 100 * USD - fee_of(100 * USD)
    assert router.credited(payee, burner) == payout and burner.balanceOf(payee) == 0

    receipt = router.withdraw(burner, sender=payee)  # the pull sends all remaining gas

    assert burner.balanceOf(payee) == payout
    assert router.credited(payee, burner) == 0
    assert receipt.gas_used > 200_000


def test_return_bomb_token_settles_in_a_batch_without_blowing_gas(
    router, stablecoin, burner, payer, payee, outsider, post, deployer
):
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    router.pay(outsider, burner, 100 * USD, REF, sender=payer)
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    # 64 KiB of return data whose first word is `true`: fits the cap, never copied by the router
    burner.setMode(RETURN_BOMB, 64 * 1024, sender=deployer)

    receipt = post([1, 2, 3], SAFE_SCORE)

    payout = 100 * USD - fee_of(100 * USD)
    assert [router.payment(i).status for i in (1, 2, 3)] == [SETTLED] * 3
    assert burner.balanceOf(outsider) == payout
    assert router.credited(outsider, burner) == 0
    assert receipt.gas_used < 250_000 + TOKEN_PUSH_GAS


def test_gas_burning_eth_payee_is_credited_and_the_batch_settles(
    project, router, deployer, make_payment, post, payee, outsider
):
    burning = deployer.deploy(project.GasBurningPayee)
    make_payment(ETHER, to=payee)
    make_payment(2 * ETHER, to=burning)
    make_payment(3 * ETHER, to=outsider)
    payee_before, outsider_before = payee.balance, outsider.balance

    receipt = post([1, 2, 3], SAFE_SCORE)

    owed = 2 * ETHER - fee_of(2 * ETHER)
    assert [router.payment(i).status for i in (1, 2, 3)] == [SETTLED] * 3
    assert payee.balance == payee_before + ETHER - fee_of(ETHER)
    assert outsider.balance == outsider_before + 3 * ETHER - fee_of(3 * ETHER)
    assert router.credited(burning, ETH) == owed
    assert receipt.events.filter(router.PaymentCredited) == [
        router.PaymentCredited(id=2, account=burning, token=ETH, amount=owed)
    ]
    # the payee's receive burned at most the stipend (PUSH_GAS + the EVM's 2,300)
    assert receipt.gas_used < 250_000 + router.PUSH_GAS()

    burning.setAccepting(True, sender=deployer)
    burning.withdrawFrom(router, ETH, sender=deployer)
    assert burning.balance == owed


def test_normal_and_fee_on_transfer_tokens_still_settle(
    project, router, stablecoin, payer, payee, post, deployer
):
    fot = deployer.deploy(project.FeeOnTransferToken, 100)
    list_token(router, fot, deployer)
    fot.mint(payer, 10_000 * USD, sender=deployer)
    fot.approve(router, 2**256 - 1, sender=payer)
    router.pay(payee, stablecoin, 1000 * USD, REF, sender=payer)
    router.pay(payee, fot, 1000 * USD, REF, sender=payer)
    arrived = terms_of(router, 2)[3]  # 1% burnt on the way in
    stable_before = stablecoin.balanceOf(payee)

    receipt = post([1, 2], SAFE_SCORE)

    assert stablecoin.balanceOf(payee) == stable_before + 1000 * USD - fee_of(1000 * USD)
    payout = arrived - fee_of(arrived)
    assert fot.balanceOf(payee) == payout - payout // 100  # 1% burnt on the way out
    assert receipt.events.filter(router.PaymentCredited) == []


# --------------------------------------------------------------------------------------------
# SafePush itself
# --------------------------------------------------------------------------------------------


def test_uncapped_try_safe_transfer_loses_63_64_of_the_gas_and_safe_push_does_not(harness, burner, deployer):
    burner.mint(harness, 10, sender=deployer)
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)
    to = _fresh(0xB0B00000, 1)[0]

    uncapped = harness.pushTokenUncapped(burner, to, 1, sender=deployer, gas_limit=1_000_000)
    capped = harness.pushToken(burner, to, 1, sender=deployer, gas_limit=1_000_000)

    ok, used = _pushed(uncapped, harness)
    assert not ok and used > 900_000  # the old payout: a batch would have nothing left
    ok, used = _pushed(capped, harness)
    assert not ok and TOKEN_PUSH_GAS <= used < TOKEN_PUSH_GAS + 5_000


def test_return_bomb_costs_the_caller_at_most_the_cap(harness, burner, deployer):
    burner.mint(harness, 10, sender=deployer)
    to = _fresh(0xB0B10000, 1)[0]

    # a bomb that fits the cap: paid, and the caller copies 32 bytes of it
    burner.setMode(RETURN_BOMB, 64 * 1024, sender=deployer)
    ok, used = _pushed(harness.pushToken(burner, to, 1, sender=deployer), harness)
    assert ok and used < TOKEN_PUSH_GAS
    assert burner.balanceOf(to) == 1

    # a bomb too big for the cap: the token runs out of gas building it; the push fails
    burner.setMode(RETURN_BOMB, 4 * 1024 * 1024, sender=deployer)
    ok, used = _pushed(harness.pushToken(burner, to, 1, sender=deployer), harness)
    assert not ok and used < TOKEN_PUSH_GAS + 5_000
    assert burner.balanceOf(to) == 1


def test_token_push_reads_the_return_value_like_try_safe_transfer(
    project, harness, burner, deployer, outsider
):
    burner.mint(harness, 10, sender=deployer)
    false_token = deployer.deploy(project.FalseReturningToken)
    false_token.mint(harness, 10, sender=deployer)
    false_token.setFailing(True, sender=deployer)
    reverting = deployer.deploy(project.SelectiveRevertToken)
    reverting.mint(harness, 10, sender=deployer)
    reverting.setBlacklisted(outsider, sender=deployer)

    cases = {
        "returns true": (burner, True),
        "returns false": (false_token, False),
        "reverts": (reverting, False),
        "no code (an EOA as token)": (outsider, False),
    }
    for label, (token, expected) in cases.items():
        for method in (harness.pushToken, harness.pushTokenUncapped):
            ok, _ = _pushed(method(token, outsider, 1, sender=deployer), harness)
            assert ok is expected, (label, method)

    burner.setMode(RETURN_NOTHING, 0, sender=deployer)  # a USDT-like token: no return value
    ok, _ = _pushed(harness.pushToken(burner, outsider, 1, sender=deployer), harness)
    assert ok and burner.balanceOf(outsider) == 3

    before, afterwards = harness.freeMemoryPointerAfterPush.call(burner, outsider, 1)
    assert before == afterwards


def test_push_or_credit_credits_only_what_it_could_not_push(project, harness, burner, deployer):
    burner.mint(harness, 10, sender=deployer)
    burning = deployer.deploy(project.GasBurningPayee)
    deployer.transfer(harness, 10)
    to = _fresh(0xB0B20000, 1)[0]

    assert _pushed(harness.pushOrCredit(burner, to, 3, sender=deployer), harness)[0]
    assert _pushed(harness.pushOrCredit(ETH, to, 4, sender=deployer), harness)[0]
    burner.setMode(BURN_ALL_GAS, 0, sender=deployer)
    ok, used = _pushed(harness.pushOrCredit(burner, to, 5, sender=deployer), harness)
    assert not ok and used < TOKEN_PUSH_GAS + 30_000
    ok, used = _pushed(harness.pushOrCredit(ETH, burning, 6, sender=deployer), harness)
    assert not ok and used < 30_000 + 2_300 + 9_000 + 30_000  # stipend, value-call cost, credit

    assert burner.balanceOf(to) == 3 and harness.credited(to, burner) == 5
    assert harness.credited(to, ETH) == 0 and harness.credited(burning, ETH) == 6


def test_real_tokens_fit_comfortably_under_the_cap(project, harness, stablecoin, deployer, outsider):
    """Gas of one capped push to an address that holds none of the token yet (the dearest case)."""
    fot = deployer.deploy(project.FeeOnTransferToken, 100)
    implementation = deployer.deploy(project.UsdcLikeToken)
    proxy = deployer.deploy(project.UsdcLikeProxy, implementation)
    usdc = project.UsdcLikeToken.at(proxy.address)
    votes = deployer.deploy(project.CommunityToken, "Votes", "VOTE", deployer, 10**24)
    votes.transfer(harness, 10**18, sender=deployer)
    votes.invoke_transaction("delegate", outsider, sender=outsider)  # the recipient's votes move
    for token in (stablecoin, fot, usdc):
        token.mint(harness, 10**18, sender=deployer)

    rows = []
    for label, token, to in (
        ("MockStablecoin (OpenZeppelin ERC20)", stablecoin, _fresh(0xF0000000, 1)[0]),
        ("FeeOnTransferToken (burns 1%)", fot, _fresh(0xF1000000, 1)[0]),
        ("USDC-like behind an ERC-1967 proxy", usdc, _fresh(0xF2000000, 1)[0]),
        ("ERC20Votes, recipient delegated", votes, outsider),
    ):
        ok, used = _pushed(harness.pushToken(token, to, 10**6, sender=deployer), harness)
        assert ok, label
        rows.append((label, used))
    print()
    for label, used in rows:
        print(f"capped push, {label:<40} {used:>7,} gas (cap {TOKEN_PUSH_GAS:,})")
    assert all(used < TOKEN_PUSH_GAS * 2 // 3 for _, used in rows)
    # the smallest budget the DAO may list a token with pays a plain OpenZeppelin ERC20
    assert rows[0][1] < MIN_TOKEN_PUSH_GAS
