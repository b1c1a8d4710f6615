"""Raw log and call-result decoding without web3, and the small conversions of raw JSON-RPC values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sha3  # safe-pysha3: keccak256 in C (see oracle.evidence)
from eth_abi import decode as abi_decode

_HEX40 = re.compile(r"(0[xX])?[0-9a-fA-F]{40}")
# EIP-55 upper-cases a letter where the keccak of the lowercase address has a nibble of 8 or more:
# byte masks over the 40 ASCII digits, so the whole address is cased in a few C calls.
_UPPER_IF_DIGEST = bytes(0x20 if chr(i) in "89abcdef" else 0 for i in range(256))
_LETTERS = bytes(0xFF if chr(i) in "abcdef" else 0 for i in range(256))


def eip55(address: str) -> str:
    """The EIP-55 checksummed spelling of a 40-hex-digit address (with or without 0x), exactly as
    eth_utils' `to_checksum_address` gives it, in a tenth of its time; ValueError for anything else."""
    if not isinstance(address, str) or not _HEX40.fullmatch(address):
        raise ValueError(f"not a hex address: {address!r}")
    lower = address[-40:].lower().encode()
    digest = sha3.keccak_256(lower).hexdigest().encode()
    upper = int.from_bytes(digest[:40].translate(_UPPER_IF_DIGEST), "big")
    upper &= int.from_bytes(lower.translate(_LETTERS), "big")
    return "0x" + (int.from_bytes(lower, "big") - upper).to_bytes(40, "big").decode()


class Checksums:
    """Checksummed addresses, remembered (a bounded cache, oldest out first): a busy node reads the
    same few thousand accounts, tokens and gated contracts again and again. Keys are the address as
    a string in any spelling (`__call__`) or its 20 raw bytes (`of_bytes`, an ABI word's tail)."""

    def __init__(self, size: int = 65_536) -> None:
        self._size = size
        self._known: dict[str | bytes, str] = {}

    def __call__(self, address: str) -> str:
        known = self._known.get(address)
        if known is None:
            known = self._remember(address, eip55(address))
        return known

    def of_bytes(self, raw: bytes) -> str:
        """The checksummed address of 20 raw bytes."""
        known = self._known.get(raw)
        if known is None:
            known = self._remember(raw, eip55(raw.hex()))
        return known

    def _remember(self, key: str | bytes, value: str) -> str:
        if len(self._known) >= self._size:
            del self._known[next(iter(self._known))]
        self._known[key] = value
        return value


def raw_bytes(value: Any) -> bytes:
    """bytes from a raw JSON-RPC hex string or from web3's HexBytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def as_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


_STATIC_TYPE = re.compile(r"^(address|bool|u?int(8|16|24|32|64|128|160|256)?|bytes([1-9]|[12][0-9]|3[0-2]))$")


def _word_reader(typ: str, checksums: Checksums) -> Callable[[bytes], Any]:
    """Reads one ABI word of a static type as eth_abi decodes it, addresses checksummed (as web3
    gives them). Worked out once per event field, not per log."""
    if typ == "address":
        return lambda word: checksums.of_bytes(word[12:])
    if typ == "bool":
        return lambda word: word[-1] != 0
    if typ.startswith("uint"):
        return lambda word: int.from_bytes(word, "big")
    if typ.startswith("int"):
        return lambda word: int.from_bytes(word, "big", signed=True)
    size = int(typ[5:])  # bytesN
    return lambda word: word[:size]


def _dynamic_topic(word: bytes) -> bytes:
    return word  # an indexed dynamic value: its hash, as it is


class EventDecoder:
    """Decodes one event's raw logs without web3: web3's `process_log` was a large share of the
    daemon's time under load (it builds an event codec per log and formats every field). Events
    made only of static types (the gate requests) are read word by word; others go to eth_abi."""

    def __init__(self, abi: dict[str, Any], checksums: Checksums | None = None) -> None:
        """checksums: the cache of checksummed addresses to share (a new one if not given)."""
        self.checksums = checksums = checksums or Checksums()
        inputs = abi["inputs"]
        self.indexed = [(i["name"], i["type"]) for i in inputs if i.get("indexed")]
        self.names = [i["name"] for i in inputs if not i.get("indexed")]
        self.types = [i["type"] for i in inputs if not i.get("indexed")]
        self._static = all(_STATIC_TYPE.match(t) for t in self.types)
        self._size = 32 * len(self.types)
        # Readers worked out once, not per log (a busy node decodes thousands a second).
        self._topic_readers = [
            (n, _word_reader(t, checksums) if _STATIC_TYPE.match(t) else _dynamic_topic)
            for n, t in self.indexed
        ]
        self._data_readers = (
            [
                (n, 32 * k, 32 * k + 32, _word_reader(t, checksums))
                for k, (n, t) in enumerate(zip(self.names, self.types, strict=True))
            ]
            if self._static
            else []
        )
        self._data_addresses = [n for n, t in zip(self.names, self.types, strict=True) if t == "address"]

    def decode(self, log: dict[str, Any]) -> dict[str, Any]:
        """Argument name -> value; addresses checksummed, as web3 gives them."""
        out: dict[str, Any] = {}
        # raw_bytes, spelled out: it is called five times per request log.
        for (name, read), topic in zip(self._topic_readers, log["topics"][1:], strict=False):
            out[name] = read(bytes.fromhex(topic[2:]) if isinstance(topic, str) else bytes(topic))
        data = log["data"]
        data = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        if self._static and len(data) == self._size:
            for name, start, end, read in self._data_readers:
                out[name] = read(data[start:end])
            return out
        out.update(zip(self.names, abi_decode(self.types, data), strict=True))
        for name in self._data_addresses:
            out[name] = self.checksums(out[name])
        return out


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return str(param["type"])


def _checksummed(param: dict[str, Any], value: Any) -> Any:
    typ = param["type"]
    if typ == "address":
        return eip55(value)
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
