"""CrossBorderRouter fixtures: the world (RiskOracle + PaymentRouter) and the FX world (Uniswap v2 and
v3 from their npm bytecode, USD/EUR/GBP tokens and WETH, pools at ECB rates, feeds, the router) deployed
once per module; a `XB` helper that pays, quotes with the real route engine, signs as the node and
posts verdicts."""

from __future__ import annotations

import pytest
from xb_helpers import XB

from verdict_deploy.fx import deploy_fx

CURRENCIES = ("USD", "EUR", "GBP")
# Three v3 pools (each createPool deploys a 22 kB pool): what the v3 sandwich, the mixed routes and
# the gas figures need; tests/oracle/test_routes.py routes over all of V3_POOLS.
V3_POOLS = {
    (frozenset(("USD", "EUR")), 500): 8_000_000,
    (frozenset(("USD", "GBP")), 500): 3_000_000,
    (frozenset(("EUR", "GBP")), 3000): 1_500_000,
}


@pytest.fixture(scope="module")
def fx(roles, suite_world, deployer, node, reviewer, guardian, treasury):
    return deploy_fx(
        deployer,
        oracle=suite_world.oracle,
        policy=suite_world.router,
        nodes=[node],
        reviewers=[reviewer],
        guardian=guardian,
        treasury=treasury,
        currencies=CURRENCIES,
        v3_pools=V3_POOLS,
    )


@pytest.fixture(scope="module")
def cross(fx):
    return fx.cross_border


@pytest.fixture(scope="module")
def funded(fx, cross, payer, deployer):
    """The payer holds 10,000,000 of each currency token, approved to the CrossBorderRouter."""
    for code in CURRENCIES:
        token = fx.tokens[code]
        token.mint(payer, 10_000_000 * 10**6, sender=deployer)
        token.approve(cross, 2**256 - 1, sender=payer)
    return payer


@pytest.fixture
def xb(fx, cross, funded, risk_oracle, node, payer, payee, chain) -> XB:
    return XB(fx, cross, risk_oracle, node, payer, payee, chain)
