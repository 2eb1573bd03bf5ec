"""A campaign: many seeded runs, a tally of faults and checks, shrunk failing schedules."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.faults import checker
from tests.faults.harness import Environment, RunResult, run_schedule
from tests.faults.schedule import Schedule, fault_kinds, generate
from tests.pg import PgServer, find_pg_bin, start_postgres

RESULTS = Path(__file__).parent / "results"
#: While this file exists, workers finish the run in hand and start no new one (to give a
#: benchmark a quiet machine without losing the campaign): `touch` it, then remove it.
PAUSE = RESULTS / "PAUSE"


class Environments:
    """One environment per backend, made when first needed and kept for the campaign."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.stack = contextlib.ExitStack()
        self.made: dict[str, Environment] = {}
        self.pg: PgServer | None = None

    def get(self, backend: str) -> Environment:
        env = self.made.get(backend)
        if env is None:
            if backend == "postgres":
                env = Environment.postgres(self.workdir / "postgres", self._pg())
            else:
                env = Environment.sqlite(self.workdir / "sqlite")
            self.stack.callback(env.close)
            self.made[backend] = env
        return env

    def _pg(self) -> PgServer:
        if self.pg is None:
            bin_dir = find_pg_bin()
            if bin_dir is None:
                raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
            self.pg = self.stack.enter_context(start_postgres(bin_dir))
        return self.pg

    def close(self) -> None:
        self.stack.close()


@contextlib.contextmanager
def environments(workdir: Path) -> Iterator[Environments]:
    envs = Environments(workdir)
    try:
        yield envs
    finally:
        envs.close()


def replay(envs: Environments, schedule: Schedule, workdir: Path) -> RunResult:
    return run_schedule(envs.get(schedule["backend"]), schedule, workdir / "run")


def guarded_replay(envs: Environments, schedule: Schedule, workdir: Path) -> RunResult:
    """`replay`, where the harness breaking down is a failed run, not a stopped campaign."""
    try:
        return replay(envs, schedule, workdir)
    except Exception as exc:
        report = checker.Report()
        report.fail("harness", f"{type(exc).__name__}: {exc}")
        return RunResult(schedule["seed"], schedule["backend"], report, 0.0)


def shrink(envs: Environments, schedule: Schedule, failing: set[str], workdir: Path,
           budget_s: float, log: Callable[[str], None] = print) -> Schedule:
    """Drop steps while the run still fails one of the same checks (delta debugging)."""
    deadline = time.monotonic() + budget_s
    steps: list[dict[str, Any]] = list(schedule["steps"])

    def still_fails(candidate: list[dict[str, Any]]) -> bool:
        result = guarded_replay(envs, {**schedule, "steps": candidate}, workdir)
        return bool(set(result.report.failed) & failing)

    parts = 2
    while len(steps) >= 2 and time.monotonic() < deadline:
        size = math.ceil(len(steps) / parts)
        for start in range(0, len(steps), size):
            candidate = steps[:start] + steps[start + size:]
            if time.monotonic() >= deadline:
                break
            if still_fails(candidate):
                steps = candidate
                parts = max(parts - 1, 2)
                log(f"  shrunk to {len(steps)} steps")
                break
        else:
            if parts >= len(steps):
                break
            parts = min(len(steps), parts * 2)
    return {**schedule, "steps": steps}


@dataclass
class Tally:
    runs: int = 0
    failures: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failed_seeds: list[int] = field(default_factory=list)
    backends: Counter[str] = field(default_factory=Counter)
    commands: int = 0
    seconds: float = 0.0
    max_drain_s: float = 0.0

    def add(self, schedule: Schedule, result: RunResult) -> None:
        self.runs += 1
        self.backends[result.backend] += 1
        self.faults.update(fault_kinds(schedule))
        self.passed.update(result.report.passed)
        self.failed.update(result.report.failed.keys())
        self.commands += result.commands
        self.seconds += result.seconds
        self.max_drain_s = max([self.max_drain_s, *result.drain_s.values()])
        if not result.ok:
            self.failures += 1
            self.failed_seeds.append(result.seed)

    def document(self, seed_base: int) -> dict[str, Any]:
        names = checker.ALL_CHECKS
        return {
            "runs": self.runs,
            "failures": self.failures,
            "faults_by_kind": dict(sorted(self.faults.items())),
            "checks": {n: {"passed": self.passed[n], "failed": self.failed[n]} for n in names},
            "failed_seeds": self.failed_seeds,
            "backends": dict(self.backends),
            "seed_base": seed_base,
            "commands_recorded": self.commands,
            "run_seconds": round(self.seconds, 1),
            "max_drain_s": round(self.max_drain_s, 3),
        }


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def backend_of(index: int, backends: str) -> str:
    if backends == "both":  # a third on PostgreSQL, spread over the workers of a campaign
        return "postgres" if (index + index // 3) % 3 == 2 else "sqlite"
    return backends


def run_campaign(
    runs: int, *, seed_base: int, backends: str, workdir: Path, out: Path,
    shrink_s: float, log: Callable[[str], None] = print, worker: tuple[int, int] = (0, 1),
    failures: Path | None = None,
) -> Tally:
    """Runs `seed_base + index` for the indices of `worker` (k of n: k, k + n, ...); failing
    schedules and their shrunk forms go to `failures` (by default beside `out`)."""
    tally = Tally()
    first, stride = worker
    failures = failures or out.parent / "failures"
    write_json(out, tally.document(seed_base))  # a worker with no runs still reports
    with environments(workdir) as envs:
        for index in range(first, runs, stride):
            while PAUSE.exists():
                time.sleep(1)
            seed = seed_base + index
            schedule = generate(seed, backend=backend_of(index, backends))
            result = guarded_replay(envs, schedule, workdir)
            tally.add(schedule, result)
            log(f"run {tally.runs}/{len(range(first, runs, stride))} seed {seed} {result.backend}: "
                f"{'ok' if result.ok else 'FAILED'} in {result.seconds:.1f} s, "
                f"{result.commands} commands, faults {fault_kinds(schedule)}")
            if not result.ok:
                write_json(out, tally.document(seed_base))  # counted before shrinking it
                log(result.report.summary())
                failing = set(result.report.failed) - {"harness"}
                write_json(failures / f"seed-{seed}.json", schedule)
                if not failing:
                    log(f"seed {seed}: the harness broke down (not shrunk)")
                    write_json(out, tally.document(seed_base))
                    continue
                small = shrink(envs, schedule, failing, workdir, shrink_s, log)
                write_json(failures / f"seed-{seed}-shrunk.json", small)
                log(f"seed {seed} fails {sorted(failing)}; shrunk schedule "
                    f"({len(small['steps'])} steps):\n{json.dumps(small)}")
            write_json(out, tally.document(seed_base))
    return tally


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """One campaign's document from the documents of its workers."""
    checks = {n: {"passed": 0, "failed": 0} for n in checker.ALL_CHECKS}
    faults: Counter[str] = Counter()
    backends: Counter[str] = Counter()
    for doc in documents:
        faults.update(doc["faults_by_kind"])
        backends.update(doc["backends"])
        for name, counts in doc["checks"].items():
            for key in ("passed", "failed"):
                checks[name][key] += counts[key]
    return {
        "runs": sum(d["runs"] for d in documents),
        "failures": sum(d["failures"] for d in documents),
        "faults_by_kind": dict(sorted(faults.items())),
        "checks": checks,
        "failed_seeds": sorted(s for d in documents for s in d["failed_seeds"]),
        "backends": dict(backends),
        "seed_base": min((d["seed_base"] for d in documents), default=0),
        "commands_recorded": sum(d["commands_recorded"] for d in documents),
        "run_seconds": round(sum(d["run_seconds"] for d in documents), 1),
        "max_drain_s": max((d["max_drain_s"] for d in documents), default=0.0),
    }


def run_parallel(
    runs: int, jobs: int, *, seed_base: int, backends: str, workdir: Path, out: Path,
    shrink_s: float, log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """`jobs` worker processes, each with its own cloud, proxies and desks, share the runs;
    their lines are relayed as they come and their tallies merged into `out`."""
    started = time.monotonic()
    jobs = max(1, min(jobs, runs))
    parts = [workdir / f"worker-{k}.json" for k in range(jobs)]
    for part in parts:
        part.unlink(missing_ok=True)  # a reused workdir must not lend an old tally
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.faults", "--runs", str(runs), "--seed-base",
             str(seed_base), "--backend", backends, "--shrink-seconds", str(shrink_s),
             "--out", str(parts[k]), "--workdir", str(workdir / f"w{k}"),
             "--worker", f"{k}/{jobs}", "--failures-dir", str(out.parent / "failures")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        for k in range(jobs)
    ]
    lock = threading.Lock()

    def relay(k: int, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with lock:
                log(f"[w{k}] {line.rstrip()}")

    threads = [threading.Thread(target=relay, args=(k, p), daemon=True)
               for k, p in enumerate(workers)]
    for thread in threads:
        thread.start()
    try:
        codes = [p.wait() for p in workers]
    except BaseException:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait()
        raise
    for thread in threads:
        thread.join()
    documents = [json.loads(p.read_text()) for p in parts if p.exists()]
    document = merge(documents)
    document["wall_seconds"] = round(time.monotonic() - started, 1)
    document["jobs"] = jobs
    # A worker exits 0 once it ran all its seeds (failed runs are in its tally); anything
    # else, or a tally short of its share, is a worker that broke down.
    broken = [k for k, code in enumerate(codes)
              if code != 0 or not parts[k].exists()
              or json.loads(parts[k].read_text())["runs"] != len(range(k, runs, jobs))]
    if broken:
        document["failures"] += len(broken)
        document["broken_workers"] = broken
    write_json(out, document)
    return document
