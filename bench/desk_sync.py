"""A desk's sync in its own process, timed: `python -m bench.desk_sync DATA_DIR [options]`.

    --login URL TENANT USER LOCATION   sign in first (password on stdin), timed too
    --until-today                      stop once today's schedule and rosters are usable
    --live SECONDS                     after the first round keep syncing live (run())
    --push-only [--batch N]            only push the outbox (N commands per request), timed

Prints one JSON line: login_s, today_s (from the start, login included), seconds (the
sync round alone), rows pulled. The parent may kill it at any point (kill -9 included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from frontdesk.local_db import Replica, Views
from frontdesk.protocol import CATALOGUE, schedule_partition
from frontdesk.sync import CloudClient, SyncEngine, sign_in


class TodayWatch:
    """Notes when catalogue and today's schedule are complete and the views answer."""

    def __init__(self, replica: Replica, started: float) -> None:
        self.replica = replica
        self.started = started
        self.at: float | None = None
        self.sessions = 0
        self.roster_lines = 0

    def __call__(self, event: str, payload: object) -> None:
        if event != "pulled" or self.at is not None:
            return
        views = Views(self.replica)
        location = self.replica.meta("location_id") or ""
        today = views.today(time_now())
        wanted = {CATALOGUE, schedule_partition(location, today)}
        with self.replica.read() as conn:
            done = {
                r[0]
                for r in conn.exec_driver_sql("SELECT partition FROM cursors WHERE complete = 1")
            }
        if not wanted <= done:
            return
        lines = views.sessions_on(today)
        self.roster_lines = sum(len(views.roster(line.session.id)) for line in lines)
        self.sessions = len(lines)
        self.at = time.perf_counter() - self.started


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    data_dir = Path(args.data_dir)
    replica = Replica(data_dir / "replica.db")
    report: dict[str, Any] = {}
    if args.login:
        url, tenant, user, location = args.login
        password = sys.stdin.readline().rstrip("\n")
        client = CloudClient(url, timeout=120)
        _signed, store = await sign_in(replica, client, data_dir, tenant=tenant, username=user,
                                       password=password, location_id=location,
                                       insecure_storage=True)
        engine = SyncEngine(replica, client, store)
        report["login_s"] = time.perf_counter() - started
    else:
        engine = SyncEngine.for_replica(replica, data_dir, timeout=120)
    if args.push_only:
        import frontdesk.sync.engine as engine_module

        engine_module.MAX_BATCH = args.batch  # the baseline pushes one command per request
        round_started = time.perf_counter()
        pushed = await engine.push_all()
        report.update(seconds=time.perf_counter() - round_started, pushed=pushed)
        await engine.client.aclose()
        return report
    watch = TodayWatch(replica, started)
    engine.subscribe(watch)
    if args.until_today:
        # Listener errors are logged and swallowed by the engine: poll instead.
        task = asyncio.ensure_future(engine.sync_once())
        while not task.done() and watch.at is None:
            await asyncio.sleep(0.005)
        task.cancel()
        report.update(today_s=watch.at, sessions=watch.sessions, roster_lines=watch.roster_lines)
        await engine.client.aclose()
        return report
    round_started = time.perf_counter()
    result = await engine.sync_once()
    report.update(
        seconds=time.perf_counter() - round_started,
        rows=result.pulled,
        today_s=watch.at,
        sessions=watch.sessions,
        roster_lines=watch.roster_lines,
    )
    print(json.dumps({"first_round": report}), flush=True)
    if args.live:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(args.live, stop.set)
        await engine.run(stop)
    await engine.client.aclose()
    replica.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.desk_sync")
    parser.add_argument("data_dir")
    parser.add_argument("--login", nargs=4, metavar=("URL", "TENANT", "USER", "LOCATION"))
    parser.add_argument("--until-today", action="store_true")
    parser.add_argument("--live", type=float, default=0.0)
    parser.add_argument("--push-only", action="store_true", help="push the outbox, timed")
    parser.add_argument("--batch", type=int, default=1000, help="commands per push")
    args = parser.parse_args(argv)
    report = asyncio.run(main_async(args))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
