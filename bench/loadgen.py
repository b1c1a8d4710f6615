"""The benchmark's load generator: runs as its own process, so that signing and sending never share
an interpreter (or its lock) with the oracle daemon or with the process that watches outcomes.

    python -m bench.loadgen SPEC.json      # prints one JSON object on stdout

SPEC: {"mode": "transfer" | "burst" | "paced", "rpc_url", "deployment", "manifest", "chain_id",
       "seed", "payers", "payees", "count", "batch", "rate", "tokens": {"ETH": addr, "mUSD": addr}}

Every transaction is signed before the clock starts (eth-account with coincurve, as the daemon
signs), then sent as raw transactions over the same web3 HTTP client the daemon uses: in JSON-RPC
batches of `batch` for "transfer" and "burst", one at a time at `rate` per second for "paced".
Times are `time.perf_counter()` (CLOCK_MONOTONIC on Linux), comparable across processes.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from bench.history import Population, rounds
from oracle.chain import ChainClient, Deployment, load_abis
from oracle.traffic import pay_tx, wallets

TRANSFER_GAS = 21_000
PACED_THREADS = 4
WINDOW = 300  # transactions allowed to wait in the node's pool (see _batched)


def send_batch(w3: Web3, raws: Sequence[bytes]) -> list[str]:
    """Sends signed transactions in one JSON-RPC batch; raises if the node refused any of them."""
    responses = w3.provider.make_batch_request(
        [("eth_sendRawTransaction", [Web3.to_hex(raw)]) for raw in raws]  # type: ignore[misc]
    )
    if isinstance(responses, dict):  # the whole batch was refused
        raise RuntimeError(f"batch refused: {responses.get('error')}")
    errors = [r["error"] for r in responses if "error" in r]
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(raws)} transactions refused, first: {errors[0]}")
    return [str(r["result"]) for r in responses]


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


def wait_mined(w3: Web3, hashes: Sequence[str], timeout: float = 600.0) -> float:
    """Waits for the receipts of `hashes` (the last transaction of each sender suffices);
    returns the time the last one was seen."""
    deadline = time.perf_counter() + timeout
    for tx_hash in hashes:
        while True:
            try:
                receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                if receipt is not None:
                    break
            except Exception:  # noqa: BLE001 - TransactionNotFound until mined
                pass
            if time.perf_counter() > deadline:
                raise TimeoutError(f"transaction {tx_hash} not mined in {timeout:.0f}s")
            time.sleep(0.01)  # gently: the daemon is using the same node meanwhile
    return time.perf_counter()


def _payments(spec: dict[str, Any], client: ChainClient, signer: Signer) -> list[tuple[LocalAccount, bytes]]:
    """(payer, signed pay transaction), alternating ETH and the stablecoin. The burst's pairs and
    amounts are drawn like its primed history's (bench.history); paced ones are $5-$2,000."""
    rng = np.random.default_rng(int(spec.get("traffic_seed", 1)))
    payers = wallets(int(spec["payers"]), seed=f"{spec['seed']}:payer")
    payees = wallets(int(spec["payees"]), seed=f"{spec['seed']}:payee")
    tokens = spec["tokens"]
    drawn = (
        Population([a.address for a in payers], [a.address for a in payees]).burst(int(spec["count"]))
        if spec["mode"] == "burst"
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
    w3: Web3,
    signed: list[tuple[LocalAccount, bytes]],
    batch: int,
    window: int,
    round_starts: Sequence[int] = (),
    round_gap_s: int = 0,
) -> dict[str, Any]:
    """Sends in JSON-RPC batches, keeping at most about `window` transactions waiting in the node's
    pool, as a wallet backend keeps its in-flight window bounded: anvil's automine slows to a halt
    once a couple of thousand transactions wait in its pool, more than one block can hold.

    At each index in `round_starts` (a new round of the burst's payers, bench.history.rounds) it
    waits for the pool to empty, so the last round is mined, then moves the chain's clock on by
    `round_gap_s`: each payer's next payment is that much block time after its last."""
    last_of: dict[str, str] = {}
    starts = set(round_starts)
    jumps = 0
    drains: list[float] = []  # seconds each round's barrier waited for the pool to empty
    start = time.perf_counter()
    for i in range(0, len(signed), batch):
        if i in starts and round_gap_s > 0:
            waited = time.perf_counter()
            while _pending(w3) > 0:
                time.sleep(0.002)
            w3.provider.make_request("evm_increaseTime", [round_gap_s])  # type: ignore[arg-type]
            jumps += 1
            drains.append(round(time.perf_counter() - waited, 3))
        while _pending(w3) > window:
            time.sleep(0.002)
        chunk = signed[i : i + batch]
        for (account, _), tx_hash in zip(chunk, send_batch(w3, [raw for _, raw in chunk]), strict=True):
            last_of[account.address] = tx_hash
    sent = time.perf_counter()
    mined = wait_mined(w3, list(last_of.values()))
    return {
        "count": len(signed),
        "start": start,
        "sent": sent,
        "mined": mined,
        "clock_jumps": jumps,
        "drain_s": drains,
    }


def _pending(w3: Web3) -> int:
    status = w3.provider.make_request("txpool_status", [])  # type: ignore[arg-type]
    return int(status["result"]["pending"], 16)


def _paced(spec: dict[str, Any], signed: list[tuple[LocalAccount, bytes]], rate: float) -> dict[str, Any]:
    """One payment every 1/rate seconds, none waiting for the one before to be mined (a wallet
    backend serving many users does not); the watcher times each from its request event.

    A slow answer from the node must not lower the offered load, so PACED_THREADS threads send,
    each with its own client and its own payers (a payer's nonces stay in order)."""
    threads = PACED_THREADS
    start = time.perf_counter() + 0.05
    late = [0] * threads

    def sender(k: int) -> None:
        w3 = Web3(Web3.HTTPProvider(spec["rpc_url"]))
        for i, (account, raw) in enumerate(signed):
            if signed_payer[account.address] % threads != k:
                continue
            due = start + i / rate
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            elif now - due > 1 / rate:
                late[k] += 1
            w3.eth.send_raw_transaction(raw)

    signed_payer = {account.address: n for n, account in enumerate(dict.fromkeys(a for a, _ in signed))}
    workers = [threading.Thread(target=sender, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    end = time.perf_counter()
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
    w3 = client.w3
    signer = Signer(w3, int(spec["chain_id"]))
    signed = _signed(spec, client, signer)
    first_block = w3.eth.block_number
    cpu = _cpu()  # the sending only: signing is done before the clock starts
    if spec["mode"] == "paced":
        result = _paced(spec, signed, float(spec["rate"]))
    else:
        gap = int(spec.get("round_gap_s", 0))
        starts = rounds(len(signed), int(spec["payers"])) if gap else []
        if starts and any(k % int(spec["batch"]) for k in starts):
            raise SystemExit("a round of the burst must start on a batch boundary: payers % batch != 0")
        result = _batched(w3, signed, int(spec["batch"]), int(spec.get("window", WINDOW)), starts, gap)
    result["cpu_s"] = round(_cpu() - cpu, 3)
    result["first_block"] = first_block
    result["last_block"] = w3.eth.block_number
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
