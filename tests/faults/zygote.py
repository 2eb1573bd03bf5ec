"""Desk processes forked from a warm parent, so a campaign does not pay start-up each time.

Starting `python -m frontdesk.cli` costs about half a second of CPU in imports, and a
run starts several desk processes (live syncs, `sync --once` to be killed, CLI
commands): on two cores that start-up was half of a campaign's time. The zygote is a
child process that imports the desk once and then forks one child per request; each
child sets its environment, points its output at its log, runs `frontdesk.cli.main`
with its arguments and exits with its code. The children are real, separate processes
with their own files and sockets, killed with real signals, exactly like spawned ones;
only the interpreter start-up is shared.

Protocol on the zygote's stdin/stdout, one JSON document a line:
  request  {"id": n, "args": [...], "env": {...}, "log": "path", "cwd": "path"}
  answers  {"id": n, "pid": pid}   and later   {"pid": pid, "code": returncode}
(the return code is negative for a signal, like subprocess's).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the desk process asked for, and never return."""
    code = 1
    try:
        os.setpgid(0, 0)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from frontdesk.cli import main

        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed log must not keep it alive
                stream.flush()
        os._exit(code)


def serve() -> None:
    """The zygote: preload the desk, then fork on request and report exits."""
    import frontdesk.cli
    import frontdesk.cli_data
    import frontdesk.local_db
    import frontdesk.sync  # noqa: F401
    from frontdesk.local_db.search import member_terms

    member_terms("张伟", "", "", "")  # pypinyin's dictionaries, loaded once for all
    out = sys.stdout
    children: set[int] = set()
    pending = b""
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([stdin], [], [], 0.02)
        if ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children.add(pid)
                out.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
                out.flush()
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            children.discard(pid)
            out.write(json.dumps({"pid": pid, "code": os.waitstatus_to_exitcode(status)}) + "\n")
            out.flush()
    for pid in children:
        os.kill(pid, signal.SIGKILL)


#: The return code of a child whose zygote died before reporting its exit.
LOST = -255


class Child:
    """The part of `subprocess.Popen` the harness uses, for a child of the zygote."""

    def __init__(self, zygote: Zygote, pid: int, args: Sequence[str]) -> None:
        self.zygote = zygote
        self.pid = pid
        self.args = list(args)
        self.returncode: int | None = None
        self._done = threading.Event()

    def _exited(self, code: int) -> None:
        self.returncode = code
        self._done.set()

    def poll(self) -> int | None:
        if self.returncode is None and not self.zygote.alive():
            # Nobody will report its exit any more: ask the system whether it still runs.
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self._exited(LOST)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self._done.wait(0.5 if left is None else min(left, 0.5))
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The harness's side: start the zygote once, then `spawn` as cheaply as a fork."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.zygote"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        self._lock = threading.Lock()
        self._next = 0
        self._started: dict[int, threading.Event] = {}
        self._pids: dict[int, int] = {}
        self._children: dict[int, Child] = {}
        self._early: dict[int, int] = {}  # exits read before the child was registered
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout: BinaryIO | None = self.process.stdout
        assert stdout is not None
        for line in stdout:
            message = json.loads(line)
            with self._lock:
                if "id" in message:
                    self._pids[message["id"]] = message["pid"]
                    self._started[message["id"]].set()
                    continue
                child = self._children.pop(message["pid"], None)
                if child is None:
                    self._early[message["pid"]] = message["code"]
                    continue
            child._exited(message["code"])

    def alive(self) -> bool:
        return self.process.poll() is None and self._reader.is_alive()

    def spawn(self, args: Sequence[str], env: dict[str, str], log: Path) -> Child:
        if not self.alive():
            raise RuntimeError("the desk zygote has died")
        with self._lock:
            self._next += 1
            request_id = self._next
            started = self._started[request_id] = threading.Event()
        request = {"id": request_id, "args": list(args), "env": env, "log": str(log),
                   "cwd": os.getcwd()}
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(request).encode() + b"\n")
        stdin.flush()
        deadline = time.monotonic() + 60
        while not started.wait(1):
            if not self.alive():
                raise RuntimeError("the desk zygote died before it forked")
            if time.monotonic() > deadline:
                raise RuntimeError("the desk zygote did not fork within 60 s")
        with self._lock:
            pid = self._pids.pop(request_id)
            del self._started[request_id]
            child = Child(self, pid, args)
            code = self._early.pop(pid, None)
            if code is None:
                self._children[pid] = child
        if code is not None:
            child._exited(code)
        return child

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


if __name__ == "__main__":
    serve()
