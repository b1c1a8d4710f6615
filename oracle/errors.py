"""User-facing errors: the CLI prints the message as one red line and exits 1, never a traceback."""

from __future__ import annotations


class VerdictError(Exception):
    """Base of every error a user can cause or fix; `str(err)` is the one line shown."""


class DataError(VerdictError):
    """An input table is missing, unreadable, empty, or has wrong columns or values."""


class ModelError(VerdictError):
    """A model artifact is missing, corrupt, tampered with or unusable."""


class StoreError(VerdictError):
    """The history/verdict store is locked, unreachable or corrupt."""


class ChainError(VerdictError):
    """The chain node is unreachable or a contract call failed."""


class ConfigError(VerdictError):
    """A setting is missing or invalid."""
