"""A second anvil of a test's own, beside ape's: another chain, or what a restarted one looks like."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests
from web3 import Web3

from verdict_deploy import anvil_states as anvil_cache

ROOT = Path(__file__).resolve().parents[1]


class SecondAnvil:
    """A second anvil of our own: another chain (`chain_id`), or with ape's chain id a restarted one."""

    def __init__(self, chain_id: int | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        binary = shutil.which("anvil") or str(ROOT / "node_modules" / ".bin" / "anvil")
        args = [binary, "--port", str(self.port), "--silent", *anvil_cache.args()]
        if chain_id is not None:
            args += ["--chain-id", str(chain_id)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.w3 = Web3(Web3.HTTPProvider(self.url))
        deadline = time.monotonic() + 30
        while not self._answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("anvil did not start")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        try:
            return self.w3.is_connected()
        except requests.RequestException:
            return False

    def mine(self, blocks: int) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
