"""Raw log and call-result decoding without web3, and the small conversions of raw JSON-RPC values."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address


@lru_cache(maxsize=65536)
def checksum(address: str) -> str:
    """Checksummed address, cached: a busy node sees the same few thousand accounts again and again."""
    return to_checksum_address(address)


def raw_bytes(value: Any) -> bytes:
    """bytes from a raw JSON-RPC hex string or from web3's HexBytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def as_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


_STATIC_TYPE = re.compile(r"^(address|bool|u?int(8|16|24|32|64|128|160|256)?|bytes([1-9]|[12][0-9]|3[0-2]))$")


def _static_word(typ: str, word: bytes) -> Any:
    """One ABI word of a static type, decoded as eth_abi does (addresses lowercase hex)."""
    if typ == "address":
        return "0x" + word[12:].hex()
    if typ == "bool":
        return word[-1] != 0
    if typ.startswith("uint"):
        return int.from_bytes(word, "big")
    if typ.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    return word[: int(typ[5:])]  # bytesN


class EventDecoder:
    """Decodes one event's raw logs without web3: web3's `process_log` was a large share of the
    daemon's time under load (it builds an event codec per log and formats every field). Events
    made only of static types (the gate requests) are read word by word; others go to eth_abi."""

    def __init__(self, abi: dict[str, Any]) -> None:
        inputs = abi["inputs"]
        self.indexed = [(i["name"], i["type"]) for i in inputs if i.get("indexed")]
        self.names = [i["name"] for i in inputs if not i.get("indexed")]
        self.types = [i["type"] for i in inputs if not i.get("indexed")]
        self._static = all(_STATIC_TYPE.match(t) for t in self.types)
        # Worked out once, not per log (a busy node decodes thousands a second).
        self._topic_static = [bool(_STATIC_TYPE.match(t)) for _, t in self.indexed]
        self._addresses = [
            n for n, t in (*self.indexed, *zip(self.names, self.types, strict=True)) if t == "address"
        ]

    def decode(self, log: dict[str, Any]) -> dict[str, Any]:
        """Argument name -> value; addresses checksummed, as web3 gives them."""
        out: dict[str, Any] = {}
        for (name, typ), static, topic in zip(
            self.indexed, self._topic_static, log["topics"][1:], strict=False
        ):
            raw = raw_bytes(topic)
            out[name] = _static_word(typ, raw) if static else raw  # dynamic: its hash
        data = raw_bytes(log["data"])
        if self._static and len(data) == 32 * len(self.types):
            values = [_static_word(t, data[32 * k : 32 * k + 32]) for k, t in enumerate(self.types)]
        else:
            values = list(abi_decode(self.types, data))
        out.update(zip(self.names, values, strict=True))
        for name in self._addresses:
            if name in out:
                out[name] = checksum(out[name])
        return out


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return str(param["type"])


def _checksummed(param: dict[str, Any], value: Any) -> Any:
    typ = param["type"]
    if typ == "address":
        return checksum(value)
    if typ == "tuple":
        return tuple(_checksummed(c, v) for c, v in zip(param["components"], value, strict=True))
    return value


def decode_call(fn_abi: dict[str, Any], data: Any) -> Any:
    """An `eth_call` result decoded as web3's `.call()` gives it: one output as its value, several
    as a tuple; addresses checksummed."""
    outputs = fn_abi.get("outputs", [])
    values = abi_decode([_abi_type(o) for o in outputs], raw_bytes(data))
    decoded = [_checksummed(o, v) for o, v in zip(outputs, values, strict=True)]
    return decoded[0] if len(decoded) == 1 else tuple(decoded)
