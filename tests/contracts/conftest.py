"""PaymentRouter + RiskOracle fixtures: the world deployed once per module (`deploy_world`), helpers by role.

ape snapshots the chain around every fixture scope, so each test starts from the state the
module-scoped fixtures left behind and nothing a test does leaks into the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from router_helpers import ETH, ETHER, MODEL_ID, REF, USD, submit, verdict

from verdict_deploy import World, deploy_world
from verdict_deploy.suite import list_token


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
def suite_world(roles, local_roles, tmp_path_factory) -> World:
    """RiskOracle + PaymentRouter wired both ways through the one deploy path, `deploy_world`: the node,
    reviewer, guardian and treasury of Roles.local(), MODEL_ID approved, no token (`stablecoin` below)."""
    return deploy_world(
        local_roles, models=[MODEL_ID], with_stablecoin=False, root=tmp_path_factory.mktemp("world")
    )


@pytest.fixture(scope="module")
def risk_oracle(suite_world):
    return suite_world.oracle


@pytest.fixture(scope="module")
def router(suite_world):
    return suite_world.router


@pytest.fixture(scope="module")
def stablecoin(project, deployer, router, payer):
    """MockStablecoin, listed on the router (issue 13.6) with the deploy's default push budget; the
    payer holds 1,000,000 and has approved the router for all of it."""
    token = deployer.deploy(project.MockStablecoin)
    list_token(router, token, deployer)
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

    def post_scores(ids: int | Sequence[int], score: int, *, sender=None, model: bytes = MODEL_ID):
        ids = [ids] if isinstance(ids, int) else list(ids)
        batch = [verdict(router, i, score, model=model) for i in ids]
        return submit(risk_oracle, batch, sender=sender or node)

    return post_scores
