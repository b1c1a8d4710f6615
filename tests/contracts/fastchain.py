"""A lean JSON-RPC driver for the invariant state machines.

ape's contract calls cost about 0.3 s each (receipt polling, tracing, rich objects); thousands of
random sequences need a few milliseconds per action. This driver talks to the same anvil that ape
started, through one keep-alive HTTP session: transactions go out with `eth_sendTransaction` from
anvil's unlocked dev accounts (automine, so the receipt is ready when the hash comes back), views
go out as one JSON-RPC batch per check, and calldata, results, custom errors and events are
encoded and decoded with eth_abi straight from the contracts' ABIs.

The contracts are still deployed by ape's fixtures; this only replaces the per-action transport.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address


class RpcError(Exception):
    """A JSON-RPC error other than a revert."""


class Reverted(Exception):
    """A call or transaction reverted; `error` is the custom error's name when the ABI knows it."""

    def __init__(self, error: str, values: tuple = ()) -> None:
        super().__init__(f"{error}{values}")
        self.error = error
        self.values = values


@dataclass(frozen=True)
class Event:
    name: str
    address: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Receipt:
    block_number: int
    gas_used: int
    events: list[Event] = field(default_factory=list)

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


def _type(param: dict) -> str:
    """The canonical ABI type of one parameter, tuples spelled out."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _signature(item: dict) -> str:
    return f"{item['name']}({','.join(_type(p) for p in item['inputs'])})"


class FastChain:
    """One anvil node: sends, batched calls, snapshots and time."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy lookup in os.environ on every request
        self._ids = itertools.count(1)
        self._contracts: dict[str, FastContract] = {}

    # --- transport --------------------------------------------------------------------------------

    def rpc(self, method: str, *params: Any) -> Any:
        reply = self._session.post(
            self.uri, json={"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        ).json()
        if "error" in reply:
            self._raise(reply["error"])
        return reply["result"]

    def batch(self, requests_: Sequence[tuple[str, list]]) -> list[Any]:
        if not requests_:
            return []
        first = next(self._ids)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(requests_)
        ]
        self._ids = itertools.count(first + len(body))
        replies = sorted(self._session.post(self.uri, json=body).json(), key=lambda r: r["id"])
        for reply in replies:
            if "error" in reply:
                self._raise(reply["error"])
        return [r["result"] for r in replies]

    def _raise(self, error: dict) -> None:
        data = error.get("data")
        if isinstance(data, dict):
            data = data.get("data")
        message = str(error.get("message", ""))
        if "revert" in message.lower() or isinstance(data, str):
            raise self._decode_revert(data if isinstance(data, str) else "0x", message)
        raise RpcError(f"{error.get('code')}: {message}")

    def _decode_revert(self, data: str, message: str) -> Reverted:
        raw = bytes.fromhex(data[2:]) if data and data != "0x" else b""
        if len(raw) >= 4:
            for contract in self._contracts.values():
                known = contract.errors.get(raw[:4])
                if known:
                    name, types = known
                    return Reverted(name, tuple(decode(types, raw[4:])))
            if raw[:4] == function_signature_to_4byte_selector("Error(string)"):
                return Reverted("Error", tuple(decode(["string"], raw[4:])))
        return Reverted("revert", (message,))

    # --- chain state ------------------------------------------------------------------------------

    def contract(self, address: str, abi: Iterable[dict]) -> FastContract:
        contract = FastContract(self, to_checksum_address(address), list(abi))
        self._contracts[contract.address.lower()] = contract
        return contract

    def send(self, sender: str, to: str, data: bytes, value: int = 0) -> Receipt:
        """Mines one transaction; raises `Reverted` (decoded) if it would revert.

        A reverting transaction is mined as a failure; its custom error comes from replaying it.
        """
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
        # EIP-7966: anvil mines it and answers with the receipt in one round trip
        raw = self.rpc("eth_sendTransactionSync", tx)
        if int(raw["status"], 16) != 1:
            # mined as a failure (ape's anvil does not refuse it up front): replay it as a call on
            # the state before its block (automine: one transaction per block) for the error data
            before = hex(int(raw["blockNumber"], 16) - 1)
            self.rpc("eth_call", tx, before)
            raise Reverted("revert", ("mined with status 0, and the replay did not revert",))
        return Receipt(
            block_number=int(raw["blockNumber"], 16),
            gas_used=int(raw["gasUsed"], 16),
            events=[e for e in map(self._decode_log, raw["logs"]) if e is not None],
        )

    def _decode_log(self, log: dict) -> Event | None:
        contract = self._contracts.get(log["address"].lower())
        if contract is None or not log["topics"]:
            return None
        return contract.decode_log(log)

    def balance(self, address: str) -> tuple[str, list]:
        """A request for `batch`: an account's ETH balance."""
        return ("eth_getBalance", [address, "latest"])

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        if not self.rpc("evm_revert", snapshot_id):
            raise RpcError(f"evm_revert({snapshot_id}) failed")

    def warp(self, seconds: int) -> int:
        """Mines a block `seconds` after the latest one and returns its time. (An absolute stamp:
        `evm_increaseTime` does nothing once `deterministic_time` is on.)"""
        target = self.latest_timestamp() + seconds
        self.rpc("evm_mine", hex(target))
        return target

    def deterministic_time(self, on: bool = True) -> None:
        """Each new block one second after the previous one, whatever the wall clock does: runs
        replay exactly (Hypothesis replays examples and requires the same draws)."""
        if on:
            self.rpc("anvil_setBlockTimestampInterval", 1)
        else:
            self.rpc("anvil_removeBlockTimestampInterval")

    def timestamp(self, receipt: Receipt) -> int:
        """The timestamp of a receipt's block (ape's anvil leaves it out of receipts)."""
        return int(self.rpc("eth_getBlockByNumber", hex(receipt.block_number), False)["timestamp"], 16)

    def latest_timestamp(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


class FastContract:
    """Calldata, results, errors and events of one deployed contract, from its ABI."""

    def __init__(self, chain: FastChain, address: str, abi: list[dict]) -> None:
        self.chain = chain
        self.address = address
        self._functions: dict[str, tuple[bytes, list[str], list[str]]] = {}
        self.errors: dict[bytes, tuple[str, list[str]]] = {}
        self._events: dict[bytes, dict] = {}
        for item in abi:
            kind = item.get("type")
            if kind == "function":
                self._functions[item["name"]] = (
                    function_signature_to_4byte_selector(_signature(item)),
                    [_type(p) for p in item["inputs"]],
                    [_type(p) for p in item.get("outputs", [])],
                )
            elif kind == "error":
                self.errors[function_signature_to_4byte_selector(_signature(item))] = (
                    item["name"],
                    [_type(p) for p in item["inputs"]],
                )
            elif kind == "event" and not item.get("anonymous"):
                self._events[keccak(text=_signature(item))] = item

    def data(self, fn: str, *args: Any) -> bytes:
        selector, inputs, _ = self._functions[fn]
        return selector + encode(inputs, list(args))

    def transact(self, sender: str, fn: str, *args: Any, value: int = 0) -> Receipt:
        return self.chain.send(sender, self.address, self.data(fn, *args), value)

    def call(self, fn: str, *args: Any) -> tuple[str, list]:
        """A request for `FastChain.batch`; decode its result with `result(fn, raw)`."""
        return ("eth_call", [{"to": self.address, "data": "0x" + self.data(fn, *args).hex()}, "latest"])

    def result(self, fn: str, raw: str) -> Any:
        outputs = self._functions[fn][2]
        values = decode(outputs, bytes.fromhex(raw[2:]))
        return values[0] if len(values) == 1 else values

    def view(self, fn: str, *args: Any) -> Any:
        """One call on its own (prefer `call` + `batch` in hot paths)."""
        return self.result(fn, self.chain.batch([self.call(fn, *args)])[0])

    def decode_log(self, log: dict) -> Event | None:
        item = self._events.get(bytes.fromhex(log["topics"][0][2:]))
        if item is None:
            return None
        indexed = [p for p in item["inputs"] if p["indexed"]]
        plain = [p for p in item["inputs"] if not p["indexed"]]
        args: dict[str, Any] = {}
        for param, topic in zip(indexed, log["topics"][1:], strict=True):
            args[param["name"]] = decode([_type(param)], bytes.fromhex(topic[2:]))[0]
        for param, value in zip(
            plain, decode([_type(p) for p in plain], bytes.fromhex(log["data"][2:])), strict=True
        ):
            args[param["name"]] = value
        return Event(item["name"], self.address, args)


def fast(chain: FastChain, ape_contract: Any) -> FastContract:
    """The FastContract for a contract ape deployed."""
    abi = [item.model_dump(mode="json", by_alias=True) for item in ape_contract.contract_type.abi]
    return chain.contract(str(ape_contract.address), abi)
