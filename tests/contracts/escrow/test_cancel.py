"""Cancelling a milestone not yet started, by both parties' EIP-712 signatures."""

import ape
from escrow_helpers import CANCELLED, DAY, REQUESTED, USD, cancel_typed_data, sign_cancel
from eth_account.messages import _hash_eip191_message, encode_typed_data


def _hash_typed(typed) -> bytes:
    return _hash_eip191_message(encode_typed_data(full_message=typed))


def _signatures(escrow, chain, buyer, supplier, agreement_id, milestone, deadline):
    return (
        sign_cancel(escrow, chain, buyer, agreement_id, milestone, deadline),
        sign_cancel(escrow, chain, supplier, agreement_id, milestone, deadline),
    )


def test_contract_digest_is_the_standard_eip712_hash(world, chain, escrow, stablecoin):
    agreement_id, _ = world.create(stablecoin)
    expected = cancel_typed_data(escrow, chain, agreement_id, 2, 7, 123)
    assert escrow.cancelDigest(agreement_id, 2, 7, 123) == _hash_typed(expected)


def test_valid_cancel_refunds_the_buyer(world, chain, escrow, stablecoin, buyer, supplier, outsider):
    agreement_id, _ = world.create(stablecoin)
    deadline = world.now() + DAY
    buyer_sig, supplier_sig = _signatures(escrow, chain, buyer, supplier, agreement_id, 1, deadline)
    before = stablecoin.balanceOf(buyer)

    tx = escrow.cancelMilestone(agreement_id, 1, deadline, buyer_sig, supplier_sig, sender=outsider)

    assert stablecoin.balanceOf(buyer) - before == 200 * USD
    assert world.status(agreement_id, 1) == CANCELLED
    assert escrow.nonces(buyer) == 1 and escrow.nonces(supplier) == 1
    cancelled = list(tx.decode_logs(escrow.MilestoneCancelled))[0]
    assert cancelled.milestone == 1 and cancelled.amount == 200 * USD


def test_cancel_with_eth(world, chain, escrow, buyer, supplier):
    agreement_id, _ = world.create(None, amounts=(10**17,))
    deadline = world.now() + DAY
    buyer_sig, supplier_sig = _signatures(escrow, chain, buyer, supplier, agreement_id, 0, deadline)
    before = chain.provider.get_balance(buyer.address)
    tx = escrow.cancelMilestone(agreement_id, 0, deadline, buyer_sig, supplier_sig, sender=supplier)
    assert chain.provider.get_balance(buyer.address) - before == 10**17
    assert tx.status == 1


def test_cancel_by_wrong_signer_reverts(world, chain, escrow, stablecoin, buyer, supplier, outsider):
    agreement_id, _ = world.create(stablecoin)
    deadline = world.now() + DAY
    buyer_sig = sign_cancel(escrow, chain, buyer, agreement_id, 0, deadline)
    forged = sign_cancel(escrow, chain, outsider, agreement_id, 0, deadline, nonce=0)
    with ape.reverts(escrow.EscrowInvalidSignature, signer=supplier.address):
        escrow.cancelMilestone(agreement_id, 0, deadline, buyer_sig, forged, sender=outsider)
    # The buyer's signature alone, twice, is not the supplier's agreement either.
    with ape.reverts(escrow.EscrowInvalidSignature, signer=supplier.address):
        escrow.cancelMilestone(agreement_id, 0, deadline, buyer_sig, buyer_sig, sender=outsider)
    # Signatures swapped between the roles.
    supplier_sig = sign_cancel(escrow, chain, supplier, agreement_id, 0, deadline)
    with ape.reverts(escrow.EscrowInvalidSignature, signer=buyer.address):
        escrow.cancelMilestone(agreement_id, 0, deadline, supplier_sig, buyer_sig, sender=outsider)


def test_signature_for_another_milestone_or_deadline_reverts(
    world, chain, escrow, stablecoin, buyer, supplier
):
    agreement_id, _ = world.create(stablecoin)
    deadline = world.now() + DAY
    buyer_sig, supplier_sig = _signatures(escrow, chain, buyer, supplier, agreement_id, 0, deadline)
    with ape.reverts(escrow.EscrowInvalidSignature):
        escrow.cancelMilestone(agreement_id, 1, deadline, buyer_sig, supplier_sig, sender=buyer)
    with ape.reverts(escrow.EscrowInvalidSignature):
        escrow.cancelMilestone(agreement_id, 0, deadline + 1, buyer_sig, supplier_sig, sender=buyer)


def test_replayed_signature_reverts(world, chain, escrow, stablecoin, buyer, supplier):
    agreement_id, _ = world.create(stablecoin)
    other_id, _ = world.create(stablecoin)
    deadline = world.now() + DAY
    # Both parties sign a cancel of milestone 0 of `other_id` (nonce 0), never submitted ...
    stale = _signatures(escrow, chain, buyer, supplier, other_id, 0, deadline)
    # ... then cancel milestone 0 of `agreement_id` with nonce 0.
    fresh = _signatures(escrow, chain, buyer, supplier, agreement_id, 0, deadline)
    escrow.cancelMilestone(agreement_id, 0, deadline, *fresh, sender=buyer)
    # The nonce moved on: the stale pair is void even though its milestone is still Funded.
    with ape.reverts(escrow.EscrowInvalidSignature, signer=buyer.address):
        escrow.cancelMilestone(other_id, 0, deadline, *stale, sender=buyer)
    # Submitting the used pair again fails too (already cancelled).
    with ape.reverts(escrow.EscrowInvalidStatus, status=CANCELLED):
        escrow.cancelMilestone(agreement_id, 0, deadline, *fresh, sender=buyer)


def test_expired_signature_reverts(world, chain, escrow, stablecoin, buyer, supplier):
    agreement_id, _ = world.create(stablecoin)
    deadline = world.now() + 3600
    sigs = _signatures(escrow, chain, buyer, supplier, agreement_id, 0, deadline)
    world.warp(3601)
    with ape.reverts(escrow.EscrowSignatureExpired, deadline=deadline):
        escrow.cancelMilestone(agreement_id, 0, deadline, *sigs, sender=buyer)


def test_started_milestone_cannot_be_cancelled(world, chain, escrow, stablecoin, buyer, supplier):
    agreement_id, _ = world.create(stablecoin)
    escrow.requestRelease(agreement_id, 0, sender=supplier)
    deadline = world.now() + DAY
    sigs = _signatures(escrow, chain, buyer, supplier, agreement_id, 0, deadline)
    with ape.reverts(escrow.EscrowInvalidStatus, status=REQUESTED):
        escrow.cancelMilestone(agreement_id, 0, deadline, *sigs, sender=buyer)


def test_cancel_works_while_paused(world, chain, escrow, stablecoin, buyer, supplier, guardian):
    agreement_id, _ = world.create(stablecoin)
    escrow.pause(sender=guardian)
    deadline = world.now() + DAY
    sigs = _signatures(escrow, chain, buyer, supplier, agreement_id, 2, deadline)
    escrow.cancelMilestone(agreement_id, 2, deadline, *sigs, sender=buyer)
    assert world.status(agreement_id, 2) == CANCELLED
