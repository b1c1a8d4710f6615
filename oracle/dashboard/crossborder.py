"""The cross-border page: each CrossBorderRouter payment with its quote, route, realised rate and
outcome, read from the chain (`oracle.fx_report`), and the figures the demo summary reports."""

from __future__ import annotations

from typing import Any

from oracle.dashboard.view import ChainView
from oracle.fx_report import cross_border_summary, read_cross_border


class CrossBorderView(ChainView):
    """Reads the cross-border payments of one deployment (none without a CrossBorderRouter)."""

    def page(self) -> dict[str, Any]:
        if "CrossBorderRouter" not in self.deployment.contracts:
            return {"deployed": False, "payments": [], "summary": cross_border_summary([])}
        records = read_cross_border(self.chain, self.abis, self.deployment.block)
        return {
            "deployed": True,
            "address": self.deployment.contracts["CrossBorderRouter"],
            "payments": list(reversed(records)),  # newest first, like the live page
            "summary": cross_border_summary(records),
        }
