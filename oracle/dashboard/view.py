"""What every chain-reading page of the dashboard starts from: the chain, the deployment record and
the compiled ABIs."""

from __future__ import annotations

from typing import Any

from oracle.chain import ChainClient, Deployment


class ChainView:
    """A page that reads one deployment's contracts through `chain`."""

    def __init__(
        self, chain: ChainClient, deployment: Deployment, abis: dict[str, list[dict[str, Any]]]
    ) -> None:
        self.chain = chain
        self.deployment = deployment
        self.abis = abis
