"""A warm `ape` for the docs lanes: each `ape run ...` of a command block runs in a fork of one process
that has already loaded ape's plugins, the project and the scripts' imports (about 8 s of CPU per
`ape` start otherwise, and the walkthrough has a dozen of them).

    python ape_server.py serve SOCKET            # in the lane's project folder, before its blocks run
    python ape_server.py client SOCKET APE ARGS  # what the block's `ape run ...` becomes

The client hands the server its argv, working folder, environment and its stdin, stdout and stderr
(SCM_RIGHTS), and exits with the forked command's status; the command sees exactly what a fresh
`ape` would (the environment is the block's, read when it connects to a network). With no server to
talk to, the client runs the real `ape` instead, so a block never depends on the server.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import struct
import sys
import threading


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _warm_up() -> None:
    """Everything a fresh `ape run` does before it runs a script, but connecting to a network."""
    from ape import project
    from ape._cli import cli

    project.load_contracts()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        cli.main(["run", "--help"], prog_name="ape", standalone_mode=True)


def _child(request: dict, fds: list[int]) -> None:
    from ape._cli import cli

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["ape", *request["args"]]
    code = 0
    try:
        cli.main(request["args"], prog_name="ape", standalone_mode=True)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - a traceback on the block's stderr, as ape itself would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)


def _serve_one(conn: socket.socket) -> None:
    with conn:
        size = struct.unpack("!I", _recv_exactly(conn, 4))[0]
        msg, fds, _flags, _addr = socket.recv_fds(conn, size, 3)
        while len(msg) < size:
            msg += _recv_exactly(conn, size - len(msg))
        request = json.loads(msg)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            conn.close()
            _child(request, fds)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        conn.sendall(struct.pack("!i", code if code >= 0 else 128 - code))


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)  # clients wait in the backlog while the server warms up
    try:
        _warm_up()
    except BaseException:
        listener.close()
        os.unlink(path)
        raise
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(conn,), daemon=True).start()


def client(path: str, real_ape: str, args: list[str]) -> int:
    request = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        conn.sendall(struct.pack("!I", len(request)))
        socket.send_fds(conn, [request], [0, 1, 2])
        code = struct.unpack("!i", _recv_exactly(conn, 4))[0]
    except OSError:  # no server (or it died): a fresh ape, exactly as typed
        os.execv(real_ape, [real_ape, *args])
    return code


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(client(sys.argv[2], sys.argv[3], sys.argv[4:]))
