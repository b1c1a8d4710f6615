"""The split-and-park rule: no single verdict may stall the others (issue 13, attacks 6 to 8).

A verdict batch is one transaction, so one item it cannot carry fails all of them: a payment in a
token whose payout burns gas (a batch of them passes the block gas limit), a token that behaves only
when the gas price is zero (the estimate was right, the mined transaction is not), a gate that
governance removed (`RiskOracleUnknownTarget`). Retrying the same batch retries the same failure
forever while honest payments wait out their deadlines.

The rule is general instead of one patch per cause: a batch that fails to estimate, or needs more
gas than the cap, is split in halves until each part either passes or is a single item; a single
item that still fails is *parked* with the decoded reason and never blocks the rest. With k failing
items among n this costs about 2·k·log2(n) probes, and none at all when nothing fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector

T = TypeVar("T")

PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x32: "array index out of bounds",
    0x41: "out of memory",
}


@dataclass(frozen=True)
class Probe:
    """What the chain says of one candidate batch: the gas it needs, or why it cannot be sent."""

    gas: int | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.gas is not None


@dataclass
class Isolation(Generic[T]):
    """Sendable batches (each with the gas its probe measured) and the items parked with a reason."""

    batches: list[tuple[list[T], int]] = field(default_factory=list)
    parked: list[tuple[T, str]] = field(default_factory=list)
    probes: int = 0


def isolate(items: Sequence[T], probe: Callable[[Sequence[T]], Probe], gas_cap: int) -> Isolation[T]:
    """Splits `items` into batches that `probe` passes within `gas_cap`, parking the single items
    that fail alone. Batches keep the items' order; every item ends in exactly one batch or parked."""
    result: Isolation[T] = Isolation()
    work: list[list[T]] = [list(items)] if items else []
    while work:
        group = work.pop()
        answer = probe(group)
        result.probes += 1
        if answer.gas is not None and answer.gas <= gas_cap:
            result.batches.append((group, answer.gas))
        elif len(group) == 1:
            reason = answer.reason or f"needs {answer.gas:,} gas alone, more than the cap of {gas_cap:,}"
            result.parked.append((group[0], reason))
        else:
            middle = len(group) // 2
            work.append(group[middle:])  # a stack: the left half is probed first, order is kept
            work.append(group[:middle])
    return result


class RevertDecoder:
    """Names a revert from its data: the contracts' custom errors, `Error(string)` and `Panic`."""

    def __init__(self, abis: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {
            function_signature_to_4byte_selector("Error(string)"): ("Error", ["string"]),
            function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ["uint256"]),
        }
        for abi in abis.values():
            for entry in abi:
                if entry.get("type") == "error":
                    types = [_abi_type(p) for p in entry.get("inputs", [])]
                    selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
                    self._errors.setdefault(selector, (str(entry["name"]), types))

    def decode(self, data: str | bytes | None) -> str:
        """`Name(arg, ...)` for known errors, the selector for unknown ones, "reverted" for no data."""
        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data or b"")
        if len(raw) < 4:
            return "reverted without a reason"
        known = self._errors.get(raw[:4])
        if known is None:
            return f"reverted with unknown error 0x{raw[:4].hex()}"
        name, types = known
        try:
            values = decode(types, raw[4:])
        except (DecodingError, ValueError, OverflowError):
            return f"{name}(<undecodable arguments>)"
        if name == "Panic":
            code = int(values[0])
            return f"Panic(0x{code:02x}: {PANIC_CODES.get(code, 'unknown panic')})"
        if name == "Error":
            return str(values[0])
        return f"{name}({', '.join(_show(v) for v in values)})"

    def from_rpc_error(self, error: Mapping[str, Any]) -> str:
        """The decoded reason of a JSON-RPC error object; the node's message when it carries no data."""
        data = error.get("data")
        if isinstance(data, Mapping):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            return self.decode(data)
        return str(error.get("message") or "rejected by the node")


def _abi_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){kind[len('tuple') :]}"
    return kind


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
