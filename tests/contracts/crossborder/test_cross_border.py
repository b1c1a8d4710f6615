"""CrossBorderRouter: the paths of a cross-border payment through the risk gate on real Uniswap v2
pools (issue 18.3): converted on a settling verdict, held then converted with a fresh quote or
refunded, rejected, reclaimed; nothing swapped before the verdict."""

from __future__ import annotations

import ape
from router_helpers import FRAUD_SCORE, REVIEW_SCORE, SAFE_SCORE, fee_of
from xb_helpers import HELD, NO_QUOTE, PENDING, RECLAIMED, REFUNDED, REJECTED, SETTLED, UNIT


def test_settling_verdict_converts_at_the_quote_and_pays_the_payee(xb, cross, payee):
    pid = xb.pay(1_000 * UNIT, "USD", "EUR")
    quote = xb.quote(pid)
    receipt = xb.submit(quote)
    [accepted] = xb.logs(receipt, "QuoteAccepted")
    assert bytes(accepted.quoteHash) == xb.digest(quote)
    eur_before = xb.token("EUR").balanceOf(payee)

    receipt = xb.verdict(pid, SAFE_SCORE)

    [settled] = xb.logs(receipt, "CrossBorderSettled")
    received = xb.token("EUR").balanceOf(payee) - eur_before
    assert received == settled.amountOut
    assert received + settled.fee >= quote.min_out
    assert settled.fee == fee_of(received + settled.fee)
    # 1,000 USD at the ECB's EUR/USD of the seeding day, less the pool fee and a little impact
    feed_out = cross.feedAmountOut(xb.token("USD"), xb.token("EUR"), 1_000 * UNIT)
    assert feed_out * 99 // 100 <= received + settled.fee <= feed_out
    assert bytes(settled.quoteHash) == xb.digest(quote)
    assert cross.payment(pid).status == SETTLED
    assert xb.token("USD").balanceOf(cross) == 0


def test_nothing_is_swapped_before_the_verdict(xb, cross, fx):
    reserves_before = {key: pair.getReserves()[:2] for key, pair in fx.pairs.items()}
    pid = xb.pay(500 * UNIT, "GBP", "EUR")
    xb.submit(xb.quote(pid))
    assert {key: pair.getReserves()[:2] for key, pair in fx.pairs.items()} == reserves_before
    assert xb.token("GBP").balanceOf(cross) == 500 * UNIT
    assert cross.payment(pid).status == PENDING


def test_a_settling_verdict_without_a_quote_refunds_in_full(xb, cross, payer):
    before = xb.token("USD").balanceOf(payer)
    pid = xb.pay(700 * UNIT)
    receipt = xb.verdict(pid, SAFE_SCORE)
    [refund] = xb.logs(receipt, "CrossBorderRefunded")
    assert refund.reason == NO_QUOTE
    assert xb.token("USD").balanceOf(payer) == before
    assert cross.payment(pid).status == REFUNDED


def test_a_rejecting_verdict_refunds_without_a_swap(xb, cross, payer, fx):
    before = xb.token("USD").balanceOf(payer)
    pid = xb.pay(700 * UNIT)
    xb.submit(xb.quote(pid))
    reserves = fx.pairs[frozenset(("USD", "EUR"))].getReserves()[:2]
    receipt = xb.verdict(pid, FRAUD_SCORE)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == REJECTED
    assert xb.token("USD").balanceOf(payer) == before
    assert fx.pairs[frozenset(("USD", "EUR"))].getReserves()[:2] == reserves


def test_a_held_payment_converts_at_approval_only_with_a_quote_posted_after_the_hold(
    xb, cross, reviewer, payee
):
    pid = xb.pay(2_000 * UNIT, "EUR", "GBP")
    xb.submit(xb.quote(pid))
    xb.verdict(pid, REVIEW_SCORE)
    assert cross.payment(pid).status == HELD
    quote, quote_hash = cross.quoteOf(pid)
    assert list(quote[4]) == [] and int.from_bytes(bytes(quote_hash), "big") == 0  # dropped at the hold

    fresh = xb.quote(pid)
    xb.submit(fresh)
    before = xb.token("GBP").balanceOf(payee)
    receipt = cross.review(pid, True, sender=reviewer)
    [settled] = xb.logs(receipt, "CrossBorderSettled")
    assert xb.token("GBP").balanceOf(payee) - before == settled.amountOut
    assert settled.amountOut + settled.fee >= fresh.min_out


def test_approving_a_held_payment_without_a_fresh_quote_refunds(xb, cross, reviewer, payer):
    before = xb.token("EUR").balanceOf(payer)
    pid = xb.pay(2_000 * UNIT, "EUR", "GBP")
    xb.submit(xb.quote(pid))
    xb.verdict(pid, REVIEW_SCORE)
    receipt = cross.review(pid, True, sender=reviewer)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == NO_QUOTE
    assert xb.token("EUR").balanceOf(payer) == before


def test_reclaim_after_the_deadline_refunds_and_only_then(xb, cross, chain, outsider, payer):
    before = xb.token("USD").balanceOf(payer)
    pid = xb.pay(300 * UNIT)
    with ape.reverts(cross.CrossBorderNotReclaimable):
        cross.reclaim(pid, sender=outsider)
    chain.pending_timestamp += 2 * 3600
    receipt = cross.reclaim(pid, sender=outsider)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == RECLAIMED
    assert xb.token("USD").balanceOf(payer) == before


def test_pay_refuses_unlisted_tokens_and_the_same_token(xb, cross, payer, payee, project, deployer):
    stray = deployer.deploy(project.FxStablecoin, "Stray", "STR", 6)
    with ape.reverts(cross.CrossBorderTokenNotListed):
        cross.pay(payee, stray, xb.token("EUR"), UNIT, sender=payer)
    with ape.reverts(cross.CrossBorderSameToken):
        cross.pay(payee, xb.token("EUR"), xb.token("EUR"), UNIT, sender=payer)
