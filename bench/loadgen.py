"""The benchmark's load generator: runs as its own process, so that signing and sending never share
an interpreter (or its lock) with the oracle daemon or with the process that watches outcomes.

    python -m bench.loadgen SPEC.json      # prints one JSON object on stdout

SPEC: {"mode": "transfer" | "burst" | "paced", "rpc_url", "deployment", "manifest", "chain_id",
       "seed", "payers", "payees", "count", "batch", "rate", "tokens": {"ETH": addr, "mUSD": addr}}

Every transaction is signed before the clock starts (eth-account with coincurve, as the daemon
signs) and its JSON-RPC call and hash prepared, then sent as a wallet backend would: on a
kept-alive HTTP connection (`oracle.rpc.RawRpc`, the daemon's lean transport), in JSON-RPC batches
of `batch` for "transfer" and "burst", one at a time at `rate` per second for "paced". It learns
what was mined by reading each new block's transaction hashes (`Inclusion`), polling the head
every POLL_S while it waits, not by asking for receipts or the node's pool. Its CPU over the
sending is reported per phase: the raw and pay-only phases run this same code, so whatever it
costs, it costs both. Times are `time.perf_counter()` (CLOCK_MONOTONIC on Linux), comparable
across processes.
"""

from __future__ import annotations

import bisect
import json
import resource
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from bench.history import Population, rounds
from oracle.chain import ChainClient, Deployment, load_abis
from oracle.rpc import RawRpc
from oracle.traffic import pay_tx, wallets

TRANSFER_GAS = 21_000
PACED_THREADS = 4
WINDOW = 300  # transactions sent and not yet included, at most (see _batched)
POLL_S = 0.02  # how often the head is asked for while waiting: a fifth of a 0.1 s block
BLOCKS_PER_READ = 200  # blocks read per JSON-RPC batch (automine mines one per transaction)
MINED_TIMEOUT = 600.0


def _answer(reply: Any) -> Any:
    """The result of one JSON-RPC answer; raises on an error answer."""
    if not isinstance(reply, dict) or "error" in reply:
        raise RuntimeError(f"the node refused a call: {reply}")
    return reply.get("result")


def send_batch(rpc: RawRpc, batch: Batch) -> None:
    """Sends one prepared batch of signed transactions; raises if the node refused any of them."""
    answers = rpc.batch(batch.calls)
    if isinstance(answers, dict):  # the whole batch was refused
        raise RuntimeError(f"batch refused: {answers.get('error')}")
    errors = [a["error"] for a in answers if "error" in a]
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(batch.hashes)} transactions refused, first: {errors[0]}")
    if [a.get("result") for a in answers] != batch.hashes:
        raise RuntimeError("the node named other transaction hashes than the ones sent")


@dataclass
class Batch:
    """One JSON-RPC batch of signed transactions, built before the clock starts: the calls and the
    hashes the chain will know them by (keccak of the raw bytes, typed or legacy)."""

    start: int  # index of its first transaction in the phase
    calls: list[tuple[str, list[Any]]]
    hashes: list[str]

    @classmethod
    def of(cls, start: int, raws: Sequence[bytes]) -> Batch:
        return cls(
            start,
            [("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raws],
            ["0x" + keccak(raw).hex() for raw in raws],
        )


class Inclusion:
    """Which of the load generator's transactions the chain has included, followed block by block
    as a wallet backend watches for its own: an `eth_blockNumber` every POLL_S while it waits, and
    the new blocks' transaction hashes in one JSON-RPC batch. It does not ask the node's pool, which
    on the end-to-end phase also holds the daemon's verdicts: nothing the load generator waits for."""

    def __init__(self, rpc: RawRpc, after_block: int) -> None:
        self.rpc = rpc
        self.next_block = after_block + 1
        self.last_block = after_block  # the last block that included one of ours
        self.used: list[int] = []  # the blocks that included at least one of ours
        self.waiting: set[str] = set()
        self.polls = 0

    def expect(self, hashes: Sequence[str]) -> None:
        """Called before the transactions are sent, so no block holding one is read before."""
        self.waiting.update(hashes)

    def poll(self) -> bool:
        """Reads the blocks mined since the last poll; whether there were any."""
        self.polls += 1
        head = int(_answer(self.rpc.call("eth_blockNumber", [])), 16)
        if head < self.next_block:
            return False
        for first in range(self.next_block, head + 1, BLOCKS_PER_READ):
            numbers = range(first, min(first + BLOCKS_PER_READ, head + 1))
            answers = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            for n, answer in zip(numbers, answers, strict=True):
                block = _answer(answer)
                if block is None:
                    raise RuntimeError(f"block {n} is below the head {head} but the node has none")
                before = len(self.waiting)
                self.waiting.difference_update(block["transactions"])
                if len(self.waiting) < before:
                    self.last_block = n
                    self.used.append(n)
        self.next_block = head + 1
        return True

    def wait(self, at_most: int, timeout: float = MINED_TIMEOUT) -> None:
        """Until at most `at_most` of ours wait to be included."""
        deadline = time.perf_counter() + timeout
        while len(self.waiting) > at_most:
            if self.poll():
                continue
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{len(self.waiting)} transactions not mined in {timeout:.0f}s")
            time.sleep(POLL_S)


class Signer:
    """Signs for many accounts with local nonces, the way `oracle.traffic.Sender` does."""

    def __init__(self, w3: Web3, chain_id: int) -> None:
        self.w3 = w3
        self.chain_id = chain_id
        self._nonces: dict[str, int] = {}

    def sign(self, account: LocalAccount, tx: dict[str, Any]) -> bytes:
        address = account.address
        if address not in self._nonces:
            self._nonces[address] = self.w3.eth.get_transaction_count(address, "pending")
        full = {"chainId": self.chain_id, "nonce": self._nonces[address], "gasPrice": 0, **tx}
        self._nonces[address] += 1
        return bytes(account.sign_transaction(full).raw_transaction)


def _payments(spec: dict[str, Any], client: ChainClient, signer: Signer) -> list[tuple[LocalAccount, bytes]]:
    """(payer, signed pay transaction), alternating ETH and the stablecoin. The burst's pairs and
    amounts are drawn like its primed history's (bench.history), and so are the latency phase's
    (`like_history`); other paced ones are $5-$2,000."""
    rng = np.random.default_rng(int(spec.get("traffic_seed", 1)))
    payers = wallets(int(spec["payers"]), seed=f"{spec['seed']}:payer")
    payees = wallets(int(spec["payees"]), seed=f"{spec['seed']}:payee")
    tokens = spec["tokens"]
    drawn = (
        Population([a.address for a in payers], [a.address for a in payees]).burst(int(spec["count"]))
        if spec["mode"] == "burst" or spec.get("like_history")
        else None
    )
    out = []
    for i in range(int(spec["count"])):
        payer = payers[i % len(payers)]
        if drawn is not None:
            payee, usd = payees[drawn[i][1]], drawn[i][2]
        else:
            payee = payees[int(rng.integers(len(payees)))]
            usd = float(np.clip(rng.lognormal(3.5, 1.0), 5, 2000))
        symbol = "ETH" if i % 2 == 0 else "mUSD"
        amount = int(usd / 3000 * 10**18) if symbol == "ETH" else int(usd * 10**6)
        tx = pay_tx(client, payee.address, tokens[symbol], amount, keccak(text=f"bench:{spec['mode']}:{i}"))
        out.append((payer, signer.sign(payer, tx)))
    return out


def _transfers(spec: dict[str, Any], signer: Signer) -> list[tuple[LocalAccount, bytes]]:
    payers = wallets(int(spec["payers"]), seed=f"{spec['seed']}:payer")
    sink = wallets(1, seed=f"{spec['seed']}:sink")[0].address
    return [
        (
            payers[i % len(payers)],
            signer.sign(payers[i % len(payers)], {"to": sink, "value": 1, "gas": TRANSFER_GAS}),
        )
        for i in range(int(spec["count"]))
    ]


def _batched(
    rpc: RawRpc,
    signed: list[tuple[LocalAccount, bytes]],
    batch: int,
    window: int,
    round_starts: Sequence[int] = (),
    round_gap_s: int = 0,
    after_block: int | None = None,
) -> dict[str, Any]:
    """Sends in JSON-RPC batches, keeping at most about `window` of its transactions sent and not
    yet included in a block, as a wallet backend keeps its in-flight window bounded: anvil's
    automine slows to a halt once a couple of thousand transactions wait in its pool.

    At each index in `round_starts` (a new round of the burst's payers, bench.history.rounds) it
    waits until the chain has included every transaction sent so far (the round's pays: not the
    daemon's verdicts), then moves the chain's clock on by `round_gap_s` if above 0: each payer's
    next payment is that much block time after its last. Everything but the sending, the polls
    and the jumps is done before the clock starts."""
    batches = [Batch.of(i, [raw for _, raw in signed[i : i + batch]]) for i in range(0, len(signed), batch)]
    starts = set(round_starts)
    if after_block is None:
        after_block = int(_answer(rpc.call("eth_blockNumber", [])), 16)
    seen = Inclusion(rpc, after_block)
    jumps = 0
    drains: list[float] = []  # seconds each round's barrier waited for the round to be included
    barrier_blocks: list[int] = []  # the block holding each finished round's last transaction
    start = time.perf_counter()
    for chunk in batches:
        if chunk.start in starts:
            waited = time.perf_counter()
            seen.wait(0)
            barrier_blocks.append(seen.last_block)
            if round_gap_s > 0:
                _answer(rpc.call("evm_increaseTime", [round_gap_s]))
                jumps += 1
            drains.append(round(time.perf_counter() - waited, 3))
        seen.wait(window)
        seen.expect(chunk.hashes)
        send_batch(rpc, chunk)
    sent = time.perf_counter()
    seen.wait(0)
    return {
        "count": len(signed),
        "start": start,
        "sent": sent,
        "mined": time.perf_counter(),
        "first_block": after_block,
        "last_included_block": seen.last_block,
        "blocks_with_ours": len(seen.used),
        # blocks holding none of ours between a round's last transaction and the next round's
        # first: what each barrier (and the refill after it) cost the chain's stream of our load
        "barrier_gap_blocks": [_next_after(seen.used, b) - b - 1 for b in barrier_blocks],
        "polls": seen.polls,
        "clock_jumps": jumps,
        "drain_s": drains,
    }


def _next_after(blocks: list[int], block: int) -> int:
    """The first of the ascending `blocks` after `block`."""
    return blocks[bisect.bisect_right(blocks, block)]


def _paced(spec: dict[str, Any], signed: list[tuple[LocalAccount, bytes]], rate: float) -> dict[str, Any]:
    """One payment every 1/rate seconds, none waiting for the one before to be mined (a wallet
    backend serving many users does not); the watcher times each from its request event.

    A slow answer from the node must not lower the offered load, so PACED_THREADS threads send,
    each on its own kept-alive connection (RawRpc keeps one per thread) and with its own payers
    (a payer's nonces stay in order)."""
    threads = PACED_THREADS
    rpc = RawRpc(spec["rpc_url"])
    owner = {account.address: n % threads for n, account in enumerate(dict.fromkeys(a for a, _ in signed))}
    work = [
        [(i, "0x" + raw.hex()) for i, (account, raw) in enumerate(signed) if owner[account.address] == k]
        for k in range(threads)
    ]
    start = time.perf_counter() + 0.05
    late = [0] * threads
    refused: list[str] = []

    def sender(k: int) -> None:
        for i, raw_hex in work[k]:
            due = start + i / rate
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            elif now - due > 1 / rate:
                late[k] += 1
            try:
                _answer(rpc.call("eth_sendRawTransaction", [raw_hex]))
            except Exception as exc:  # noqa: BLE001 - reported after the join, not lost with the thread
                refused.append(str(exc))
                return  # its payers' later nonces would be refused too

    workers = [threading.Thread(target=sender, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    end = time.perf_counter()
    if refused:
        raise RuntimeError(f"{len(refused)} paced transactions refused, first: {refused[0]}")
    return {
        "count": len(signed),
        "start": start,
        "end": end,
        "offered_per_s": round(len(signed) / (end - start), 1),
        "late": sum(late),
    }


def _signed(spec: dict[str, Any], client: ChainClient, signer: Signer) -> list[tuple[LocalAccount, bytes]]:
    """The phase's signed transactions; kept in `spec["cache"]` if given. Every phase starts from the
    same saved chain state (bench.anvil), so the same nonces hold and a repetition reuses them."""
    cache = Path(spec["cache"]) if spec.get("cache") else None
    if cache is not None and cache.exists():
        by_address = {a.address: a for a in wallets(int(spec["payers"]), seed=f"{spec['seed']}:payer")}
        return [(by_address[a], bytes.fromhex(raw)) for a, raw in json.loads(cache.read_text())]
    signed = _transfers(spec, signer) if spec["mode"] == "transfer" else _payments(spec, client, signer)
    if cache is not None:
        cache.write_text(json.dumps([(a.address, raw.hex()) for a, raw in signed]))
    return signed


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    client = ChainClient(
        spec["rpc_url"], Deployment.load(Path(spec["deployment"])), load_abis(Path(spec["manifest"]))
    )
    signer = Signer(client.w3, int(spec["chain_id"]))
    signed = _signed(spec, client, signer)
    rpc = RawRpc(spec["rpc_url"])
    first_block = int(_answer(rpc.call("eth_blockNumber", [])), 16)
    cpu = _cpu()  # the sending only: signing is done before the clock starts
    if spec["mode"] == "paced":
        result = _paced(spec, signed, float(spec["rate"]))
    else:
        gap = int(spec.get("round_gap_s", 0))
        # `barriers` without a gap: the rounds' waits without the clock jumps (a diagnostic).
        barriers = gap > 0 or bool(spec.get("barriers", False))
        starts = rounds(len(signed), int(spec["payers"])) if barriers else []
        if starts and any(k % int(spec["batch"]) for k in starts):
            raise SystemExit("a round of the burst must start on a batch boundary: payers % batch != 0")
        window = int(spec.get("window", WINDOW))
        result = _batched(rpc, signed, int(spec["batch"]), window, starts, gap, first_block)
    result["cpu_s"] = round(_cpu() - cpu, 3)
    result["first_block"] = first_block
    result["last_block"] = int(_answer(rpc.call("eth_blockNumber", [])), 16)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
