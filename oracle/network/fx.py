"""Cross-border items in the network's signed reports (issue 18): the single-node path's quoting
(`oracle.fx_daemon.FxNode`), split between signing and transmitting.

- **Signing.** Every node scores a round's cross-border requests like any other. For each one it
  settles, it prepares the quote *at the round's window end block* (route, amounts and
  `issuedAt` all from that block's state), so every honest node derives the same quote and the same
  quote hash without talking to the others. Its reasons and reasons hash become what the
  single-node daemon's are (`FxNode.quote_rows`: `conversion_hash(evidence hash, quote hash)`);
  nothing is sent.
- **Transmitting.** Only the round's transmitter sends quotes: before `transmit`, for each
  cross-border item the signers' median score settles, it prepares the same quote again and, unless
  that very quote already stands on the router, sends its `submitQuote` through the node's sender
  (one nonce sequence: mined before the report). A payment that cannot be quoted (no route, a
  stale feed, a fill off the feeds' band, a quote expired since the window) gets no quote and
  the verdict refunds it (`NoQuote`); it never holds the report back. A quote that stands but is
  not the signed one (another node's, newer, so it cannot be replaced) is logged and counted: the
  report still goes, and the conversion is still bounded by the feeds' band on chain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import structlog

from oracle.fx_daemon import FxNode
from oracle.fx_node import PreparedQuote
from oracle.gate import SETTLE, decide

log = structlog.get_logger("verdict.network.fx")

QUOTE_RECEIPT_TIMEOUT = 60.0
PREPARED_CACHE = 4096  # quotes kept per (payment, block): a round is prepared when signed and sent


class RoundQuotes(FxNode):
    """One network node's cross-border side over its chain client (and so its key and sender)."""

    def __init__(self, settings: Any, chain: Any) -> None:
        super().__init__(settings, chain)
        self._block: int | None = None  # the window end block being signed or transmitted
        self._sending = False
        self._prepared: dict[tuple[int, int], tuple[PreparedQuote | None, str]] = {}
        self.mismatches = 0  # items transmitted while a quote other than the signed one stood

    @classmethod
    def for_network(cls, settings: Any, chain: Any) -> RoundQuotes | None:
        """The node's RoundQuotes, or None when the deployment has no CrossBorderRouter."""
        deployment = getattr(chain, "deployment", None)
        if deployment is None or "CrossBorderRouter" not in deployment.contracts:
            return None
        return cls(settings, chain)

    @contextmanager
    def signing(self, end_block: int) -> Iterator[None]:
        """While a window ending at `end_block` is scored: quotes are prepared at that block, not sent."""
        self._block, self._sending = end_block, False
        try:
            yield
        finally:
            self._block = None

    # --- FxNode's hooks ------------------------------------------------------------------------
    def prepare(self, payment_id: int, *, block: int | str = "latest") -> tuple[PreparedQuote | None, str]:
        """The quote at the window's block while signing or transmitting a round (cached: the
        transmitter prepares each quote twice, once to compare and once to send)."""
        if self._block is None:
            return super().prepare(payment_id, block=block)
        key = (payment_id, self._block)
        if key not in self._prepared:
            if len(self._prepared) >= PREPARED_CACHE:
                self._prepared.clear()
            self._prepared[key] = super().prepare(payment_id, block=self._block)
        return self._prepared[key]

    def _quote(self, payment_id: int) -> tuple[PreparedQuote | None, str, str]:
        if self._sending:
            return super()._quote(payment_id)
        prepared, declined = self.prepare(payment_id)
        return prepared, "", declined  # signing: only the transmitter sends, see quote_round

    # --- the transmitter -----------------------------------------------------------------------
    def quote_round(
        self, ids: Sequence[int], medians: Sequence[int], end_block: int, thresholds: tuple[int, int]
    ) -> list[int]:
        """Sends the signed quote of every item of a cross-border report that its median score
        settles, unless it already stands. Returns the ids whose standing quote is not the signed
        one (none normally). Only transport failures raise (ChainError)."""
        mismatched: list[int] = []
        sent_txs: list[str] = []
        for payment_id, median in zip(ids, medians, strict=True):
            if decide(median, *thresholds) != SETTLE:
                continue  # held or refunded: a quote would be dropped unused
            self._block, self._sending = end_block, False
            try:
                signed, _ = self.prepare(payment_id)
                if signed is None:
                    continue  # declined (logged): the verdict refunds for want of a quote
                if self._standing_hash(payment_id) == signed.digest:
                    continue  # sent before (by this node before a restart, or an earlier attempt)
                self._sending = True
                sent, tx_hash, declined = self._quote(payment_id)
            finally:
                self._block, self._sending = None, False
            if tx_hash:
                sent_txs.append(tx_hash)
            standing = sent.digest if sent is not None else self._standing_hash(payment_id)
            if standing not in (signed.digest, bytes(32)):
                self.mismatches += 1
                mismatched.append(payment_id)
                log.warning(
                    "a quote other than the signed one stands: transmitting anyway",
                    payment=payment_id,
                    signed="0x" + signed.digest.hex(),
                    standing="0x" + standing.hex(),
                )
            elif sent is None:
                log.warning("signed quote refused: the verdict refunds", payment=payment_id, reason=declined)
        for tx_hash in sent_txs:
            # the report's gas is estimated on the latest block: with its quotes in it, or the
            # estimate would price a refund and the conversion would run out of gas
            self._chain.wait_receipt(tx_hash, timeout=QUOTE_RECEIPT_TIMEOUT)
        return mismatched

    def _standing_hash(self, payment_id: int) -> bytes:
        # through the client's rpc(): an unreachable node is a ChainError, which the node's loop backs off on
        call = self._router.functions.quoteOf(payment_id)
        return bytes(self._chain.rpc(lambda: call.call())[4])
