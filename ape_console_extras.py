"""Governance helpers for `ape console`: ape loads this file (by this name, at the project root) into
the console's namespace. The helpers live in `verdict_deploy.console`; see its docstring for a session.

    ape console --network ethereum:local:foundry
    In [1]: delegate(sender=alice); pid = propose_thresholds(9800, sender=alice)
"""

from verdict_deploy.console import (
    advance_to,
    cancel,
    dao,
    delegate,
    encode_call,
    execute,
    latest_proposal,
    listed_tokens,
    proposal_state,
    propose_approve_model,
    propose_calls,
    propose_delist_token,
    propose_fee,
    propose_thresholds,
    propose_token,
    queue,
    sign_delegation,
    sign_vote,
    use,
    vote,
    vote_weight,
    voting_power,
)

__all__ = [
    "advance_to",
    "cancel",
    "dao",
    "delegate",
    "encode_call",
    "execute",
    "latest_proposal",
    "listed_tokens",
    "proposal_state",
    "propose_approve_model",
    "propose_calls",
    "propose_delist_token",
    "propose_fee",
    "propose_thresholds",
    "propose_token",
    "queue",
    "sign_delegation",
    "sign_vote",
    "use",
    "vote",
    "vote_weight",
    "voting_power",
]
