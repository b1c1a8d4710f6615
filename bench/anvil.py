"""The benchmark's own anvil: started from node_modules/.bin/anvil with a stated mining mode and gas
limit, and without `--steps-tracing` (issue 16).

ape-foundry starts anvil with `--steps-tracing`, which made a `pay` about 45x slower to execute and
grew anvil's memory by about 1 MB per pay, while leaving plain transfers alone: a benchmark on it
measures the tracer. Here anvil is started like a production node would run: interval mining at a
block time (`--block-time`), a block gas limit (`--gas-limit`), and no tracing. ape connects to
such an anvil instead of starting its own when `APE_FOUNDRY_HOST` names it.

Every phase of the benchmark runs on a fresh chain loaded from one saved state (`--load-state`):
the suite deployed and the load generator's accounts funded once, on an automining chain, then
each phase starts from exactly that state, so no phase measures a chain another phase has grown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
"""npm's launcher (a node script that runs the platform binary as its child): CPU is measured on the
binary (`Anvil.node_pid`)."""
# ape's test accounts (ape-config.yaml `test:`, ape's defaults otherwise): Roles.local() signs with them.
MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNTS = 20
HD_PATH = "m/44'/60'/0'/0"
BALANCE_ETH = 10_000
GAS_LIMIT = 1_000_000_000
"""The block gas limit of every benchmark chain: 1G gas, so a block is bounded by anvil's speed, not
by its gas (Arbitrum's and Base's limits are in this range per second)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Anvil:
    """One anvil process. block_time None: automine (one block per transaction)."""

    block_time: float | None
    gas_limit: int = GAS_LIMIT
    load_state: Path | None = None
    dump_state: Path | None = None
    log: Path | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        return "automine" if self.block_time is None else f"interval {self.block_time:g} s"

    def command(self) -> list[str]:
        cmd = [
            str(ANVIL),
            "--port", str(self.port),
            "--mnemonic", MNEMONIC,
            "--accounts", str(ACCOUNTS),
            "--derivation-path", HD_PATH,
            "--balance", str(BALANCE_ETH),
            "--block-base-fee-per-gas", "0",
            "--gas-price", "0",
            "--gas-limit", str(self.gas_limit),
            "--hardfork", "cancun",
            # keep recent states in memory only: by default anvil writes every older block's state to
            # ~/.foundry/anvil/tmp (5.5 MB a block at the bench's state, 10 blocks/s: a disk filled
            # in minutes); the bench reads logs and receipts, never state at an old block
            "--prune-history", "64",
        ]  # fmt: skip
        if self.block_time is not None:
            cmd += ["--block-time", f"{self.block_time:g}"]
        if self.load_state is not None:
            cmd += ["--load-state", str(self.load_state)]
        if self.dump_state is not None:
            cmd += ["--dump-state", str(self.dump_state)]
        return cmd

    @property
    def node_pid(self) -> int:
        """The pid of the anvil binary itself: npm's launcher's child, or the launcher if it has none."""
        assert self.proc is not None
        pid = self.proc.pid
        for _ in range(3):  # launcher -> binary, at most a wrapper or two deep
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                break
            if not children:
                break
            pid = int(children[0])
        return pid

    def start(self, timeout: float = 30.0) -> Anvil:
        if not ANVIL.exists():
            raise RuntimeError(f"{ANVIL} is missing: run `make setup` first")
        out = self.log.open("ab") if self.log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"anvil exited at start (code {self.proc.returncode}): {' '.join(self.command())}"
                )
            try:
                answer = requests.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1,
                )
                if answer.ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """SIGINT (anvil writes `--dump-state` then), SIGKILL if it does not go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
