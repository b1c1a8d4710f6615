"""CrossBorderRouter: the paths of a cross-border payment through the risk gate on real Uniswap v2
pools (issue 18.3): converted on a settling verdict, held then converted with a fresh quote or
refunded, rejected, reclaimed; nothing swapped before the verdict."""

from __future__ import annotations

import ape
import pytest
from router_helpers import FRAUD_SCORE, REF, REVIEW_SCORE, SAFE_SCORE, fee_of, submit, verdict
from xb_helpers import HELD, NO_QUOTE, PENDING, RECLAIMED, REFUNDED, REJECTED, SETTLED, UNIT

from verdict_deploy.suite import list_token


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
    before_hold = xb.quote(pid)
    xb.submit(before_hold)
    xb.verdict(pid, REVIEW_SCORE)
    assert cross.payment(pid).status == HELD
    with ape.reverts(cross.CrossBorderQuoteNotNewer):
        xb.submit(before_hold)  # still signed and unexpired, but from before the hold
    *_, quote_hash = cross.quoteOf(pid)
    assert int.from_bytes(bytes(quote_hash), "big") == 0  # dropped at the hold

    xb.chain.pending_timestamp += 60  # the reviewer looks at it a minute later
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


def test_gas_of_a_cross_border_payment_against_a_plain_one_and_a_plain_swap(
    xb, cross, fx, router, deployer, payer, payee
):
    """pay -> settled (swap included) on v2 and v3 routes of one hop and two, next to a same-token
    PaymentRouter payment and the bare Uniswap swaps: what `make bench` reports (bench/gas.py) and
    docs/cross-border.md shows."""
    from router_helpers import MODEL_ID

    from bench.gas import measure_cross_border_gas

    usd = xb.token("USD")
    list_token(router, usd, deployer)
    usd.approve(router, 2**256 - 1, sender=payer)
    plain_pay = router.pay(payee, usd, 1_000 * UNIT, REF, sender=payer)
    plain_verdict = submit(xb.oracle, [verdict(router, router.paymentCount(), SAFE_SCORE)], sender=xb.node)
    gas = measure_cross_border_gas(fx, xb.oracle, xb.node, payer, payee, MODEL_ID)
    gas["plain_payment"] = plain_pay.gas_used + plain_verdict.gas_used
    gas["plain_verdict"] = plain_verdict.gas_used
    print("cross-border gas:", gas)
    # a settling verdict costs a plain one plus the swap and its guards (feeds, balances, the
    # bounded self-call): regression bounds, the measured numbers are in docs/cross-border.md
    for kind in ("v2", "v3"):
        swap = gas[f"uniswap_{kind}_swap_1_hop"]
        assert gas[f"cross_border_1_hop_{kind}_verdict"] < gas["plain_verdict"] + swap + 130_000
    assert gas["cross_border_2_hops_v2_verdict"] < gas["cross_border_1_hop_v2_verdict"] + 90_000


def test_the_nodes_quoter_prepares_a_quote_the_router_accepts_and_its_reasons_name_route_and_hash(
    xb, cross, fx, node, payee, chain
):
    from eth_account import Account

    from oracle.deployment import load_abis
    from oracle.fx_node import CrossBorderQuoter, QuoteOffFeedError
    from verdict_deploy import MANIFEST

    w3 = chain.provider.web3
    symbols = {str(t.address): code for code, t in fx.tokens.items()}
    quoter = CrossBorderQuoter(
        w3,
        load_abis(MANIFEST)["CrossBorderRouter"],
        str(cross.address),
        str(fx.factory.address),
        [str(t.address) for t in fx.tokens.values()],
        Account.from_key(node.private_key),
        symbols=symbols,
        v3_factory=str(fx.v3.factory.address),
        quoter=str(fx.v3.quoter.address),
    )
    too_big = xb.pay(25_000 * UNIT, "GBP", "EUR")  # the pools cannot fill it within 1.5% of the feeds
    with pytest.raises(QuoteOffFeedError):
        quoter.prepare(too_big)
    pid = xb.pay(5_000 * UNIT, "GBP", "EUR")
    prepared = quoter.prepare(pid)
    tx = w3.eth.send_transaction({"from": str(node.address), "to": quoter.address, "data": prepared.calldata})
    assert w3.eth.wait_for_transaction_receipt(tx).status == 1
    assert bytes(cross.quoteOf(pid)[4]) == prepared.digest
    assert prepared.reasons["route"][0] == "GBP" and prepared.reasons["route"][-1] == "EUR"
    assert prepared.reasons["quote_hash"] == "0x" + prepared.digest.hex()
    assert len(prepared.reasons["pools"]) == prepared.reasons["hops"]
    assert set(prepared.reasons["pools"]) <= {"v2", "v3-500", "v3-3000", "v3-10000"}

    before = xb.token("EUR").balanceOf(payee)
    receipt = xb.verdict(pid, SAFE_SCORE)
    [settled] = xb.logs(receipt, "CrossBorderSettled")
    assert xb.token("EUR").balanceOf(payee) - before == settled.amountOut
    assert settled.amountOut + settled.fee >= prepared.quote.min_out
