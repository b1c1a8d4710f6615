"""Issue 13, item 6 (contract side): one hostile token stalls the oracle.

The audit paid 240 payments in a token whose `transfer` burns gas: every payout of a verdict batch
cost the node the full push cap (150,000 gas), a batch full of them exceeded the block gas limit,
and honest payments waited until their deadlines. The router now accepts only tokens the DAO lists
(`setToken`, a Major-track governance action), each with its own push budget; ETH is always
accepted. These tests are the attack and the rules around it; the escrow's are in
tests/contracts/escrow/test_escrow_token_list.py.
"""

from __future__ import annotations

import ape
import pytest
from router_helpers import (
    ETH,
    ETHER,
    FRAUD_SCORE,
    REF,
    REFUNDED,
    REVIEW_SCORE,
    SAFE_SCORE,
    SETTLED,
    USD,
    fee_of,
    reclaim,
    terms_of,
)

from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS, list_token

# GasBurningToken.Mode
NORMAL, BURN_ALL_GAS, BURN_GAS, RETURN_BOMB, RETURN_NOTHING = range(5)

MIN_TOKEN_PUSH_GAS = 40_000
MAX_TOKEN_PUSH_GAS = 150_000


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


def _burner(project, deployer, router, payer):
    token = deployer.deploy(project.GasBurningToken)
    token.mint(payer, 10**30, sender=deployer)
    token.approve(router, 2**256 - 1, sender=payer)
    return token


@pytest.fixture
def burner(project, deployer, router, payer):
    """A GasBurningToken the payer holds and has approved; not listed; behaves until armed."""
    return _burner(project, deployer, router, payer)


# --------------------------------------------------------------------------------------------
# the attack
# --------------------------------------------------------------------------------------------


def test_unlisted_hostile_token_cannot_be_paid_in(router, burner, payer, payee):
    with ape.reverts(router.PaymentRouterTokenNotListed, token=burner.address):
        router.pay(payee, burner, 100 * USD, REF, sender=payer)
    with ape.reverts(router.PaymentRouterTokenNotListed, token=burner.address):
        router.payMany([payee] * 3, burner, [100 * USD] * 3, [REF] * 3, sender=payer)
    assert router.paymentCount() == 0


def test_eth_is_always_accepted_without_a_listing(router, payer, payee):
    assert router.tokenPushGas(ETH) == 0
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    assert router.payment(1).token == ETH


def test_an_address_without_code_is_still_not_a_token(router, payer, payee, outsider):
    with ape.reverts(router.PaymentRouterNotAToken, token=outsider.address):
        router.pay(payee, outsider, 100 * USD, REF, sender=payer)


def test_payout_push_uses_the_tokens_listed_budget(project, router, payer, deployer, post):
    """A gas-burning token listed at the minimum budget burns that, not the 150,000 cap, and is
    credited: the node pays what the DAO agreed to, per token."""
    cheap = _burner(project, deployer, router, payer)
    dear = _burner(project, deployer, router, payer)
    list_token(router, cheap, deployer, MIN_TOKEN_PUSH_GAS)
    list_token(router, dear, deployer, MAX_TOKEN_PUSH_GAS)
    payees = [f"0x{0xB0B00000 + i:040x}" for i in range(2)]
    router.pay(payees[0], cheap, 100 * USD, REF, sender=payer)
    router.pay(payees[1], dear, 100 * USD, REF, sender=payer)
    cheap.setMode(BURN_ALL_GAS, 0, sender=deployer)
    dear.setMode(BURN_ALL_GAS, 0, sender=deployer)

    at_min = post(1, SAFE_SCORE)
    at_max = post(2, SAFE_SCORE)

    payout = 100 * USD - fee_of(100 * USD)
    assert router.payment(1).status == router.payment(2).status == SETTLED
    assert router.credited(payees[0], cheap) == payout and cheap.balanceOf(payees[0]) == 0
    assert router.credited(payees[1], dear) == payout
    saved = at_max.gas_used - at_min.gas_used
    print(f"\nhostile payout: {at_min.gas_used:,} gas at a 40k budget, {at_max.gas_used:,} at 150k")
    # most of the 110,000 between the budgets (gas estimation leaves the dearer call a little less)
    assert saved > (MAX_TOKEN_PUSH_GAS - MIN_TOKEN_PUSH_GAS) * 3 // 4
    assert at_min.gas_used < 200_000  # a whole one-item verdict transaction


def test_an_honest_token_at_its_budget_is_pushed(router, stablecoin, payer, payee, post):
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    post(1, SAFE_SCORE)
    assert stablecoin.balanceOf(payee) == 100 * USD - fee_of(100 * USD)
    assert router.credited(payee, stablecoin) == 0


def test_delisting_never_traps_paid_in_funds(
    router, stablecoin, payer, payee, reviewer, outsider, deployer, chain, post
):
    """Payments made before a delisting settle, refund, reclaim and withdraw; only new payments in
    the token are refused. The payouts are credited (a delisted token is never called)."""
    amount = 100 * USD
    for _ in range(4):
        router.pay(payee, stablecoin, amount, REF, sender=payer)
    receipt = router.delistToken(stablecoin, sender=deployer)
    assert receipt.events == [router.TokenDelisted(token=stablecoin)]
    with ape.reverts(router.PaymentRouterTokenNotListed, token=stablecoin.address):
        router.pay(payee, stablecoin, amount, REF, sender=payer)

    payer_before = stablecoin.balanceOf(payer)
    post(1, SAFE_SCORE)  # settles
    post(2, FRAUD_SCORE)  # refunds
    post(3, REVIEW_SCORE)  # holds; a reviewer approves
    router.review(3, True, sender=reviewer)
    chain.pending_timestamp += router.deadlineWindow() + 1
    reclaim(router, 4, sender=outsider)  # no verdict by the deadline

    payout = amount - fee_of(amount)
    assert [router.payment(i).status for i in range(1, 5)] == [SETTLED, REFUNDED, SETTLED, REFUNDED]
    assert router.credited(payee, stablecoin) == 2 * payout
    assert router.credited(payer, stablecoin) == 2 * amount
    router.withdraw(stablecoin, sender=payee)
    router.withdraw(stablecoin, sender=payer)
    router.sweepFees(stablecoin, sender=outsider)
    assert stablecoin.balanceOf(payee) == 2 * payout
    assert stablecoin.balanceOf(payer) == payer_before + 2 * amount
    assert stablecoin.balanceOf(router) == 0


def test_relisting_restores_pushes_and_keeps_the_token_index(
    router, stablecoin, payer, payee, deployer, post
):
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    router.delistToken(stablecoin, sender=deployer)
    list_token(router, stablecoin, deployer, 60_000)
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    post([1, 2], SAFE_SCORE)
    assert router.payment(1).token == router.payment(2).token == stablecoin.address
    assert stablecoin.balanceOf(payee) == 2 * (100 * USD - fee_of(100 * USD))


# --------------------------------------------------------------------------------------------
# who lists, and within which bounds
# --------------------------------------------------------------------------------------------


def test_only_governance_lists_tokens(router, burner, stablecoin, outsider, node, guardian, reviewer, payer):
    for account in (outsider, node, guardian, reviewer, payer):
        with ape.reverts(
            router.AccessControlUnauthorizedAccount,
            account=account.address,
            neededRole=router.DEFAULT_ADMIN_ROLE(),
        ):
            router.setToken(burner, DEFAULT_TOKEN_PUSH_GAS, sender=account)
        with ape.reverts(
            router.AccessControlUnauthorizedAccount,
            account=account.address,
            neededRole=router.DEFAULT_ADMIN_ROLE(),
        ):
            router.delistToken(stablecoin, sender=account)
    assert router.tokenPushGas(burner) == 0


def test_push_budget_is_bounded(router, burner, deployer, outsider):
    assert router.MIN_TOKEN_PUSH_GAS() == MIN_TOKEN_PUSH_GAS
    assert router.MAX_TOKEN_PUSH_GAS() == router.TOKEN_PUSH_GAS() == MAX_TOKEN_PUSH_GAS
    for bad in (0, MIN_TOKEN_PUSH_GAS - 1, MAX_TOKEN_PUSH_GAS + 1, 2**32 - 1):
        with ape.reverts(router.PaymentRouterInvalidPushGas, token=burner.address, pushGas=bad):
            router.setToken(burner, bad, sender=deployer)
    with ape.reverts(router.PaymentRouterNotAToken, token=outsider.address):
        router.setToken(outsider, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    with ape.reverts(router.PaymentRouterZeroAddress):
        router.setToken(ETH, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    with ape.reverts(router.PaymentRouterTokenNotListed, token=burner.address):
        router.delistToken(burner, sender=deployer)


def test_listed_tokens_view_shows_each_budget(router, stablecoin, burner, deployer):
    receipt = router.setToken(burner, 45_000, sender=deployer)
    assert receipt.events == [router.TokenListed(token=burner, pushGas=45_000)]
    assert router.tokenPushGas(burner) == 45_000
    tokens, budgets = router.listedTokens()
    assert list(zip(tokens, budgets, strict=True)) == [
        (stablecoin.address, DEFAULT_TOKEN_PUSH_GAS),
        (burner.address, 45_000),
    ]

    router.setToken(burner, 70_000, sender=deployer)  # a new budget, same entry
    router.delistToken(stablecoin, sender=deployer)
    tokens, budgets = router.listedTokens()
    assert list(zip(tokens, budgets, strict=True)) == [(burner.address, 70_000)]
    assert router.tokenPushGas(stablecoin) == 0


# --------------------------------------------------------------------------------------------
# exact-transfer tokens (issue 16.4): no balance measured around a pull the DAO vouched for
# --------------------------------------------------------------------------------------------


def test_only_governance_declares_a_token_exact_and_only_a_listed_one(
    router, stablecoin, burner, deployer, outsider, reviewer
):
    for account in (outsider, reviewer):
        with ape.reverts(router.AccessControlUnauthorizedAccount, account=account.address):
            router.setTokenExactTransfer(stablecoin, True, sender=account)
    with ape.reverts(router.PaymentRouterTokenNotListed, token=burner.address):
        router.setTokenExactTransfer(burner, True, sender=deployer)
    assert not router.tokenExactTransfer(stablecoin)
    receipt = router.setTokenExactTransfer(stablecoin, True, sender=deployer)
    assert receipt.events == [router.TokenExactTransferSet(token=stablecoin, exact=True)]
    assert router.tokenExactTransfer(stablecoin)


def test_exact_token_pays_and_settles_in_full_with_less_gas(router, stablecoin, payer, payee, deployer, post):
    router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)  # warm the router's balance
    measured = router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    router.setTokenExactTransfer(stablecoin, True, sender=deployer)
    exact = router.pay(payee, stablecoin, 100 * USD, REF, sender=payer)
    assert exact.gas_used < measured.gas_used - 1_500  # two balanceOf calls skipped
    assert terms_of(router, 3)[3] == 100 * USD
    post([1, 2, 3], SAFE_SCORE)
    assert stablecoin.balanceOf(payee) == 3 * (100 * USD - fee_of(100 * USD))
    assert stablecoin.balanceOf(router) == router.feesAccrued(stablecoin) == 3 * fee_of(100 * USD)


def test_exact_declaration_survives_relisting_until_withdrawn(router, stablecoin, deployer):
    router.setTokenExactTransfer(stablecoin, True, sender=deployer)
    router.delistToken(stablecoin, sender=deployer)
    with ape.reverts(router.PaymentRouterTokenNotListed, token=stablecoin.address):
        router.setTokenExactTransfer(stablecoin, False, sender=deployer)
    list_token(router, stablecoin, deployer, 60_000)
    assert router.tokenExactTransfer(stablecoin)
    router.setTokenExactTransfer(stablecoin, False, sender=deployer)
    assert not router.tokenExactTransfer(stablecoin)


def test_a_fee_on_transfer_token_not_declared_exact_is_still_measured(
    project, router, payer, payee, deployer
):
    """The default for every listing is the measured pull: a fee-on-transfer token is credited net."""
    fot = deployer.deploy(project.FeeOnTransferToken, 100)
    list_token(router, fot, deployer)
    fot.mint(payer, 1_000 * USD, sender=deployer)
    fot.approve(router, 2**256 - 1, sender=payer)
    router.pay(payee, fot, 1_000 * USD, REF, sender=payer)
    assert not router.tokenExactTransfer(fot)
    assert terms_of(router, 1)[3] == fot.balanceOf(router) == 990 * USD
