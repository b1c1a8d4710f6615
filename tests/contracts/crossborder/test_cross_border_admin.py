"""CrossBorderRouter administration and bad input: only the admin lists tokens and sets the band,
within bounds; a delisted token refunds its pending payments; a pause holds instead of converting;
zero and blocked inputs are refused with the contract's own errors."""

from __future__ import annotations

import ape
from router_helpers import NO_TERMS, SAFE_SCORE
from xb_helpers import FEED_STALE, HELD, UNIT

from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS


def test_only_the_admin_lists_tokens_and_sets_the_band(cross, fx, outsider):
    eur, feed = fx.tokens["EUR"], fx.feeds["EUR"]
    with ape.reverts(cross.AccessControlUnauthorizedAccount):
        cross.setFxToken(eur, feed, 3600, DEFAULT_TOKEN_PUSH_GAS, sender=outsider)
    with ape.reverts(cross.AccessControlUnauthorizedAccount):
        cross.setDeviationBand(1000, sender=outsider)
    with ape.reverts(cross.AccessControlUnauthorizedAccount):
        cross.removeFxToken(eur, sender=outsider)


def test_listing_bounds_are_enforced(cross, fx, deployer):
    eur, feed = fx.tokens["EUR"], fx.feeds["EUR"]
    with ape.reverts(cross.CrossBorderInvalidHeartbeat):
        cross.setFxToken(eur, feed, 59, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    with ape.reverts(cross.CrossBorderInvalidHeartbeat):
        cross.setFxToken(eur, feed, 7 * 24 * 3600 + 1, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    with ape.reverts(cross.CrossBorderInvalidPushGas):
        cross.setFxToken(eur, feed, 3600, 1_000, sender=deployer)
    with ape.reverts(cross.CrossBorderZeroAddress):
        cross.setFxToken(eur, "0x" + "00" * 20, 3600, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    with ape.reverts(cross.CrossBorderInvalidBand):
        cross.setDeviationBand(0, sender=deployer)
    with ape.reverts(cross.CrossBorderInvalidBand):
        cross.setDeviationBand(1001, sender=deployer)
    receipt = cross.setDeviationBand(80, sender=deployer)
    assert cross.deviationBandBps() == 80 and receipt.events[0].bps == 80


def test_delisting_a_token_refunds_its_pending_payment(xb, cross, deployer, payer):
    before = xb.token("USD").balanceOf(payer)
    pid = xb.pay(1_000 * UNIT)
    xb.submit(xb.quote(pid))
    cross.removeFxToken(xb.token("EUR"), sender=deployer)
    receipt = xb.verdict(pid, SAFE_SCORE)
    assert xb.logs(receipt, "CrossBorderRefunded")[0].reason == FEED_STALE
    assert xb.token("USD").balanceOf(payer) == before
    with ape.reverts(cross.CrossBorderTokenNotListed):
        xb.pay(1_000 * UNIT)


def test_a_pause_holds_a_settling_verdict_instead_of_converting(xb, cross, guardian, fx):
    pid = xb.pay(1_000 * UNIT)
    xb.submit(xb.quote(pid))
    cross.pause(sender=guardian)
    reserves = fx.pairs[frozenset(("USD", "EUR"))].getReserves()[:2]
    xb.verdict(pid, SAFE_SCORE)
    assert cross.payment(pid).status == HELD
    assert fx.pairs[frozenset(("USD", "EUR"))].getReserves()[:2] == reserves
    with ape.reverts(cross.EnforcedPause):
        xb.pay(1_000 * UNIT)


def test_bad_payments_are_refused_with_one_clear_error(xb, cross, router, deployer, payer, payee):
    usd, eur = xb.token("USD"), xb.token("EUR")
    with ape.reverts(cross.CrossBorderZeroAmount):
        cross.pay(payee, usd, eur, 0, sender=payer)
    with ape.reverts(cross.CrossBorderZeroAddress):
        cross.pay("0x" + "00" * 20, usd, eur, UNIT, sender=payer)
    with ape.reverts(cross.CrossBorderAmountTooLarge):
        cross.pay(payee, usd, eur, 2**96, sender=payer)
    router.setBlocked(payee, True, sender=deployer)  # the PaymentRouter's blocklist applies here too
    with ape.reverts(cross.CrossBorderBlocked):
        cross.pay(payee, usd, eur, UNIT, sender=payer)


def test_only_the_risk_oracle_applies_verdicts(xb, cross, outsider):
    pid = xb.pay(1_000 * UNIT)
    with ape.reverts(cross.CrossBorderOnlyOracle):
        cross.applyVerdict(pid, SAFE_SCORE, NO_TERMS, sender=outsider)
