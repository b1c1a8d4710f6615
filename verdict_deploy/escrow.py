"""Deploys the milestone Escrow on top of the suite and runs its demo scenario.

Used by `scripts/deploy.py`, the demo and `ape run escrow`:

    escrow = deploy_escrow(deployer, router, risk_oracle, arbiters=[arbiter], reviewers=[reviewer],
                           guardian=guardian)
    summary["escrow"] = run_escrow_scenario(escrow, stablecoin, buyer, supplier, arbiter,
                                            wait_for_verdict=gate_waiter(escrow, timeout=30))
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ape import chain, project
from ape.contracts import ContractInstance

from verdict_deploy.suite import write_abi

STATUS_NAMES = (
    "None",
    "Funded",
    "Requested",
    "Gated",
    "Held",
    "Flagged",
    "Disputed",
    "Released",
    "Refunded",
    "Cancelled",
)
GATE_AWAITING = 1
DAY = 24 * 3600

# The scenario: three milestones (in whole stablecoin units), the second one disputed.
MILESTONES = (1_000, 2_500, 1_500)
DISPUTED_MILESTONE = 1
SUPPLIER_BPS = 7_000  # the arbiter awards 70% of the disputed milestone (after its fee) to the supplier

WaitForVerdict = Callable[[int], Any]


class EscrowScenarioError(RuntimeError):
    """The scenario could not run (e.g. no verdict arrived in time)."""


def deploy_escrow(
    deployer: Any,
    router: Any,
    risk_oracle: Any,
    *,
    arbiters: Iterable[Any] = (),
    reviewers: Iterable[Any] = (),
    guardian: Any = None,
) -> ContractInstance:
    """Deploys Escrow under the router's policy and the RiskOracle, and grants the roles.

    The treasury is the router's. `deployer` keeps DEFAULT_ADMIN_ROLE (the governance deployment
    hands it to the DAO timelock). The escrow is registered as an oracle target when the deployer
    still administers the oracle; otherwise governance must call `addTarget(escrow)`.
    """
    escrow = deployer.deploy(project.Escrow, deployer, router, risk_oracle, router.treasury())
    arbiter_role = escrow.ARBITER_ROLE()
    for arbiter in arbiters:
        escrow.grantRole(arbiter_role, arbiter, sender=deployer)
    reviewer_role = escrow.REVIEWER_ROLE()
    for reviewer in reviewers:
        escrow.grantRole(reviewer_role, reviewer, sender=deployer)
    if guardian is not None:
        escrow.grantRole(escrow.GUARDIAN_ROLE(), guardian, sender=deployer)
    if risk_oracle.hasRole(risk_oracle.DEFAULT_ADMIN_ROLE(), deployer):
        risk_oracle.addTarget(escrow, sender=deployer)
    return escrow


def gate_waiter(escrow: Any, timeout: float = 30.0, poll: float = 0.25) -> WaitForVerdict:
    """A `wait_for_verdict` that polls until the gate is no longer Awaiting (the oracle daemon
    posted a final verdict); raises EscrowScenarioError after `timeout` seconds."""

    def wait(gate_id: int) -> None:
        deadline = time.monotonic() + timeout
        while escrow.gateStatus(gate_id) == GATE_AWAITING:
            if time.monotonic() > deadline:
                raise EscrowScenarioError(f"no verdict on escrow gate {gate_id} within {timeout:.0f}s")
            time.sleep(poll)

    return wait


def run_escrow_scenario(
    escrow: Any,
    stablecoin: Any,
    buyer: Any,
    supplier: Any,
    arbiter: Any,
    wait_for_verdict: WaitForVerdict,
    reviewer: Any = None,
) -> dict[str, Any]:
    """A supplier with three milestones; the second is disputed and ruled on (70/30 split).

    Every release (and the supplier's share of the ruling) goes through the risk gate:
    `wait_for_verdict(gate_id)` must return once the gate is decided. `arbiter` needs ARBITER_ROLE.
    With `reviewer` (REVIEWER_ROLE), every release the verdict held is then approved, as an operator
    would from the review queue; the summary lists those gates under "reviewed".
    Returns the `escrow` section of demo-summary.json (amounts in base units and in tokens).
    """
    decimals = int(stablecoin.decimals())
    unit = 10**decimals
    amounts = [units * unit for units in MILESTONES]
    total = sum(amounts)
    if hasattr(stablecoin, "mint") and stablecoin.balanceOf(buyer) < total:
        stablecoin.mint(buyer, total, sender=buyer)
    if stablecoin.allowance(buyer, escrow) < total:
        stablecoin.approve(escrow, total, sender=buyer)

    supplier_before = int(stablecoin.balanceOf(supplier))
    buyer_before = int(stablecoin.balanceOf(buyer))
    arbiter_before = int(stablecoin.balanceOf(arbiter))
    now = chain.pending_timestamp
    dues = [now + (index + 1) * 7 * DAY for index in range(len(amounts))]
    tx = escrow.createAgreement(supplier, stablecoin, amounts, dues, sender=buyer)
    agreement_id = int(tx.return_value)
    gas: dict[str, int] = {"create": int(tx.gas_used)}

    gates: dict[int, list[int]] = {index: [] for index in range(len(amounts))}
    dispute: dict[str, Any] = {}
    for index in range(len(amounts)):
        tx = escrow.requestRelease(agreement_id, index, sender=supplier)
        gas.setdefault("request", int(tx.gas_used))
        if index == DISPUTED_MILESTONE:
            escrow.openDispute(agreement_id, index, sender=buyer)
            tx = escrow.resolveDispute(agreement_id, index, SUPPLIER_BPS, sender=arbiter)
            gas["resolve"] = int(tx.gas_used)
            resolved = next(iter(tx.decode_logs(escrow.DisputeResolved)))
            dispute = {
                "milestone": index,
                "opened_by": "buyer",
                "supplier_bps": SUPPLIER_BPS,
                "supplier_amount": int(resolved.supplierAmount),
                "buyer_refund": int(resolved.buyerAmount),
                "arbiter_fee": int(resolved.arbiterFee),
            }
            requested = list(tx.decode_logs(escrow.ReleaseRequested))
        else:
            tx = escrow.confirmRelease(agreement_id, index, sender=buyer)
            gas.setdefault("confirm", int(tx.gas_used))
            requested = list(tx.decode_logs(escrow.ReleaseRequested))
        for event in requested:
            gates[index].append(int(event.gateId))
            wait_for_verdict(int(event.gateId))

    reviewed = approve_held(escrow, agreement_id, reviewer) if reviewer is not None else None
    oracle = project.RiskOracle.at(escrow.oracle())
    milestones = []
    _, states = escrow.agreementState(agreement_id)
    for index, state in enumerate(states):
        amount, _due, _deadline, gate_id, status = state
        is_final, score = oracle.finalScore(escrow, gate_id) if gate_id else (False, 0)
        milestones.append(
            {
                "index": index,
                "amount": int(amounts[index]),
                "escrowed_at_gate": int(amount),
                "status": STATUS_NAMES[int(status)],
                "gate_ids": gates[index],
                "score": int(score) if is_final else None,
            }
        )

    supplier_received = int(stablecoin.balanceOf(supplier)) - supplier_before
    buyer_refunded = int(stablecoin.balanceOf(buyer)) - buyer_before + total
    arbiter_paid = int(stablecoin.balanceOf(arbiter)) - arbiter_before
    summary: dict[str, Any] = {
        "address": str(escrow.address),
        "agreement_id": agreement_id,
        "token": str(stablecoin.address),
        "decimals": decimals,
        "buyer": str(buyer.address),
        "supplier": str(supplier.address),
        "arbiter": str(arbiter.address),
        "funded": total,
        "milestones": milestones,
        "dispute": dispute,
        "supplier_received": supplier_received,
        "buyer_refunded": buyer_refunded,
        "arbiter_paid": arbiter_paid,
        "protocol_fees_accrued": int(escrow.feesAccrued(stablecoin)),
        "still_escrowed": sum(m["escrowed_at_gate"] for m in milestones if m["status"] in STATUS_NAMES[1:7]),
        "gas": gas,
    }
    if reviewed is not None:
        summary["reviewed"] = reviewed
    return summary


def approve_held(escrow: Any, agreement_id: int, reviewer: Any) -> list[int]:
    """Approves (reviewRelease) every release of the agreement that its verdict held; their gate ids."""
    approved = []
    _, states = escrow.agreementState(agreement_id)
    for state in states:
        _amount, _due, _deadline, gate_id, status = state
        if STATUS_NAMES[int(status)] == "Held":
            escrow.reviewRelease(int(gate_id), True, sender=reviewer)
            approved.append(int(gate_id))
    return approved


def escrow_of_record(
    path: Path, deployer: Any, arbiter: Any
) -> tuple[ContractInstance, ContractInstance, bool]:
    """(Escrow, MockStablecoin) of the deployment recorded at `path`, and whether the Escrow was
    deployed here: a record without one gets an Escrow under its PaymentRouter and RiskOracle, with
    `arbiter`, and the record is updated. ValueError when the record lacks the suite or `arbiter` is
    no arbiter of the Escrow."""
    record = json.loads(path.read_text())
    recorded = record.get("contracts", {})
    for name in ("PaymentRouter", "RiskOracle", "MockStablecoin"):
        if name not in recorded:
            raise ValueError(f"{path} records no {name}")
    stablecoin = project.MockStablecoin.at(recorded["MockStablecoin"])
    deployed = "Escrow" not in recorded
    if deployed:
        router = project.PaymentRouter.at(recorded["PaymentRouter"])
        oracle = project.RiskOracle.at(recorded["RiskOracle"])
        escrow = deploy_escrow(deployer, router, oracle, arbiters=[arbiter])
        record["contracts"]["Escrow"] = str(escrow.address)
        abi_file = write_abi(path, "Escrow", escrow)
        if abi_file is not None:
            record.setdefault("abis", {})["Escrow"] = abi_file
        path.write_text(json.dumps(record, indent=2) + "\n")
    else:
        escrow = project.Escrow.at(recorded["Escrow"])
    if not escrow.hasRole(escrow.ARBITER_ROLE(), arbiter):
        raise ValueError(f"{arbiter.address} is not an arbiter of {escrow.address}")
    return escrow, stablecoin, deployed
