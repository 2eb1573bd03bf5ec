"""Runs one schedule against a real cloud process and several desks, then heals and checks.

A campaign keeps one `Environment` per database backend: the cloud child process (on a
fixed loopback port, so restarts keep its address) and one fault proxy per desk slot.
Each run reseeds the studio (`seed_demo --reset` semantics, in this process), signs in
fresh desks through their proxies, and executes the schedule:

- commands are recorded in this process through `Desk.act` (exactly what the CLI does),
  at each desk's own clock; a few go through the `frontdesk` CLI as real processes;
- syncs run in this process (`SyncEngine`, several desks concurrently), through
  `frontdesk sync --once` processes that get SIGKILLed, and through live
  `frontdesk sync` processes that run alongside and are killed or stopped;
- faults go through the proxies (partitions, dropped or duplicated requests, 500s,
  delays, held answers) and the cloud process (kill -9, also right after it committed
  a push whose answer the proxy holds back; graceful restarts).

Healing clears every fault, times how long each upload queue takes to drain, stops the
live processes (SIGTERM: they must exit 0), syncs every desk twice, and hands the files
to the independent checker.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import keyring
from keyring.backends import fail

from frontdesk.demo import DemoError, EmbeddedCloud
from frontdesk.local_db import Desk, Replica
from frontdesk.protocol import TokenPair
from frontdesk.sync import CloudClient, SyncEngine, Unreachable, sign_in
from frontdesk_cloud import seed as seeding
from frontdesk_cloud.db import Database
from frontdesk_cloud.migrate import migrate
from tests.faults import checker
from tests.faults.actions import Chooser, cli_args, load_view
from tests.faults.proxy import Proxy
from tests.faults.schedule import Schedule, Step
from tests.faults.zygote import Child, Zygote
from tests.pg import APP, PgServer

T = TypeVar("T")
Proc = subprocess.Popen[bytes] | Child

SLUG = "demo"
HTTP_TIMEOUT_S = 15.0  # generous: two cores shared with other suites can be slow
RUN_DEADLINE_S = 300.0
MAX_DESKS = 6
DESK_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "FRONTDESK_HTTP_TIMEOUT_S": str(HTTP_TIMEOUT_S)}

# Seeding hashes every staff password and PIN with argon2 (over a second each here): the
# campaign reseeds per run, so it hashes each secret once and reuses the hash.
seeding.pin_hash = functools.cache(seeding.pin_hash)
seeding.staff_password_hash = functools.cache(seeding.staff_password_hash)


class HarnessError(Exception):
    """The harness itself could not go on (not a finding about the product)."""


# --- environments -------------------------------------------------------------------------


@dataclass
class Environment:
    """One backend's cloud process and the desks' proxies, kept from run to run."""

    name: str
    folder: Path
    cloud: EmbeddedCloud
    db: Database
    source: checker.CloudSource
    proxies: list[Proxy] = field(default_factory=list)
    #: Forks desk processes; None when FRONTDESK_FAULTS_EXEC=1 asks for a fresh
    #: `python -m frontdesk.cli` each time (slower, the same processes otherwise).
    zygote: Zygote | None = None

    @classmethod
    def sqlite(cls, folder: Path) -> Environment:
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'cloud.db'}"
        owner = Database.open(url)
        migrate(owner)
        owner.dispose()
        return cls._started("sqlite", folder, url, checker.CloudSource(folder / "cloud.db"))

    @classmethod
    def postgres(cls, folder: Path, server: PgServer) -> Environment:
        folder.mkdir(parents=True, exist_ok=True)
        owner_url, app_url = server.create_database(f"faults_{os.getpid()}_{time.time_ns()}")
        owner = Database.open(owner_url)
        migrate(owner, app_role=APP)
        owner.dispose()
        database = app_url.rsplit("/", 1)[1]
        source = checker.CloudSource(
            pg_conninfo=f"host={server.host} port={server.port} user=postgres dbname={database}")
        return cls._started("postgres", folder, app_url, source)

    @classmethod
    def _started(cls, name: str, folder: Path, url: str, source: checker.CloudSource
                 ) -> Environment:
        cloud = EmbeddedCloud(folder, database_url=url)
        env = cls(name, folder, cloud, Database.open(url), source)
        if not os.environ.get("FRONTDESK_FAULTS_EXEC"):
            env.zygote = Zygote()
        env.ensure_up()
        for _ in range(MAX_DESKS):
            proxy = Proxy(cloud.port)
            proxy.start()
            env.proxies.append(proxy)
        return env

    def ensure_up(self) -> None:
        """Start the cloud if it is not running; a slow machine gets three tries."""
        if self.zygote is not None and not self.zygote.alive():
            self.zygote.close()
            self.zygote = Zygote()  # the desk processes of the next run fork from a new one
        for attempt in range(3):
            if self.cloud.process is not None and self.cloud.process.poll() is None:
                return
            self.cloud.process = None
            try:
                self.cloud.start()
            except DemoError:
                self.cloud.stop(kill=True)
                if attempt == 2:
                    raise

    def close(self) -> None:
        for proxy in self.proxies:
            proxy.stop()
        if self.zygote is not None:
            self.zygote.close()
        self.cloud.stop()
        self.db.dispose()


@contextlib.contextmanager
def fail_keyring() -> Iterator[None]:
    """Desks keep their sign-in in a private file, so desk processes can share it."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


# --- one run ------------------------------------------------------------------------------


class SharedLogin(CloudClient):
    """Desks of one run signing in as the same person reuse one login (argon2 is slow)."""

    def __init__(self, url: str, logins: dict[str, TokenPair],
                 now: Callable[[], datetime]) -> None:
        super().__init__(url, timeout=HTTP_TIMEOUT_S, now=now)
        self.logins = logins

    async def login(self, tenant: str, username: str, password: str) -> TokenPair:
        if username not in self.logins:
            self.logins[username] = await super().login(tenant, username, password)
        return self.logins[username]


@dataclass
class DeskSlot:
    index: int
    folder: Path
    proxy: Proxy
    location: str
    skew_s: float
    live_wanted: bool
    zygote: Zygote | None = None
    replica: Replica | None = None
    engine: SyncEngine | None = None
    staff: dict[str, str] = field(default_factory=dict)
    live: Proc | None = None
    live_log: Path = Path()
    processes: int = 0

    @property
    def name(self) -> str:
        return f"desk{self.index}"

    @property
    def db(self) -> Path:
        return self.folder / "replica.db"

    def now(self) -> datetime:
        """This PC's clock, which may be off by up to a day."""
        return datetime.now(UTC) + timedelta(seconds=self.skew_s)

    def env(self) -> dict[str, str]:
        return {**os.environ, **DESK_ENV, "FRONTDESK_CLOCK_SKEW_S": str(self.skew_s)}

    def spawn(self, *args: str) -> Proc:
        self.processes += 1
        path = self.folder / "logs" / f"{self.processes:03d}-{args[0]}.log"
        env = self.env()
        if args == ("sync",):
            env["FRONTDESK_LOG"] = "INFO"  # its first "sync state" line: it is listening
            self.live_log = path
        args = (*args, "--json", "--data-dir", str(self.folder))
        if self.zygote is not None:
            return self.zygote.spawn(args, env, path)
        with path.open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "frontdesk.cli", *args],
                stdout=log, stderr=log, env=env, stdin=subprocess.DEVNULL,
            )

    async def stop_live(self) -> Proc | None:
        """SIGTERM the live sync once it runs (it installs its handler after start-up)."""
        live, self.live = self.live, None
        if live is not None:
            log = self.live_log
            await _wait_for(lambda: live.poll() is not None
                            or b"sync state" in log.read_bytes(), 60, 0.05)
            live.send_signal(signal.SIGTERM)
        return live

    def crashed_logs(self) -> list[str]:
        """Desk processes that died of an unexpected exception: their log and its end."""
        found = []
        for log in sorted((self.folder / "logs").glob("*.log")):
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                found.append(f"{log.name}: {text[text.rindex('Traceback'):][-1500:]}")
        return found


@dataclass
class RunResult:
    seed: int
    backend: str
    report: checker.Report
    seconds: float
    commands: int = 0
    refused_locally: int = 0
    drain_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok


async def _wait_for(condition: Callable[[], bool], seconds: float, step: float = 0.02) -> bool:
    """Wait until `condition` holds or the deadline passes; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


class Run:
    def __init__(self, env: Environment, schedule: Schedule, workdir: Path) -> None:
        self.env = env
        self.schedule = schedule
        self.workdir = workdir
        self.report = checker.Report()
        self.slots: list[DeskSlot] = []
        self.commands = 0
        self.refused = 0
        self.rng = random.Random(schedule["seed"])

    # -- set-up --------------------------------------------------------------------------
    def _seed(self) -> dict[str, Any]:
        now = datetime.now(UTC) - timedelta(minutes=self.schedule.get("seed_age_min", 0))
        return seeding.seed_demo(self.env.db, members=self.schedule.get("members", 40),
                                 reset=True, now=now)

    async def _open_desks(self, seed: dict[str, Any]) -> None:
        logins: dict[str, TokenPair] = {}
        for index, spec in enumerate(self.schedule["desks"]):
            location = seed["locations"][spec["location"]]["id"]
            folder = self.workdir / f"desk{index}"
            shutil.rmtree(folder, ignore_errors=True)
            (folder / "logs").mkdir(parents=True)
            proxy = self.env.proxies[index]
            slot = DeskSlot(index, folder, proxy, location, float(spec["skew_s"]),
                            bool(spec.get("live")), self.env.zygote)
            slot.replica = Replica(slot.db)
            person = next(s for s in seed["staff"]
                          if s["role"] == "front_desk" and location in s["locations"])
            client = SharedLogin(proxy.url, logins, slot.now)
            _, store = await sign_in(slot.replica, client, folder, tenant=seed["tenant"],
                                     username=person["username"], password=person["password"],
                                     location_id=location, insecure_storage=True)
            slot.engine = SyncEngine(slot.replica, client, store, now=slot.now)
            self.slots.append(slot)
        await asyncio.gather(*(self._sync(s, must=True) for s in self.slots))
        for slot in self.slots:
            view = load_view(slot.db, slot.now())
            for person in view.all("staff"):
                if person["role"] == "manager":
                    slot.staff["manager"] = person["id"]
                if person["role"] == "front_desk" and slot.location in person["location_ids"]:
                    slot.staff["front_desk"] = person["id"]
            if slot.live_wanted:
                slot.live = slot.spawn("sync")

    # -- syncing -------------------------------------------------------------------------
    async def _sync(self, slot: DeskSlot, must: bool = False) -> bool:
        """One in-process sync round; False when the cloud could not be reached."""
        assert slot.engine is not None
        try:
            await slot.engine.sync_once()
            return True
        except Unreachable:
            if must:
                raise HarnessError(f"{slot.name} could not sync with no fault") from None
            return False
        except Exception as exc:
            self.report.fail("sync_errors", f"{slot.name}: {type(exc).__name__}: {exc}")
            return False

    async def _process_done(self, proc: Proc, seconds: float,
                            slot: DeskSlot, allowed: tuple[int, ...]) -> None:
        if not await _wait_for(lambda: proc.poll() is not None, seconds):
            proc.kill()
            proc.wait()
            self.report.fail("desk_processes", f"{slot.name}: {proc.args!r} hung")
            return
        if proc.returncode not in allowed:
            self.report.fail("desk_processes",
                             f"{slot.name}: {proc.args!r} exited {proc.returncode}")

    # -- steps ---------------------------------------------------------------------------
    async def step(self, step: Step) -> None:
        op = step["op"]
        handler: Callable[[Step], Awaitable[None]] = getattr(self, f"_op_{op}")
        await handler(step)

    async def _op_cmd(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        assert slot.replica is not None
        now = slot.now()
        choice = Chooser(load_view(slot.db, now), random.Random(step["pick"])).choose(
            step["kind"])
        if choice is None:
            return
        desk = Desk(slot.replica)
        staff = slot.staff[choice.role]
        try:
            if choice.scan_code is not None:
                outcome = desk.check_in(choice.scan_code, staff, now).outcome
            else:
                outcome = desk.act(choice.name, staff, now, **choice.args).outcome
        except Exception as exc:
            self.report.fail("desk_commands", f"{slot.name} {choice}: {type(exc).__name__}: "
                             f"{exc}")
            return
        self.commands += 1
        self.refused += not outcome.ok

    async def _op_cli(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        chooser = Chooser(load_view(slot.db, slot.now()), random.Random(step["pick"]))
        args = cli_args(step["kind"], chooser)
        if args is None:
            return
        proc = slot.spawn(*args)
        if step.get("kill_ms") is not None:
            started = time.monotonic()
            await _wait_for(lambda: proc.poll() is not None
                            or time.monotonic() - started > step["kill_ms"] / 1000, 30)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        await self._process_done(proc, 60, slot, (0, 1, 2))

    async def _op_sync(self, step: Step) -> None:
        await asyncio.gather(*(self._sync(self.slots[d]) for d in step["desks"]))

    async def _op_idle(self, step: Step) -> None:
        """Time passes with nothing done (an outage that lasts): the schedule's own clock."""
        await asyncio.sleep(step["seconds"])

    async def _op_partition(self, step: Step) -> None:
        for d in step["desks"]:
            self.slots[d].proxy.add("down")
            self.slots[d].proxy.cut_all()

    async def _op_reconnect(self, step: Step) -> None:
        for d in step["desks"]:
            self.slots[d].proxy.clear()

    async def _op_drop_answer(self, step: Step) -> None:
        await self._one_request_fault(step, "drop_answer")

    async def _op_duplicate(self, step: Step) -> None:
        await self._one_request_fault(step, "duplicate")

    async def _op_error500(self, step: Step) -> None:
        await self._one_request_fault(step, "error500")

    async def _one_request_fault(self, step: Step, kind: str) -> None:
        slot = self.slots[step["desk"]]
        slot.proxy.add(kind, step["path"], count=1, skip=step.get("skip", 0))
        await self._sync(slot)
        slot.proxy.discard(kind)

    async def _op_delay(self, step: Step) -> None:
        chosen = [self.slots[d] for d in step["desks"]]
        for slot in chosen:
            slot.proxy.add("delay", "", count=step["count"])
        await asyncio.gather(*(self._sync(s) for s in chosen))
        for slot in chosen:
            slot.proxy.discard("delay")

    async def _op_kill_sync(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        start = slot.proxy.count
        proc = slot.spawn("sync", "--once")
        await _wait_for(lambda: proc.poll() is not None
                        or slot.proxy.count >= start + step["after"], 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    async def _op_kill_sync_after_commit(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        slot.proxy.answered_upstream.clear()
        slot.proxy.add("hold_answer", "/v1/sync/push", count=1)
        proc = slot.spawn("sync", "--once")
        await _wait_for(lambda: proc.poll() is not None
                        or slot.proxy.answered_upstream.is_set(), 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        slot.proxy.cut_held()
        slot.proxy.discard("hold_answer")

    async def _op_kill_live(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        if slot.live is not None:
            slot.live.send_signal(signal.SIGKILL)
            slot.live.wait()
            slot.live = None
        if step.get("restart"):
            slot.live = slot.spawn("sync")

    def _requests(self) -> int:
        return sum(s.proxy.count for s in self.slots)

    async def _cloud(self, action: Callable[[], None]) -> None:
        await asyncio.to_thread(action)

    async def _op_kill_cloud(self, step: Step) -> None:
        start = self._requests()
        syncs = [asyncio.ensure_future(self._sync(s)) for s in self.slots]
        await _wait_for(lambda: all(t.done() for t in syncs)
                        or self._requests() >= start + step["after"], 60)
        await self._cloud(functools.partial(self.env.cloud.stop, kill=True))
        await asyncio.gather(*syncs)
        await self._cloud(self.env.ensure_up)

    async def _op_kill_cloud_after_commit(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        slot.proxy.answered_upstream.clear()
        slot.proxy.add("hold_answer", "/v1/sync/push", count=1)
        task = asyncio.ensure_future(self._sync(slot))
        await _wait_for(lambda: task.done() or slot.proxy.answered_upstream.is_set(), 60)
        await self._cloud(functools.partial(self.env.cloud.stop, kill=True))
        slot.proxy.cut_held()
        await task
        slot.proxy.discard("hold_answer")
        await self._cloud(self.env.ensure_up)

    async def _op_restart_cloud(self, step: Step) -> None:
        await self._cloud(self.env.cloud.stop)
        await self._cloud(self.env.ensure_up)

    async def _op_clock(self, step: Step) -> None:
        slot = self.slots[step["desk"]]
        slot.skew_s = float(step["skew_s"])
        stopped = await slot.stop_live()  # the whole PC's clock moved: its processes too
        if stopped is not None:
            await self._process_done(stopped, 30, slot, (0,))
            slot.live = slot.spawn("sync")

    # -- healing -------------------------------------------------------------------------
    def _pending(self, slot: DeskSlot) -> int:
        import sqlite3

        conn = sqlite3.connect(f"file:{slot.db}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0])
        finally:
            conn.close()

    async def _drain(self, slot: DeskSlot, healed: float) -> float:
        """Seconds from healing until this desk's upload queue is empty."""
        if slot.live is not None and slot.live.poll() is None:
            await _wait_for(lambda: self._pending(slot) == 0, 30, 0.05)
            return time.monotonic() - healed
        syncing = asyncio.ensure_future(self._sync_until_drained(slot, healed))
        await _wait_for(lambda: self._pending(slot) == 0 or syncing.done(), 30, 0.05)
        drained = time.monotonic() - healed  # the push is done; its pulls may go on
        await syncing
        return drained

    async def _sync_until_drained(self, slot: DeskSlot, healed: float) -> None:
        while self._pending(slot) and time.monotonic() - healed < 30:
            if not await self._sync(slot):
                await asyncio.sleep(0.1)

    async def heal(self) -> dict[str, float]:
        for slot in self.slots:
            slot.proxy.reset()
        await self._cloud(self.env.ensure_up)
        healed = time.monotonic()
        times = await asyncio.gather(*(self._drain(s, healed) for s in self.slots))
        drain = {s.name: t for s, t in zip(self.slots, times, strict=True)}
        for slot in self.slots:
            stopped = await slot.stop_live()
            if stopped is not None:
                await self._process_done(stopped, 30, slot, (0,))
        for _round in range(2):  # the second round pulls what the others pushed in the first
            await asyncio.gather(*(self._final_sync(s) for s in self.slots))
        for slot in self.slots:
            crashed = slot.crashed_logs()
            if crashed:
                self.report.fail("desk_processes", f"{slot.name}: tracebacks in {crashed}")
        return drain

    async def _final_sync(self, slot: DeskSlot) -> None:
        if not await self._sync(slot) and not await self._sync(slot):
            self.report.fail("sync_errors", f"{slot.name} cannot sync after healing")

    async def close(self) -> None:
        for slot in self.slots:
            if slot.live is not None:
                slot.live.kill()
                slot.live.wait()
            if slot.engine is not None:
                await slot.engine.client.aclose()
            if slot.replica is not None:
                slot.replica.close()

    # -- the whole run -------------------------------------------------------------------
    async def _execute(self) -> dict[str, float]:
        for proxy in self.env.proxies:
            proxy.reset()
        await self._cloud(self.env.ensure_up)
        seed = await asyncio.to_thread(self._seed)
        await self._open_desks(seed)
        for step in self.schedule["steps"]:
            await self.step(step)
        return await self.heal()

    async def execute(self) -> RunResult:
        started = time.monotonic()
        drain: dict[str, float] = {}
        try:
            drain = await asyncio.wait_for(self._execute(), RUN_DEADLINE_S)
        except TimeoutError:
            self.report.fail("harness", f"the run did not finish within {RUN_DEADLINE_S} s")
        except (HarnessError, Unreachable, DemoError) as exc:  # not a finding: set-up failed
            self.report.fail("harness", f"{type(exc).__name__}: {exc}")
        finally:
            await self.close()
        if "harness" not in self.report.failed:
            cloud = checker.read_cloud(self.env.source, SLUG)
            desks = [checker.read_desk(s.name, s.db) for s in self.slots]
            found = checker.check(cloud, desks, drain)
            for name, details in found.failed.items():
                self.report.failed.setdefault(name, []).extend(details)
        self.report.passed = set(checker.ALL_CHECKS) - set(self.report.failed)
        return RunResult(self.schedule["seed"], self.env.name, self.report,
                         time.monotonic() - started, self.commands, self.refused, drain)


def run_schedule(env: Environment, schedule: Schedule, workdir: Path) -> RunResult:
    """Execute one schedule on fresh databases and check the outcome."""
    workdir.mkdir(parents=True, exist_ok=True)
    with fail_keyring():
        return asyncio.run(Run(env, schedule, workdir).execute())

