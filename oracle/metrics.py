"""The oracle node's Prometheus metrics, in a registry of their own (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class Metrics:
    """Prometheus metrics of one daemon."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "verdict_latency_seconds",
            "From reading a gate request to its verdict being mined",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.verdicts = Counter(
            "verdict_verdicts", "Verdicts posted, by predicted decision", ["decision"], registry=self.registry
        )
        self.backlog = Gauge("verdict_backlog", "Scored verdicts not yet posted", registry=self.registry)
        self.errors = Counter("verdict_errors", "Errors by kind", ["kind"], registry=self.registry)
        self.last_block = Gauge(
            "verdict_last_block", "Last block whose logs were processed", registry=self.registry
        )
        self.parked = Counter(
            "verdict_parked",
            "Verdicts parked: refused by the chain on their own, never retried (split and park)",
            ["reason"],
            registry=self.registry,
        )
        self.splits = Counter(
            "verdict_batch_splits",
            "Verdict batches split because the node refused them, they needed more gas than the cap, "
            "or they reverted once mined",
            ["cause"],
            registry=self.registry,
        )
        self.gas = Counter("verdict_gas_used", "Gas spent on verdict transactions", registry=self.registry)
        self.drift_psi = Gauge(
            "verdict_drift_psi",
            "Population stability index of the recent scores (series=score) and of each feature against "
            "the model's training reference; above 0.2 is drift worth a look",
            ["series"],
            registry=self.registry,
        )
        self.drift_rows = Gauge(
            "verdict_drift_rows",
            "Scored payments in the window the drift gauges cover",
            registry=self.registry,
        )

    def serve(self, port: int) -> None:
        start_http_server(port, addr="127.0.0.1", registry=self.registry)
