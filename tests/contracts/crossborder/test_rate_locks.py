"""Rate locks on chain (issue 18.5): a payer buys a node-signed lock (tenor, premium); settled within
the tenor the payee gets at least the locked amount, the lock reserve paying the swap's shortfall, and
a reserve too small refunds the payer in full. The attacks come first: a lock bought after the price
moved, a stale offer, a drained reserve, a node signing off the feed."""

from __future__ import annotations

import ape
import pytest
from router_helpers import FEE_BPS, FRAUD_SCORE, SAFE_SCORE
from xb_helpers import LOCK_UNCOVERED, REFUNDED, REJECTED, SETTLED, UNIT

BPS = 10_000


@pytest.fixture(scope="module")
def reserve(fx):
    return fx.lock_reserve


def feed_out(xb, amount: int, tin: str = "USD", tout: str = "EUR") -> int:
    return int(xb.cross.feedAmountOut(xb.token(tin), xb.token(tout), amount))


def at_feed(xb, amount: int) -> int:
    """A lock at the feeds' rate less the protocol fee: more than any pool gives (their fee), so
    every settlement under it draws on the reserve."""
    return feed_out(xb, amount) * (BPS - FEE_BPS) // BPS


def empty_reserve(xb, reserve, deployer, code: str = "EUR") -> None:
    held = xb.token(code).balanceOf(reserve)
    if held:
        reserve.withdraw(xb.token(code), held, deployer, sender=deployer)


# --------------------------------------------------------------------------- attacks


def test_a_lock_bought_after_the_price_moved_is_refused(xb, cross, fx, deployer):
    amount = 1_000 * UNIT
    pid = xb.pay(amount)
    offer = xb.lock(pid, locked_out=at_feed(xb, amount), premium=UNIT)
    feed = fx.feeds["EUR"]
    # the euro firms 1% while the payer sits on the offer: it now promises more than the market
    feed.updateAnswer(feed.latestRoundData()[1] * 101 // 100, sender=deployer)
    try:
        with ape.reverts(cross.CrossBorderLockOffFeed):
            xb.buy(offer)
    finally:
        feed.updateAnswer(feed.latestRoundData()[1] * 100 // 101, sender=deployer)


def test_a_stale_lock_offer_is_refused_and_a_lapsed_lock_covers_nothing(xb, cross, chain, reserve, deployer):
    amount = 1_000 * UNIT
    pid = xb.pay(amount)
    stale = xb.lock(pid, locked_out=at_feed(xb, amount), issued_at=chain.pending_timestamp - 121)
    with ape.reverts(cross.CrossBorderLockStale):
        xb.buy(stale)  # older than LOCK_OFFER_TTL (2 minutes)
    future = xb.lock(pid, locked_out=at_feed(xb, amount), issued_at=chain.pending_timestamp + 60)
    with ape.reverts(cross.CrossBorderLockStale):
        xb.buy(future)
    too_long = xb.lock(pid, locked_out=at_feed(xb, amount), tenor=2 * 86_400)
    with ape.reverts(cross.CrossBorderLockMismatch):
        xb.buy(too_long)  # beyond MAX_LOCK_TENOR

    xb.token("EUR").mint(reserve, 1_000 * UNIT, sender=deployer)
    short = xb.lock(pid, locked_out=at_feed(xb, amount), premium=UNIT // 2, tenor=60)
    xb.buy(short)
    chain.pending_timestamp += 120  # the tenor ends before the verdict
    xb.submit(xb.quote(pid))
    reserve_eur = xb.token("EUR").balanceOf(reserve)
    receipt = xb.verdict(pid, SAFE_SCORE)
    [settled] = xb.logs(receipt, "CrossBorderSettled")
    assert not xb.logs(receipt, "RateLockHonoured")
    assert settled.amountOut < short.locked_out  # the market's amount, not the lapsed lock's
    assert xb.token("EUR").balanceOf(reserve) == reserve_eur
    assert xb.token("USD").balanceOf(reserve) >= UNIT // 2  # the premium was earned all the same


def test_a_drained_reserve_refunds_the_payer_in_full(xb, cross, reserve, deployer, payer, payee):
    empty_reserve(xb, reserve, deployer)
    amount = 2_000 * UNIT
    premium = 3 * UNIT
    pid = xb.pay(amount)
    xb.buy(xb.lock(pid, locked_out=at_feed(xb, amount), premium=premium))
    xb.submit(xb.quote(pid))
    before = xb.balances(reserve)

    receipt = xb.verdict(pid, SAFE_SCORE)

    [refund] = xb.logs(receipt, "CrossBorderRefunded")
    assert refund.reason == LOCK_UNCOVERED and cross.payment(pid).status == REFUNDED
    [returned] = xb.logs(receipt, "RateLockPremiumRefunded")
    assert returned.premium == premium
    after = xb.balances(reserve)
    payer_usd = ("USD", str(payer.address))
    assert after[payer_usd] == before[payer_usd] + amount + premium  # the premium too
    assert all(after[k] == before[k] for k in before if k != payer_usd and k[1] != str(cross.address))
    assert xb.token("EUR").balanceOf(payee) == before[("EUR", str(payee.address))]


def test_a_lock_off_the_feed_or_not_a_nodes_is_refused(xb, cross, outsider, payee):
    amount = 1_000 * UNIT
    pid = xb.pay(amount)
    fair = feed_out(xb, amount)
    with ape.reverts(cross.CrossBorderLockOffFeed):
        xb.buy(xb.lock(pid, locked_out=fair * 102 // 100))  # more than the market gives
    with ape.reverts(cross.CrossBorderLockOffFeed):
        xb.buy(xb.lock(pid, locked_out=fair * 95 // 100))  # 5% under, outside the 1.5% band
    offer = xb.lock(pid, locked_out=at_feed(xb, amount))
    with ape.reverts(cross.CrossBorderInvalidSigner):
        xb.buy(offer, signer=outsider)
    with ape.reverts(cross.CrossBorderNotPayer):
        xb.buy(offer, sender=payee)
    xb.buy(offer)
    with ape.reverts(cross.CrossBorderNotLockable):
        xb.buy(offer)  # one lock per payment


# --------------------------------------------------------------------------- the lock honoured


def test_a_lock_within_its_tenor_pays_the_payee_the_locked_amount_from_the_reserve(
    xb, cross, reserve, deployer, payee
):
    xb.token("EUR").mint(reserve, 1_000 * UNIT, sender=deployer)
    amount = 5_000 * UNIT
    premium = 2 * UNIT
    pid = xb.pay(amount)
    lock = xb.lock(pid, locked_out=at_feed(xb, amount), premium=premium)
    bought = xb.buy(lock)
    [event] = xb.logs(bought, "RateLockBought")
    assert bytes(event.lockHash) == xb.digest(lock)
    xb.submit(xb.quote(pid))
    before = xb.balances(reserve)

    receipt = xb.verdict(pid, SAFE_SCORE)

    [settled] = xb.logs(receipt, "CrossBorderSettled")
    [honoured] = xb.logs(receipt, "RateLockHonoured")
    got = xb.token("EUR").balanceOf(payee) - before[("EUR", str(payee.address))]
    assert got == settled.amountOut == lock.locked_out
    assert honoured.cover > 0
    reserve_key = str(reserve.address)
    assert xb.token("EUR").balanceOf(reserve) == before[("EUR", reserve_key)] - honoured.cover
    assert xb.token("USD").balanceOf(reserve) == before[("USD", reserve_key)] + premium
    assert cross.payment(pid).status == SETTLED


def test_a_rejected_locked_payment_refunds_the_premium_too(xb, cross, payer):
    before = xb.token("USD").balanceOf(payer)
    pid = xb.pay(1_000 * UNIT)
    xb.buy(xb.lock(pid, locked_out=at_feed(xb, 1_000 * UNIT), premium=UNIT))
    receipt = xb.verdict(pid, FRAUD_SCORE)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == REJECTED
    assert xb.token("USD").balanceOf(payer) == before


def test_the_nodes_lock_offer_is_priced_from_ewma_volatility_and_accepted(xb, cross, fx, node, chain):
    from eth_account import Account

    from oracle.deployment import load_abis
    from oracle.fx_node import CrossBorderQuoter
    from verdict_deploy import MANIFEST

    quoter = CrossBorderQuoter(
        chain.provider.web3,
        load_abis(MANIFEST)["CrossBorderRouter"],
        str(cross.address),
        str(fx.factory.address),
        [str(t.address) for t in fx.tokens.values()],
        Account.from_key(node.private_key),
        v3_factory=str(fx.v3.factory.address),
        quoter=str(fx.v3.quoter.address),
    )
    amount = 10_000 * UNIT
    pid = xb.pay(amount)
    sigma = 0.0045  # a daily EUR/USD EWMA volatility of the order docs/cross-border.md reports
    offers = {
        tenor: quoter.offer_lock(pid, tenor=tenor, sigma_daily=sigma, fee_bps=FEE_BPS)
        for tenor in (300, 3600, 86_400)
    }
    premiums = [offers[t].lock.premium for t in (300, 3600, 86_400)]
    assert premiums == sorted(premiums) and premiums[0] > 0  # a longer lock costs more
    # sqrt(time): the 24 h lock costs sqrt(24) times the 1 h one
    assert abs(premiums[2] / premiums[1] - 24**0.5) < 0.01
    hour = offers[3600]
    xb.buy(hour.lock)  # the payer's signature-free purchase of the node's offer
    locked_out, premium, *_ = cross.lockOf(pid)
    assert locked_out == hour.lock.locked_out and premium == hour.lock.premium
    print("lock premiums for 10,000 USD->EUR at sigma 0.45%/day (5m, 1h, 24h):", premiums)


def test_only_the_router_draws_on_the_reserve_and_only_its_admin_withdraws(xb, reserve, deployer, outsider):
    xb.token("EUR").mint(reserve, 10 * UNIT, sender=deployer)
    with ape.reverts(reserve.AccessControlUnauthorizedAccount):
        reserve.cover(xb.token("EUR"), UNIT, sender=outsider)
    with ape.reverts(reserve.AccessControlUnauthorizedAccount):
        reserve.withdraw(xb.token("EUR"), UNIT, outsider, sender=outsider)
    assert reserve.hasRole(reserve.COVER_ROLE(), xb.cross)
