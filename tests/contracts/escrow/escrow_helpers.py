"""Constants and helpers shared by the escrow tests (imported by conftest and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from router_helpers import NO_TERMS

DAY = 24 * 3600
ETH = "0x0000000000000000000000000000000000000000"
USD = 10**6

# MilestoneStatus
NONE, FUNDED, REQUESTED, GATED, HELD, FLAGGED, DISPUTED, RELEASED, REFUNDED, CANCELLED = range(10)
# GateStatus
UNKNOWN, AWAITING, EXPIRED, DECIDED = range(4)

REVIEW_THRESHOLD = 5000
REJECT_THRESHOLD = 8000
FEE_BPS = 100
ARBITER_FEE_BPS = 100


def token_address(token) -> str:
    return ETH if token is None else token.address


@dataclass
class World:
    """Small helpers over the deployed escrow used by most tests."""

    chain: Any
    escrow: Any
    buyer: Any
    supplier: Any
    oracle: Any

    def now(self) -> int:
        return self.chain.pending_timestamp

    def create(self, token=None, amounts=(100 * USD, 200 * USD, 300 * USD), dues=None, sender=None):
        sender = sender or self.buyer
        dues = dues or [self.now() + (i + 1) * 30 * DAY for i in range(len(amounts))]
        value = sum(amounts) if token is None else 0
        tx = self.escrow.createAgreement(
            self.supplier, token_address(token), list(amounts), list(dues), sender=sender, value=value
        )
        return tx.return_value, tx

    def gate(self, agreement_id, milestone=0):
        self.escrow.requestRelease(agreement_id, milestone, sender=self.supplier)
        tx = self.escrow.confirmRelease(agreement_id, milestone, sender=self.buyer)
        return tx.return_value

    def verdict(self, gate_id, score):
        return self.escrow.applyVerdict(gate_id, score, NO_TERMS, sender=self.oracle)

    def status(self, agreement_id, milestone=0) -> int:
        return self.escrow.milestoneOf(agreement_id, milestone).status

    def amount(self, agreement_id, milestone=0) -> int:
        return self.escrow.milestoneOf(agreement_id, milestone).amount

    def warp(self, seconds: int) -> None:
        self.chain.pending_timestamp += seconds


def balance_of(chain, token, account) -> int:
    address = account if isinstance(account, str) else account.address
    if token is None:
        return chain.provider.get_balance(address)
    return token.balanceOf(address)


def cancel_typed_data(escrow, chain, agreement_id, milestone, nonce, deadline) -> dict:
    """The EIP-712 typed data of CancelMilestone for this escrow."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "CancelMilestone": [
                {"name": "agreementId", "type": "uint256"},
                {"name": "milestone", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "CancelMilestone",
        "domain": {
            "name": "Verdict Escrow",
            "version": "1",
            "chainId": chain.chain_id,
            "verifyingContract": escrow.address,
        },
        "message": {
            "agreementId": agreement_id,
            "milestone": milestone,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def sign_cancel(escrow, chain, signer, agreement_id, milestone, deadline, nonce=None) -> bytes:
    """EIP-712 CancelMilestone signature by `signer` (a test account), over its current nonce."""
    if nonce is None:
        nonce = escrow.nonces(signer)
    typed = cancel_typed_data(escrow, chain, agreement_id, milestone, nonce, deadline)
    signed = Account.sign_message(encode_typed_data(full_message=typed), signer.private_key)
    return bytes(signed.signature)


_AGREEMENT_FIELDS = ("buyer", "milestoneCount", "createdAt", "supplier", "token")
_MILESTONE_FIELDS = ("amount", "dueDate", "deadline", "gateId", "status")


def _record(value, fields):
    if hasattr(value, fields[0]):
        return SimpleNamespace(**{f: getattr(value, f) for f in fields})
    return SimpleNamespace(**dict(zip(fields, value, strict=True)))


def agreement_state(escrow, agreement_id):
    """`escrow.agreementState` with attribute access on the nested structs."""
    agreement, milestones = escrow.agreementState(agreement_id)
    return _record(agreement, _AGREEMENT_FIELDS), [_record(m, _MILESTONE_FIELDS) for m in milestones]
