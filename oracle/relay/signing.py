"""EIP-712 signed votes and delegations: the typed data a member signs, the JSON sent to the relayer,
and the calldata the relayer submits through VoteRelay.

One module for every signer (`verdict sign-vote`, the console helpers, the demo, the members' page
through the relayer's `/typed-data/*` endpoints) and for the relayer that checks the signatures, so
the typed data is built in one place. The domains are read from the contracts (EIP-5267
`eip712Domain()`), never assumed; a governor with keyed nonces (`nonces(address,uint192)`,
OpenZeppelin's GovernorNoncesKeyed) gets a nonce per proposal, so a member can sign votes on several
open proposals at once; otherwise the member's one sequential nonce is used.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from oracle import eip712
from oracle.deployment import Deployment
from oracle.errors import ConfigError, DataError

SUPPORT = {"against": 0, "for": 1, "abstain": 2}
KEY_BITS = 192  # GovernorNoncesKeyed: the key is the low 192 bits of the proposal id

BALLOT = [("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")]
EXTENDED_BALLOT = [*BALLOT, ("reason", "string"), ("params", "bytes")]
DELEGATION = [("delegatee", "address"), ("nonce", "uint256"), ("expiry", "uint256")]


@dataclass(frozen=True)
class DaoContracts:
    """The contracts a signed vote touches, as web3 contracts on one connection."""

    w3: Web3
    governor: Contract
    token: Contract
    membership: Contract | None = None
    relay: Contract | None = None

    @classmethod
    def from_record(
        cls, w3: Web3, deployment: Deployment, abis: dict[str, list[dict[str, Any]]]
    ) -> DaoContracts:
        """From a deployment record and the compiled ABIs; a record without the DAO is a ConfigError."""

        def contract(name: str, required: bool = True) -> Contract | None:
            address = deployment.contracts.get(name)
            if address is None or name not in abis:
                if required:
                    raise ConfigError(
                        f"the deployment record has no {name}: deploy the DAO first (ape run deploy)"
                    )
                return None
            return w3.eth.contract(to_checksum_address(address), abi=abis[name])

        governor, token = contract("CommunityGovernor"), contract("CommunityToken")
        assert governor is not None and token is not None
        return cls(w3, governor, token, contract("Membership", False), contract("VoteRelay", False))

    @property
    def keyed_nonces(self) -> bool:
        """Whether the governor has OpenZeppelin's keyed nonces (one sequence per proposal)."""
        return any(
            e.get("name") == "nonces" and len(e.get("inputs", [])) == 2
            for e in self.governor.abi
            if e.get("type") == "function"
        )

    def vote_nonce(self, voter: str, proposal_id: int) -> int:
        """The nonce the voter's next ballot on `proposal_id` must carry (the packed key and nonce when
        keyed)."""
        voter = to_checksum_address(voter)
        if self.keyed_nonces:
            key = int(proposal_id) % (1 << KEY_BITS)
            return int(self.governor.functions.nonces(voter, key).call())
        return int(self.governor.functions.nonces(voter).call())

    def delegation_nonce(self, delegator: str) -> int:
        return int(self.token.functions.nonces(to_checksum_address(delegator)).call())


def domain_of(contract: Contract) -> dict[str, Any]:
    """A contract's EIP-712 domain, read from its EIP-5267 `eip712Domain()`."""
    _fields, name, version, chain_id, verifying, _salt, _ext = contract.functions.eip712Domain().call()
    return eip712.domain(name, version, chain_id, verifying)


def _typed(
    domain: dict[str, Any], primary: str, fields: list[tuple[str, str]], message: dict[str, Any]
) -> dict:
    return eip712.typed_data(domain, primary, [{"name": n, "type": t} for n, t in fields], message)


def ballot_typed_data(
    dao: DaoContracts,
    *,
    proposal_id: int,
    support: int,
    voter: str,
    nonce: int | None = None,
    reason: str | None = None,
    params: bytes = b"",
) -> dict[str, Any]:
    """The typed data of a ballot (an ExtendedBallot when `reason` is given). uint256 values are
    decimal strings, so the JSON is exact in a browser too (`eth_signTypedData_v4` takes them)."""
    voter = to_checksum_address(voter)
    if nonce is None:
        nonce = dao.vote_nonce(voter, proposal_id)
    message: dict[str, Any] = {
        "proposalId": str(int(proposal_id)),
        "support": int(support),
        "voter": voter,
        "nonce": str(int(nonce)),
    }
    if reason is None:
        return _typed(domain_of(dao.governor), "Ballot", BALLOT, message)
    message.update(reason=reason, params="0x" + bytes(params).hex())
    return _typed(domain_of(dao.governor), "ExtendedBallot", EXTENDED_BALLOT, message)


def delegation_typed_data(
    dao: DaoContracts, *, delegator: str, delegatee: str, expiry: int, nonce: int | None = None
) -> dict[str, Any]:
    """The typed data of an ERC20Votes delegation by `delegator` (whose nonce it carries)."""
    if nonce is None:
        nonce = dao.delegation_nonce(delegator)
    message = {
        "delegatee": to_checksum_address(delegatee),
        "nonce": str(int(nonce)),
        "expiry": str(int(expiry)),
    }
    return _typed(domain_of(dao.token), "Delegation", DELEGATION, message)


def _normalised(typed: dict[str, Any]) -> dict[str, Any]:
    """The typed data with its integer fields as ints and bytes as bytes, as eth_account encodes them."""
    fields = {f["name"]: f["type"] for f in typed["types"][typed["primaryType"]]}
    message = {}
    for name, value in typed["message"].items():
        kind = fields.get(name, "")
        if kind.startswith(("uint", "int")):
            value = int(value, 0) if isinstance(value, str) else int(value)
        elif kind == "bytes" and isinstance(value, str):
            value = bytes.fromhex(value.removeprefix("0x"))
        message[name] = value
    domain = dict(typed["domain"])
    domain["chainId"] = int(domain["chainId"])
    return {**typed, "domain": domain, "message": message}


def sign_typed_data(typed: dict[str, Any], private_key: str | bytes) -> str:
    """The 65-byte signature (0x-hex) of `typed` by `private_key`, as `eth_signTypedData_v4` gives it."""
    signed = Account.sign_message(encode_typed_data(full_message=_normalised(typed)), private_key)
    return "0x" + bytes(signed.signature).hex()


def recover_signer(typed: dict[str, Any], signature: str) -> str:
    """Who signed `typed`; a malformed signature is a DataError."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        if len(raw) != 65:
            raise ValueError("not 65 bytes")
        return str(Account.recover_message(encode_typed_data(full_message=_normalised(typed)), signature=raw))
    except (ValueError, TypeError) as exc:
        raise DataError(f"malformed signature: {exc}") from None


def vote_payload(typed: dict[str, Any], signature: str) -> dict[str, Any]:
    """The JSON a client POSTs to the relayer's /votes for a signed ballot."""
    msg = typed["message"]
    payload = {
        "proposal_id": str(msg["proposalId"]),
        "support": int(msg["support"]),
        "voter": msg["voter"],
        "nonce": str(msg["nonce"]),
        "signature": signature,
    }
    if typed["primaryType"] == "ExtendedBallot":
        payload.update(reason=msg["reason"], params=msg["params"])
    return payload


def delegation_payload(typed: dict[str, Any], delegator: str, signature: str) -> dict[str, Any]:
    """The JSON a client POSTs to the relayer's /delegations for a signed delegation."""
    msg = typed["message"]
    return {
        "delegator": to_checksum_address(delegator),
        "delegatee": msg["delegatee"],
        "nonce": str(msg["nonce"]),
        "expiry": str(msg["expiry"]),
        "signature": signature,
    }


def sign_vote(
    dao: DaoContracts, private_key: str, proposal_id: int, support: int | str, reason: str | None = None
) -> dict[str, Any]:
    """A member's signed ballot, ready for the relayer (`post_signed`) or to print."""
    voter = Account.from_key(private_key).address
    typed = ballot_typed_data(
        dao, proposal_id=int(proposal_id), support=support_value(support), voter=voter, reason=reason
    )
    return vote_payload(typed, sign_typed_data(typed, private_key))


def ballot_calldata(dao: DaoContracts, private_key: str, proposal_id: int, support: int | str) -> bytes:
    """castVoteBySig calldata of a ballot signed by `private_key`: one element of VoteRelay.relay."""
    payload = sign_vote(dao, private_key, proposal_id, support)
    data = dao.governor.encode_abi(
        "castVoteBySig",
        [
            int(payload["proposal_id"]),
            payload["support"],
            payload["voter"],
            bytes.fromhex(payload["signature"][2:]),
        ],
    )
    return bytes.fromhex(data[2:])


def sign_delegation(dao: DaoContracts, private_key: str, delegatee: str, expiry: int) -> dict[str, Any]:
    """A member's signed delegation to `delegatee`, valid until `expiry` (a timestamp)."""
    delegator = Account.from_key(private_key).address
    typed = delegation_typed_data(dao, delegator=delegator, delegatee=delegatee, expiry=expiry)
    return delegation_payload(typed, delegator, sign_typed_data(typed, private_key))


def support_value(support: int | str) -> int:
    """for / against / abstain (or 1 / 0 / 2) as the governor's support number; else a DataError."""
    if isinstance(support, str) and support.strip().lower() in SUPPORT:
        return SUPPORT[support.strip().lower()]
    try:
        value = int(support)
    except (TypeError, ValueError):
        value = -1
    if value not in (0, 1, 2):
        raise DataError(f"support {support!r}: use for, against or abstain")
    return value


def split_signature(signature: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a 65-byte signature, as delegateBySig takes it."""
    raw = bytes.fromhex(signature.removeprefix("0x"))
    v = raw[64]
    return (v + 27 if v < 27 else v), raw[:32], raw[32:64]


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def post_signed(relay_url: str, kind: str, payload: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """POSTs a signed vote (`kind` "votes") or delegation ("delegations") to the relayer; returns its
    JSON answer. A refusal is a DataError carrying the relayer's one-line reason."""
    request = urllib.request.Request(
        f"{relay_url.rstrip('/')}/{kind}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as err:
        try:
            reason = json.loads(err.read()).get("error", err.reason)
        except ValueError:
            reason = err.reason
        raise DataError(f"the relayer refused it (HTTP {err.code}): {reason}") from None
    except (urllib.error.URLError, OSError) as err:
        raise ConfigError(
            f"cannot reach the relayer at {relay_url}: {getattr(err, 'reason', err)} "
            "(is `verdict relay` running?)"
        ) from None
