"""The gas limit of a verdict batch, from its items rather than from `eth_estimateGas` (issue 16).

An estimate per batch cost the node about 60 ms of anvil's time for 200 verdicts (it runs the batch
again and again to search for the gas), half of the chain's CPU per payment. Every gas cost in a
verdict is bounded instead: the router and the escrow push a payout with at most the token's listed
budget (`PaymentRouter.listedTokens()`, set by the DAO; `ETH_PUSH_GAS` for ETH), and the rest of a
verdict (checks, the vote, the status write, the credit of a failed push) costs at most a fixed
amount. So the sum of the items' worst cases is a gas limit that a batch cannot run out of, however
hostile its tokens are. If it ever does (a budget raised since it was read, a repricing of the EVM),
the batch reverts once mined, and the split-and-park rule (`oracle.outbox`) isolates the culprit
with `eth_call`s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

ETH = "0x0000000000000000000000000000000000000000"
ETH_PUSH_GAS = 50_000  # RiskGatedVault.ETH_PUSH_GAS: what an ETH payout is given
TOKEN_PUSH_GAS = 150_000  # SafePush.TOKEN_PUSH_GAS: the most any token push is given
ITEM_GAS = 50_000
"""Gas of one verdict besides its push: calldata (five words), the checks, a quorum vote and the
final score, the router's status write, the cold access to the token, and a credit written when the
push fails. The dearest measured case (snapshots/gas.json: the final vote of a quorum of three,
settling an ERC-20 to a new holder) is about 41,000 plus the push."""
ETH_CALL_GAS = 37_000
"""What the caller pays on top of an ETH push's own gas: the value transfer (9,000), a recipient
that did not exist yet (25,000), its cold access (2,600)."""
SWAP_GAS = 1_000_000  # CrossBorderRouter.SWAP_GAS: what a conversion's swap sub-call is given
XBORDER_GUARD_GAS = 120_000
"""A cross-border verdict's conversion besides the swap and the payout: two feed reads, four balance
reads, the stored route, the approval and the fee (measured about 94,000; tests/contracts/crossborder)."""
XBORDER_ITEM_GAS = (
    ITEM_GAS + XBORDER_GUARD_GAS + math.ceil(SWAP_GAS * 64 / 63) + math.ceil(TOKEN_PUSH_GAS * 64 / 63)
)
"""Worst-case gas of one CrossBorderRouter verdict: short of it, the swap would get less than
SWAP_GAS and could fail for want of gas, refunding a payment that should have converted."""
TX_GAS = 30_000  # the transaction's intrinsic 21,000 and the call into submitVerdicts
MARGIN = 1.1


def push_gas(budget: int) -> int:
    """Gas a call given `budget` needs to be left: EIP-150 forwards at most 63/64 of what is left,
    and SafePush gives the push exactly its budget."""
    return math.ceil(budget * 64 / 63)


class GasBudget:
    """Per-item worst-case gas, from the tokens' listed push budgets."""

    def __init__(
        self,
        token_budgets: Mapping[str, int] | None = None,
        router: str | None = None,
        target_gas: Mapping[str, int] | None = None,
    ) -> None:
        """token_budgets: token address -> push budget (listed tokens; `listedTokens()`); router: the
        PaymentRouter's address (its items use these budgets; other targets, the largest one);
        target_gas: gated address -> the fixed worst case of each of its items (the
        CrossBorderRouter's, XBORDER_ITEM_GAS)."""
        self._budgets = {t.lower(): int(g) for t, g in (token_budgets or {}).items()}
        self._router = router.lower() if router else None
        self._targets = {t.lower(): int(g) for t, g in (target_gas or {}).items()}

    @property
    def worst_item(self) -> int:
        """The dearest item of any token: what an item whose token is not known is given."""
        return ITEM_GAS + max(ETH_CALL_GAS + push_gas(ETH_PUSH_GAS), 3_000 + push_gas(TOKEN_PUSH_GAS))

    def item(self, target: str, token: str | None) -> int:
        """Worst-case gas of one verdict for `target` paying out in `token` (None: not known)."""
        fixed = self._targets.get(target.lower()) if self._targets else None
        if fixed is not None:
            return fixed
        if token is None:
            return self.worst_item
        if int(token, 16) == 0:
            return ITEM_GAS + ETH_CALL_GAS + push_gas(ETH_PUSH_GAS)
        budget = TOKEN_PUSH_GAS
        if self._router is not None and target.lower() == self._router:
            # A listed token gets its budget; one not in the list read (listed since, or delisted and
            # so credited without a call) is given the most any token may have.
            budget = min(self._budgets.get(token.lower(), TOKEN_PUSH_GAS), TOKEN_PUSH_GAS)
        return ITEM_GAS + 3_000 + push_gas(budget)

    @staticmethod
    def batch(item_gas: Iterable[int]) -> int:
        """The gas limit of a batch whose items' worst cases are `item_gas`."""
        return TX_GAS + math.ceil(sum(item_gas) * MARGIN)
