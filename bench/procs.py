"""Real processes for the benchmarks: a seeded cloud on loopback, desks, CPU accounting.

The cloud is driven only through its `frontdesk-cloud` command line and HTTP API, the
desks through their data folders, the `frontdesk` command line and `bench.desk_sync`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from frontdesk.demo import cloud_cli

ROOT = Path(__file__).resolve().parent.parent
#: No OS keyring in a benchmark: the desk keeps its token in a private file.
DESK_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children, live or ended (psutil)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            # children_*: children that ended and were waited for (PostgreSQL backends
            # of connections that closed, uvicorn workers that restarted).
            total += t.user + t.system + t.children_user + t.children_system
    return total


@dataclass
class Cloud:
    """A migrated, seeded cloud database and (while `serving`) its server process."""

    owner_url: str  # migrates and seeds
    app_url: str  # what the service connects as
    kind: str  # sqlite | postgres
    seed: dict[str, Any] = field(default_factory=dict)
    seed_seconds: float = 0.0
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    log: Any = None
    db_pid: int | None = None  # the PostgreSQL postmaster (its backends are its children)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self, members: int) -> Cloud:
        extra = ["--app-role", "frontdesk_app"] if self.kind == "postgres" else []
        cloud_cli(self.owner_url, "migrate", *extra)
        started = time.perf_counter()
        self.seed = json.loads(
            cloud_cli(self.owner_url, "seed-demo", "--json", "--reset", "--members", str(members))
        )
        self.seed_seconds = time.perf_counter() - started
        return self

    def staff(self, username: str) -> dict[str, Any]:
        return dict(next(s for s in self.seed["staff"] if s["username"] == username))

    @property
    def location(self) -> str:
        return str(self.seed["locations"][0]["id"])

    @property
    def open_session(self) -> dict[str, Any]:
        """The seed's class open for check-in at the first location, with booked members."""
        return dict(
            next(s for s in self.seed["checkin_open_sessions"] if s["location"] == self.location)
        )

    def start(self, workers: int = 1, log: Path | None = None) -> None:
        self.port = free_port()
        self.log = out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk_cloud.cli", "--database-url", self.app_url,
             "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            stdout=out,
            stderr=out,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.kind} cloud did not start")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.kind} cloud did not answer within 60 s")
            time.sleep(0.1)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) if self.process else 0.0

    def db_cpu(self) -> float:
        return cpu_seconds(self.db_pid) if self.db_pid else 0.0

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None
        if self.log not in (None, subprocess.DEVNULL):
            self.log.close()
        self.log = None

    def access(self, username: str = "desk-sh") -> dict[str, Any]:
        """A staff access token straight from the API (for load generators)."""
        staff = self.staff(username)
        answer = httpx.post(f"{self.url}/v1/auth/login", timeout=30, json={
            "tenant": self.seed["tenant"], "username": username, "password": staff["password"]})
        answer.raise_for_status()
        return dict(answer.json())


@contextlib.contextmanager
def sqlite_cloud(folder: Path, members: int) -> Iterator[Cloud]:
    url = f"sqlite:///{folder / 'cloud.sqlite'}"
    cloud = Cloud(url, url, "sqlite")
    cloud.prepare(members)
    try:
        yield cloud
    finally:
        cloud.stop()


@contextlib.contextmanager
def postgres_cloud(members: int) -> Iterator[Cloud | None]:
    """A durable throwaway PostgreSQL server (tests/pg.py), or None when not installed."""
    import importlib

    sys.path.insert(0, str(ROOT))
    pg = importlib.import_module("tests.pg")  # the suite's throwaway server (not type-checked)
    find_pg_bin, start_postgres = pg.find_pg_bin, pg.start_postgres

    bin_dir = find_pg_bin()
    if bin_dir is None:
        yield None
        return
    with start_postgres(bin_dir, durable=True) as server:
        owner, app = server.create_database("bench")
        cloud = Cloud(owner, app, "postgres")
        pid_file = Path(server.socket_dir).parent / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            cloud.db_pid = int(pid_file.read_text().split()[0])
        cloud.prepare(members)
        try:
            yield cloud
        finally:
            cloud.stop()


@dataclass
class DeskDir:
    """One desk: a data folder driven by the `frontdesk` command line."""

    path: Path

    @property
    def replica(self) -> Path:
        return self.path / "replica.db"

    def env(self) -> dict[str, str]:
        return {**os.environ, **DESK_ENV}

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 600) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "frontdesk.cli", *args, "--json", "--data-dir",
             str(self.path)],
            input=stdin, capture_output=True, text=True, timeout=timeout, env=self.env(),
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"frontdesk {args[0]} exited {done.returncode}: "
                               f"{done.stderr.strip()[-2000:]} {done.stdout[-2000:]}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def login(self, cloud: Cloud, username: str = "desk-sh") -> Any:
        staff = cloud.staff(username)
        return self.cli("login", "--server", cloud.url, "--tenant", cloud.seed["tenant"],
                        "--user", username, "--password-stdin", "--insecure-storage",
                        "--location", cloud.location, stdin=staff["password"] + "\n")

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """A helper process on this desk (`python -m bench.desk_sync ...` and the like)."""
        return subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=self.env(), cwd=ROOT,
        )

    def sync_helper(self, *extra: str) -> subprocess.Popen[str]:
        return self.spawn("-m", "bench.desk_sync", str(self.path), *extra)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the replica as an outsider would (its own connection, read only)."""
        conn = sqlite3.connect(f"file:{self.replica}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


def finish(process: subprocess.Popen[str], timeout: float = 900) -> dict[str, Any]:
    """Wait for a helper and parse the JSON document it printed last."""
    out, err = process.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.strip()]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"helper exited {process.returncode}: {err[-3000:]}")
    return dict(json.loads(lines[-1]))


def stop(process: subprocess.Popen[str], kill: bool = False) -> str:
    """End a helper (SIGTERM, or SIGKILL when `kill`); its stderr, for error messages."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    err = ""
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err or ""
