"""`frontdesk demo`: an embedded cloud on SQLite, a seeded studio, a signed-in window.

The cloud runs as a child process (the desk never imports the cloud), on a free
loopback port, with its database in the demo's data folder; closing the window stops it.
Each run starts a fresh studio for today, so the demo always opens on a class about to
start.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


class DemoError(Exception):
    """The demo could not start; the message says why."""


def cloud_cli(database_url: str, *args: str) -> str:
    """Run `frontdesk-cloud ARGS` on a database in a child process; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "frontdesk_cloud.cli", "--database-url", database_url, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DemoError(f"frontdesk-cloud {args[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


@dataclass
class EmbeddedCloud:
    """A cloud tenant service in a child process on a loopback port (kept across restarts)."""

    folder: Path
    database_url: str = ""
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.database_url = self.database_url or f"sqlite:///{self.folder / 'cloud.db'}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "cloud.log"

    def cli(self, *args: str) -> str:
        return cloud_cli(self.database_url, *args)

    def prepare(self, members: int, day: str | None = None) -> dict[str, Any]:
        """Migrate and seed a fresh demo studio; the seed's JSON document."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cli("migrate")
        extra = ("--date", day) if day else ()
        seed: dict[str, Any] = json.loads(
            self.cli("seed-demo", "--json", "--reset", "--members", str(members), *extra)
        )
        return seed

    def start(self) -> None:
        if not self.port:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = sock.getsockname()[1]
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
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
                raise DemoError(f"the cloud stopped: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise DemoError("the cloud did not start within 30 s")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def prepare_desk(data_dir: Path, cloud: EmbeddedCloud, seed: dict[str, Any]) -> Path:
    """A fresh desk folder, signed in as the seed's front-desk staff member."""
    from frontdesk.local_db import Replica
    from frontdesk.sync import CloudClient, sign_in

    desk_dir = data_dir / "desk"
    shutil.rmtree(desk_dir, ignore_errors=True)
    location = seed["checkin_open_sessions"][0]["location"]
    staff = next(
        s for s in seed["staff"] if s["role"] == "front_desk" and location in s["locations"]
    )
    replica = Replica(desk_dir / "replica.db")

    async def go() -> None:
        client = CloudClient(cloud.url)
        try:
            await sign_in(
                replica,
                client,
                desk_dir,
                tenant=seed["tenant"],
                username=staff["username"],
                password=staff["password"],
                location_id=location,
                insecure_storage=True,
            )
        finally:
            await client.aclose()

    try:
        asyncio.run(go())
    finally:
        replica.close()
    staff_file = data_dir / "demo-staff.json"
    staff_file.write_text(json.dumps(seed["staff"], indent=1))
    staff_file.chmod(0o600)  # demo passwords, but passwords all the same
    return desk_dir


def run(
    data_dir: Path,
    *,
    screenshot: Path | None = None,
    quit_after: float | None = None,
    members: int = 500,
) -> int:
    from frontdesk.ui.app import run_window

    cloud = EmbeddedCloud(data_dir / "cloud")
    try:
        seed = cloud.prepare(members)
        cloud.start()
        desk_dir = prepare_desk(data_dir, cloud, seed)
        print(
            f"Demo studio '{seed['tenant']}' on {cloud.url}; staff and PINs are listed in "
            f"{data_dir / 'demo-staff.json'}.",
            file=sys.stderr,
        )
        return run_window(
            desk_dir, screenshot=screenshot, quit_after=quit_after, offline_switch=True
        )
    finally:
        cloud.stop()
