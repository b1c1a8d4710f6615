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


def unreachable_node(exc: BaseException, url: str | None = None) -> ChainError | None:
    """A `requests` failure to talk to the JSON-RPC node, raised as it is or inside the errors it
    became (their `__context__`), as one ChainError line: what failed, which URL, what to do.
    None when no such failure is behind `exc`."""
    import requests

    err: BaseException | None = exc
    while err is not None and not isinstance(err, requests.RequestException):
        err = err.__context__
    if err is None:
        return None
    request = getattr(err, "request", None)
    url = getattr(request, "url", None) or url or "the configured URL"
    text = str(err)
    if isinstance(err, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                        requests.exceptions.InvalidURL)):  # fmt: skip
        return ChainError(f"chain node URL {url} is not a valid http(s) URL; set VERDICT_RPC_URL")
    if isinstance(err, requests.Timeout):
        why = "it did not answer in time"
    elif "NameResolution" in text or "resolve" in text:
        why = "its host name does not resolve"
    elif "refused" in text.lower():
        why = "connection refused"
    else:
        why = type(err).__name__
    return ChainError(
        f"cannot reach the chain node at {url} ({why}); start it or point VERDICT_RPC_URL at a running node"
    )
