"""Verdict's off-chain risk oracle: features, model, scoring, chain client and daemon."""

__version__ = "0.1.0"
