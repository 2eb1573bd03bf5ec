"""The cloud as deployed (docs/deploy.md): two server processes over one PostgreSQL.

The schema is migrated by the owner role, the servers connect as the non-owner app role
(row-level security applies), and neither is told about the other. Desk A talks only to
worker 1 and desk B only to worker 2. A long-poll on worker 2 must wake when desk A pushes
on worker 1 sooner than the server's own re-check could explain (so the signal crossed
processes through LISTEN/NOTIFY); desk B, running `frontdesk sync` live, must then pull
A's check-in, and desk A, live too, B's.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.local_db import Replica
from frontdesk.protocol import DeviceRequest, LiveAnswer
from frontdesk.sync import CloudClient, SyncEngine
from frontdesk_cloud.api import _RECHECK_SECONDS
from tests.cloudproc import DeskProc
from tests.pg import APP, PgServer, find_pg_bin, start_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): install the Debian "
                    "package postgresql")
    with start_postgres(bin_dir) as server:
        yield server


def cloud_cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "frontdesk_cloud.cli", "--database-url", url, *args],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"frontdesk-cloud {args}: {done.stderr}"
    return done.stdout


@dataclass
class Worker:
    """One `frontdesk-cloud serve` process on its own port, as a systemd instance runs it."""

    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, database_url: str, log: Path) -> Worker:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "frontdesk_cloud.cli", "--database-url", database_url,
                 "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if k != "FRONTDESK_CLOUD_SECRET"},
            )
        worker = cls(port, log, process)
        wait_for(f"worker on {port}", worker.healthy, 30)
        return worker

    def healthy(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def requests(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)

    def stop(self) -> None:
        """SIGTERM; uvicorn then waits for open long-polls (up to 30 s): not worth it here."""
        self.process.terminate()
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def wait_for(what: str, probe: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def status_on(desk: DeskProc, session_id: str, member_id: str) -> str | None:
    code, roster = desk.run("roster", session_id)
    assert code == 0, roster
    return next((r["status"] for r in roster if r["member_id"] == member_id), None)


async def device_token(url: str, staff: dict[str, Any], tenant: str, location: str) -> str:
    client = CloudClient(url)
    try:
        tokens = await client.login(tenant, staff["username"], staff["password"])
        device = await client.register(tokens.access_token,
                                       DeviceRequest("long-poll probe", location))
        return device.access_token
    finally:
        await client.aclose()


async def push(desk: DeskProc) -> None:
    """Desk A's own sync engine, in this process: a push with no program start-up delay."""
    replica = Replica(desk.data_dir / "replica.db")
    try:
        engine = SyncEngine.for_replica(replica, desk.data_dir)
        try:
            await engine.sync_once()
        finally:
            await engine.client.aclose()
    finally:
        replica.close()


async def long_poll(url: str, token: str, position: int) -> tuple[LiveAnswer, float]:
    client = CloudClient(url)
    started = time.monotonic()
    try:
        answer = await client.live(token, position, wait_s=30)
    finally:
        await client.aclose()
    return answer, time.monotonic() - started


def test_desks_on_two_workers_see_each_other_live(pg_server: PgServer, tmp_path: Path) -> None:
    began = time.monotonic()
    owner_url, app_url = pg_server.create_database(f"deploy_{os.getpid()}")
    cloud_cli(owner_url, "migrate", "--app-role", APP)
    seed = json.loads(cloud_cli(app_url, "seed-demo", "--json", "--members", "20"))
    session = seed["checkin_open_sessions"][0]
    location, members = session["location"], session["booked_members"]
    here = [s for s in seed["staff"] if location in s["locations"]]
    staff_a = next(s for s in here if s["role"] == "front_desk")
    staff_b = next(s for s in here if s["role"] in ("manager", "owner"))

    print(f"\nmigrated and seeded in {time.monotonic() - began:.1f} s")
    workers = [Worker.start(app_url, tmp_path / f"worker{n}.log") for n in (1, 2)]
    desk_a, desk_b = DeskProc(tmp_path / "desk-a"), DeskProc(tmp_path / "desk-b")
    live: list[subprocess.Popen[str]] = []
    try:
        for desk, staff, worker in ((desk_a, staff_a, workers[0]), (desk_b, staff_b, workers[1])):
            desk.login(worker.url, staff, seed["tenant"], location)
            assert desk.run("sync", "--once")[0] == 0
        live.append(desk_b.spawn("sync"))  # live: long-polls worker 2
        print(f"two workers, two desks signed in and synced at {time.monotonic() - began:.1f} s")

        # A token from worker 1 works on worker 2: the signing key is shared in the database.
        token = asyncio.run(device_token(workers[0].url, staff_b, seed["tenant"], location))
        position = asyncio.run(long_poll(workers[1].url, token, 0))[0].position
        code, body = desk_a.run("checkin", members[0], "--session", session["id"])
        assert code == 0, body  # queued in A's outbox; A is not syncing yet

        async def probe_while_a_pushes() -> tuple[LiveAnswer, float]:
            poll = asyncio.create_task(long_poll(workers[1].url, token, position))
            # Just past worker 2's first re-check: only a notification can wake it before
            # the next one.
            await asyncio.sleep(_RECHECK_SECONDS + 0.5)
            await push(desk_a)
            return await poll

        answer, waited = asyncio.run(probe_while_a_pushes())
        assert answer.changed and answer.position > position
        assert waited < 2 * _RECHECK_SECONDS - 0.5, (
            f"worker 2's long-poll woke after {waited:.1f} s, at a re-check: the push on "
            "worker 1 did not notify it")

        started = time.monotonic()
        wait_for("A's check-in on desk B",
                 lambda: status_on(desk_b, session["id"], members[0]) == "checked_in", 30)
        a_to_b = time.monotonic() - started

        live.append(desk_a.spawn("sync"))  # live: long-polls worker 1
        started = time.monotonic()
        code, body = desk_b.run("checkin", members[1], "--session", session["id"])
        assert code == 0, body
        wait_for("B's check-in on desk A",
                 lambda: status_on(desk_a, session["id"], members[1]) == "checked_in", 30)
        b_to_a = time.monotonic() - started
    finally:
        for process in live:
            process.terminate()
        errors = [process.communicate(timeout=20)[1] for process in live]
        for worker in workers:
            worker.stop()

    # A pushed to worker 1 and B to worker 2, each desk knowing only its own.
    assert workers[0].requests("POST /v1/sync/push") >= 1
    assert workers[1].requests("POST /v1/sync/push") >= 1
    assert all(p.returncode == 0 for p in live), errors
    for desk in (desk_a, desk_b):
        code, status = desk.run("status")
        assert code == 0 and status["pending"] == 0, status
    print(f"long-poll woke {waited:.2f} s after it began (push at {_RECHECK_SECONDS + 0.5} s); "
          f"A's check-in on B {a_to_b:.1f} s later, B's on A {b_to_a:.1f} s after its "
          "`checkin` began")
