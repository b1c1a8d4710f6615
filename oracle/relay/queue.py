"""The relayer's queue in the node's store (table `relay_items`, oracle.db): every accepted signed item
is written before the relayer answers 202, and every change of status after it, so a relayer that
stops (or is killed) starts again with the same queue.

A batch's signed relay transaction is written before it is sent (status "submitted", raw_tx,
tx_nonce): after a restart the relayer looks for its receipt and otherwise sends exactly that
transaction again. Its account nonce makes a second landing impossible, so no item is ever
submitted twice; a batch whose nonce went to another transaction goes back to the queue.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from oracle.db import OverDatabase, relay_items


@dataclass(frozen=True)
class StoredItem:
    """One row of `relay_items`."""

    id: int
    kind: str
    signer: str
    nonce: int
    proposal_id: int | None
    calldata: bytes
    status: str
    tx_hash: str | None
    raw_tx: bytes | None
    tx_nonce: int | None
    error: str | None


class RelayQueue(OverDatabase):
    """Reads and writes `relay_items`; the relayer serialises the writes under its own lock."""

    def load(self) -> list[StoredItem]:
        """Every item ever accepted, in acceptance order."""
        with self._db.tx("reading the relay queue") as conn:
            rows = conn.execute(select(relay_items).order_by(relay_items.c.id)).all()
        return [
            StoredItem(
                id=int(r.id),
                kind=r.kind,
                signer=r.signer,
                nonce=int(r.nonce),
                proposal_id=None if r.proposal_id is None else int(r.proposal_id),
                calldata=bytes.fromhex(r.calldata),
                status=r.status,
                tx_hash=r.tx_hash,
                raw_tx=None if r.raw_tx is None else bytes.fromhex(r.raw_tx),
                tx_nonce=r.tx_nonce,
                error=r.error,
            )
            for r in rows
        ]

    def add(
        self, item_id: int, kind: str, signer: str, nonce: int, proposal_id: int | None, calldata: bytes
    ) -> None:
        """A newly accepted item, queued; a StoreError means it was not accepted."""
        with self._db.tx("queueing a signed item") as conn:
            conn.execute(
                relay_items.insert().values(
                    id=item_id,
                    kind=kind,
                    signer=signer,
                    nonce=str(nonce),
                    proposal_id=None if proposal_id is None else str(proposal_id),
                    calldata=calldata.hex(),
                    status="queued",
                    accepted_at=time.time(),
                )
            )

    def submitting(self, ids: Sequence[int], tx_hash: str, raw_tx: bytes, tx_nonce: int) -> None:
        """The batch `ids` is about to be sent as the signed transaction `raw_tx`."""
        self._set(ids, status="submitted", tx_hash=tx_hash, raw_tx=raw_tx.hex(), tx_nonce=tx_nonce)

    def finished(self, ids: Sequence[int], status: str, tx_hash: str | None, error: str | None) -> None:
        """Items cast or failed (or, with status "queued", back in the queue)."""
        self._set(ids, status=status, tx_hash=tx_hash, raw_tx=None, tx_nonce=None, error=error)

    def _set(self, ids: Sequence[int], **values: Any) -> None:
        if not ids:
            return
        with self._db.tx("updating the relay queue") as conn:
            conn.execute(update(relay_items).where(relay_items.c.id.in_(list(ids))).values(**values))
