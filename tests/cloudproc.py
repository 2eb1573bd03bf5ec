"""Real processes for end-to-end tests: a cloud on loopback and `frontdesk` desk commands."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cloud_cli(
    database_url: str, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk_cloud.cli", "--database-url", database_url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Cloud:
    """A migrated, seeded cloud served by a real uvicorn process on a loopback port."""

    database_url: str
    log_path: Path
    port: int = field(default_factory=free_port)
    seed: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self, members: int = 40, date: str | None = None) -> Cloud:
        for args in (
            ("migrate",),
            ("seed-demo", "--json", "--members", str(members), *(("--date", date) if date else ())),
        ):
            done = cloud_cli(self.database_url, *args)
            if done.returncode != 0:
                raise RuntimeError(f"frontdesk-cloud {args[0]} failed: {done.stderr}")
            if args[0] == "seed-demo":
                self.seed = json.loads(done.stdout)
        return self

    def start(self) -> Cloud:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "frontdesk_cloud.cli",
                "--database-url",
                self.database_url,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the cloud exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the cloud did not answer /health within 30 s")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def staff(self, role: str) -> dict[str, Any]:
        return next(s for s in self.seed["staff"] if s["role"] == role)


@dataclass
class DeskProc:
    """One desk (one data folder) driven through the `frontdesk` command line."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120) -> tuple[int, Any]:
        """Run `frontdesk --json ARGS`; (exit code, parsed stdout or raw text)."""
        env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", **self.env}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "frontdesk.cli",
                *args,
                "--json",
                "--data-dir",
                str(self.data_dir),
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        try:
            body: Any = json.loads(done.stdout) if done.stdout.strip() else None
        except json.JSONDecodeError:
            body = done.stdout
        if done.returncode not in (0, 1, 3, 4):
            raise AssertionError(f"frontdesk {args} exited {done.returncode}: {done.stderr}")
        return done.returncode, body

    def login(
        self,
        cloud_url: str,
        staff: dict[str, Any],
        tenant: str = "demo",
        location: str | None = None,
    ) -> Any:
        code, body = self.run(
            "login",
            "--server",
            cloud_url,
            "--tenant",
            tenant,
            "--user",
            staff["username"],
            "--password-stdin",
            "--insecure-storage",
            *(("--location", location) if location else ()),
            stdin=staff["password"] + "\n",
        )
        assert code == 0, body
        return body

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", **self.env}
        return subprocess.Popen(
            [sys.executable, "-m", "frontdesk.cli", *args, "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def server_rows(self) -> dict[tuple[str, str], str]:
        """The replica's server truth, for comparing desks with each other."""
        import sqlite3

        conn = sqlite3.connect(self.data_dir / "replica.db")
        try:
            return {
                (kind, entity_id): data
                for kind, entity_id, data in conn.execute("SELECT kind, id, data FROM rows")
            }
        finally:
            conn.close()
