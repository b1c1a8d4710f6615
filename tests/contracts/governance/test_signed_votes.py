"""Votes by signature with keyed nonces (issue 19): a member without ETH signs ballots on several open
proposals at once and anyone relays them in any order; a ballot cannot be replayed or moved to another
proposal; a non-member's signed ballot on a quadratic proposal weighs nothing."""

import ape
from dao_helpers import ballot_signature, encode_call, extended_ballot_signature, make_proposal
from eth_account import Account

from verdict_deploy.governance import SUPPORT, TOKEN, advance_past, keyed_vote_nonce

FOR, AGAINST = SUPPORT["for"], SUPPORT["against"]


def _two_open_proposals(governor, router, proposer, quadratic=False):
    flag = " #quadratic" if quadratic else ""
    first = make_proposal(governor, [encode_call(router, "setFeeBps", 31)], proposer, f"fee 31{flag}")
    second = make_proposal(governor, [encode_call(router, "setFeeBps", 32)], proposer, f"fee 32{flag}")
    advance_past(governor.proposalSnapshot(second.proposal_id))
    return first.proposal_id, second.proposal_id


def test_a_member_without_eth_votes_on_two_open_proposals_in_either_order(
    governor, router, token, membership, members, outsider
):
    voter = Account.create()  # no ETH, no delegate transaction: auto-delegated on receipt
    membership.invite(voter.address, sender=members[0])
    token.transfer(voter.address, 50_000 * TOKEN, sender=members[0])
    first, second = _two_open_proposals(governor, router, members[1])
    assert ape.chain.provider.get_balance(voter.address) == 0

    # Both ballots are signed before either lands: each proposal has its own nonce sequence.
    nonce_first, nonce_second = keyed_vote_nonce(first), keyed_vote_nonce(second)
    assert governor.nonces(voter.address, first % 2**192) == nonce_first
    sig_first = ballot_signature(governor, voter, first, FOR, nonce_first)
    sig_second = extended_ballot_signature(governor, voter, second, AGAINST, nonce_second, "too high", b"")

    # The later proposal's ballot lands first, relayed by someone else; the earlier one still lands.
    governor.castVoteWithReasonAndParamsBySig(
        second, AGAINST, voter.address, "too high", b"", sig_second, sender=outsider
    )
    governor.castVoteBySig(first, FOR, voter.address, sig_first, sender=outsider)

    assert governor.proposalVotes(first)[1] == 50_000 * TOKEN
    assert governor.proposalVotes(second)[0] == 50_000 * TOKEN
    assert governor.nonces(voter.address, first % 2**192) == nonce_first + 1
    assert governor.nonces(voter.address) == 0  # the plain nonce (and the token's permits) untouched


def test_a_keyed_ballot_cannot_be_replayed_or_moved_to_another_proposal(
    governor, router, token, members, outsider
):
    voter = Account.create()
    token.transfer(voter.address, 20_000 * TOKEN, sender=members[0])
    first, second = _two_open_proposals(governor, router, members[1])
    signature = ballot_signature(governor, voter, first, FOR, keyed_vote_nonce(first))

    # Signed for `first`, with `first`'s key: on `second` it recovers another signer.
    with ape.reverts(governor.GovernorInvalidSignature):
        governor.castVoteBySig(second, FOR, voter.address, signature, sender=outsider)
    # A ballot on `first` carrying `second`'s nonce key does not count on `first`.
    crossed = ballot_signature(governor, voter, first, FOR, keyed_vote_nonce(second))
    with ape.reverts(governor.GovernorInvalidSignature):
        governor.castVoteBySig(first, FOR, voter.address, crossed, sender=outsider)
    assert not governor.hasVoted(second, voter.address)

    governor.castVoteBySig(first, FOR, voter.address, signature, sender=outsider)
    with ape.reverts(governor.GovernorInvalidSignature):  # replay: the key's nonce moved on
        governor.castVoteBySig(first, FOR, voter.address, signature, sender=outsider)
    assert governor.proposalVotes(first)[1] == 20_000 * TOKEN


def test_a_non_members_signed_ballot_on_a_quadratic_proposal_weighs_nothing(
    governor, router, token, members, outsider
):
    """On-chain a zero-weight ballot is recorded, not refused (as with castVote): only members weigh on a
    quadratic proposal. The relayer refuses such ballots before spending gas (docs/governance.md)."""
    stranger = Account.create()
    token.transfer(stranger.address, 90_000 * TOKEN, sender=members[0])
    first, _ = _two_open_proposals(governor, router, members[1], quadratic=True)
    assert governor.isQuadratic(first)
    signature = ballot_signature(governor, stranger, first, FOR, keyed_vote_nonce(first))
    governor.castVoteBySig(first, FOR, stranger.address, signature, sender=outsider)
    assert governor.hasVoted(first, stranger.address)
    assert governor.proposalVotes(first) == (0, 0, 0)
    assert governor.quorumParticipation(first) == 0
