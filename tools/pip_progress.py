"""Progress for a long `pip install -r requirements.lock`, without pip's hundreds of lines.

    pip install --progress-bar off ... | python tools/pip_progress.py TOTAL LOG

Reads pip's standard output, keeps all of it in LOG, and shows how far it got: on a terminal one line
rewritten in place; in a log (CI, a pipe) a line every tenth of TOTAL packages and one per phase.
pip's warnings and errors go to its standard error, untouched. The Makefile runs it under
`set -o pipefail`, so pip's exit status is make's.
"""

from __future__ import annotations

import sys
from pathlib import Path

STEPS = 10  # lines in a log for the collecting phase


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[1].isdigit():
        print("usage: pip_progress.py TOTAL LOG", file=sys.stderr)
        return 2
    total, log_path = max(1, int(argv[1])), Path(argv[2])
    tty = sys.stdout.isatty()
    seen = 0
    next_step = 1
    width = 0

    def show(text: str, final: bool = False) -> None:
        nonlocal width
        if tty:
            sys.stdout.write("\r" + text.ljust(width) + ("\n" if final else ""))
            width = 0 if final else len(text)
        else:
            sys.stdout.write(text + "\n")
        sys.stdout.flush()

    with log_path.open("w") as log:
        for line in sys.stdin:
            log.write(line)
            text = line.strip()
            if text.startswith(("Collecting ", "Requirement already satisfied")):
                seen += 1
                name = text.split()[1] if text.startswith("Collecting") else text.split(":")[1].split()[0]
                if tty:
                    show(f"pip: {min(seen, total)}/{total} packages resolved ({name})")
                elif seen * STEPS >= next_step * total:
                    show(f"pip: {min(seen, total)}/{total} packages resolved")
                    next_step = seen * STEPS // total + 1
            elif text.startswith("Installing collected packages:"):
                count = len(text.split(":", 1)[1].split(","))
                show(f"pip: installing {count} packages (unpacking; a minute or so)...", final=True)
            elif text.startswith("Successfully installed"):
                show(f"pip: installed {len(text.split()) - 2} packages", final=True)
    if tty and width:
        show(f"pip: {min(seen, total)}/{total} packages resolved", final=True)
    print(f"pip: full output in {log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
