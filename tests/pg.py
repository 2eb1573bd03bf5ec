"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temp dir, on a free port.

initdb and pg_ctl refuse to run as root (and CI runs as root), so as root they run as
the `postgres` user through `runuser`. The server gets two roles: an owner that
migrates, and a non-owner app role that the service connects as (so row-level security
applies). Import `start_postgres` from a conftest; `find_pg_bin` says whether we can.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OWNER = "frontdesk_owner"
APP = "frontdesk_app"


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    socket_dir: str

    def url(self, database: str, user: str = APP) -> str:
        """A plain `postgresql://USER@HOST:PORT/DB` URL, as `frontdesk-cloud` takes."""
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user="postgres", dbname=database, autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str) -> tuple[str, str]:
        """A fresh database owned by the owner role: (owner URL, app URL)."""
        self.psql(f'CREATE DATABASE "{name}" OWNER {OWNER}')
        self.psql(f"REVOKE ALL ON SCHEMA public FROM PUBLIC; "
                  f"GRANT ALL ON SCHEMA public TO {OWNER}; "
                  f"GRANT USAGE ON SCHEMA public TO {APP}", name)
        return self.url(name, OWNER), self.url(name, APP)


@contextlib.contextmanager
def start_postgres(bin_dir: Path, *, durable: bool = False) -> Iterator[PgServer]:
    """Run a server for the duration of the block; everything is removed afterwards.

    Tests run without fsync for speed; benchmarks ask for a `durable` server.
    """
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    prefix: list[str] = []
    if as_root:
        pg_user = pwd.getpwnam("postgres")
        for path in (base, sockets):
            os.chown(path, pg_user.pw_uid, pg_user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    log = base / "server.log"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd=base)

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log),
            "-w", "-t", "60", "start")
        server = PgServer("127.0.0.1", port, str(sockets))
        _wait_ready(server)
        server.psql(f"CREATE ROLE {OWNER} LOGIN; CREATE ROLE {APP} LOGIN")
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "stop"], check=False, capture_output=True, cwd=base)
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(server: PgServer, seconds: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(host=server.host, port=server.port, user="postgres",
                                 dbname="postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
