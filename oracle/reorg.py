"""Watching mined verdict transactions for a chain reorganisation that drops them.

Each verdict transaction seen mined is watched for REORG_WINDOW seconds. A check costs one header
request while nothing moved: a reorganisation that replaced any watched block also changed every
block after it, so the latest watched block alone tells whether to look closer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from oracle.clock import Clock, SystemClock
from oracle.events import raw_bytes
from oracle.verdicts import VerdictRow

REORG_WINDOW = 30.0  # seconds a mined verdict transaction's block is watched for a reorganisation
REORG_WATCHED = 128  # at most this many of the latest mined verdict transactions
REORG_CHECK = 1.0  # seconds between those looks (one batched header request)


class BlockSource(Protocol):
    """The chain reads the watch needs (`oracle.chain.ChainClient` is one)."""

    def block_hashes(self, numbers: Sequence[int]) -> dict[int, str | None]: ...

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, dict[str, Any] | None]: ...


@dataclass
class Mined:
    """A verdict transaction seen mined, and the verdicts in it."""

    tx_hash: str
    block: int
    block_hash: str
    rows: dict[tuple[str, int], VerdictRow]
    seen_at: float


def hex_of(value: Any) -> str:
    """0x hex of a raw JSON-RPC hex string or of web3's HexBytes."""
    return value.lower() if isinstance(value, str) else "0x" + raw_bytes(value).hex()


class ReorgWatch:
    """The latest mined verdict transactions, and which of them a reorganisation dropped."""

    def __init__(self, chain: BlockSource, clock: Clock | None = None) -> None:
        self._chain = chain
        self._clock = clock or SystemClock()
        self._mined: list[Mined] = []
        self._checked = -float("inf")

    def watch(self, receipt: dict[str, Any], tx_hash: str, rows: dict[tuple[str, int], VerdictRow]) -> None:
        """Start watching a mined transaction (a receipt without a block is not watched)."""
        if receipt.get("blockHash") is None or receipt.get("blockNumber") is None:
            return
        block = int(receipt["blockNumber"])
        self._mined.append(Mined(tx_hash, block, hex_of(receipt["blockHash"]), rows, self._clock.monotonic()))

    def dropped(self) -> list[Mined]:
        """Watched transactions whose block left the node's chain and which were not mined again
        elsewhere; they are no longer watched. At most one look per REORG_CHECK seconds."""
        now = self._clock.monotonic()
        self._mined = [m for m in self._mined[-REORG_WATCHED:] if now - m.seen_at <= REORG_WINDOW]
        if not self._mined or now - self._checked < REORG_CHECK:
            return []
        self._checked = now
        top = max(self._mined, key=lambda m: m.block)
        if self._chain.block_hashes([top.block]).get(top.block) == top.block_hash:
            return []
        current = self._chain.block_hashes(sorted({m.block for m in self._mined}))
        moved = [m for m in self._mined if current.get(m.block) != m.block_hash]
        if not moved:
            return []
        receipts = self._chain.receipts([m.tx_hash for m in moved])
        gone = []
        for m in moved:
            receipt = receipts.get(m.tx_hash)
            if receipt is not None and receipt.get("blockHash"):
                m.block, m.block_hash = (
                    int(receipt["blockNumber"]),
                    hex_of(receipt["blockHash"]),
                )  # mined again
                continue
            self._mined.remove(m)
            gone.append(m)
        return gone
