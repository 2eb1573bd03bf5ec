"""The cloud under load on PostgreSQL: connected desks and commands a second (bench.load).

The desks belong to several studios (tenants), as on a shared cloud: every command
wakes the live poll of its own studio's desks, and takes its own studio's feed lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from frontdesk.domain.model import Location, Role
from frontdesk_cloud.admin import NewStaff, create_staff, create_tenant
from frontdesk_cloud.db import Database
from frontdesk_cloud.store import TenantStore

from .common import Result
from .procs import ROOT, Cloud, cpu_seconds, finish

PASSWORD = "load-desk-2026"


def studios(cloud: Cloud, count: int) -> list[dict[str, Any]]:
    """`count` studios, each with a location and a front-desk account, signed in."""
    db = Database.open(cloud.owner_url)
    made = []
    try:
        for n in range(count):
            slug = f"load-{n:03d}-{uuid.uuid4().hex[:6]}"
            tenant_id = create_tenant(db, slug, f"Load studio {n}", datetime.now(UTC))
            location = Location(str(uuid.uuid4()), "Main", "Asia/Shanghai")
            with db.transaction(tenant_id, write=True) as conn:
                TenantStore(conn, tenant_id).write([location])
            create_staff(db, slug, NewStaff("desk", "Desk", Role.FRONT_DESK, (location.id,),
                                            password=PASSWORD))
            made.append({"tenant": slug, "location": location.id})
    finally:
        db.dispose()
    with httpx.Client(base_url=cloud.url, timeout=60) as http:
        for studio in made:
            answer = http.post("/v1/auth/login", json={
                "tenant": studio["tenant"], "username": "desk", "password": PASSWORD})
            answer.raise_for_status()
            login = answer.json()
            studio.update(access_token=login["access_token"], staff_id=login["staff_id"])
    return made


def cloud_load(cloud: Cloud, desks: int, tenants: int, rate: float, seconds: float) -> Result:
    made = studios(cloud, tenants)
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "studios.json"
        plan.write_text(json.dumps(made))
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.load", cloud.url, str(plan),
             "--desks", str(desks), "--rate", str(rate), "--seconds", str(seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the load generator did not start: {finish(process)}")
        cloud_cpu0, db_cpu0 = cloud.cpu(), cloud.db_cpu()
        gen_cpu0 = cpu_seconds(process.pid)
        if process.stdout.readline().strip() != "done":
            raise RuntimeError(f"the load generator stopped: {finish(process)}")
        cloud_cpu, db_cpu = cloud.cpu() - cloud_cpu0, cloud.db_cpu() - db_cpu0
        gen_cpu = cpu_seconds(process.pid) - gen_cpu0
        # Read on from the same buffered pipe: its buffer may already hold the report.
        rest = process.stdout.read()
        process.wait(120)
        err = process.stderr.read() if process.stderr else ""
        process.stdout.close()
        if process.stderr:
            process.stderr.close()
        lines = [line for line in rest.splitlines() if line.strip()]
        if process.returncode != 0 or not lines:
            raise RuntimeError(f"the load generator exited {process.returncode}: {err[-2000:]}")
        report = json.loads(lines[-1])
    p99 = float(report["p99_ms"])
    errors = int(report["push_errors"]) + int(report["live_errors"])
    wall = float(report["wall_s"])
    ok = p99 <= 100.0 and errors == 0 and int(report["rejected"]) == 0
    note = (f"{report['desks']} desks in {tenants} studios holding the live poll "
            f"({report['holding_at_start']} held at the start, {report['min_holding']} at "
            f"least while pushing), {report['sent']} commands due at {rate:.0f}/s for "
            f"{seconds:.0f} s, all answered after {wall:.0f} s; p50 {report['p50_ms']:.1f} ms,"
            f" max {report['max_ms']:.0f} ms; errors {errors} (push {report['push_errors']}, "
            f"live {report['live_errors']}), rejected {report['rejected']}; "
            f"{report['live_answers']} live answers; CPU over {wall:.0f} s: cloud "
            f"{cloud_cpu:.1f} s ({cloud_cpu / wall:.0%} of a core), PostgreSQL {db_cpu:.1f} s "
            f"({db_cpu / wall:.0%}), generator {gen_cpu:.1f} s ({gen_cpu / wall:.0%}); "
            f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if report["errors"]:
        note += f"; first errors: {report['errors'][:2]}"
    return Result("cloud_load", p99, "ms", "p99 <= 100 ms", ok, p50=report["p50_ms"],
                  p95=report["p95_ms"], p99=p99, note=note)
