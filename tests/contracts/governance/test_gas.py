"""The `governance.*` entries of snapshots/gas.json, measured on the governance fixture's DAO.

Same measure and same rules as tests/contracts/test_gas_snapshot.py (which leaves these keys alone):
execution gas (receipt less 21,000 and calldata), one fixed sequence, a difference fails with a diff.
Refresh with

    VERDICT_UPDATE_GAS_SNAPSHOT=1 .venv/bin/ape test tests/contracts/governance/test_gas.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dao_helpers import ballot_signature, encode_call, fresh_accounts
from eth_account import Account
from eth_utils import keccak

from verdict_deploy.governance import (
    SUPPORT,
    TOKEN,
    advance,
    advance_past,
    keyed_vote_nonce,
    with_proposer_suffix,
)

SNAPSHOT = Path(__file__).resolve().parents[3] / "snapshots" / "gas.json"
UPDATE_ENV = "VERDICT_UPDATE_GAS_SNAPSHOT"
PREFIX = "governance."
REFRESH = f"{UPDATE_ENV}=1 .venv/bin/ape test tests/contracts/governance/test_gas.py"


def execution_gas(receipt) -> int:
    """Receipt gas less the intrinsic 21,000 and the calldata (4 gas a zero byte, 16 otherwise)."""
    data = bytes(receipt.transaction.data)
    zeros = data.count(0)
    return int(receipt.gas_used) - 21_000 - 4 * zeros - 16 * (len(data) - zeros)


def measure(governor, router, token, timelock, members, accounts, outsider) -> dict[str, int]:
    gas: dict[str, int] = {}

    def step(name, send):
        advance(1)  # every measured transaction in a new second: vote checkpoints are always new ones
        receipt = send()
        gas[PREFIX + name] = execution_gas(receipt)
        return receipt

    newcomer, signer = fresh_accounts(accounts, 1)[0], Account.create()
    step(
        "token.transfer, first receipt (self-delegates)",
        lambda: token.transfer(newcomer, TOKEN, sender=members[4]),
    )
    step("token.transfer, later receipt", lambda: token.transfer(newcomer, TOKEN, sender=members[4]))
    step(
        "token.transfer to a contract (treasury)", lambda: token.transfer(timelock, TOKEN, sender=members[4])
    )
    token.transfer(signer.address, 10_000 * TOKEN, sender=members[4])

    routine = [encode_call(router, "setThresholds", 9800, 9990)]
    quadratic = [encode_call(router, "setFeeBps", 10)]
    advance(1)
    rcpt = governor.propose(
        *_args(routine), _suffixed("gas: routine threshold change", members[0]), sender=members[0]
    )
    gas[PREFIX + "propose (routine, 1 call)"] = execution_gas(rcpt)
    pid = rcpt.events.filter(governor.ProposalCreated)[0].proposalId
    advance(1)
    rcpt = governor.propose(
        *_args(quadratic), _suffixed("gas: fee #quadratic", members[0]), sender=members[0]
    )
    gas[PREFIX + "propose (quadratic flag, 1 listed call)"] = execution_gas(rcpt)
    qid = rcpt.events.filter(governor.ProposalCreated)[0].proposalId

    advance_past(governor.proposalSnapshot(qid))
    step(
        "castVote (token-weighted, reaches quorum)",
        lambda: governor.castVote(pid, SUPPORT["for"], sender=members[1]),
    )
    step("castVote (quadratic, member)", lambda: governor.castVote(qid, SUPPORT["for"], sender=members[1]))
    signature = ballot_signature(governor, signer, pid, SUPPORT["for"], keyed_vote_nonce(pid))
    step(
        "castVoteBySig (keyed nonce, relayed)",
        lambda: governor.castVoteBySig(pid, SUPPORT["for"], signer.address, signature, sender=outsider),
    )
    step("castVote (token-weighted)", lambda: governor.castVote(pid, SUPPORT["for"], sender=members[2]))
    advance_past(governor.proposalDeadline(qid))
    routine_args = (*_args(routine), _description_hash("gas: routine threshold change", members[0]))
    step("queue", lambda: governor.queue(*routine_args, sender=members[0]))
    advance_past(governor.proposalEta(pid) - 1)
    step("execute (setThresholds)", lambda: governor.execute(*routine_args, sender=members[0]))
    assert router.reviewThreshold() == 9800
    return gas


def _args(calls):
    return tuple(list(x) for x in zip(*calls, strict=True))


def _suffixed(description, proposer):
    return with_proposer_suffix(description, proposer)


def _description_hash(description, proposer):
    return keccak(text=_suffixed(description, proposer))


def test_governance_gas_snapshot_is_current(governor, router, token, timelock, members, accounts, outsider):
    gas = measure(governor, router, token, timelock, members, accounts, outsider)
    recorded = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    if os.environ.get(UPDATE_ENV) == "1":
        kept = {name: value for name, value in recorded.items() if not name.startswith(PREFIX)}
        SNAPSHOT.write_text(json.dumps(dict(sorted({**kept, **gas}.items())), indent=2) + "\n")
        return
    mine = {name: value for name, value in recorded.items() if name.startswith(PREFIX)}
    changes = [
        f"  {name}: {mine.get(name)} -> {gas.get(name)}"
        for name in sorted(mine.keys() | gas.keys())
        if mine.get(name) != gas.get(name)
    ]
    if changes:
        pytest.fail(
            "governance gas differs from snapshots/gas.json:\n"
            + "\n".join(changes)
            + f"\nRefresh: {REFRESH}",
            pytrace=False,
        )
