"""The verdict transaction's wire format: `submitVerdicts` calldata out, and the outcome of each
item read back from the mined transaction's logs (posted, skipped, and what its gate did)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from web3 import Web3

from oracle.events import Checksums, as_int, raw_bytes
from oracle.gate import OUTCOME_EVENTS

# IRiskOracle.VerdictBatch: target, modelId, Verdict[] (id, score, reasonsHash, IRiskGated.Terms)
VERDICT_LAYOUT = "(address,bytes32,(uint256,uint16,bytes32,(address,address,address,uint256))[])"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# IRiskOracle.SkipReason
SKIP_REASONS = ("unknown", "already_final", "expired", "duplicate_vote", "content_mismatch")


def topic(contract: Any, event: str) -> bytes:
    """topic0 of `event` as declared in `contract`'s ABI."""
    abi = next(e for e in contract.abi if e.get("type") == "event" and e.get("name") == event)
    signature = f"{event}({','.join(i['type'] for i in abi['inputs'])})"
    return bytes(Web3.keccak(text=signature))


class Terms(NamedTuple):
    """IRiskGated.Terms: an item's terms as its request log gave them. A PaymentRouter keeps only
    their hash (issue 16.4) and applies a verdict only with the terms that hash to it; keccak256 of
    their ABI encoding is the item's content hash (oracle.network.report.content_hash)."""

    payer: str
    payee: str
    token: str  # ETH = the zero address
    amount: int


NO_TERMS = Terms(ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS, 0)
"""For a target that ignores the terms of a verdict (Escrow: it stores them in full)."""


def canonical_type(abi_input: dict[str, Any]) -> str:
    """The canonical ABI type of a function input, tuples spelled out: "(address,uint256)[]"."""
    kind = str(abi_input.get("type", ""))
    if not kind.startswith("tuple"):
        return kind
    inner = ",".join(canonical_type(c) for c in abi_input.get("components", []))
    return f"({inner}){kind.removeprefix('tuple')}"


@dataclass(frozen=True, slots=True)
class VerdictItem:
    target: str
    item_id: int
    score_bps: int
    model_id: str  # 0x hex of 32 bytes
    reasons_hash: str  # 0x hex of 32 bytes
    terms: Terms = NO_TERMS

    def as_tuple(self) -> tuple[int, int, bytes, tuple[str, str, str, int]]:
        """IRiskOracle.Verdict (its batch says the target and the model)."""
        return (
            self.item_id,
            self.score_bps,
            bytes.fromhex(self.reasons_hash.removeprefix("0x")),
            tuple(self.terms),  # type: ignore[return-value]
        )


def runs(items: Sequence[VerdictItem]) -> list[list[VerdictItem]]:
    """`items` cut into runs of one target and one model, in order: the groups of a
    `submitVerdicts` call (IRiskOracle.VerdictBatch), which says target and model once a group."""
    out: list[list[VerdictItem]] = []
    for item in items:
        if out and (out[-1][0].target, out[-1][0].model_id) == (item.target, item.model_id):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def batches(items: Sequence[VerdictItem]) -> list[tuple[str, bytes, list[tuple]]]:
    """The `submitVerdicts` argument for `items` (IRiskOracle.VerdictBatch[]), as web3 encodes it."""
    return [
        (run[0].target, bytes.fromhex(run[0].model_id.removeprefix("0x")), [i.as_tuple() for i in run])
        for run in runs(items)
    ]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one mined `submitVerdicts` transaction did, item by item."""

    tx_hash: str
    gas_used: int
    posted: frozenset[tuple[str, int]]  # (target, id) whose vote counted
    skipped: dict[tuple[str, int], str]  # (target, id) -> skip reason
    finals: dict[tuple[str, int], str]  # (target, id) -> outcome named by its gate (gate.OUTCOME_EVENTS)


class VerdictCodec:
    """Encodes verdict batches for one RiskOracle and decodes their receipts."""

    def __init__(
        self, oracle: Any, sources: dict[str, tuple[str, Any]], checksums: Checksums | None = None
    ) -> None:
        """oracle: the RiskOracle web3 contract; sources: gated address -> (gate, web3 contract);
        checksums: the cache of checksummed addresses to share (a new one if not given)."""
        self._oracle = oracle
        self._checksums = checksums or Checksums()
        self._parties: dict[str, bytes] = {}  # address -> its ABI word (see `_party`)
        # Outcome events emitted by gated contracts inside a verdict transaction, named per gate.
        self._outcomes: dict[bytes, tuple[str, Any]] = {}
        for address, (gate, contract) in sources.items():
            for event, outcome in OUTCOME_EVENTS.get(gate, {}).items():
                if any(e.get("name") == event for e in contract.abi):
                    self._outcomes[topic(contract, event)] = (outcome, address)
        self._posted_topic = topic(oracle, "VerdictPosted")
        self._skipped_topic = topic(oracle, "VerdictSkipped")
        # submitVerdicts(VERDICT_LAYOUT[]) is encoded by hand (see calldata); any other shape of
        # the interface falls back to web3's encoder.
        submit = next((e for e in oracle.abi if e.get("name") == "submitVerdicts"), {"inputs": [{}]})
        shape = canonical_type(submit["inputs"][0])
        self._selector: bytes | None = None
        if shape == f"{VERDICT_LAYOUT}[]":
            self._selector = bytes(Web3.keccak(text=f"submitVerdicts({shape})"))[:4]

    def calldata(self, items: Sequence[VerdictItem]) -> str:
        """`submitVerdicts(batches(items))` calldata as 0x hex, laid out by hand (web3's encoder
        took about 2 ms per item, which was most of the cost of sending a batch, and it ran twice,
        for the estimate and the send): the offset and length of the array of groups, one offset
        per group, then each group: target, model, the offset (96) and length of its verdicts, and
        seven words per verdict (id, score, reasons hash, the four of the terms)."""
        if self._selector is None:
            return str(self._oracle.encode_abi("submitVerdicts", args=[batches(items)]))
        groups = runs(items)
        words = [self._selector, (32).to_bytes(32, "big"), len(groups).to_bytes(32, "big")]
        offset = 32 * len(groups)
        for run in groups:
            words.append(offset.to_bytes(32, "big"))
            offset += 32 * (4 + 7 * len(run))
        for run in groups:
            words += self._group(run)
        return "0x" + b"".join(words).hex()

    def _party(self, address: str) -> bytes | None:
        """The ABI word of a party's address, or None if it is not 20 bytes (non-hex: ValueError).
        Remembered (bounded): the same accounts and tokens come back in batch after batch."""
        word = self._parties.get(address)
        if word is None:
            raw = bytes.fromhex(address.removeprefix("0x"))
            if len(raw) != 20:
                return None
            if len(self._parties) >= 65_536:
                del self._parties[next(iter(self._parties))]
            self._parties[address] = word = raw.rjust(32, b"\0")
        return word

    def _group(self, run: Sequence[VerdictItem]) -> list[bytes]:
        """One IRiskOracle.VerdictBatch's encoding (a dynamic tuple: head, then its verdicts)."""
        first = run[0]
        target = bytes.fromhex(first.target.removeprefix("0x"))
        model_id = bytes.fromhex(first.model_id.removeprefix("0x"))
        if len(target) != 20 or len(model_id) != 32:
            raise ValueError(f"malformed verdict for {first.target}:{first.item_id}")
        words = [target.rjust(32, b"\0"), model_id, (96).to_bytes(32, "big"), len(run).to_bytes(32, "big")]
        party = self._party
        for item in run:
            reasons = bytes.fromhex(item.reasons_hash.removeprefix("0x"))
            payer, payee, token, amount = item.terms
            parties = (party(payer), party(payee), party(token))
            if len(reasons) != 32 or None in parties:
                raise ValueError(f"malformed verdict for {item.target}:{item.item_id}")
            if not 0 <= item.score_bps < 2**16 or not 0 <= item.item_id < 2**256 or not 0 <= amount < 2**256:
                raise ValueError(f"verdict for {item.target}:{item.item_id} is out of range")
            words += [
                item.item_id.to_bytes(32, "big"),
                item.score_bps.to_bytes(32, "big"),
                reasons,
                *parties,  # type: ignore[list-item]  # None refused above
                int(amount).to_bytes(32, "big"),
            ]
        return words

    def outcome(self, receipt: dict[str, Any]) -> BatchOutcome:
        """Splits a verdict transaction's logs into posted, skipped and finally decided items."""
        posted: set[tuple[str, int]] = set()
        skipped: dict[tuple[str, int], str] = {}
        finals: dict[tuple[str, int], str] = {}
        posted_topic, skipped_topic, outcomes = self._posted_topic, self._skipped_topic, self._outcomes
        of_bytes, checksums = self._checksums.of_bytes, self._checksums
        for log in receipt.get("logs", []):
            topics = log["topics"]
            if not topics:
                continue
            topic0 = raw_bytes(topics[0])
            if topic0 == posted_topic:
                posted.add(
                    (of_bytes(raw_bytes(topics[1])[-20:]), int.from_bytes(raw_bytes(topics[2]), "big"))
                )
            elif topic0 == skipped_topic:
                item = (of_bytes(raw_bytes(topics[1])[-20:]), int.from_bytes(raw_bytes(topics[2]), "big"))
                skipped[item] = SKIP_REASONS[int.from_bytes(raw_bytes(log["data"])[-32:], "big")]
            else:
                known = outcomes.get(topic0)
                if known is not None and checksums(str(log["address"])) == known[1]:
                    finals[(known[1], int.from_bytes(raw_bytes(topics[1]), "big"))] = known[0]
        return BatchOutcome(
            tx_hash="0x" + raw_bytes(receipt["transactionHash"]).hex(),
            gas_used=as_int(receipt.get("gasUsed", 0)),
            posted=frozenset(posted),
            skipped=skipped,
            finals=finals,
        )
