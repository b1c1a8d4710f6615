"""The signed report of issue 17, as RiskOracle.transmit checks it: the shared part (`Report`), one
node's scores for it (`Observation`), their EIP-712 hashes and signatures, and the content hash
that binds each item to its payment's terms. The transmitter also sends the terms themselves
(issue 16.4: the router keeps only their hash), which must hash to the signed content hashes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from oracle import eip712
from oracle.verdict_codec import Terms

DOMAIN_NAME = "Verdict RiskOracle"
DOMAIN_VERSION = "1"
OBSERVATION_TYPE = (
    "Observation(bytes32 configDigest,address target,bytes32 modelId,uint64 round,uint256[] ids,"
    "bytes32[] contentHashes,uint16[] scores,bytes32[] reasonsHashes)"
)
_OBSERVATION_FIELDS = [
    {"name": "configDigest", "type": "bytes32"},
    {"name": "target", "type": "address"},
    {"name": "modelId", "type": "bytes32"},
    {"name": "round", "type": "uint64"},
    {"name": "ids", "type": "uint256[]"},
    {"name": "contentHashes", "type": "bytes32[]"},
    {"name": "scores", "type": "uint16[]"},
    {"name": "reasonsHashes", "type": "bytes32[]"},
]


def content_hash(payer: str, payee: str, token: str, amount: int) -> bytes:
    """keccak256(abi.encode(payer, payee, token, amount)): an item's terms as its request log gave
    them (IRiskGated.Terms); a PaymentRouter stores its first 20 bytes."""
    return keccak(encode(["address", "address", "address", "uint256"], [payer, payee, token, amount]))


def config_digest(chain_id: int, oracle: str, version: int) -> bytes:
    """RiskOracle.configDigest() for `version`, computed off-chain."""
    return keccak(encode(["uint256", "address", "uint64"], [chain_id, oracle, version]))


def _b32(value: bytes | str) -> bytes:
    raw = value if isinstance(value, bytes) else bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True, slots=True)
class Report:
    """What every signer of a round shares (IRiskOracle.Report)."""

    config_digest: bytes
    target: str
    model_id: bytes
    round: int
    ids: tuple[int, ...]
    content_hashes: tuple[bytes, ...]
    # The items' terms, sent beside the report by its transmitter (not signed: their hashes are);
    # a peer's copy of a report has none.
    terms: tuple[Terms, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.content_hashes):
            raise ValueError("a report needs one content hash per id")
        if self.terms and len(self.terms) != len(self.ids):
            raise ValueError("a report's terms need one entry per id")

    @classmethod
    def over(
        cls,
        config_digest: bytes,
        target: str,
        model_id: bytes,
        round_: int,
        ids: Sequence[int],
        terms: Sequence[Terms],
    ) -> Report:
        """A report over items with these terms, each bound by its content hash."""
        terms = tuple(Terms(*t) for t in terms)
        hashes = tuple(content_hash(*t) for t in terms)
        return cls(config_digest, target, model_id, round_, tuple(ids), hashes, terms)

    def transmit_args(self, observations: Sequence[Observation]) -> list:
        """The arguments of RiskOracle.transmit: the report, the observations (in the order given)
        and the items' terms."""
        if len(self.terms) != len(self.ids):
            raise ValueError("only a report built with its items' terms can be transmitted")
        return [self.as_tuple(), [o.as_tuple() for o in observations], [tuple(t) for t in self.terms]]

    def as_tuple(self) -> tuple:
        return (
            self.config_digest,
            to_checksum_address(self.target),
            self.model_id,
            self.round,
            list(self.ids),
            list(self.content_hashes),
        )

    def hash(self) -> bytes:
        """RiskOracle.reportHash: what a replay is recognised by (no scores, no signatures)."""
        ids = keccak(b"".join(i.to_bytes(32, "big") for i in self.ids))
        contents = keccak(b"".join(self.content_hashes))
        return keccak(
            encode(
                ["bytes32", "address", "bytes32", "uint64", "bytes32", "bytes32"],
                [self.config_digest, self.target, self.model_id, self.round, ids, contents],
            )
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """One node's signed scores for a report (IRiskOracle.Observation) and who signed them."""

    signer: str
    scores: tuple[int, ...]
    reasons_hashes: tuple[bytes, ...]
    signature: bytes

    def as_tuple(self) -> tuple:
        return (list(self.scores), list(self.reasons_hashes), self.signature)


def typed_message(
    report: Report, scores: Sequence[int], reasons: Sequence[bytes], *, chain_id: int, oracle: str
) -> dict:
    """The EIP-712 message a node signs for its scores of `report`."""
    return eip712.typed_data(
        eip712.domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, oracle),
        "Observation",
        _OBSERVATION_FIELDS,
        {
            "configDigest": report.config_digest,
            "target": to_checksum_address(report.target),
            "modelId": report.model_id,
            "round": report.round,
            "ids": list(report.ids),
            "contentHashes": list(report.content_hashes),
            "scores": list(scores),
            "reasonsHashes": list(reasons),
        },
    )


def sign_observation(
    private_key: bytes | str,
    report: Report,
    scores: Sequence[int],
    reasons: Sequence[bytes | str],
    *,
    chain_id: int,
    oracle: str,
) -> Observation:
    """Signs `scores` (and their reasons hashes) for `report` with a node's key."""
    if len(scores) != len(report.ids) or len(reasons) != len(report.ids):
        raise ValueError("one score and one reasons hash per item")
    hashes = tuple(_b32(r) for r in reasons)
    message = typed_message(report, scores, hashes, chain_id=chain_id, oracle=oracle)
    signed = Account.sign_message(encode_typed_data(full_message=message), private_key)
    signer = Account.from_key(private_key).address
    return Observation(signer, tuple(int(s) for s in scores), hashes, bytes(signed.signature))


def recover_signer(observation: Observation, report: Report, *, chain_id: int, oracle: str) -> str:
    """The address that signed `observation` for `report` (what RiskOracle recovers)."""
    message = typed_message(
        report, observation.scores, observation.reasons_hashes, chain_id=chain_id, oracle=oracle
    )
    return Account.recover_message(encode_typed_data(full_message=message), signature=observation.signature)


def ordered(observations: Sequence[Observation]) -> list[Observation]:
    """Observations in the strictly ascending signer order RiskOracle requires, one per signer."""
    by_signer = {int(o.signer, 16): o for o in observations}
    return [by_signer[k] for k in sorted(by_signer)]
