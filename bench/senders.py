"""`python -m bench.senders`: what anvil's CPU per transaction depends on (issue 16 item 1, helper
"mix2"). Not part of `make bench`; its figures are in bench/NOTES.md.

A burst with one payer per payment (15,000 distinct senders) cost anvil 4-20 ms of CPU per pay
against about 0.5 ms from 500 payers paying repeatedly. Candidate causes, each isolated here on a
fresh interval-mined anvil (0.1 s blocks, `--prune-history 64`, the bench's flags) holding only
plain ETH transfers, so no contract is involved:

- *state size per block*: `--state` funds N accounts, and the idle CPU per block is measured
  before any load (an interval-mined anvil mines empty blocks);
- *distinct senders*: the same number of transfers from `--senders` of them, with the state held
  at N;
- *cheat-code funding*: `--funding cheat` (`anvil_setBalance`) against `transfer` (ordinary
  transfers from a dev account, mined) and `load` (cheat-funded, dumped and loaded with
  `--load-state`, as every bench phase starts);
- *nonce handling*: first transactions (nonce 0) against later ones is the senders axis itself.

Each case prints one JSON line: idle anvil CPU ms per block, CPU ms per transfer over the send
and mine (no receipt polling: blocks are read by number), the same per transfer once the receipt
of every sender's last transfer is asked for (as bench.loadgen waits), and transfers/s.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import requests
from eth_account import Account
from eth_utils import keccak

from bench.anvil import GAS_LIMIT, Anvil
from bench.chain import cpu_seconds

CHAIN_ID = 31337
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # MNEMONIC's first account
BATCH = 100
WINDOW = 2_000  # bench.phases.POOL_WINDOW


class Rpc:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def call(self, method: str, params: list[Any]) -> Any:
        out = self.session.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        body = out.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        out = self.session.post(self.url, json=body).json()
        errors = [r["error"] for r in out if "error" in r]
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(calls)} refused, first: {errors[0]}")
        return [r["result"] for r in sorted(out, key=lambda r: r["id"])]

    def pending(self) -> int:
        return int(self.call("txpool_status", [])["pending"], 16)

    def head(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)


def keys(n: int) -> list[bytes]:
    return [keccak(text=f"verdict-bench-senders:{i}") for i in range(n)]


def fund(rpc: Rpc, addresses: list[str], how: str) -> None:
    if how == "transfer":
        signed = [
            Account.sign_transaction(
                {"chainId": CHAIN_ID, "nonce": k, "gasPrice": 0, "gas": 21_000, "to": a, "value": 10**18},
                DEV_KEY,
            ).raw_transaction.hex()
            for k, a in enumerate(addresses)
        ]
        hashes: list[str] = []
        for i in range(0, len(signed), 500):
            while rpc.pending() > WINDOW:
                time.sleep(0.01)
            hashes += rpc.batch(
                [("eth_sendRawTransaction", ["0x" + s.removeprefix("0x")]) for s in signed[i : i + 500]]
            )
        while rpc.call("eth_getTransactionReceipt", [hashes[-1]]) is None:
            time.sleep(0.05)
        return
    for i in range(0, len(addresses), 500):
        rpc.batch([("anvil_setBalance", [a, hex(10**18)]) for a in addresses[i : i + 500]])


def transfers(addresses: list[str], secret: list[bytes], count: int) -> list[str]:
    """`count` transfers, senders taken in turn (each sender's nonces in order)."""
    nonces = [0] * len(secret)
    out = []
    for i in range(count):
        s = i % len(secret)
        tx = {
            "chainId": CHAIN_ID,
            "nonce": nonces[s],
            "gasPrice": 0,
            "gas": 21_000,
            "to": addresses[(s + 1) % len(addresses)],
            "value": 1,
        }
        nonces[s] += 1
        out.append("0x" + Account.sign_transaction(tx, secret[s]).raw_transaction.hex().removeprefix("0x"))
    return out


def measure(
    state: int, senders: int, count: int, how: str, block_time: float, jump_every: int = 0
) -> dict[str, Any]:
    secret = keys(state)
    addresses = [Account.from_key(k).address for k in secret]
    signed = transfers(addresses, secret[:senders], count)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "state.json"
        if how == "load":
            with Anvil(None, GAS_LIMIT, dump_state=dump) as setup:
                fund(Rpc(setup.url), addresses, "cheat")
        chain = Anvil(block_time, GAS_LIMIT, load_state=dump if how == "load" else None)
        with chain:
            rpc = Rpc(chain.url)
            pid = chain.node_pid
            if how != "load":
                fund(rpc, addresses, how)
            time.sleep(1.0)
            b0, c0, t0 = rpc.head(), cpu_seconds(pid), time.perf_counter()
            time.sleep(3.0)
            b1, c1 = rpc.head(), cpu_seconds(pid)
            idle_ms_per_block = (c1 - c0) * 1000 / max(b1 - b0, 1)
            idle_blocks_per_s = (b1 - b0) / (time.perf_counter() - t0)
            first, cpu0, start = rpc.head(), cpu_seconds(pid), time.perf_counter()
            for i in range(0, len(signed), BATCH):
                if jump_every and i and i % jump_every == 0:  # bench.loadgen's rounds
                    while rpc.pending() > 0:
                        time.sleep(0.002)
                    rpc.call("evm_increaseTime", [3_600])
                while rpc.pending() > WINDOW:
                    time.sleep(0.002)
                rpc.batch([("eth_sendRawTransaction", [raw]) for raw in signed[i : i + BATCH]])
            while rpc.pending() > 0:
                time.sleep(0.01)
            mined_at, cpu1, last = time.perf_counter(), cpu_seconds(pid), rpc.head()
            seconds = mined_at - start
            # what main's load generator did before bench.loadgen.Inclusion: every sender's last receipt
            last_hash = {
                i % senders: "0x" + keccak(bytes.fromhex(raw[2:])).hex() for i, raw in enumerate(signed)
            }
            for i in range(0, len(last_hash), 500):
                rpc.batch([("eth_getTransactionReceipt", [h]) for h in list(last_hash.values())[i : i + 500]])
            cpu2 = cpu_seconds(pid)
    blocks = max(last - first, 1)
    load_ms = (cpu1 - cpu0) * 1000
    return {
        "state_accounts": state,
        "senders": senders,
        "transfers": count,
        "funding": how,
        "idle_cpu_ms_per_block": round(idle_ms_per_block, 2),
        "idle_blocks_per_s": round(idle_blocks_per_s, 1),
        "cpu_ms_per_tx": round(load_ms / count, 3),
        "cpu_ms_per_tx_less_idle_blocks": round((load_ms - idle_ms_per_block * blocks) / count, 3),
        "receipts_cpu_ms_per_tx": round((cpu2 - cpu1) * 1000 / count, 3),
        "tx_per_s": round(count / seconds, 1),
        "blocks": blocks,
        "clock_jump_every": jump_every,
    }


@click.command()
@click.option(
    "--state",
    "states",
    default="500,2000,5000,15000",
    show_default=True,
    help="Funded accounts, comma-separated.",
)
@click.option(
    "--senders", "senders_", default="", help="Senders per case (default: all the funded accounts)."
)
@click.option("--count", default=15_000, show_default=True, help="Transfers per case.")
@click.option(
    "--funding", default="cheat", type=click.Choice(["cheat", "transfer", "load"]), show_default=True
)
@click.option("--block-time", default=0.1, show_default=True)
@click.option(
    "--jump-every", default=0, show_default=True, help="Move the clock on an hour every N transfers."
)
def main(states: str, senders_: str, count: int, funding: str, block_time: float, jump_every: int) -> None:
    """Anvil's CPU per transfer against funded accounts and distinct senders; one JSON line a case."""
    for s in (int(x) for x in states.split(",")):
        for n in [int(x) for x in senders_.split(",")] if senders_ else [s]:
            print(json.dumps(measure(s, min(n, s), count, funding, block_time, jump_every)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
