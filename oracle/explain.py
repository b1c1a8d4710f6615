"""`verdict explain ID`: why a payment was decided the way it was, in plain sentences, proven.

The store holds what this node scored (score, model id, the exact feature vector, and the reasons
when the score reached the review threshold); the chain holds what was posted (the `VerdictPosted`
event, whose `reasonsHash` is the evidence hash of the model id and that feature vector,
oracle.evidence) and where the payment stands now.

Explain loads the model named by the stored model id (from VERDICT_MODEL_DIR or a directory beside
it; `load` refuses files that no longer hash to the id), recomputes the evidence hash from the
stored features, the score and the reasons, and compares the hash with the one on-chain: a match
is printed as "verified against on-chain evidence hash"; a mismatch (the stored features or model
were changed, or belong to another verdict) is refused with one error line and exit status 1.

A converting cross-border verdict (`--cross-border`, issue 18) commits to its quote as well: its
on-chain hash is keccak("verdict.conversion.v1\\0" || evidence hash || quote hash). Explain reads
the quote back from the `submitQuote` transaction whose `QuoteAccepted` carries the stored quote
hash, recomputes its EIP-712 hash, and checks the combined hash against the chain the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Group
from rich.text import Text
from web3 import Web3

from oracle.chain import ChainClient
from oracle.config import Settings
from oracle.deployment import DeploymentRecordError, load_abis
from oracle.errors import ChainError, ModelError, VerdictError, unreachable_node
from oracle.evidence import evidence_hash, stored_vector
from oracle.fx_daemon import conversion_hash
from oracle.fx_quotes import quote_digest, submitted_quote
from oracle.gate import ESCROW, ROUTER, ROUTER_STATUS, XBORDER, key_of
from oracle.model import METADATA_FILE, ModelArtifact, load
from oracle.scoring import Scorer, legacy_reasons_hash
from oracle.verdicts import VerdictLog, VerdictRow


class EvidenceMismatch(VerdictError):
    """The stored features and model do not hash to the verdict's on-chain evidence hash."""


def posted_verdicts(chain: ChainClient, target: str, item_id: int) -> list[dict[str, Any]]:
    """Every `VerdictPosted` for (target, id): node, score, model id, reasons hash, tx."""
    event = chain.oracle.events.VerdictPosted()
    logs = chain.w3.eth.get_logs(
        {
            "fromBlock": chain.deployment.block,
            "toBlock": "latest",
            "address": chain.oracle.address,
            "topics": [
                Web3.to_hex(ChainClient.topic(chain.oracle, "VerdictPosted")),
                "0x" + "00" * 12 + target[2:].lower(),
                "0x" + item_id.to_bytes(32, "big").hex(),
            ],
        }
    )
    out = []
    for log in logs:
        args = event.process_log(log)["args"]
        out.append(
            {
                "node": args["node"],
                "score": int(args["score"]),
                "model_id": Web3.to_hex(args["modelId"]),
                "reasons_hash": Web3.to_hex(args["reasonsHash"]),
                "tx": Web3.to_hex(log["transactionHash"]),
            }
        )
    return out


def locate_model(model_dir: Path, model_id: str) -> ModelArtifact | None:
    """The verified artifact whose id is `model_id`: VERDICT_MODEL_DIR itself, else a directory
    beside it (keep retired models there so their verdicts stay explainable); None if none is."""
    try:
        beside = sorted(p for p in model_dir.parent.iterdir() if p.is_dir())
    except OSError:  # no parent, or not readable: only the model directory itself
        beside = []
    for d in [model_dir, *(p for p in beside if p != model_dir)]:
        try:
            recorded = json.loads((d / METADATA_FILE).read_text(encoding="utf-8")).get("model_id")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            continue
        if isinstance(recorded, str) and recorded.lower() == model_id.lower():
            try:
                return load(d)
            except ModelError:
                continue  # its files do not hash to the id: not the model that id names
    return None


@dataclass(frozen=True, slots=True)
class Recomputed:
    """What the stored features give under the model named by the stored model id."""

    evidence_hash: str
    score_bps: int
    reasons: list[dict[str, Any]]


def recompute(artifact: ModelArtifact, features: dict[str, float]) -> Recomputed:
    """Evidence hash, score and reasons of a stored feature vector, through LightGBM itself (the
    reference the compiled forest is tested against). DataError if the features are incomplete."""
    vector = stored_vector(features, artifact.feature_names)
    result = Scorer(artifact, compiled=False).score_many(vector.reshape(1, -1))[0]
    return Recomputed(result.evidence_hash, result.score_bps, result.reasons_dicts())


class ReasonsOnDemand:
    """Reasons for verdicts scored below the review threshold, recomputed from their stored
    features for display (the dashboard's live page). Only a vector that still hashes to the
    stored evidence hash gets reasons; `verdict explain` is what proves them against the chain."""

    def __init__(self, model_dir: Path) -> None:
        self._model_dir = model_dir
        self._scorers: dict[str, Scorer] = {}  # model id -> scorer (an id names immutable files)

    def _scorer(self, model_id: str) -> Scorer | None:
        if model_id not in self._scorers:
            artifact = locate_model(self._model_dir, model_id)
            if artifact is None:
                return None
            self._scorers[model_id] = Scorer(artifact, compiled=False)
        return self._scorers[model_id]

    def fill(self, rows: dict[Any, VerdictRow]) -> dict[Any, VerdictRow]:
        """`rows` with the reasons of those that have none recomputed (one TreeSHAP call per model)."""
        out = dict(rows)
        by_model: dict[str, list[tuple[Any, np.ndarray]]] = {}
        for name, row in rows.items():
            if row.reasons or not row.features or (scorer := self._scorer(row.model_id)) is None:
                continue
            try:
                vector = stored_vector(row.features, scorer.feature_names)
            except VerdictError:
                continue
            if evidence_hash(row.model_id, vector) == row.reasons_hash:
                by_model.setdefault(row.model_id, []).append((name, vector))
        for model_id, items in by_model.items():
            reasons = self._scorers[model_id].reasons(np.vstack([v for _, v in items]))
            for (name, _), found in zip(items, reasons, strict=True):
                out[name] = replace(out[name], reasons=[r.as_dict() for r in found])
        return out


def check_evidence(row: VerdictRow, posted: list[dict[str, Any]], again: Recomputed) -> str:
    """The sentence that proves the recomputed reasons belong to this verdict, or EvidenceMismatch.

    This node's own verdict is the event in the transaction the store records (`row.tx_hash`);
    another node's verdict that carries the same hash proves it as well."""
    item = f"{row.target}:{row.item_id}"
    ours = [v for v in posted if row.tx_hash is not None and v["tx"] == row.tx_hash]
    for verdict in (v for v in posted if v["reasons_hash"] == again.evidence_hash):
        if verdict["model_id"] == row.model_id:
            return (
                f"Verified against on-chain evidence hash {again.evidence_hash} (node {verdict['node']}, "
                f"{verdict['tx']}): these reasons are recomputed from exactly the features and model "
                "that verdict committed to."
            )
    for verdict in ours:
        if verdict["model_id"] != row.model_id:
            raise EvidenceMismatch(
                f"{item}: the on-chain verdict names model {verdict['model_id']}, the store says "
                f"{row.model_id}; refusing to show reasons that may not belong to it"
            )
        raise EvidenceMismatch(
            f"{item}: the stored features and model hash to {again.evidence_hash}, but the on-chain "
            f"evidence hash is {verdict['reasons_hash']} ({verdict['tx']}): the store was altered or is "
            "another node's; refusing to show reasons that do not belong to this verdict"
        )
    if row.tx_hash is not None and posted:
        raise EvidenceMismatch(
            f"{item}: this node's verdict transaction {row.tx_hash} is not among the verdicts on-chain "
            "and none of them commits to the stored features; refusing to show reasons"
        )
    if again.evidence_hash != row.reasons_hash:
        raise EvidenceMismatch(
            f"{item}: the stored features and model hash to {again.evidence_hash}, not to the stored "
            f"evidence hash {row.reasons_hash}: the store was altered; refusing to show reasons"
        )
    return (
        "Not yet verifiable on-chain (this node has posted no verdict for it); "
        "it matches the stored evidence hash."
    )


def stored_conversion(row: VerdictRow) -> dict[str, Any] | None:
    """The quote a cross-border verdict's reasons name (`oracle.fx_daemon`), or None (no conversion:
    its reasons hash is the plain evidence hash)."""
    for reason in row.reasons:
        conversion = reason.get("conversion") if reason.get("feature") == "conversion" else None
        if isinstance(conversion, dict) and isinstance(conversion.get("quote_hash"), str):
            return conversion
    return None


def _quote_hash_bytes(item: str, text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise EvidenceMismatch(f"{item}: the stored quote hash {text!r} is not a 32-byte hash")
    return raw


def verify_conversion(
    chain: ChainClient, router_abi: list[dict[str, Any]], row: VerdictRow, again: Recomputed, quote_hash: str
) -> Recomputed:
    """`again` with the conversion hash a cross-border verdict commits to, keccak("verdict.conversion.v1\\0"
    || evidence hash || quote hash), where the quote hash is recomputed (EIP-712) from the quote as
    its `submitQuote` transaction carried it, read back from the chain. EvidenceMismatch (one line)
    when the router never accepted a quote with the stored hash for this payment, or the quote
    submitted does not hash to it."""
    item = f"{row.target}:{row.item_id}"
    wanted = _quote_hash_bytes(item, quote_hash)
    router = chain.w3.eth.contract(row.target, abi=router_abi)
    accepted = router.events.QuoteAccepted.get_logs(
        from_block=chain.deployment.block, argument_filters={"id": int(row.item_id)}
    )
    match = [e for e in accepted if bytes(e["args"]["quoteHash"]) == wanted]
    if not match:
        raise EvidenceMismatch(
            f"{item}: the stored quote hash {quote_hash} was never accepted on-chain for this payment "
            f"({len(accepted)} quote(s) were); refusing to show reasons that do not belong to this verdict"
        )
    quote = submitted_quote(chain.w3, router, match[-1]["transactionHash"])
    digest = quote_digest(quote, chain_id=chain.chain_id(), contract=row.target)
    if digest != wanted or quote.payment_id != int(row.item_id):
        raise EvidenceMismatch(
            f"{item}: the quote submitted in {match[-1]['transactionHash'].to_0x_hex()} hashes to "
            f"0x{digest.hex()}, not to the stored quote hash {quote_hash}"
        )
    return replace(again, evidence_hash=conversion_hash(again.evidence_hash, digest))


def _percent(p: float) -> str:
    return f"{100 * p:.2f}%" if p >= 0.0001 else "below 0.01%"


def _reason_lines(reasons: list[dict[str, Any]], note: str) -> list[Text]:
    lines = [Text("Why:", style="bold")]
    lines += [Text(f"  {n}. {r.get('text', r.get('feature', '?'))}") for n, r in enumerate(reasons, 1)]
    return [*lines, Text(f"  ({note})", style="dim")]


def explain_payment(settings: Settings, source: str, item_id: int) -> Group:
    verdicts = VerdictLog(settings.store_url)
    try:
        row = verdicts.scored(key_of(source, item_id))
        parked = verdicts.parked_reason(row.key) if row is not None and row.final_status == "parked" else None
    finally:
        verdicts.close()
    if row is None:
        raise VerdictError(
            f"{source} item {item_id} was never scored by this node (store: {settings.store_url}); "
            "is VERDICT_STORE_URL the daemon's store?"
        )
    lines: list[Text] = []
    title = {ROUTER: "Payment", ESCROW: "Escrow release", XBORDER: "Cross-border payment"}.get(source, "Item")
    lines.append(Text(f"{title} {item_id}", style="bold"))
    lines.append(
        Text(
            f"Score {row.score_bps:,} of 10,000 (riskier than {row.score_bps / 100:.2f}% of legitimate "
            f"payments); the policy at scoring time said: {row.decision}."
        )
    )
    if row.probability is not None:
        lines.append(Text(f"Calibrated fraud probability {_percent(row.probability)}."))
    lines.append(Text(f"Model {row.model_id}."))

    artifact = locate_model(Path(settings.model_dir), row.model_id)
    again: Recomputed | None = None
    unverifiable = None
    if artifact is None:
        unverifiable = (
            f"model {row.model_id} is not in {settings.model_dir} or a directory beside it, so its "
            "reasons cannot be recomputed or verified"
        )
    else:
        try:
            again = recompute(artifact, row.features)
        except VerdictError as exc:
            unverifiable = f"the store holds no complete feature vector for it ({exc})"
    conversion = stored_conversion(row) if source == XBORDER else None
    if conversion is not None and again is not None:
        # A cross-border verdict commits to its quote too: show the conversion next to the model's reasons.
        again = replace(
            again, reasons=[*again.reasons, *(r for r in row.reasons if r.get("feature") == "conversion")]
        )
    if parked is not None:
        lines.append(
            Text(
                f"The node parked this verdict: the chain refused it on its own ({parked}). It is not "
                "sent again; see 'Parked verdicts' in docs/operator-guide.md.",
                style="yellow",
            )
        )

    chain = None
    try:
        chain = ChainClient.from_settings(settings, with_key=False)
        posted = posted_verdicts(chain, row.target, item_id)
        state = ROUTER_STATUS[chain.payment(item_id).status] if source == ROUTER else None
        router_abi = load_abis(settings.build_manifest)["ICrossBorderRouter"] if source == XBORDER else []
        if source == XBORDER:
            cross = chain.w3.eth.contract(row.target, abi=router_abi).functions.payment(item_id)
            state = ROUTER_STATUS[int(chain.rpc(cross.call)[2])]
        approved = chain.is_model_approved(row.model_id)
    except DeploymentRecordError:
        raise  # a record of another chain: what it would say about this payment is not true here
    except (ChainError, VerdictError) as exc:
        if chain is None and isinstance(exc, ChainError):
            # The record cannot be checked against a chain that does not answer: refuse, as for a
            # foreign record, rather than print the store's view as if it held on this chain.
            raise unreachable_node(exc, settings.rpc_url) or exc from None
        if again is not None:
            if conversion is not None:  # the stored quote hash, as the chain cannot be asked
                stored_quote = _quote_hash_bytes(f"{row.target}:{item_id}", conversion["quote_hash"])
                again = replace(again, evidence_hash=conversion_hash(again.evidence_hash, stored_quote))
            check_evidence(row, [], again)  # the store must at least agree with itself
            lines += _reason_lines(
                again.reasons, "recomputed from the stored features, not verified on-chain"
            )
        elif row.reasons:
            lines += _reason_lines(row.reasons, f"as stored, not verified: {unverifiable}")
        lines.append(Text(f"Could not check the chain: {exc}", style="yellow"))
        return Group(*lines)

    if again is not None:
        if conversion is not None:
            again = verify_conversion(chain, router_abi, row, again, conversion["quote_hash"])
        proof = check_evidence(row, posted, again)
        lines += _reason_lines(again.reasons, "recomputed from the stored features")
        if again.score_bps != row.score_bps:
            lines.append(
                Text(
                    f"The model gives {again.score_bps:,} for these features, not the {row.score_bps:,} "
                    "this node scored.",
                    style="bold red",
                )
            )
        lines.append(Text(proof, style="green" if proof.startswith("Verified") else "yellow"))
        if conversion is not None and proof.startswith("Verified"):
            lines.append(
                Text(
                    f"Conversion: quote {conversion['quote_hash']}, recomputed from its submitQuote "
                    'calldata; keccak("verdict.conversion.v1\\0" || evidence hash || quote hash) '
                    "matches on-chain.",
                    style="green",
                )
            )
    else:
        legacy = [v for v in posted if row.reasons and v["reasons_hash"] == legacy_reasons_hash(row.reasons)]
        if row.reasons:
            lines += _reason_lines(row.reasons, "as stored at scoring time")
        lines.append(
            Text(
                "Posted before evidence hashes: the on-chain reasons hash matches these reasons "
                f"({legacy[0]['tx']})."
                if legacy
                else f"Not verified: {unverifiable}.",
                style="green" if legacy else "yellow",
            )
        )

    if state is not None:
        lines.append(Text(f"On-chain status now: {state}.", style="bold"))
    lines.append(Text(f"The model is {'still' if approved else 'no longer'} approved by governance."))
    if not posted:
        lines.append(Text("No verdict for it is on-chain yet.", style="yellow"))
    for verdict in posted:
        lines.append(Text(f"Node {verdict['node']} posted score {verdict['score']:,} in {verdict['tx']}."))
    return Group(*lines)
