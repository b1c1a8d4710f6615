"""`make setup`'s install shows progress without hundreds of lines, and still fails when the install
fails. `tools/pip_progress.py` (a pip install's filter, on pip's output format, pip 23) runs as it
would behind a pip install; `make setup` itself installs with uv and shows uv's summary lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILTER = ROOT / "tools" / "pip_progress.py"


def pip_output(n: int) -> str:
    """What `pip install --progress-bar off -r requirements.lock` prints into a fresh venv."""
    lines = ["Looking in indexes: https://pypi.org/simple"]
    for k in range(n):
        lines += [
            f"Collecting pkg{k}==1.{k} (from -r requirements.lock (line {k + 1}))",
            f"  Downloading pkg{k}-1.{k}-py3-none-any.whl (12 kB)",
        ]
    names = ", ".join(f"pkg{k}" for k in range(n))
    lines += [f"Installing collected packages: {names}"]
    lines += ["Successfully installed " + " ".join(f"pkg{k}-1.{k}" for k in range(n))]
    return "\n".join(lines) + "\n"


def run_filter(stdin: str, total: int, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FILTER), str(total), str(log)], input=stdin, capture_output=True, text=True
    )


def test_a_log_gets_about_a_dozen_lines_for_a_hundred_packages(tmp_path):
    log = tmp_path / "pip-install.log"
    done = run_filter(pip_output(135), 135, log)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert 10 <= len(lines) <= 14, lines  # not 270+
    assert lines[0].startswith("pip: 14/135 packages resolved")
    assert "pip: 135/135 packages resolved" in lines
    assert "pip: installing 135 packages (unpacking; a minute or so)..." in lines
    assert "pip: installed 135 packages" in lines
    assert log.read_text() == pip_output(135)  # everything pip said, kept


def test_a_pip_failure_fails_the_pipeline_as_the_makefile_runs_it(tmp_path):
    """`set -o pipefail`: the filter's exit 0 does not hide pip's non-zero one."""
    pip = "{ printf 'Collecting broken==9\\n'; echo 'ERROR: no such version' >&2; exit 1; }"
    script = f"set -o pipefail; {pip} | {sys.executable} {FILTER} 1 {tmp_path / 'log'}"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert "ERROR: no such version" in done.stderr  # pip's errors reach the screen untouched


def test_the_makefile_installs_with_pipefail_and_keeps_the_whole_output():
    """`make setup` installs the lock with uv (the Makefile says why): its summary lines are the
    progress, everything it printed stays in .venv/pip-install.log, and a failed install fails."""
    recipe = (ROOT / "Makefile").read_text()
    install = next(line for line in recipe.splitlines() if "$(UV_PIP) -r requirements.lock" in line)
    assert "--quiet" not in install and "pipefail" in install
    assert "tee $(VENV)/pip-install.log" in install


def test_bad_arguments_are_one_line():
    done = subprocess.run([sys.executable, str(FILTER), "many"], capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
