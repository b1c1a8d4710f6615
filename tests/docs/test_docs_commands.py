"""Docs that execute: every command block of README.md and docs/*.md runs, in order, against a
long-lived anvil this test starts, as a user would type it. A docs change that breaks a command fails.

Which fenced blocks are commands (the rule; `classify` enforces it):

- A block whose fence has the line `<!-- illustrative -->` just before it is skipped (placeholders
  such as `0xTOKEN`, commands that take minutes like `make demo`, snippets that need a program around
  them).
- Untagged, `sh`, `bash` and `shell` blocks are shell commands: each runs in `bash -e -o pipefail`
  from the project root, with the exports of the blocks before it (one user, one terminal). A job
  left in the background (`verdict run ... &`) keeps running until the test ends, and must still be
  running then.
- A `text` block holding `In [n]:` lines is an `ape console` session: its inputs run, in order, with
  ape's console names and the helpers of `ape_console_extras.py` on the network its `$ ape console`
  (or `$ .venv/bin/ape console`) line names (default ethereum:local:foundry); an `Out[n]:` line is
  compared with the value's repr unless it is elided (`...` or `…`). Printed lines are the reader's
  and are not checked.
- Every other tag is data, output or an excerpt and never runs: `text` without `In [`, `json`,
  `mermaid`, `python` (an API excerpt, with names the reader supplies), `csv`, `yaml`, `toml`,
  `solidity`. Any other tag fails the test, so a new kind of block needs a decision here.

Files run in two lanes at once, each with its own anvil, scratch project and terminal: README.md
alone (its blocks start from a chain of their own: deploy, then govern from `ape console`), and the
walkthrough lane: docs/operator-guide.md first (its walkthrough makes the deployment, model, node store
and payments the other pages' commands refer to), then the rest of docs/ by name, in order. A page
whose commands need the walkthrough's chain belongs in the walkthrough lane (any docs/ page does).

What the test substitutes, so it never touches the user's own chain, node or records:
- each lane runs in a scratch copy of the project: every top-level entry is a symbolic link to the real one
  except `deployments/`, `var/`, `.env` and the files commands write (`sar.csv`...), which start empty;
- a line starting anvil (`node_modules/.bin/anvil ...`) is left out: the lane's anvil stands in for it,
  and the ports 8545 (RPC) and 8050 (dashboard) in commands are replaced by free ones;
- the environment starts without any `VERDICT_*` or `APE_*` variable, `.venv/bin` first on PATH, with
  `VERDICT_RPC_URL` at the test's chain and `VERDICT_METRICS_PORT=0`;
- `ape run ...` (or `.venv/bin/ape run ...`) runs in a fork of the lane's warm ape process
  (`ape_server.py`: plugins, project and scripts loaded once per lane, not once per command), with the
  block's folder, environment and standard streams, so it behaves as the command typed.

The operator path of issue 14 is the walkthrough in docs/operator-guide.md; after all blocks ran,
`test_operator_walkthrough` checks what it must have done: the model approved on-chain by an executed
DAO proposal, `verdict run` still running, payments sent by `ape run traffic` and decided, one
explained by `verdict explain`, the suspicious-activity report non-empty, and every escrow release
settled on-chain (its event and the supplier's balance).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from verdict_deploy import anvil_states as anvil_cache

ROOT = Path(__file__).resolve().parents[2]
ILLUSTRATIVE = "<!-- illustrative -->"
SHELL_TAGS = {"", "sh", "bash", "shell"}
DATA_TAGS = {"text", "json", "mermaid", "python", "csv", "yaml", "toml", "solidity"}
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
IN_LINE = re.compile(r"^In \[(\d+)\]: ?(.*)$")
OUT_LINE = re.compile(r"^Out\[(\d+)\]: ?(.*)$")
ANVIL_LINE = re.compile(r"^\s*(\S*/)?anvil\b")
APE_RUN = re.compile(r"(?<![\w/.-])(?:\.venv/bin/)?ape(?= run\b)")
APE_SERVER = Path(__file__).with_name("ape_server.py")
# Entries of the project that commands write: the scratch copy starts without them.
WRITTEN = {"deployments", "var", ".env", "sar.csv", "sar.json", "demo-summary.json", ".pytest_cache"}
# The walkthrough's files (docs/operator-guide.md, "Walkthrough").
WALK_MODEL = "var/operator/model"
WALK_REPORT = "var/operator/sar.csv"
WALK_ESCROW = "var/operator/escrow.json"
BLOCK_TIMEOUT = 240


@dataclass
class Block:
    doc: str
    line: int  # the fence's line number, 1-based
    tag: str
    body: str
    illustrative: bool

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


@dataclass
class Outcome:
    block: Block
    kind: str  # "shell" | "console" | "skipped"
    output: str = ""


def doc_lanes(root: Path = ROOT) -> list[list[Path]]:
    """The files of each lane, in the order they run (see the docstring)."""
    others = sorted(p for p in (root / "docs").glob("*.md") if p.name != "operator-guide.md")
    return [[root / "README.md"], [root / "docs" / "operator-guide.md", *others]]


def doc_files(root: Path = ROOT) -> list[Path]:
    return [path for lane in doc_lanes(root) for path in lane]


def blocks_of(path: Path, root: Path = ROOT) -> list[Block]:
    lines = path.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, tag = match.group(1), match.group(2).lower()
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        if i >= len(lines):
            raise AssertionError(f"{path.relative_to(root)}:{start + 1}: the code block is never closed")
        previous = lines[start - 1].strip() if start > 0 else ""
        found.append(
            Block(str(path.relative_to(root)), start + 1, tag, "\n".join(body), previous == ILLUSTRATIVE)
        )
        i += 1
    return found


def classify(block: Block) -> str:
    """ "shell", "console" or "skipped" (see the module's docstring); AssertionError for an unknown tag."""
    if block.illustrative:
        return "skipped"
    if block.tag in SHELL_TAGS:
        return "shell"
    if block.tag == "text" and any(IN_LINE.match(line.strip()) for line in block.body.splitlines()):
        return "console"
    if block.tag in DATA_TAGS:
        return "skipped"
    raise AssertionError(
        f"{block.where}: a ```{block.tag} block: tag it as one of {sorted(SHELL_TAGS | DATA_TAGS)} "
        f"or mark it {ILLUSTRATIVE} (rule at the top of {Path(__file__).name})"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scratch_project(tmp: Path) -> Path:
    """The project as seen by a user, with empty record and var folders (see the docstring)."""
    work = tmp / "project"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in WRITTEN:
            (work / entry.name).symlink_to(entry)
    (work / "deployments").mkdir()
    (work / "var").mkdir()
    return work


def substitute(text: str, ports: dict[int, int]) -> str:
    lines = []
    for line in text.splitlines():
        if ANVIL_LINE.match(line):
            lines.append(": # the chain this line starts is the test's own anvil")
            continue
        for doc_port, port in ports.items():
            line = re.sub(rf"(?<=[:\s=]){doc_port}\b", str(port), line)
        lines.append(line)
    return "\n".join(lines)


CONSOLE_DRIVER = r"""
import ast, json, os, sys
sys.path.insert(0, os.getcwd())  # ape console loads ape_console_extras.py from the project root
import ape
session = json.loads(open(sys.argv[1]).read())
namespace = {name: getattr(ape, name) for name in ape.__all__}
import ape_console_extras
namespace.update({name: getattr(ape_console_extras, name) for name in ape_console_extras.__all__})
with ape.networks.parse_network_choice(session["network"]):
    for number, code, expected in session["inputs"]:
        print(f"In [{number}]: {code}", flush=True)
        try:
            tree = ast.parse(code)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, f"In[{number}]", "exec"), namespace)
            value = None
            if last is not None:
                value = eval(compile(ast.Expression(last.value), f"In[{number}]", "eval"), namespace)
        except Exception as error:
            print(f"  failed: {type(error).__name__}: {error}")
            sys.exit(1)
        if value is not None:
            print(f"Out[{number}]: {value!r}")
        if expected is not None and repr(value) != expected:
            print(f"  expected Out[{number}]: {expected}")
            sys.exit(1)
"""


def console_session(body: str) -> dict:
    network = "ethereum:local:foundry"
    inputs: list[list] = []
    for raw in body.splitlines():
        line = raw.strip()
        if re.match(r"^\$ \S*ape console\b", line):
            found = re.search(r"--network\s+(\S+)", line)
            network = found.group(1) if found else network
        elif match := IN_LINE.match(line):
            inputs.append([int(match.group(1)), match.group(2), None])
        elif (match := OUT_LINE.match(line)) and inputs:
            expected = match.group(2).strip()
            if "..." not in expected and "…" not in expected:
                inputs[-1][2] = expected
    return {"network": network, "inputs": inputs}


@dataclass
class Terminal:
    """One user's terminal: exports carry over from block to block; background jobs are tracked."""

    work: Path
    tmp: Path
    env_file: Path
    ports: dict[int, int]
    groups: list[int] = field(default_factory=list)  # process groups that left background jobs
    counter: int = 0
    ape: Path | None = None  # the warm `ape` that `ape run` lines use (see the docstring)

    def run_shell(self, text: str, where: str) -> str:
        self.counter += 1
        script = self.tmp / f"block{self.counter}.sh"
        jobs = self.tmp / f"block{self.counter}.jobs"
        commands = substitute(text, self.ports)
        if self.ape is not None:
            commands = APE_RUN.sub(str(self.ape), commands)
        script.write_text(
            f"set -e -o pipefail\nsource {self.env_file}\ncd {self.work}\n"
            f"{commands}\n"
            f"jobs -p > {jobs}\nexport -p > {self.env_file}.next\n"
        )
        return self._bash(script, jobs, where)

    def run_console(self, body: str, where: str) -> str:
        self.counter += 1
        session = self.tmp / f"console{self.counter}.json"
        session.write_text(json.dumps(console_session(substitute(body, self.ports))))
        driver = self.tmp / "console_driver.py"
        driver.write_text(CONSOLE_DRIVER)
        script = self.tmp / f"block{self.counter}.sh"
        script.write_text(
            f"set -e\nsource {self.env_file}\ncd {self.work}\npython {driver} {session}\n"
            f"export -p > {self.env_file}.next\n"
        )
        return self._bash(script, None, where)

    def _bash(self, script: Path, jobs: Path | None, where: str) -> str:
        log = script.with_suffix(".log")
        with log.open("wb") as out:
            # A file, not a pipe: a background job keeps its stdout open after the block ends.
            proc = subprocess.Popen(
                ["bash", str(script)],
                cwd=self.work,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = proc.wait(timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = None
        output = log.read_text(errors="replace")
        if jobs is not None and jobs.exists() and jobs.read_text().strip():
            self.groups.append(proc.pid)
        if code != 0:
            tail = "\n".join(output.splitlines()[-25:])
            raise AssertionError(
                f"{where}: the block {'timed out' if code is None else f'exited {code}'}:\n{tail}"
            )
        Path(f"{self.env_file}.next").replace(self.env_file)
        return output

    def background_alive(self) -> list[int]:
        alive = []
        for group in self.groups:
            try:
                os.killpg(group, 0)
                alive.append(group)
            except ProcessLookupError:
                pass
        return alive

    def stop_background(self) -> None:
        for group in self.groups:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(group, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    try:
                        os.killpg(group, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.1)


def base_environment(work: Path, rpc_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERDICT_", "APE_"))}
    env["PATH"] = f"{work / '.venv' / 'bin'}:{env.get('PATH', '')}"
    env["VERDICT_RPC_URL"] = f"http://127.0.0.1:{rpc_port}"
    env["VERDICT_METRICS_PORT"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Lane:
    """One user at one terminal with a chain of their own, running some docs files in order."""

    files: list[Path]
    terminal: Terminal
    anvil: subprocess.Popen
    ape_server: subprocess.Popen | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    @classmethod
    def start(cls, files: list[Path], tmp: Path) -> Lane:
        work = scratch_project(tmp)
        rpc_port, dashboard_port = free_port(), free_port()
        anvil = subprocess.Popen(
            [
                str(ROOT / "node_modules" / ".bin" / "anvil"),
                "--port",
                str(rpc_port),
                "--accounts",
                "20",
                "--silent",
                *anvil_cache.args(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        env_file = tmp / "env.sh"
        env = base_environment(work, rpc_port)
        env_file.write_text("".join(f"export {k}={_quote(v)}\n" for k, v in env.items()))
        terminal = Terminal(work, tmp, env_file, {8545: rpc_port, 8050: dashboard_port})
        ape_server, terminal.ape = warm_ape(work, tmp, env)
        return cls(files, terminal, anvil, ape_server)

    def run(self) -> None:
        """Every block of the lane's files in order; raises on the first that fails."""
        terminal = self.terminal
        _wait_port(terminal.ports[8545])
        for path in self.files:
            for block in blocks_of(path):
                kind = classify(block)
                if kind == "shell":
                    self.outcomes.append(Outcome(block, kind, terminal.run_shell(block.body, block.where)))
                elif kind == "console":
                    self.outcomes.append(Outcome(block, kind, terminal.run_console(block.body, block.where)))
                else:
                    self.outcomes.append(Outcome(block, kind))

    def stop(self) -> None:
        self.terminal.stop_background()
        os.killpg(self.anvil.pid, signal.SIGTERM)
        self.anvil.wait(timeout=10)
        if self.ape_server is not None:
            os.killpg(self.ape_server.pid, signal.SIGKILL)
            self.ape_server.wait(timeout=10)


def warm_ape(work: Path, tmp: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    """The lane's warm ape process and the `ape` command that runs in it (falls back to the real one)."""
    sock = tmp / "ape.sock"
    server = subprocess.Popen(
        [sys.executable, str(APE_SERVER), "serve", str(sock)],
        cwd=work,
        env=env,
        stdout=(tmp / "ape-server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not sock.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    shim = tmp / "ape"
    real = work / ".venv" / "bin" / "ape"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} {APE_SERVER} client {sock} {real} "$@"\n')
    shim.chmod(0o755)
    return server, shim


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Iterator[tuple[Terminal, list[Outcome], list[Terminal]]]:
    """Runs every docs block once, the lanes at the same time (module scope: the tests below read the
    one run). Yields the walkthrough lane's terminal, every outcome in file order, and every terminal."""
    from ape import project

    # Compiled once here, so that the lanes' first `ape` commands do not both compile into .build.
    project.load_contracts()
    lanes: list[Lane] = []
    try:
        for number, files in enumerate(doc_lanes()):
            lanes.append(Lane.start(files, tmp_path_factory.mktemp(f"docs-lane{number}")))
        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            runs = [pool.submit(lane.run) for lane in lanes]
            failures = [run.exception() for run in runs if run.exception() is not None]
        if failures:
            raise failures[0]
        outcomes = [outcome for lane in lanes for outcome in lane.outcomes]
        yield lanes[-1].terminal, outcomes, [lane.terminal for lane in lanes]
    finally:
        for lane in lanes:
            lane.stop()


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"anvil did not open port {port}")


def test_every_docs_command_block_runs(executed):
    """Each command block exited 0, in order (the fixture raises on the first that does not), and the
    background jobs the docs started are still running at the end."""
    _, outcomes, terminals = executed
    ran = [o for o in outcomes if o.kind != "skipped"]
    assert len(ran) >= 10, [o.block.where for o in ran]
    assert any(t.groups for t in terminals), (
        "the docs start `verdict run` in the background: no background job was seen"
    )
    for terminal in terminals:
        assert terminal.background_alive() == terminal.groups, "a background job the docs started has died"


def test_operator_walkthrough(executed):
    """Issue 14's operator path, as docs/operator-guide.md walks it."""
    terminal, outcomes, _ = executed
    guide = [o for o in outcomes if o.block.doc == "docs/operator-guide.md" and o.kind == "shell"]
    text = "\n".join(o.block.body for o in guide)
    for command in (
        "ape run deploy",
        "verdict datagen",
        "verdict train",
        "ape run propose approve-model",
        "ape run vote execute",
        "verdict run",
        "ape run traffic",
        "verdict explain",
        "verdict report suspicious",
    ):
        assert command in text, f"the walkthrough no longer runs `{command}`"
    outputs = "\n".join(o.output for o in guide)
    assert re.search(r"proposal \d+: Executed", outputs), "the model's approval was not executed"

    work = terminal.work
    from oracle.chain import ChainClient, Deployment, load_abis
    from oracle.model import load as load_model
    from verdict_deploy import MANIFEST

    # The record the walkthrough's deploy wrote: the newest under deployments/.
    record = max((work / "deployments").glob("*.json"), key=lambda p: p.stat().st_mtime)
    client = ChainClient(
        f"http://127.0.0.1:{terminal.ports[8545]}", Deployment.load(record), load_abis(MANIFEST)
    )
    model_id = load_model(work / WALK_MODEL).model_id
    assert client.is_model_approved(model_id), "the trained model is not approved on-chain"
    assert client.payment_count() >= 100, "the traffic command sent too few payments"
    traffic = next(o.output for o in guide if "ape run traffic" in o.block.body)
    decided = re.search(r"(\d+) sent, (\d+) settled, (\d+) held, (\d+) refunded", traffic)
    assert decided, traffic
    assert int(decided.group(2)) + int(decided.group(3)) + int(decided.group(4)) > 0, "no payment was decided"
    explained = next(o.output for o in guide if "verdict explain" in o.block.body)
    assert "score" in explained.lower() and "reason" in explained.lower(), explained
    report = (work / WALK_REPORT).read_text().splitlines()
    assert len(report) > 1, "the suspicious-activity report is empty"
    escrow_releases_landed(client, load_abis(MANIFEST), json.loads((work / WALK_ESCROW).read_text()))


def escrow_releases_landed(client, abis: dict, summary: dict) -> None:
    """Each release of the walkthrough's escrow happened on-chain: every gate the scenario waited on
    has its ReleaseSettled event, every milestone is Released, and the supplier's stablecoin balance
    holds what the events paid (a verdict that held or refunded a release fails here)."""
    w3 = client.w3
    escrow = w3.eth.contract(address=summary["address"], abi=abis["Escrow"])
    token = w3.eth.contract(address=summary["token"], abi=abis["MockStablecoin"])
    settled = {
        int(log["args"]["gateId"]): int(log["args"]["supplierAmount"])
        for log in escrow.events.ReleaseSettled.get_logs(
            from_block=client.deployment.block, argument_filters={"agreementId": summary["agreement_id"]}
        )
    }
    gates = [gate for milestone in summary["milestones"] for gate in milestone["gate_ids"]]
    assert len(gates) == len(summary["milestones"]), summary["milestones"]
    assert sorted(settled) == sorted(gates), f"releases not settled: {sorted(set(gates) - set(settled))}"
    assert [m["status"] for m in summary["milestones"]] == ["Released"] * len(gates), summary["milestones"]
    paid = sum(settled.values())
    assert paid > 0 and summary["supplier_received"] == paid, (paid, summary["supplier_received"])
    assert int(token.functions.balanceOf(summary["supplier"]).call()) >= paid


def test_classification_rule_rejects_unknown_tags():
    """A block with a tag the rule does not know fails instead of being skipped silently."""
    with pytest.raises(AssertionError, match="tag it as one of"):
        classify(Block("x.md", 1, "rust", "fn main() {}", False))
    assert classify(Block("x.md", 1, "rust", "fn main() {}", True)) == "skipped"
    assert classify(Block("x.md", 1, "text", "In [1]: 1 + 1\nOut[1]: 2", False)) == "console"
    assert classify(Block("x.md", 1, "text", "payer --pay()--> router", False)) == "skipped"


def test_substitution_keeps_the_users_chain_and_ports_untouched():
    text = (
        "node_modules/.bin/anvil --port 8545 &\nexport APE_FOUNDRY_HOST=http://127.0.0.1:8545\nx --port 8050"
    )
    out = substitute(text, {8545: 1111, 8050: 2222}).splitlines()
    assert out[0].startswith(":")
    assert out[1] == "export APE_FOUNDRY_HOST=http://127.0.0.1:1111"
    assert out[2] == "x --port 2222"


def test_a_failing_command_fails_and_exports_carry_over(tmp_path):
    """The runner itself: a block's exports reach the next block; a command that fails names its block."""
    work = tmp_path / "work"
    work.mkdir()
    env_file = tmp_path / "env.sh"
    env_file.write_text(f"export PATH={_quote(os.environ['PATH'])}\n")
    terminal = Terminal(work, tmp_path, env_file, {})
    terminal.run_shell("export GREETING=hello", "a.md:1")
    assert terminal.run_shell('echo "$GREETING"', "a.md:5").strip() == "hello"
    with pytest.raises(AssertionError, match=r"a\.md:9: the block exited 3"):
        terminal.run_shell("echo before\n(exit 3)\necho never", "a.md:9")


if __name__ == "__main__":  # a quick listing: python tests/docs/test_docs_commands.py
    for path in doc_files():
        for block in blocks_of(path):
            print(f"{classify(block):8} {block.where} {block.tag or '-'}")
    sys.exit(0)
