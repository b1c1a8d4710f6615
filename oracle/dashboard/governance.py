"""The governance page's data: proposals with their tallies (all read in one JSON-RPC batch), and the
treasury: the timelock's balances and the fees accrued in the router, per asset."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from oracle.chain import ETH, ChainClient, Deployment
from oracle.dashboard.pages import Holding, Proposal
from oracle.dashboard.view import ChainView
from oracle.errors import ChainError

PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
TRACKS = ("Major", "Routine")


class GovernanceView(ChainView):
    """Reads the CommunityGovernor, its timelock's holdings and the router's fees."""

    def __init__(
        self, chain: ChainClient, deployment: Deployment, abis: dict[str, list[dict[str, Any]]]
    ) -> None:
        super().__init__(chain, deployment, abis)
        self.w3: Web3 = chain.w3
        address = deployment.contracts.get("CommunityGovernor")
        abi = abis.get("CommunityGovernor")
        self.governor = None if address is None or abi is None else self.w3.eth.contract(address, abi=abi)
        self.timelock_address = deployment.contracts.get("CommunityTimelock")

    def page(self) -> dict[str, Any]:
        if self.governor is None:
            return {"deployed": False, "proposals": [], "treasury": []}
        gov = self.governor
        topic = ChainClient.topic(gov, "ProposalCreated")
        logs = self.chain.logs(gov.address, [topic], from_block=self.deployment.block)
        event = gov.events.ProposalCreated()
        names = {e["name"] for e in gov.abi if e.get("type") == "function"}
        created = [event.process_log(log) for log in reversed(logs)]
        # Every proposal's votes, quorum, participation, track and state in one JSON-RPC batch.
        reads = ["proposalVotes", "state"] + [
            n for n in ("proposalQuorum", "quorumParticipation", "proposalTrack", "isQuadratic") if n in names
        ]
        answers = self.chain.call_many(
            [(gov, fn, [int(c["args"]["proposalId"])]) for c in created for fn in reads]
        )
        proposals = []
        for k, entry in enumerate(created):
            args = entry["args"]
            pid = int(args["proposalId"])
            got = dict(zip(reads, answers[k * len(reads) : (k + 1) * len(reads)], strict=True))
            against, for_, abstain = (int(x) for x in got["proposalVotes"])
            quorum = int(got.get("proposalQuorum", 0))
            participation = int(got.get("quorumParticipation", for_ + abstain))
            track = TRACKS[int(got["proposalTrack"])] if "proposalTrack" in got else ""
            proposals.append(
                Proposal(
                    id=pid,
                    description=str(args["description"]),
                    proposer=args["proposer"],
                    state=PROPOSAL_STATES[int(got["state"])],
                    track=track,
                    for_votes=for_,
                    against_votes=against,
                    abstain_votes=abstain,
                    quorum=quorum,
                    participation=participation,
                    vote_start=int(args["voteStart"]),
                    vote_end=int(args["voteEnd"]),
                    block=int(entry["blockNumber"]),
                    quadratic=bool(got.get("isQuadratic", False)),
                )
            )
        return {
            "deployed": True,
            "symbol": self._vote_symbol(),
            "proposals": proposals,
            "treasury": self.treasury(),
            "governor": gov.address,
        }

    def _vote_symbol(self) -> str:
        """The governance token's symbol (the unit of votes), "votes" without a CommunityToken."""
        token = self.deployment.contracts.get("CommunityToken")
        return self.chain.token_info(token).symbol if token else "votes"

    def treasury(self) -> list[Holding]:
        """The timelock's ETH and token balances, and the fees accrued in the router per asset. The
        tokens are the deployed contracts whose ABI is an ERC20 (from the deployment record)."""
        if self.timelock_address is None:
            return []
        holder = self.timelock_address
        tokens = self._erc20_assets()
        rows = [self._holding("ETH", ETH, self.chain.balance(holder))]
        balances = self.chain.call_many([(token, "balanceOf", [holder]) for token in tokens.values()])
        for token, balance in zip(tokens.values(), balances, strict=True):
            rows.append(self._holding(None, token.address, int(balance)))
        router = self.chain.router
        fee_assets = [t.address for name, t in tokens.items() if name != "CommunityToken"] + [ETH]
        try:
            fees = self.chain.call_many([(router, "feesAccrued", [asset]) for asset in fee_assets])
        except (ChainError, AttributeError):  # a router without fee accounting
            return rows
        for asset, fee in zip(fee_assets, fees, strict=True):
            symbol = self.chain.token_info(asset).symbol
            rows.append(self._holding(f"{symbol} fees accrued in the router", asset, int(fee)))
        return rows

    def _holding(self, label: str | None, token: str, units: int) -> Holding:
        info = self.chain.token_info(token)
        return Holding(label or info.symbol, units, info.decimals, info.symbol)

    def _erc20_assets(self) -> dict[str, Any]:
        """Deployment name -> contract, for every deployed contract with an ERC20 ABI."""
        needed = {"balanceOf", "decimals", "symbol"}
        out = {}
        for name, address in self.deployment.contracts.items():
            abi = self.abis.get(name, [])
            if needed <= {e.get("name") for e in abi if e.get("type") == "function"}:
                out[name] = self.w3.eth.contract(address, abi=abi)
        return out
