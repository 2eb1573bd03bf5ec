"""`make package-test`: the frozen desk in dist/frontdesk, used as a studio would use it.

A cloud runs from the source tree (the cloud is never frozen) with a seeded studio. Two
desks run the frozen program only:

- desk A: its window opens offscreen on a fresh data folder (sign-in screen; the replica
  is created and migrated by the bundled Alembic scripts, in Chinese from the bundled
  catalogue) and closes on SIGTERM; then `login` keeps its sign-in in the OS keyring
  (a private gnome-keyring on a private D-Bus, so keyring must find its backends through
  the bundled entry points); then its window opens signed in and syncs live.
- desk B: the command line only: `login --insecure-storage`, `sync --once`, `sessions`
  (time zones from the bundled tzdata: the system's zoneinfo is hidden), `search` by
  pinyin initials (bundled pypinyin data), `checkin`, `sync --once`, `status`.

Desk A's window must see B's check-in through live sync, log to A's data folder, and exit
0. Prints each step with its time, and the bundle's size. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontdesk import __version__  # noqa: E402
from frontdesk.demo import EmbeddedCloud  # noqa: E402
from frontdesk.local_db.migrate import SCHEMA_HEAD  # noqa: E402

PRIVATE_BUS = "FRONTDESK_SMOKE_PRIVATE_BUS"
KEYRING_PASSWORD = "smoke-test"


class SmokeFailure(Exception):
    """A check failed; the message says which and what was seen."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


@contextmanager
def step(title: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"… {title}", flush=True)
    yield
    print(f"✓ {title} ({time.monotonic() - started:.1f} s)", flush=True)


def wait_for(what: str, probe: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise SmokeFailure(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


@dataclass
class FrozenDesk:
    """One desk (one data folder) run through the frozen `frontdesk` program."""

    exe: Path
    data_dir: Path
    env: dict[str, str]
    window: subprocess.Popen[str] | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "frontdesk.log"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def run(self, *args: str, stdin: str | None = None, expect: int = 0) -> Any:
        done = subprocess.run(
            [str(self.exe), *args, "--json", "--data-dir", str(self.data_dir)],
            input=stdin, capture_output=True, text=True, env=self.env, timeout=120, check=False,
        )
        check(done.returncode == expect,
              f"frontdesk {' '.join(args)} exited {done.returncode}, not {expect}:\n"
              f"{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def open_window(self) -> None:
        self.window = subprocess.Popen(
            [str(self.exe), "--data-dir", str(self.data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env,
        )

    def wait_in_log(self, text: str, seconds: float = 30.0, after: int = 0) -> None:
        def seen() -> bool:
            if self.window is not None and self.window.poll() is not None:
                output = self.window.stdout.read() if self.window.stdout else ""
                raise SmokeFailure(f"the window exited {self.window.returncode}:\n{output}")
            return text in self.log()[after:]

        wait_for(f"{text!r} in {self.log_path}", seen, seconds)

    def close_window(self) -> str:
        """SIGTERM, as at log-out; the window must close cleanly with exit code 0."""
        assert self.window is not None
        self.window.send_signal(signal.SIGTERM)
        try:
            output, _ = self.window.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.window.kill()
            output, _ = self.window.communicate()
            raise SmokeFailure(f"the window did not close on SIGTERM:\n{output}") from None
        code, self.window = self.window.returncode, None
        check(code == 0, f"the window exited {code} on SIGTERM:\n{output}")
        check("Traceback" not in output and "unexpected error" not in self.log(),
              f"the window logged an error:\n{output}\n{self.log()}")
        return output

    def schema_revision(self) -> str | None:
        conn = sqlite3.connect(self.data_dir / "replica.db")
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
        return row[0] if row else None


@contextmanager
def keyring_daemon(home: Path, env: dict[str, str]) -> Iterator[bool]:
    """A gnome-keyring with an unlocked login keyring in `home`, on this private bus."""
    daemon = shutil.which("gnome-keyring-daemon")
    if not daemon or os.environ.get(PRIVATE_BUS) != "1":
        yield False
        return
    process = subprocess.Popen(
        [daemon, "--foreground", "--components=secrets", "--unlock"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        text=True, env=env,
    )
    assert process.stdin is not None
    process.stdin.write(KEYRING_PASSWORD)
    process.stdin.close()
    try:
        wait_for("the Secret Service on the private bus", _secret_service_up, 15)
        yield True
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def xvfb() -> Iterator[str | None]:
    """A private X server on a free display number, when Xvfb is installed."""
    binary = shutil.which("Xvfb")
    if binary is None:
        yield None
        return
    read, write = os.pipe()
    server = subprocess.Popen(
        [binary, "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as answer:
            number = answer.readline().strip()
        check(number.isdigit(), "Xvfb did not say which display it took")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def _secret_service_up() -> bool:
    """Our daemon owns the Secret Service name (not merely activatable by the bus)."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(message_bus.NameHasOwner("org.freedesktop.secrets"))
    return bool(reply.body[0])


def pinyin_initials(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def executable(bundle: Path) -> Path:
    return bundle / ("frontdesk.exe" if os.name == "nt" else "frontdesk")


def smoke(bundle: Path, work: Path) -> None:
    exe = executable(bundle)
    size, files = folder_size(bundle)
    print(f"bundle: {bundle} — {size / 2**20:.0f} MiB in {files} files")

    home = work / "home"
    home.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "LC_", "QT_", "XDG_"))}
    env.update({
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "zh_CN.UTF-8",  # the window in Chinese, from the bundled catalogue
        "PYTHONTZPATH": "",  # no system zoneinfo: time zones must come from bundled tzdata
        "FRONTDESK_LOG": "INFO",
    })

    with step("the frozen program answers --version"):
        done = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        check(done.stdout.strip() == f"frontdesk {__version__}",
              f"--version said {done.stdout!r} {done.stderr!r}")

    cloud = EmbeddedCloud(work / "cloud")
    with step("a cloud from the source tree, with a seeded studio"):
        seed = cloud.prepare(members=40)
        cloud.start()
    try:
        with keyring_daemon(home, env) as have_keyring:
            run_desks(exe, work, env, cloud, seed, have_keyring)
    finally:
        cloud.stop()
    if sys.platform.startswith("linux"):
        linux_packages(bundle.parent, work, env)
    print(f"PASS: frozen desk {__version__}, {size / 2**20:.0f} MiB in {files} files")


def run_desks(exe: Path, work: Path, env: dict[str, str], cloud: EmbeddedCloud,
              seed: dict[str, Any], have_keyring: bool) -> None:
    session = next((s for s in seed["checkin_open_sessions"]
                    if any(loc["id"] == s["location"] and loc["timezone"] == "Asia/Shanghai"
                           for loc in seed["locations"])), seed["checkin_open_sessions"][0])
    location = session["location"]
    here = [s for s in seed["staff"] if location in s["locations"]]
    staff_a = next(s for s in here if s["role"] == "front_desk")
    staff_b = next(s for s in here if s["role"] in ("manager", "owner") and s is not staff_a)
    desk_a = FrozenDesk(exe, work / "desk-a", env)
    desk_b = FrozenDesk(exe, work / "desk-b", env)

    with step("desk A's window opens on a fresh data folder and closes on SIGTERM"):
        desk_a.open_window()
        desk_a.wait_in_log("window shown (not signed in)", 60)
        desk_a.close_window()
        check(desk_a.schema_revision() == SCHEMA_HEAD,
              f"the fresh replica is at {desk_a.schema_revision()}, not {SCHEMA_HEAD}")
        log = desk_a.log()
        check(f"Running upgrade 0002 -> {SCHEMA_HEAD}" in log or SCHEMA_HEAD == "0001",
              f"the log shows no migration by the bundled scripts:\n{log}")
        check("FrontDesk closed" in log, f"the log does not show a clean close:\n{log}")

    with xvfb() as display:
        if display is None:
            print("  note: no Xvfb here: the xcb platform plugin was not exercised")
        else:
            with step(f"desk A's window opens on X11 (xcb plugin, Xvfb {display})"):
                x_desk = FrozenDesk(exe, desk_a.data_dir,
                                    {**env, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display})
                mark = len(desk_a.log())
                x_desk.open_window()
                x_desk.wait_in_log("window shown (not signed in)", 60, after=mark)
                x_desk.close_window()

    login = ("login", "--server", cloud.url, "--tenant", seed["tenant"], "--location", location,
             "--password-stdin")
    with step("desk A signs in" + (" (sign-in kept in the OS keyring)" if have_keyring else "")):
        signed = desk_a.run(*login, "--user", staff_a["username"],
                            *(() if have_keyring else ("--insecure-storage",)),
                            stdin=staff_a["password"] + "\n")
        expected = "keyring" if have_keyring else "file"
        check(signed["credential_storage"] == expected,
              f"desk A keeps its sign-in in {signed['credential_storage']}, not {expected} "
              "(are keyring's backends and entry points in the bundle?)")
        if not have_keyring:
            print("  note: no gnome-keyring-daemon or dbus-run-session here: the bundled "
                  "keyring backends were not exercised")

    with step("desk A's window opens signed in and syncs live"):
        mark = len(desk_a.log())
        desk_a.open_window()
        desk_a.wait_in_log(f"window shown ({location})", 60, after=mark)
        desk_a.wait_in_log("synced at", 60, after=mark)
        synced_once = len(desk_a.log())

    with step("desk B: sign in, sync, sessions, pinyin search, check-in, push (CLI only)"):
        desk_b.run(*login, "--user", staff_b["username"], "--insecure-storage",
                   stdin=staff_b["password"] + "\n")
        desk_b.run("sync", "--once")
        sessions = desk_b.run("sessions")
        check(any(s["id"] == session["id"] for s in sessions),
              f"desk B's sessions today miss {session['id']}: {sessions}")
        check(all(s["start"][-6] in "+-" for s in sessions),
              f"session times carry no UTC offset: {sessions[:1]}")
        roster = desk_b.run("roster", session["id"])
        member = next(r for r in roster if r["member_id"] in session["booked_members"]
                      and r["status"] == "booked")
        chinese = next((r for r in roster if any("\u4e00" <= ch <= "\u9fff"
                                                 for ch in r["member_name"])), None)
        if chinese is not None:
            initials = pinyin_initials(chinese["member_name"])
            found = desk_b.run("search", initials, "--limit", "200")
            check(any(f["member_id"] == chinese["member_id"] for f in found),
                  f"search {initials!r} did not find {chinese['member_name']}: {found[:3]}")
        else:
            print("  note: no member with a Chinese name on this roster: pinyin not checked")
        desk_b.run("checkin", member["member_id"], "--session", session["id"])
        desk_b.run("sync", "--once")
        status = desk_b.run("status")
        check(status["pending"] == 0 and status["online"] and status["last_sync"],
              f"desk B after sync: {status}")

    with step("desk A's window gets B's check-in live, then closes on SIGTERM"):
        def checked_in_on_a() -> bool:
            rows = desk_a.run("roster", session["id"])
            return any(r["member_id"] == member["member_id"] and r["status"] == "checked_in"
                       for r in rows)

        wait_for("B's check-in on desk A", checked_in_on_a, 30)
        check(len(desk_a.log()) >= synced_once, "desk A's log shrank")
        desk_a.close_window()
        status = desk_a.run("status")
        check(status["last_sync"] and status["pending"] == 0, f"desk A after close: {status}")
        expected = "keyring" if have_keyring else "file"
        check(status["credential_storage"] == expected, f"desk A's status: {status}")

    with step("desk A's log is in its data folder"):
        log = desk_a.log()
        for line in ("starting; data folder", "window shown", "online", "synced at",
                     "FrontDesk closed"):
            check(line in log, f"{desk_a.log_path} has no {line!r}:\n{log}")
        print(f"  {desk_a.log_path}: {len(log.splitlines())} lines")

    with step("the frozen demo says it needs a source checkout"):
        desk_b.run("demo", expect=2)


def linux_packages(dist: Path, work: Path, env: dict[str, str]) -> None:
    """The tarball and .deb of installers/linux/build.sh, unpacked and run (not installed)."""
    tarballs = sorted(dist.glob(f"frontdesk-{__version__}-linux-*.tar.gz"))
    debs = sorted(dist.glob(f"frontdesk_{__version__}_*.deb"))
    if not tarballs and not debs:
        print("  note: no Linux tarball or .deb in dist/ (installers/linux/build.sh)")
        return

    def answers(exe: Path) -> None:
        done = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        check(done.stdout.strip() == f"frontdesk {__version__}",
              f"{exe} --version said {done.stdout!r} {done.stderr!r}")

    for tarball in tarballs:
        with step(f"{tarball.name} unpacks and runs"):
            target = work / "tarball"
            target.mkdir()
            with tarfile.open(tarball) as archive:
                archive.extractall(target, filter="tar")
            folder = target / f"frontdesk-{__version__}"
            answers(folder / "frontdesk")
            for name in ("frontdesk.desktop", "frontdesk.png"):
                check((folder / name).exists(), f"{tarball.name} has no {name}")
    for deb in debs:
        with step(f"{deb.name} holds the bundle, a command and a menu entry"):
            fields = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version"],
                                    capture_output=True, text=True, check=True).stdout
            check(f"Version: {__version__}" in fields, f"{deb.name} fields: {fields}")
            target = work / "deb"
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
            answers(target / "opt" / "frontdesk" / "frontdesk")
            link = target / "usr" / "bin" / "frontdesk"
            check(link.is_symlink() and os.readlink(link) == "/opt/frontdesk/frontdesk",
                  f"{deb.name}: /usr/bin/frontdesk is not a link to /opt/frontdesk/frontdesk")
            for path in ("usr/share/applications/frontdesk.desktop",
                         "usr/share/icons/hicolor/256x256/apps/frontdesk.png"):
                check((target / path).exists(), f"{deb.name} has no /{path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?", default=ROOT / "dist" / "frontdesk")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if (os.environ.get(PRIVATE_BUS) != "1" and shutil.which("dbus-run-session")
            and shutil.which("gnome-keyring-daemon")):
        # A private session bus, so the test's keyring never touches the user's own.
        os.environ[PRIVATE_BUS] = "1"
        os.execvp("dbus-run-session", ["dbus-run-session", "--", sys.executable, *sys.argv])
    if not executable(args.bundle).exists():
        print(f"FAIL: no frozen desk at {executable(args.bundle)}: run `make package` first",
              file=sys.stderr)
        return 1
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="frontdesk-package-test-"))
    try:
        smoke(args.bundle.resolve(), work)
    except SmokeFailure as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        print(f"work folder kept: {work}", file=sys.stderr)
        return 1
    print(f"package-test took {time.monotonic() - started:.0f} s")
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
