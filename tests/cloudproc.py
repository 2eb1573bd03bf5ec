"""Real processes for end-to-end tests: a cloud on loopback and `frontdesk` desk commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frontdesk.demo import EmbeddedCloud


class Cloud(EmbeddedCloud):
    """The demo's embedded cloud, seeded, with the seed document kept for tests."""

    seed: dict[str, Any]

    def prepare_seeded(self, members: int = 40, day: str | None = None) -> Cloud:
        self.seed = self.prepare(members, day)
        return self

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
