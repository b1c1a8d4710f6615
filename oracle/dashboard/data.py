"""What the dashboard shows, read from the chain and the daemon's store; and the one write it
makes, a reviewer's `review(id, approve)` signed with the key from the settings.

Every page is built from plain dicts and dataclasses here, so the templates only lay them out.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from oracle.chain import ChainClient, Deployment, RouterPayment, load_abis
from oracle.config import Settings
from oracle.dashboard.filters import duration
from oracle.dashboard.governance import GovernanceView
from oracle.dashboard.pages import Holding, PaymentRow, ReviewResult, histogram
from oracle.drift import WARN_PSI
from oracle.drift_monitor import MIN_ROWS as MIN_DRIFT_ROWS
from oracle.drift_monitor import drift_of_rows
from oracle.errors import ChainError, ConfigError, ModelError, VerdictError
from oracle.explain import ReasonsOnDemand
from oracle.gate import ROUTER, ROUTER_STATUS, band_of, key_of
from oracle.model import load as load_model
from oracle.reader import CHECKPOINT
from oracle.report import router_logs
from oracle.sender import TxSender
from oracle.store import Store, VerdictRow

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCORE_BUCKETS = 20  # of 500 bps each
# Lower edges of the model page's fine bars above 9,000 bps (the last edge closes the 10,000 bar);
# the default thresholds 9,900 / 9,990 and the routine bands' ends fall on edges.
DRIFT_WINDOW = 2_000  # latest verdicts the model card's drift table covers, as the node's gauges
TOP_EDGES = (9_000, 9_500, 9_600, 9_800, 9_900, 9_950, 9_975, 9_990, 9_995, 10_001)


PARKED_SHOWN = 200  # parked verdicts listed on the health page, newest first


class Dashboard:
    """One per dashboard process: a read-only chain client, the store, the governance contracts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deployment = Deployment.load(settings.deployment)
        self.abis = load_abis(settings.build_manifest)
        self.chain = ChainClient(settings.rpc_url, self.deployment, self.abis, None)
        # A record of another chain is refused at start; a chain that is down is the header's news.
        with contextlib.suppress(ChainError):
            self.chain.verify_deployment()
        self.store = Store(settings.store_url)
        self.reasons = ReasonsOnDemand(Path(settings.model_dir))  # calm payments': none stored (16.3)
        self.w3 = self.chain.w3
        self._governance = GovernanceView(self.chain, self.deployment, self.abis)
        self.reviewer: LocalAccount | None = None
        self._review_lock = threading.Lock()  # one review at a time: the nonce is read per send
        if settings.reviewer_key is not None:
            try:
                self.reviewer = Account.from_key(settings.reviewer_key.get_secret_value())
            except (ValueError, TypeError):
                raise ConfigError("VERDICT_REVIEWER_KEY is not a valid private key") from None
        self._sender = (
            TxSender(self.w3, self.reviewer, self.chain.chain_id, self.chain.rpc, role="reviewer")
            if self.reviewer is not None
            else None
        )

    def close(self) -> None:
        self.store.close()

    # --- shared --------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        try:
            head = self.chain.block_number()
            review, reject = self.chain.thresholds()
            return {
                "ok": True,
                "block": head,
                "review": review,
                "reject": reject,
                "rpc": self.settings.rpc_url,
            }
        except ChainError as exc:
            return {"ok": False, "error": str(exc), "rpc": self.settings.rpc_url}

    def _payment(self, pid: int) -> PaymentRow:
        return self._payment_row(self.chain.payment(pid))

    def _payments(self, pids: list[int]) -> list[PaymentRow]:
        """The router's records of `pids`, in order, read in one JSON-RPC batch."""
        found = self.chain.payments(pids)
        return [self._payment_row(found[pid]) for pid in pids]

    def _payment_row(self, p: RouterPayment) -> PaymentRow:
        token = self.chain.token_info(p.token)
        status = ROUTER_STATUS[p.status]
        return PaymentRow(
            p.id, p.payer, p.payee, p.token, p.amount, token.decimals, token.symbol, p.deadline, status
        )

    def _verdicts(self, pids: list[int]) -> dict[int, VerdictRow]:
        rows = self.store.scored_many([key_of(ROUTER, pid) for pid in pids])
        return {pid: row for pid in pids if (row := rows.get(key_of(ROUTER, pid))) is not None}

    # --- live payments -------------------------------------------------------------------------
    def live_payments(self, limit: int = 40) -> dict[str, Any]:
        count = self.chain.payment_count()
        pids = list(range(count, max(0, count - limit), -1))
        scored = self.reasons.fill(self._verdicts(pids))
        rows = []
        totals: dict[str, int] = {}
        for p in self._payments(pids):
            v = scored.get(p.id)
            if v is not None:
                p.score, p.decision, p.reasons = v.score_bps, v.decision, reason_texts(v)
                p.probability = v.probability
            totals[p.status] = totals.get(p.status, 0) + 1
            rows.append(p)
        return {"payments": rows, "count": count, "shown": len(rows), "totals": totals}

    # --- review queue --------------------------------------------------------------------------
    def review_queue(self) -> dict[str, Any]:
        held_topic = ChainClient.topic(self.chain.router, "PaymentHeld")
        logs = self.chain.logs(self.chain.router.address, [held_topic], from_block=self.deployment.block)
        pids = sorted({int.from_bytes(bytes(log["topics"][1]), "big") for log in logs})
        scored = self._verdicts(pids)
        facts = router_logs(self.chain) if pids else None
        now, window = self.chain_now(), self.review_window()
        queue, decided = [], []
        for p in self._payments(pids):
            v = scored.get(p.id)
            if v is not None:
                p.score, p.reasons, p.verdict_tx = v.score_bps, reason_texts(v), v.tx_hash
                p.probability = v.probability
            review = facts.review_tx.get(p.id) if facts else None
            if review is not None:
                p.review_tx, p.reviewed = review[0], "approved" if review[1] else "rejected"
            if p.status == "held":
                # The router's rule: review() until deadline + the review window now in force.
                p.review_deadline = p.deadline + window
                p.review_left = p.review_deadline - now
            (queue if p.status == "held" else decided).append(p)
        return {
            "chain_now": now,
            "review_window": window,
            "queue": queue,
            "decided": decided[-20:][::-1],
            "reviewer": self.reviewer.address if self.reviewer else None,
            "reviewer_allowed": self._reviewer_allowed(),
        }

    def chain_now(self) -> int:
        """The latest block's timestamp: the clock the router's deadlines are measured on (a local
        chain whose time was moved runs ahead of the wall clock)."""
        return int(self.chain.rpc(lambda: self.w3.eth.get_block("latest")["timestamp"]))

    def review_window(self) -> int:
        """The router's review window in seconds (what `review` and `reclaim` read at call time)."""
        return int(self.chain.call_many([(self.chain.router, "reviewWindow", [])])[0])

    def _reviewer_allowed(self) -> bool | None:
        if self.reviewer is None:
            return None
        router = self.w3.eth.contract(
            self.chain.router.address, abi=self.abis.get("PaymentRouter", self.chain.router.abi)
        )
        try:
            role = router.functions.REVIEWER_ROLE().call()
            return bool(router.functions.hasRole(role, self.reviewer.address).call())
        except (ContractLogicError, ValueError, Web3RPCError, AttributeError):
            return None

    def review(self, pid: int, approve: bool) -> ReviewResult:
        """Sends `review(pid, approve)` signed with the reviewer key and waits for it to be mined."""
        with self._review_lock:
            return self._review(pid, approve)

    def _review(self, pid: int, approve: bool) -> ReviewResult:
        if self.reviewer is None:
            raise ConfigError("no reviewer key: set VERDICT_REVIEWER_KEY to review from the dashboard")
        current = self._payment(pid).status if pid > 0 else "none"
        if current != "held":
            raise VerdictError(f"payment {pid} is {current}, not held: nothing to review")
        assert self._sender is not None
        data = self.chain.router.encode_abi("review", args=[pid, approve])
        tx_hash = self._sender.send(self.chain.router.address, data, "review").tx_hash
        receipt = self.chain.wait_receipt(tx_hash, timeout=30)
        if receipt is None:
            raise ChainError(f"review transaction {tx_hash} was not mined within 30 s")
        if int(receipt.get("status", 0)) != 1:
            raise ChainError(f"review transaction {tx_hash} reverted")
        return ReviewResult(
            pid,
            approve,
            tx_hash,
            self._payment(pid).status,
            int(receipt["blockNumber"]),
            self.reviewer.address,
        )

    # --- governance ----------------------------------------------------------------------------
    def governance(self) -> dict[str, Any]:
        return self._governance.page()

    def treasury(self) -> list[Holding]:
        return self._governance.treasury()

    # --- model card ----------------------------------------------------------------------------
    def model_card(self) -> dict[str, Any]:
        directory = Path(self.settings.model_dir)
        card: dict[str, Any] = {"dir": str(directory), "error": None}
        try:
            artifact = load_model(directory)
        except ModelError as exc:
            card["error"] = str(exc)
            artifact = None
        if artifact is not None:
            meta = artifact.metadata
            metrics = dict(meta.get("metrics", {}))
            metrics_file = directory / "metrics.json"
            if metrics_file.is_file():
                with contextlib.suppress(OSError, ValueError):
                    metrics.update(json.loads(metrics_file.read_text()))
            try:
                approved: bool | None = self.chain.is_model_approved(artifact.model_id)
            except ChainError:
                approved = None
            card.update(
                model_id=artifact.model_id,
                approved=approved,
                created_at=meta.get("created_at"),
                features=artifact.feature_names,
                proposed=(artifact.review_threshold_bps, artifact.reject_threshold_bps),
                metrics=[(k, v) for k, v in sorted(metrics.items()) if not isinstance(v, dict | list)],
                by_typology=metrics.get("test_recall_at_review_by_typology") or {},
                pr_curve=(directory / "pr_curve.png").is_file(),
            )
        card["approved_ids"] = self._approved_models()
        rows = self.store.verdict_rows(limit=5000, newest_first=True)
        counts = [0] * SCORE_BUCKETS
        for r in rows:
            counts[min(SCORE_BUCKETS - 1, r.score_bps * SCORE_BUCKETS // 10_000)] += 1
        head = self.header()
        review, reject = head.get("review", 10_001), head.get("reject", 10_001)
        width = 10_000 // SCORE_BUCKETS
        css = [band_css(i * width, (i + 1) * width, review, reject) for i in range(SCORE_BUCKETS)]
        card["scores"] = histogram([f"{i * width}" for i in range(SCORE_BUCKETS)], counts, css)
        # Scores are legitimate-traffic quantiles, so legitimate payments spread evenly over the
        # coarse bars and the decisions happen in the top few hundred bps: 9,000 up in finer steps.
        edges = TOP_EDGES
        fine = [0] * (len(edges) - 1)
        for r in rows:
            if r.score_bps >= edges[0]:
                fine[bisect.bisect_right(edges, r.score_bps) - 1] += 1
        fine_css = [band_css(lo, hi, review, reject) for lo, hi in itertools.pairwise(edges)]
        card["scores_high"] = histogram([f"{lo:,}" for lo in edges[:-1]], fine, fine_css)
        card["probability_mean"] = _mean([r.probability for r in rows if r.probability is not None])
        card["drift"] = self._drift(artifact, rows)
        return card

    @staticmethod
    def _drift(artifact: Any, rows: list[VerdictRow]) -> dict[str, Any] | None:
        """PSI of the score and each feature over this model's latest verdicts against its training
        reference (what the node exports as verdict_drift_psi), worst first; None without either."""
        if artifact is None:
            return None
        reference = artifact.metadata.get("drift_reference")
        mine = [r for r in rows if r.model_id == artifact.model_id][:DRIFT_WINDOW]
        if not reference or len(mine) < MIN_DRIFT_ROWS:
            return {"rows": len(mine), "series": [], "min_rows": MIN_DRIFT_ROWS, "reference": bool(reference)}
        report = drift_of_rows(reference, mine) or {}
        limit = float(reference.get("warn_psi", WARN_PSI))
        series = [("score", report.get("score"))] + sorted(
            report.get("features", {}).items(), key=lambda kv: -kv[1] if kv[1] == kv[1] else 0
        )
        return {
            "rows": report.get("rows", len(mine)),
            "limit": limit,
            "series": [(name, v, v is not None and v > limit) for name, v in series],
            "warnings": report.get("warnings", []),
            "min_rows": MIN_DRIFT_ROWS,
            "reference": True,
        }

    def _approved_models(self) -> list[dict[str, Any]]:
        oracle = self.chain.oracle
        out = []
        for name in ("ModelApproved", "ModelRevoked"):
            topic = ChainClient.topic(oracle, name)
            try:
                logs = self.w3.eth.get_logs(
                    {
                        "fromBlock": self.deployment.block,
                        "toBlock": "latest",
                        "address": oracle.address,
                        "topics": [Web3.to_hex(topic)],
                    }
                )
            except (Web3RPCError, ValueError):
                continue
            for log in logs:
                out.append(
                    {
                        "model_id": Web3.to_hex(log["topics"][1]),
                        "event": name,
                        "block": int(log["blockNumber"]),
                    }
                )
        ids = {o["model_id"] for o in out}
        return [{"model_id": m, "approved": self.chain.is_model_approved(m)} for m in sorted(ids)]

    # --- oracle health -------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        checkpoint = self.store.get_checkpoint(CHECKPOINT)
        try:
            head: int | None = self.chain.block_number()
        except ChainError:
            head = None
        unposted = self.store.verdict_rows(posted=False, final=False)
        inflight = self.store.verdict_rows(posted=True, final=False)
        rows = self.store.verdict_rows(limit=5000, newest_first=True)
        # From scoring to the verdict mined and recorded by the daemon (its log, not a scrape).
        latencies = [
            r.finalized_at - r.scored_at
            for r in rows
            if r.posted_at is not None
            and r.finalized_at is not None
            and r.final_status not in ("model_not_approved", "parked")
        ]
        counts = [0] * (len(LATENCY_BUCKETS) + 1)
        for value in latencies:
            i = next((k for k, edge in enumerate(LATENCY_BUCKETS) if value <= edge), len(LATENCY_BUCKETS))
            counts[i] += 1
        labels = [f"≤{duration(e)}" for e in LATENCY_BUCKETS] + [f">{duration(LATENCY_BUCKETS[-1])}"]
        decisions: dict[str, int] = {}
        finals: dict[str, int] = {}
        for r in rows:
            decisions[r.decision] = decisions.get(r.decision, 0) + 1
            finals[r.final_status or "pending"] = finals.get(r.final_status or "pending", 0) + 1
        last_scored = rows[0].scored_at if rows else None
        latencies.sort()
        parked = self.store.parked_items(limit=PARKED_SHOWN)
        now = time.time()
        for item in parked:
            item["ago"] = now - float(item["parked_at"])
        return {
            "checkpoint": checkpoint,
            "head": head,
            "behind": (head - checkpoint) if head is not None and checkpoint is not None else None,
            "backlog": len(unposted),
            "inflight": len(inflight),
            "latency": histogram(labels, counts),
            "p50": _pct(latencies, 50),
            "p99": _pct(latencies, 99),
            "decisions": sorted(decisions.items()),
            "finals": sorted(finals.items()),
            "last_scored_ago": (time.time() - last_scored) if last_scored else None,
            "verdicts": len(rows),
            "store": self.store.label,
            "payments_seen": self.store.payment_count(),
            # Split and park (issue 13): verdicts the chain refused on their own, never retried.
            "parked": parked,
            "parked_count": finals.get("parked", 0),
            "network": self._network(head),  # issue 17: each node's part in the signed reports
        }

    def _network(self, head: int | None) -> list[dict[str, Any]]:
        from oracle.network.health import node_table

        if head is None:
            return []
        try:
            return node_table(self.chain, head)
        except ChainError:
            return []


def reason_texts(row: VerdictRow | None) -> list[str]:
    """The reasons' sentences, each once (two features can explain the same fact in the same words)."""
    return list(dict.fromkeys(str(r.get("text", "")) for r in row.reasons)) if row is not None else []


def band_css(low: int, high: int, review: int, reject: int) -> str:
    """Colour of a score bucket [low, high) under the router's thresholds; `mixed` if one crosses it."""
    return band_of(low, high, review, reject)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _pct(values: list[float], q: float) -> float | None:
    """The q-th percentile of sorted `values` in seconds (to the millisecond); None if empty."""
    if not values:
        return None
    return round(values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))], 3)
