"""A store is bound to the deployment it serves: the first `verdict run` writes the record's chain id,
PaymentRouter and first block (number and hash) into the store (table `store_binding`), and every
later run refuses, in one line, a store made for another deployment. Its payments (keyed by router
payment id), verdicts and the log checkpoint mean nothing on another chain or router, and a daemon
that read them would skip payments or post verdicts for the wrong ones.

To switch: a new store (another VERDICT_STORE_URL), or `verdict run --rebind-store`
(VERDICT_STORE_REBIND=1), which keeps the old rows and binds the store to the new record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from sqlalchemy import select

from oracle.db import OverDatabase, store_binding
from oracle.deployment import Deployment
from oracle.errors import StoreError

NAME = "deployment"
log = structlog.get_logger("verdict.binding")


@dataclass(frozen=True)
class Binding:
    chain_id: int
    router: str
    block: int
    block_hash: str

    @classmethod
    def of(cls, deployment: Deployment) -> Binding:
        return cls(
            int(deployment.chain_id or 0),
            deployment.address("PaymentRouter").lower(),
            int(deployment.block),
            str(deployment.block_hash).lower(),
        )

    def describe(self) -> str:
        return f"chain id {self.chain_id}, PaymentRouter {self.router}, deployed at block {self.block}"


class StoreBinding(OverDatabase):
    """The store's binding row, read and written."""

    def bound(self) -> tuple[Binding, str] | None:
        """The binding and the record it was made from; None for a store not bound yet."""
        with self._db.tx("reading the store's deployment") as conn:
            row = conn.execute(select(store_binding).where(store_binding.c.name == NAME)).first()
        if row is None:
            return None
        return Binding(int(row.chain_id), row.router, int(row.block), row.block_hash), row.record

    def bind(self, deployment: Deployment, *, rebind: bool = False) -> str:
        """Binds an unbound store to `deployment`; checks a bound one. Returns "bound", "same" or
        "rebound"; a store bound to another deployment is a StoreError unless `rebind`."""
        want = Binding.of(deployment)
        found = self.bound()
        if found is not None and found[0] == want:
            return "same"
        if found is not None and not rebind:
            have, record = found
            raise StoreError(
                f"store {self.label} belongs to another deployment ({have.describe()}, record {record}), "
                f"not to {deployment.path or deployment.network} ({want.describe()}): point "
                "VERDICT_STORE_URL at a new store for this deployment, or run `verdict run "
                "--rebind-store` to bind this one to it"
            )
        row = {
            "name": NAME,
            "chain_id": want.chain_id,
            "router": want.router,
            "block": want.block,
            "block_hash": want.block_hash,
            "record": str(deployment.path or deployment.network),
            "bound_at": time.time(),
        }
        with self._db.tx("binding the store to its deployment") as conn:
            self._db.upsert(conn, store_binding, [row], ["name"])
        return "bound" if found is None else "rebound"


def bind_store(store: OverDatabase, deployment: Deployment, *, rebind: bool = False) -> str:
    """`StoreBinding.bind` over an open store's own database (no second engine); logs a new binding."""
    outcome = StoreBinding(store._db).bind(deployment, rebind=rebind)
    if outcome != "same":
        log.info(f"store {outcome} to its deployment", store=store.label, **vars(Binding.of(deployment)))
    return outcome
