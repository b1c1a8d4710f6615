"""PaymentRouter + RiskOracle fixtures: the world deployed once per module, helpers by role.

ape snapshots the chain around every fixture scope, so each test starts from the state the
module-scoped fixtures left behind and nothing a test does leaks into the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from router_helpers import ETH, ETHER, MODEL_ID, REF, USD, verdict


@pytest.fixture(scope="module")
def roles(deployer, payer, payee, node, reviewer, guardian, treasury, outsider, extra_nodes):
    """Every role account, so that a module can request them all before its first snapshot."""
    return {
        "deployer": deployer,
        "payer": payer,
        "payee": payee,
        "node": node,
        "reviewer": reviewer,
        "guardian": guardian,
        "treasury": treasury,
        "outsider": outsider,
        "extra_nodes": extra_nodes,
    }


@pytest.fixture(scope="module")
def risk_oracle(project, deployer, node):
    oracle = deployer.deploy(project.RiskOracle, deployer)
    oracle.addNode(node, sender=deployer)
    oracle.approveModel(MODEL_ID, sender=deployer)
    return oracle


@pytest.fixture(scope="module")
def router(project, deployer, risk_oracle, treasury, reviewer, guardian):
    contract = deployer.deploy(project.PaymentRouter, deployer, risk_oracle, treasury)
    risk_oracle.addTarget(contract, sender=deployer)
    contract.grantRole(contract.REVIEWER_ROLE(), reviewer, sender=deployer)
    contract.grantRole(contract.GUARDIAN_ROLE(), guardian, sender=deployer)
    return contract


@pytest.fixture(scope="module")
def stablecoin(project, deployer, router, payer):
    """MockStablecoin; the payer holds 1,000,000 and has approved the router for all of it."""
    token = deployer.deploy(project.MockStablecoin)
    token.mint(payer, 1_000_000 * USD, sender=deployer)
    token.approve(router, 2**256 - 1, sender=payer)
    return token


@pytest.fixture
def quorum_nodes(risk_oracle, deployer, node, extra_nodes):
    """Three registered nodes and a quorum of 3."""
    for extra in extra_nodes:
        risk_oracle.addNode(extra, sender=deployer)
    risk_oracle.setQuorum(3, sender=deployer)
    return [node, *extra_nodes]


@pytest.fixture
def make_payment(router, payer, payee) -> Callable[..., int]:
    """Pays and returns the new payment id. `token=None` pays ETH."""

    def make(amount: int = ETHER, *, token=None, sender=None, to=None, ref: bytes = REF) -> int:
        sender = sender or payer
        to = to or payee
        if token is None:
            router.pay(to, ETH, amount, ref, sender=sender, value=amount)
        else:
            router.pay(to, token, amount, ref, sender=sender)
        return router.paymentCount()

    return make


@pytest.fixture
def post(router, risk_oracle, node) -> Callable[..., object]:
    """Posts one score for each id in one batch; returns the receipt."""

    def submit(ids: int | Sequence[int], score: int, *, sender=None, model: bytes = MODEL_ID):
        ids = [ids] if isinstance(ids, int) else list(ids)
        batch = [verdict(router, i, score, model=model) for i in ids]
        return risk_oracle.submitVerdicts(batch, sender=sender or node)

    return submit
