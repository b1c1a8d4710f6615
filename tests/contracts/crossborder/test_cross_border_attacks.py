"""Attacks on cross-border payments, each written before the defence (issue 18.3): a sandwiched pool,
a stale feed, quotes forged, tampered, expired, replayed or off the feed, a hostile token in the route,
reentrancy through a token callback. In every case the payer is refunded in full or the quote is
refused; the payee never receives less than the quote's minimum out."""

from __future__ import annotations

import contextlib
import random

import ape
import pytest
from eth_utils import keccak
from router_helpers import SAFE_SCORE
from xb_helpers import (
    FEED_STALE,
    PENDING,
    QUOTE_EXPIRED,
    QUOTE_OFF_FEED,
    REFUNDED,
    SETTLED,
    SWAP_FAILED,
    UNIT,
    list_hostile,
)

from oracle.fx_quotes import FxQuote
from verdict_deploy.fx import FEED_DECIMALS, feed_answer
from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS


@pytest.fixture(scope="module")
def sandwicher(accounts):
    """Trades on the public pools around a payment (an account no role map uses)."""
    return accounts[16]


def test_a_sandwiched_pool_refunds_the_payer_and_never_fills_below_the_bound(
    xb, cross, sandwicher, payer, payee
):
    amount = 50_000 * UNIT
    pid = xb.pay(amount, "USD", "EUR")
    quote = xb.quote(pid, slippage_bps=50, path=xb.path("USD", "EUR"))  # the v2 pair
    xb.submit(quote)
    before = xb.balances()

    # front-run: buy EUR along the quoted route, moving the price about 2% past the 0.5% bound
    xb.swap(sandwicher, 500_000 * UNIT, tuple(xb.fx.code_of(a) for a in quote.path))
    assert xb.fx.router02.getAmountsOut(amount, list(quote.path))[-1] < quote.min_out * 98 // 100

    receipt = xb.verdict(pid, SAFE_SCORE)
    [refund] = xb.logs(receipt, "CrossBorderRefunded")
    assert refund.reason == SWAP_FAILED
    after = xb.balances()
    payer_usd = ("USD", str(payer.address))
    assert after[payer_usd] == before[payer_usd] + amount  # every unit back
    assert all(after[k] == before[k] for k in before if k != payer_usd and k[1] != str(xb.cross.address))
    assert xb.token("USD").balanceOf(cross) == 0 and xb.token("EUR").balanceOf(cross) == 0
    assert xb.token("EUR").balanceOf(payee) == before[("EUR", str(payee.address))]


def test_a_sandwiched_v3_pool_refunds_the_payer_with_every_balance_restored(
    xb, cross, sandwicher, payer, payee
):
    amount = 50_000 * UNIT
    pid = xb.pay(amount, "USD", "EUR")
    quote = xb.quote(pid, slippage_bps=50, path=xb.path("USD", "EUR"), fees=(500,))  # the 0.05% pool
    xb.submit(quote)
    before = xb.balances()

    # front-run on the v3 pool the quote routes through: about 2% past the 0.5% bound
    xb.swap_v3(sandwicher, 200_000 * UNIT, "USD", "EUR", 500)
    assert xb.graph().amounts_out(amount, quote.path, quote.fees)[-1] < quote.min_out * 98 // 100

    receipt = xb.verdict(pid, SAFE_SCORE)
    [refund] = xb.logs(receipt, "CrossBorderRefunded")
    assert refund.reason == SWAP_FAILED
    after = xb.balances()
    payer_usd = ("USD", str(payer.address))
    assert after[payer_usd] == before[payer_usd] + amount
    assert all(after[k] == before[k] for k in before if k != payer_usd and k[1] != str(cross.address))
    assert xb.token("USD").balanceOf(cross) == 0 and xb.token("EUR").balanceOf(cross) == 0


def test_payee_never_gets_less_than_min_out_under_random_market_moves(xb, cross, sandwicher, payee):
    """A light run of the property (issue 18's 200-payment version runs under the soak profile)."""
    rng = random.Random(18)
    _run_property(xb, cross, sandwicher, payee, rng, payments=6)


@pytest.mark.soak
def test_payee_never_gets_less_than_min_out_200_payments(xb, cross, sandwicher, payee):
    _run_property(xb, cross, sandwicher, payee, random.Random(1800), payments=200)


def _run_property(xb, cross, sandwicher, payee, rng, *, payments: int) -> None:
    codes = ("USD", "EUR", "GBP")
    outcomes = set()
    for _ in range(payments):
        tin, tout = rng.sample(codes, 2)
        amount = rng.randint(1, 100_000) * UNIT
        pid = xb.pay(amount, tin, tout)
        quote = xb.quote(pid, slippage_bps=rng.choice((10, 50, 100)))
        # refused when the pools drifted off the feed: the verdict then refunds for want of a quote
        with contextlib.suppress(ape.exceptions.ContractLogicError):
            xb.submit(quote)
        if rng.random() < 0.5:  # somebody trades first, either way, on a v2 pair or a v3 pool
            path = rng.sample(codes, 2)
            fees = [0, *(fee for pair, fee in xb.fx.v3.pools if pair == frozenset(path))]
            fee = rng.choice(fees)
            size = rng.randint(1_000, 400_000) * UNIT
            if fee == 0:
                xb.swap(sandwicher, size, tuple(path))
            else:
                xb.swap_v3(sandwicher, size // 4, path[0], path[1], fee)
        payer_before = xb.token(tin).balanceOf(xb.payer)
        payee_before = xb.token(tout).balanceOf(payee)
        receipt = xb.verdict(pid, SAFE_SCORE)
        status = cross.payment(pid).status
        outcomes.add(status)
        if status == SETTLED:
            [settled] = xb.logs(receipt, "CrossBorderSettled")
            got = xb.token(tout).balanceOf(payee) - payee_before
            assert got == settled.amountOut and got + settled.fee >= quote.min_out
        else:
            assert status == REFUNDED
            assert xb.token(tin).balanceOf(xb.payer) - payer_before == amount
            assert xb.token(tout).balanceOf(payee) == payee_before
    assert xb.token("USD").balanceOf(cross) == cross.feesAccrued(xb.token("USD"))


def test_a_stale_feed_refunds(xb, cross, fx, deployer, chain):
    feed = fx.feeds["EUR"]
    cross.setFxToken(xb.token("EUR"), feed, 60, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)  # 1-minute heartbeat
    feed.updateAnswer(feed.latestRoundData()[1], sender=deployer)
    pid = xb.pay(1_000 * UNIT)
    xb.submit(xb.quote(pid, ttl=3600))
    chain.pending_timestamp += 120  # the node stopped updating the feed
    receipt = xb.verdict(pid, SAFE_SCORE)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == FEED_STALE
    with ape.reverts(cross.CrossBorderFeedStale):
        cross.feedAmountOut(xb.token("USD"), xb.token("EUR"), UNIT)


def test_a_quote_three_percent_off_the_feed_is_refused_under_a_one_percent_band(xb, cross, deployer):
    cross.setDeviationBand(100, sender=deployer)
    pid = xb.pay(1_000 * UNIT)
    feed_out = cross.feedAmountOut(xb.token("USD"), xb.token("EUR"), 1_000 * UNIT)
    generous = xb.quote(pid, amount_out=feed_out * 103 // 100)
    with ape.reverts(cross.CrossBorderQuoteOffFeed):
        xb.submit(generous)
    assert cross.payment(pid).status == PENDING


def test_a_feed_that_moves_off_the_accepted_quote_refunds(xb, cross, fx, deployer):
    pid = xb.pay(1_000 * UNIT)
    xb.submit(xb.quote(pid))
    feed = fx.feeds["EUR"]
    feed.updateAnswer(feed.latestRoundData()[1] * 97 // 100, sender=deployer)  # EUR 3% cheaper
    receipt = xb.verdict(pid, SAFE_SCORE)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == QUOTE_OFF_FEED


def test_forged_and_tampered_quotes_are_refused(xb, cross, outsider):
    pid = xb.pay(1_000 * UNIT)
    quote = xb.quote(pid)
    with ape.reverts(cross.CrossBorderInvalidSigner):
        xb.submit(quote, signer=outsider)  # not a RiskOracle node
    signature = xb.sign(quote)
    tampered = FxQuote(pid, quote.amount_in, quote.amount_out, 1, quote.path, quote.issued_at, quote.expiry)
    with ape.reverts(cross.CrossBorderInvalidSigner):
        cross.submitQuote(tampered.as_tuple(), signature, sender=outsider)  # minOut lowered after signing
    with ape.reverts(cross.CrossBorderInvalidSigner):
        cross.submitQuote(quote.as_tuple(), signature[:64] + b"\x05", sender=outsider)


def test_expired_and_replayed_quotes_are_refused(xb, cross, chain, outsider):
    first = xb.pay(1_000 * UNIT)
    second = xb.pay(1_000 * UNIT)
    quote = xb.quote(first)
    signature = xb.sign(quote)
    cross.submitQuote(quote.as_tuple(), signature, sender=outsider)  # anyone may relay a node's quote
    with ape.reverts(cross.CrossBorderQuoteNotNewer):
        cross.submitQuote(quote.as_tuple(), signature, sender=outsider)  # the same again
    older = xb.quote(first, issued_at=quote.issued_at - 1)
    with ape.reverts(cross.CrossBorderQuoteNotNewer):
        xb.submit(older)  # an older, signed quote cannot displace the newer one
    moved = FxQuote(second, *(quote.as_tuple()[1:4]), quote.path, quote.issued_at, quote.expiry)
    with ape.reverts(cross.CrossBorderInvalidSigner):
        cross.submitQuote(moved.as_tuple(), signature, sender=outsider)  # bound to its payment id
    stale = xb.quote(second, ttl=0, issued_at=chain.pending_timestamp - 10)
    with ape.reverts(cross.CrossBorderQuoteExpired):
        xb.submit(stale)


def test_a_quote_that_expires_before_the_verdict_refunds(xb, cross, chain):
    pid = xb.pay(1_000 * UNIT)
    xb.submit(xb.quote(pid, ttl=60))
    chain.pending_timestamp += 300
    receipt = xb.verdict(pid, SAFE_SCORE)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == QUOTE_EXPIRED


def test_a_route_through_an_unlisted_token_is_refused(xb, cross, project, deployer):
    stray = deployer.deploy(project.FxStablecoin, "Stray", "STR", 6)
    pid = xb.pay(1_000 * UNIT)
    quote = xb.quote(pid)
    through = (quote.path[0], str(stray.address), quote.path[-1])
    with ape.reverts(cross.CrossBorderInvalidRoute):
        xb.submit(xb.quote(pid, path=through))
    with ape.reverts(cross.CrossBorderInvalidRoute):
        xb.submit(xb.quote(pid, path=(quote.path[-1], quote.path[0])))  # wrong way round


def test_a_hostile_token_in_the_route_refunds_without_stalling_the_batch(
    xb, cross, fx, project, deployer, payer
):
    burner = deployer.deploy(project.GasBurningToken)
    list_hostile(fx, cross, deployer, project, burner, ("USD", "EUR"))
    hostile = xb.pay(1_000 * UNIT)
    honest = xb.pay(1_000 * UNIT)
    path = (str(xb.token("USD").address), str(burner.address), str(xb.token("EUR").address))
    xb.submit(xb.quote(hostile, path=path))
    xb.submit(xb.quote(honest))
    burner.setMode(1, 0, sender=deployer)  # BurnAllGas on every transfer, a pool's included
    before = xb.token("USD").balanceOf(payer)

    receipt = xb.verdict([hostile, honest], SAFE_SCORE)

    [refund] = xb.logs(receipt, "CrossBorderRefunded")
    assert refund.id == hostile and refund.reason == SWAP_FAILED
    assert xb.token("USD").balanceOf(payer) == before + 1_000 * UNIT
    assert cross.payment(honest).status == SETTLED


def test_reentrancy_through_the_paid_tokens_callback_is_refused(
    xb, cross, fx, project, deployer, payer, payee
):
    reentrant = deployer.deploy(project.ReentrantToken)
    list_hostile(fx, cross, deployer, project, reentrant, ("EUR",))
    reentrant.mint(payer, 1_000 * 10**18, sender=deployer)
    reentrant.approve(cross, 2**256 - 1, sender=payer)
    cross.pay(payee, reentrant, xb.token("EUR"), 1_000 * 10**18, sender=payer)
    pid = cross.paymentCount()
    xb.submit(xb.quote(pid, path=(str(reentrant.address), str(xb.token("EUR").address))))
    # inside the swap, the token calls back: refund this very payment to its payer mid-conversion
    reentrant.arm(cross, cross.reclaim.encode_input(pid), sender=deployer)

    receipt = xb.verdict(pid, SAFE_SCORE)

    [reentered] = list(receipt.decode_logs(reentrant.Reentered))
    # nonReentrant: the reclaim never ran (ReentrancyGuardReentrantCall())
    assert (
        not reentered.success and bytes(reentered.returnData) == keccak(b"ReentrancyGuardReentrantCall()")[:4]
    )
    assert cross.payment(pid).status == SETTLED
    assert reentrant.balanceOf(cross) == 0


def test_only_the_router_itself_may_run_a_swap(xb, cross, outsider):
    path = [xb.token("USD"), xb.token("EUR")]
    with ape.reverts(cross.CrossBorderOnlySelf):
        cross.swapExact((UNIT, 1, 0, 0, path, [0]), sender=outsider)


def test_feed_answers_are_chainlink_shaped_and_only_updaters_post(fx, outsider):
    feed = fx.feeds["GBP"]
    round_id, answer, started, updated, answered_in = feed.latestRoundData()
    assert feed.decimals() == FEED_DECIMALS and answer == feed_answer(fx.usd_prices["GBP"])
    assert answered_in == round_id and started == updated
    with ape.reverts():
        feed.updateAnswer(1, sender=outsider)
