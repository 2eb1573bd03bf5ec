"""`python -m bench [--quick]`: run every benchmark, print the table, write latest.json.

Reference data is built once per run: a replica of N seeded members for the desk-local
figures, and one cloud per database seeded with `seed-demo --members N` that every
sync, window and load figure then shares. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import app_bench, cloud_bench, data, desk_local, sync_bench
from .common import Result, stopwatch, write
from .procs import Cloud, DeskDir, postgres_cloud, sqlite_cloud

GROUPS = ("local", "sqlite", "app", "postgres")
NAMES = ("search", "checkin", "checkin_during_sync", "first_sync_sqlite", "first_sync_postgres",
         "today_usable", "drain_10k", "propagation", "catch_up", "app_start", "app_memory",
         "loop_stall", "cloud_load")


@dataclass(frozen=True)
class Plan:
    members: int
    search_queries: int
    scans: int
    scans_during_sync: int
    drain: int
    drain_single: int
    catch_up: int
    propagation_rounds: int
    app_starts: int
    load_desks: int
    load_studios: int
    load_rate: float
    load_seconds: float


FULL = Plan(members=100_000, search_queries=2_000, scans=200, scans_during_sync=200,
            drain=10_000, drain_single=300, catch_up=5_000, propagation_rounds=40, app_starts=3,
            load_desks=500, load_studios=25, load_rate=200.0, load_seconds=30.0)
QUICK = Plan(members=2_000, search_queries=50, scans=30, scans_during_sync=20, drain=300,
             drain_single=20, catch_up=100, propagation_rounds=3, app_starts=1,
             load_desks=20, load_studios=2, load_rate=20.0, load_seconds=2.0)


class Runner:
    """Runs each benchmark once, keeps going when one fails, and says how long each took."""

    def __init__(self) -> None:
        self.results: dict[str, Result] = {}

    def run(self, names: tuple[str, ...], fn: Callable[[], Result | tuple[Result, ...]]) -> None:
        started = time.perf_counter()
        try:
            out = fn()
            for result in out if isinstance(out, tuple) else (out,):
                self.results[result.name] = result
        except Exception as exc:
            traceback.print_exc()
            for name in names:
                self.results[name] = Result(name, float("nan"), "", "", False,
                                            note=f"error: {type(exc).__name__}: {exc}")
        took = time.perf_counter() - started
        for name in names:
            if name in self.results:
                print(self.results[name].line(), flush=True)
        print(f"  ({', '.join(names)}: {took:.0f} s)", file=sys.stderr, flush=True)

    def ordered(self) -> list[Result]:
        return [self.results[n] for n in NAMES if n in self.results]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small data, a few seconds each")
    parser.add_argument("--members", type=int, help="reference members (default 100,000)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", help="comma-separated groups: local,sqlite,app,postgres")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.members is not None:
        if args.members < 100:
            parser.error("--members must be at least 100")
        plan = Plan(**{**plan.__dict__, "members": args.members})
    groups = set((args.only or ",".join(GROUPS)).split(","))
    if not groups <= set(GROUPS):
        parser.error(f"--only takes some of {','.join(GROUPS)}, not {args.only}")
    runner = Runner()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if "local" in groups:
            run_local(runner, plan, tmp)
        if groups & {"sqlite", "app"}:
            run_sqlite(runner, plan, tmp, groups)
        if "postgres" in groups:
            run_postgres(runner, plan, tmp)
    results = runner.ordered()
    print(f"\n{'name':<20} {'figure':>9} {'unit':<4} {'p50':>9} {'p95':>9} {'p99':>9}  "
          f"{'bar':<34} {'baseline':>9}  {'ratio':>7}  met")
    for result in results:
        print(result.line(), flush=True)
    path = write(results, args.out)
    print(f"wrote {path} ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
    # A missed bar is a figure to report; a benchmark that could not run is a failure.
    broken = [r.name for r in results if r.note.startswith("error:")]
    if broken:
        print(f"benchmarks that failed to run: {', '.join(broken)}", file=sys.stderr)
    return 1 if broken else 0


def run_local(runner: Runner, plan: Plan, tmp: Path) -> None:
    now = datetime.now(UTC)
    ref = data.build(plan.members, now)
    with stopwatch() as took:
        replica = data.load(tmp / "bench.db", ref)
    print(f"reference replica: {plan.members} members loaded in {took[0]:.1f} s",
          file=sys.stderr)
    try:
        runner.run(("search",), lambda: desk_local.search(replica, ref, plan.search_queries))
        runner.run(("checkin",), lambda: desk_local.checkin(replica, ref, plan.scans))
    finally:
        replica.close()


def run_sqlite(runner: Runner, plan: Plan, tmp: Path, groups: set[str]) -> None:
    with stopwatch() as took, sqlite_cloud(tmp, plan.members) as cloud:
        print(f"sqlite cloud: seed-demo --members {plan.members} in {cloud.seed_seconds:.1f} s",
              file=sys.stderr)
        cloud.start(log=tmp / "cloud-sqlite.log")
        a, b = DeskDir(tmp / "desk-a"), DeskDir(tmp / "desk-b")
        if "sqlite" in groups:
            runner.run(("first_sync_sqlite",), lambda: sync_bench.first_sync(
                "first_sync_sqlite", cloud, a))
            # Desk B is killed mid-sync, resumed, and compared with desk A's clean replica.
            runner.run(("first_sync_sqlite",), lambda: _with_resume(runner, cloud, a, b))
            runner.run(("today_usable",),
                       lambda: sync_bench.today_usable(cloud, DeskDir(tmp / "desk-t")))
            runner.run(("checkin_during_sync",), lambda: sync_bench.checkin_during_sync(
                cloud, DeskDir(tmp / "desk-c"), plan.scans_during_sync))
        if "app" in groups:
            runner.run(("loop_stall",), lambda: app_bench.loop_stall(
                cloud, DeskDir(tmp / "desk-l")))
            started = a if a.replica.exists() else DeskDir(tmp / "desk-l")
            runner.run(("app_start", "app_memory"),
                       lambda: app_bench.app_start(started, plan.app_starts))
        if "sqlite" in groups:
            runner.run(("catch_up",), lambda: sync_bench.catch_up(a, b, plan.catch_up))
            runner.run(("drain_10k",), lambda: sync_bench.drain(a, plan.drain, plan.drain_single))
            runner.run(("propagation",), lambda: sync_bench.propagation(
                cloud, a, b, plan.propagation_rounds))
    print(f"  (sqlite cloud group: {took[0]:.0f} s)", file=sys.stderr)


def _with_resume(runner: Runner, cloud: Cloud, a: DeskDir, b: DeskDir) -> Result:
    first = runner.results["first_sync_sqlite"]
    resume = sync_bench.resume_after_kill(cloud, b, reference=a)
    first.met = first.met and bool(resume["resumed"])
    first.note += f"; kill -9 resume: {resume['note']}"
    return first


def run_postgres(runner: Runner, plan: Plan, tmp: Path) -> None:
    with stopwatch() as took, postgres_cloud(plan.members) as cloud:
        if cloud is None:
            for name in ("first_sync_postgres", "cloud_load"):
                runner.results[name] = Result(name, float("nan"), "", "", False,
                                              note="skipped: PostgreSQL is not installed")
            return
        print(f"postgres cloud: seed-demo --members {plan.members} in "
              f"{cloud.seed_seconds:.1f} s", file=sys.stderr)
        cloud.start(workers=2, log=tmp / "cloud-pg.log")
        runner.run(("first_sync_postgres",), lambda: sync_bench.first_sync(
            "first_sync_postgres", cloud, DeskDir(tmp / "desk-p")))
        runner.run(("cloud_load",), lambda: cloud_bench.cloud_load(
            cloud, plan.load_desks, plan.load_studios, plan.load_rate, plan.load_seconds))
    print(f"  (postgres group: {took[0]:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
