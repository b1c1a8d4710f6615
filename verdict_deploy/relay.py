"""Deploys the DAO's VoteRelay: members' signed votes and delegations submitted by the relayer, whose
gas the relay reimburses from its ETH budget (see contracts/governance/VoteRelay.sol).

The timelock owns it (relayer, gas price cap and item gas limit change by proposal; the budget is
refilled by a treasury proposal sending ETH to it); on a local chain the deployer funds the first
budget so the demo and the tests can relay at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ape import project

GWEI = 10**9
ETHER = 10**18


@dataclass(frozen=True)
class RelayConfig:
    """The relay's DAO-set parameters and the budget funded at deploy (local chains only)."""

    max_gas_price: int = 50 * GWEI  # the relayer is never reimbursed above this price
    item_gas_limit: int = 300_000  # gas per element: a quadratic ballot needs about 150,000
    budget: int = 1 * ETHER  # funded at deploy on a local chain; 0 elsewhere (a treasury proposal funds it)


def deploy_vote_relay(
    deployer: Any, *, governor: Any, token: Any, timelock: Any, relayer: Any, config: RelayConfig, fund: bool
) -> Any:
    """Deploys the VoteRelay owned by `timelock` with `relayer` allowed to relay; with `fund` the
    deployer sends `config.budget` to it."""
    relay = deployer.deploy(
        project.VoteRelay,
        timelock,
        governor,
        token,
        str(getattr(relayer, "address", relayer)),
        config.max_gas_price,
        config.item_gas_limit,
    )
    if fund and config.budget:
        deployer.transfer(relay, config.budget)
    return relay


def web3_contract(contract: Any) -> Any:
    """An ape contract instance as a web3 contract on ape's connection (for the relay's signing code)."""
    from ape import chain
    from web3 import Web3

    abi = [
        entry.model_dump(mode="json", by_alias=True, exclude_none=True)
        for entry in contract.contract_type.abi
    ]
    w3 = chain.provider.web3
    return w3.eth.contract(Web3.to_checksum_address(str(contract.address)), abi=abi)


def dao_contracts(contracts: dict[str, Any]) -> Any:
    """`oracle.relay.signing.DaoContracts` of ape contracts by deployment name (CommunityGovernor,
    CommunityToken, and Membership and VoteRelay when present)."""
    from ape import chain

    from oracle.relay.signing import DaoContracts

    def optional(name: str) -> Any:
        return web3_contract(contracts[name]) if name in contracts else None

    return DaoContracts(
        chain.provider.web3,
        web3_contract(contracts["CommunityGovernor"]),
        web3_contract(contracts["CommunityToken"]),
        optional("Membership"),
        optional("VoteRelay"),
    )
