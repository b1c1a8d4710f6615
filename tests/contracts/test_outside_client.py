"""Issue 14, "Driven by an outside client (Foundry's cast)": what a client with only the ABI sees.

A client such as `cast` reads raw return values: an unknown payment must revert with a named error
rather than answer zeros, the new payment id must be easy to get, the role holders and the
approved models must be listable, and the numbers enums come back as must match what the
contracts' NatSpec and the oracle's vocabulary say they mean.
"""

from __future__ import annotations

import re
from pathlib import Path

import ape
import pytest
from ape import networks
from router_helpers import ETH, ETHER, MODEL_ID, OTHER_MODEL_ID, REF, USD, terms_of

from oracle.chain import ChainClient, Deployment, load_abis
from oracle.gate import ROUTER_STATUS
from oracle.verdict_codec import SKIP_REASONS
from verdict_deploy import MANIFEST

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


# --------------------------------------------------------------------------------------------
# unknown payments revert with a named error
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["payment", "paymentScore", "paymentFeeBps"])
def test_unknown_payment_reverts_with_a_named_error(router, payer, payee, view):
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    for unknown in (0, 2, 2**256 - 1):
        with ape.reverts(router.PaymentRouterUnknownPayment, id=unknown):
            getattr(router, view)(unknown)
    assert terms_of(router, 1)[3] == ETHER  # the known one still answers


def test_oracle_client_reads_an_unknown_payment_as_status_none(suite_world, router, payer, payee):
    """The node, `verdict explain`, the report and the dashboard read payments through ChainClient:
    the revert is their "none", never a traceback, alone or in a batch."""
    client = ChainClient(networks.provider.uri, Deployment.load(suite_world.deployment), load_abis(MANIFEST))
    router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    assert (client.payment(1).status, client.payment(1).amount) == (1, ETHER)
    assert client.payment(7).status == 0
    both = client.payments([1, 7])
    assert (both[1].payer, both[1].status, both[7].status, both[7].amount) == (payer.address, 1, 0, 0)


# --------------------------------------------------------------------------------------------
# the new payment id
# --------------------------------------------------------------------------------------------


def test_pay_returns_the_new_id_and_logs_it_as_topic_1(router, stablecoin, payer, payee):
    eth = router.pay(payee, ETH, ETHER, REF, sender=payer, value=ETHER)
    token = router.pay(payee, stablecoin, 5 * USD, REF, sender=payer)
    assert (eth.return_value, token.return_value) == (1, 2)
    assert router.paymentCount() == 2
    for receipt, expected in ((eth, 1), (token, 2)):
        (log,) = [log for log in receipt.logs if log["address"] == router.address and len(log["topics"]) == 4]
        assert int.from_bytes(bytes(log["topics"][1]), "big") == expected  # what `cast receipt` shows
        assert terms_of(router, expected)[0] == payer.address


def test_pay_many_returns_its_first_id_and_ids_are_consecutive(router, payer, payee, outsider):
    router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    receipt = router.payMany([payee, outsider], ETH, [1, 2], [REF, REF], sender=payer, value=3)
    assert receipt.return_value == 2
    assert [terms_of(router, i)[3] for i in (2, 3)] == [1, 2]
    assert router.paymentCount() == 3


# --------------------------------------------------------------------------------------------
# role holders and approved models are listable
# --------------------------------------------------------------------------------------------


def test_approved_models_view_follows_approvals_and_revocations(risk_oracle, deployer):
    assert list(risk_oracle.approvedModels()) == [MODEL_ID]
    risk_oracle.approveModel(OTHER_MODEL_ID, sender=deployer)
    risk_oracle.approveModel(OTHER_MODEL_ID, sender=deployer)  # twice: listed once
    assert sorted(risk_oracle.approvedModels()) == sorted([MODEL_ID, OTHER_MODEL_ID])
    risk_oracle.revokeModel(MODEL_ID, sender=deployer)
    assert list(risk_oracle.approvedModels()) == [OTHER_MODEL_ID]
    assert not risk_oracle.isModelApproved(MODEL_ID)


def test_oracle_lists_its_nodes_and_admins(risk_oracle, deployer, node, extra_nodes):
    assert list(risk_oracle.nodes()) == [node.address]
    risk_oracle.addNode(extra_nodes[0], sender=deployer)
    assert sorted(risk_oracle.nodes()) == sorted([node.address, extra_nodes[0].address])
    admins = list(risk_oracle.admins())
    assert admins and all(risk_oracle.hasRole(risk_oracle.DEFAULT_ADMIN_ROLE(), a) for a in admins)


def test_router_lists_reviewers_and_guardians_as_roles_change(router, deployer, reviewer, guardian, outsider):
    assert list(router.reviewers()) == [reviewer.address]
    assert list(router.guardians()) == [guardian.address]
    router.grantRole(router.REVIEWER_ROLE(), outsider, sender=deployer)
    assert sorted(router.reviewers()) == sorted([reviewer.address, outsider.address])
    router.revokeRole(router.REVIEWER_ROLE(), reviewer, sender=deployer)
    assert list(router.reviewers()) == [outsider.address]
    assert list(router.getRoleMembers(router.REVIEWER_ROLE())) == [outsider.address]


def test_listing_role_holders_is_not_a_way_to_gain_a_role(router, outsider, payer, payee):
    """Enumeration is read-only: an outsider can neither grant itself a role nor act as a reviewer."""
    with ape.reverts(router.AccessControlUnauthorizedAccount):
        router.grantRole(router.REVIEWER_ROLE(), outsider, sender=outsider)
    router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    with ape.reverts(router.AccessControlUnauthorizedAccount):
        router.review(1, True, sender=outsider)
    assert outsider.address not in router.reviewers()


# --------------------------------------------------------------------------------------------
# enums come back as numbers: the documented mapping is the declared one
# --------------------------------------------------------------------------------------------


def _enum(source: str, name: str) -> list[str]:
    text = (CONTRACTS / source).read_text()
    body = re.search(rf"enum {name} \{{(.*?)\}}", text, re.S)
    assert body, f"enum {name} not found in {source}"
    members = (re.sub(r"//.*", "", m).strip() for m in body.group(1).split(","))
    return [m for m in members if m]


@pytest.mark.parametrize(
    ("source", "enum", "expected"),
    [
        ("interfaces/IPaymentRouter.sol", "Status", [s.capitalize() for s in ROUTER_STATUS]),
        (
            "interfaces/IRiskGated.sol",
            "GateStatus",
            ["Unknown", "Awaiting", "Expired", "Decided", "Mismatch"],
        ),
        (
            "interfaces/IRiskOracle.sol",
            "SkipReason",
            ["UnknownItem", "AlreadyFinal", "Expired", "DuplicateVote", "ContentMismatch"],
        ),
    ],
)
def test_enum_numbers_match_their_natspec_and_the_oracle(source, enum, expected):
    members = _enum(source, enum)
    assert members == expected
    text = (CONTRACTS / source).read_text()
    head = text[: text.index(f"enum {enum} {{")]
    doc = head[head.rindex("@notice") :]
    for number, member in enumerate(members):
        said = re.search(rf"\b{number}\W+`?{member}\b", doc)
        assert said, f"NatSpec of {enum} does not say {number} = {member}"
    if enum == "SkipReason":
        assert len(SKIP_REASONS) == len(members)
