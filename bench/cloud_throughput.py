"""Cloud push and pull throughput on SQLite and PostgreSQL, against a real server process.

    .venv/bin/python -m bench.cloud_throughput [--backend sqlite|postgres|both]
        [--members 100000] [--commands 10000]

Push: an offline backlog of `--commands` commands (walk-in guests: add_member, sell a
pack, book a class, record feedback) sent in MAX_BATCH-sized pushes, acknowledged
exactly once. Baseline: the same kind of commands one HTTP request each.
Pull: a new desk pulls the `members` partition of a `seed-demo --members N` studio
(members, entitlements, sales, feedback) page by page. Baseline: the same rows read
straight from the database. PostgreSQL runs with fsync on (durable), as in production.
Prints the figures; not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from frontdesk.domain.codec import encode
from frontdesk.domain.model import ClassType, Location, Plan, Session, StaffMember
from frontdesk.protocol import MAX_BATCH, MAX_PAGE
from frontdesk_cloud.db import Database
from frontdesk_cloud.migrate import migrate
from frontdesk_cloud.schema import entities
from frontdesk_cloud.seed import seed_demo
from frontdesk_cloud.store import TenantStore, find_tenant

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """(owner URL, app URL) of a fresh, migrated database."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench-cloud.sqlite'}"
        db = Database.open(url)
        migrate(db)
        db.dispose()
        yield url, url
        return
    import importlib

    sys.path.insert(0, str(ROOT))
    pg = importlib.import_module("tests.pg")  # the suite's throwaway server (not type-checked)
    APP, find_pg_bin, start_postgres = pg.APP, pg.find_pg_bin, pg.start_postgres

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (initdb, pg_ctl)")
    with start_postgres(bin_dir, durable=True) as server:
        owner, app = server.create_database("bench")
        db = Database.open(owner)
        migrate(db, app_role=APP)
        db.dispose()
        yield owner, app


@contextlib.contextmanager
def server(url: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = Path(sys.executable).with_name("frontdesk-cloud")
    env = dict(os.environ, FRONTDESK_CLOUD_DATABASE_URL=url)
    process = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the cloud server did not start")
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def _device(http: httpx.Client, username: str, password: str, location_id: str
            ) -> dict[str, Any]:
    pair = http.post("/v1/auth/login", json={"tenant": "demo", "username": username,
                                             "password": password}).json()
    device = http.post("/v1/devices", json={"name": "bench", "location_id": location_id},
                       headers={"Authorization": f"Bearer {pair['access_token']}"}).json()
    return {"staff_id": pair["staff_id"], **device}


def _backlog(count: int, staff_id: str, location_id: str, plan_id: str,
             session_ids: list[str], first_seq: int = 1) -> list[dict[str, Any]]:
    """Walk-in guests recorded offline: add, sell a pack, book, feedback (4 commands)."""
    now = datetime.now(UTC)
    commands: list[dict[str, Any]] = []
    n = 0
    while len(commands) < count:
        member_id = str(uuid.uuid4())
        steps = [
            ("add_member", {"member_id": member_id, "name": f"Guest {n}", "phone": f"1{n:010d}"}),
            ("sell", {"member_id": member_id, "plan_id": plan_id, "method": "wechat_pay"}),
            ("book", {"member_id": member_id, "session_id": session_ids[n % len(session_ids)]}),
            ("record_feedback", {"member_id": member_id, "rating": 5, "comment": "lovely"}),
        ]
        for name, args in steps:
            commands.append({
                "command_id": str(uuid.uuid4()), "seq": first_seq + len(commands), "name": name,
                "version": 1, "args": args, "staff_id": staff_id, "location_id": location_id,
                "happened_at": encode(now), "clock_offset_s": 0.0})
        n += 1
    return commands[:count]


def _bench_sessions(owner_url: str, location: Location, coach: StaffMember, count: int
                    ) -> list[str]:
    """Classes for the backlog to book into, spread over the coming days."""
    db = Database.open(owner_url)
    with db.transaction() as conn:
        tenant = find_tenant(conn, "demo")
    assert tenant is not None
    with db.transaction(tenant.id, write=True) as conn:
        store = TenantStore(conn, tenant.id)
        kind = store.all(ClassType)[0]
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        made = [Session(str(uuid.uuid4()), location.id, kind.id, kind.name,
                        start + timedelta(hours=i), start + timedelta(hours=i, minutes=50), 40,
                        coach.id, coach.name) for i in range(count)]
        store.write(made)
    db.dispose()
    return [s.id for s in made]


def bench_push(owner_url: str, app_url: str, commands: int) -> dict[str, float]:
    db = Database.open(owner_url)
    doc = seed_demo(db, members=0, reset=True)
    db.dispose()
    location_id = doc["locations"][0]["id"]
    desk = next(s for s in doc["staff"] if s["username"] == "manager")
    with Database.open(owner_url).transaction() as conn:
        tenant = find_tenant(conn, "demo")
    assert tenant is not None
    reader = Database.open(owner_url)
    with reader.transaction(tenant.id) as conn:
        store = TenantStore(conn, tenant.id)
        location = next(loc for loc in store.all(Location) if loc.id == location_id)
        plan = next(p for p in store.all(Plan) if p.kind.value == "pack")
        coach = next(s for s in store.all(StaffMember) if s.role.value == "coach")
    reader.dispose()
    sessions = _bench_sessions(owner_url, location, coach, 300)
    with server(app_url) as base, httpx.Client(base_url=base, timeout=300) as http:
        device = _device(http, desk["username"], desk["password"], location_id)
        headers = {"Authorization": f"Bearer {device['access_token']}"}
        backlog = _backlog(commands, device["staff_id"], location_id, plan.id, sessions)
        started = time.perf_counter()
        statuses: dict[str, int] = {}
        for start in range(0, len(backlog), MAX_BATCH):
            answer = http.post("/v1/sync/push", headers=headers, json={
                "client_id": device["client_id"], "commands": backlog[start:start + MAX_BATCH]})
            answer.raise_for_status()
            for outcome in answer.json()["outcomes"]:
                statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1
        batched = time.perf_counter() - started
        single = _backlog(400, device["staff_id"], location_id, plan.id, sessions,
                          first_seq=len(backlog) + 1)
        started = time.perf_counter()
        for command in single:
            http.post("/v1/sync/push", headers=headers,
                      json={"client_id": device["client_id"], "commands": [command]}
                      ).raise_for_status()
        one_by_one = time.perf_counter() - started
    print(f"  push outcomes: {statuses}", file=sys.stderr)
    return {"push_cmds_per_s": len(backlog) / batched, "push_seconds": batched,
            "baseline_one_request_each_cmds_per_s": len(single) / one_by_one}


def bench_pull(owner_url: str, app_url: str, members: int) -> dict[str, float]:
    db = Database.open(owner_url)
    started = time.perf_counter()
    doc = seed_demo(db, members=members, reset=True)
    seeded = time.perf_counter() - started
    with db.transaction() as conn:
        tenant = find_tenant(conn, "demo")
    assert tenant is not None
    started = time.perf_counter()
    with db.transaction(tenant.id) as conn:
        raw = conn.execute(sa.select(entities.c.kind, entities.c.id, entities.c.data,
                                     entities.c.position)
                           .where(entities.c.tenant_id == tenant.id,
                                  entities.c.partition == "members")
                           .order_by(entities.c.position)).all()
    baseline = len(raw) / (time.perf_counter() - started)
    db.dispose()
    desk = next(s for s in doc["staff"] if s["username"] == "desk-sh")
    with server(app_url) as base, httpx.Client(base_url=base, timeout=300) as http:
        device = _device(http, desk["username"], desk["password"], doc["locations"][0]["id"])
        headers = {"Authorization": f"Bearer {device['access_token']}"}
        rows, cursor, pages = 0, None, 0
        started = time.perf_counter()
        while True:
            answer = http.post("/v1/sync/pull", headers=headers, json={
                "partitions": [{"name": "members", "cursor": cursor}], "limit": MAX_PAGE})
            answer.raise_for_status()
            page = answer.json()["pages"][0]
            rows += len(page["changes"])
            cursor, pages = page["cursor"], pages + 1
            if not page["more"]:
                break
        took = time.perf_counter() - started
    assert rows == len(raw), (rows, len(raw))
    return {"pull_rows_per_s": rows / took, "pull_rows": rows, "pull_pages": pages,
            "pull_seconds": took, "baseline_raw_select_rows_per_s": baseline,
            "seed_seconds": seeded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cloud_throughput")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--commands", type=int, default=10_000)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as (owner, app):
            print(f"{kind}: pushing {args.commands} commands ...", file=sys.stderr)
            push = bench_push(owner, app, args.commands)
            print(f"{kind}: seeding {args.members} members and pulling ...", file=sys.stderr)
            pull = bench_pull(owner, app, args.members)
        print(f"{kind:<9} push {push['push_cmds_per_s']:8.0f} commands/s "
              f"({args.commands} in {push['push_seconds']:.1f} s, batches of {MAX_BATCH}; "
              f"baseline one request each {push['baseline_one_request_each_cmds_per_s']:.0f}/s)")
        print(f"{kind:<9} pull {pull['pull_rows_per_s']:8.0f} rows/s "
              f"({pull['pull_rows']:.0f} rows of {args.members} members in "
              f"{pull['pull_seconds']:.1f} s, {pull['pull_pages']:.0f} pages; baseline raw "
              f"SELECT {pull['baseline_raw_select_rows_per_s']:.0f} rows/s; seed-demo "
              f"{pull['seed_seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
