"""The members' page: open proposals (their state, track, counting rule and tally, as the governance page
reads them) and, for the member the browser wallet names, their voting power at each proposal's snapshot.
Votes are signed in the browser (EIP-1193 `eth_signTypedData_v4`) and sent to the relayer, never here."""

from __future__ import annotations

from typing import Any

from eth_utils import is_address, to_checksum_address

from oracle.chain import ChainClient, Deployment
from oracle.dashboard.filters import votes as whole_votes
from oracle.dashboard.governance import GovernanceView
from oracle.errors import DataError

OPEN_STATES = ("Pending", "Active")


class MembersView:
    """Reads what a member needs to vote: open proposals and their own voting power."""

    def __init__(
        self,
        chain: ChainClient,
        deployment: Deployment,
        abis: dict[str, list[dict[str, Any]]],
        relay_url: str,
    ) -> None:
        self.chain = chain
        self.governance = GovernanceView(chain, deployment, abis)
        self.relay_url = relay_url.rstrip("/")

    def page(self) -> dict[str, Any]:
        data = self.governance.page()
        return {
            "deployed": data["deployed"],
            "symbol": data.get("symbol", "votes"),
            "proposals": [p for p in data["proposals"] if p.state in OPEN_STATES],
            "relay_url": self.relay_url,
        }

    def power(self, account: str) -> dict[str, Any]:
        """{account, symbol, proposals: {id: {votes, votes_text, at, voted}}}: votes at the snapshot of
        each open proposal (the current votes while its snapshot is still in the future)."""
        if not is_address(account):
            raise DataError("give account=0x… (the wallet's address)")
        account = to_checksum_address(account)
        gov = self.governance.governor
        if gov is None:
            return {"account": account, "proposals": {}}
        data = self.page()
        now = int(self.chain.rpc(lambda: self.chain.w3.eth.get_block("latest")["timestamp"]))
        calls = []
        for p in data["proposals"]:
            past = p.vote_start < now
            calls.append((gov, "getVotes", [account, p.vote_start if past else now - 1]))
            calls.append((gov, "hasVoted", [p.id, account]))
        answers = self.chain.call_many(calls)
        out = {}
        for k, p in enumerate(data["proposals"]):
            raw = int(answers[2 * k])
            out[str(p.id)] = {
                "votes": str(raw),
                "votes_text": whole_votes(raw),
                "at": "snapshot" if p.vote_start < now else "now (snapshot ahead)",
                "voted": bool(answers[2 * k + 1]),
            }
        return {"account": account, "symbol": data["symbol"], "proposals": out}
