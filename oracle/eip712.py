"""The EIP-712 domain and typed-data envelope every signer of the project builds on: a node's quotes
and rate locks (CrossBorderRouter), its observations (RiskOracle) and a member's ballots and
delegations (governor, token). One place, so a quote, a report and a vote are hashed under the same
domain shape OpenZeppelin's `EIP712(name, version)` uses (no salt)."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

DOMAIN_FIELDS = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)


def domain(name: str, version: str, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The domain of the contract at `verifying_contract` on `chain_id`, as `EIP712(name, version)`."""
    return {
        "name": name,
        "version": version,
        "chainId": int(chain_id),
        "verifyingContract": to_checksum_address(verifying_contract),
    }


def typed_data(
    domain: dict[str, Any], primary: str, fields: list[dict[str, str]], message: dict[str, Any]
) -> dict[str, Any]:
    """The full typed data (`eth_signTypedData_v4`, `encode_typed_data(full_message=...)`) of one
    `primary` struct with these `fields` under `domain`."""
    return {
        "types": {"EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS], primary: fields},
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }
