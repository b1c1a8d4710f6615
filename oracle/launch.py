"""Start and stop `verdict run` child processes: the demo, the end-to-end tests and the benchmark
each run oracle nodes as real separate processes, exactly as an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

READY_LINE = "oracle node ready"


@dataclass
class DaemonProcess:
    """A `verdict run` child process writing its log lines to `log_path`."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    # Where this process's lines begin: a restarted node appends to the same file, and its
    # readiness must not be read from the line its predecessor wrote.
    log_start: int = 0

    @classmethod
    def start(
        cls,
        env: Mapping[str, str],
        log_path: Path,
        args: Sequence[str] = ("run",),
        json_logs: bool = True,
    ) -> DaemonProcess:
        """`verdict ARGS` with the VERDICT_* settings `env` over this process's environment, its
        output appended to `log_path`."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as out:
            start = out.tell()
            proc = subprocess.Popen(
                [sys.executable, "-m", "oracle.cli", *args],
                env={**os.environ, **({"VERDICT_LOG_FORMAT": "json"} if json_logs else {}), **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return cls(proc, log_path, start)

    def log_text(self) -> str:
        """This process's own lines (not those of an earlier process that used the same file)."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def wait_for(self, text: str, timeout: float = 60.0) -> bool:
        """Waits until `text` appears in the log; False on timeout or if the process exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text():
                return True
            if self.proc.poll() is not None:
                return text in self.log_text()
            time.sleep(0.05)
        return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        if not self.wait_for(READY_LINE, timeout):
            tail = "\n".join(self.log_text().splitlines()[-8:])
            raise RuntimeError(f"the oracle daemon did not become ready:\n{tail}")

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def kill(self) -> None:
        """kill -9: no cleanup at all, as a crash or an OOM kill would do."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
