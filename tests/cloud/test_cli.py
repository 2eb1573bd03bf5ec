"""`frontdesk-cloud`: migrate, seed-demo, configure/export-config, admin commands."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from frontdesk.domain.model import (
    HOLDS_SPOT,
    AlertCode,
    Booking,
    BookingStatus,
    Entitlement,
    EntitlementKind,
    LedgerEntry,
    Member,
    Policy,
    Role,
    Sale,
    Session,
)
from frontdesk.domain.rules import member_alerts
from frontdesk.protocol import PullResponse, from_json
from frontdesk_cloud.cli import main
from frontdesk_cloud.store import TenantStore, find_tenant
from tests.cloud.studio import Backend, Clock, app_for, bearer

ROLES = {"owner", "manager", "front_desk", "coach", "kiosk"}


def cloud(url: str, *args: str, stdin: str = "", capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sqlite_url(tmp_path: Path, capsys: pytest.CaptureFixture[str],
               monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert cloud(url, "migrate", capsys=capsys, monkeypatch=monkeypatch)[0] == 0
    return url


def test_seed_demo_json_and_a_class_ready_for_check_in(
    fresh_backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_backend.url
    code, out, err = cloud(url, "seed-demo", "--members", "80", "--json", capsys=capsys,
                           monkeypatch=monkeypatch)
    assert code == 0, err
    doc = json.loads(out)  # stdout holds exactly one JSON document
    assert set(doc) == {"tenant", "date", "staff", "locations", "checkin_open_sessions"}
    assert doc["tenant"] == "demo"
    assert {s["role"] for s in doc["staff"]} == ROLES
    for person in doc["staff"]:
        assert set(person) == {"username", "password", "pin", "role", "locations"}
    assert {loc["timezone"] for loc in doc["locations"]} == {"Asia/Shanghai",
                                                             "America/New_York"}
    assert {s["location"] for s in doc["checkin_open_sessions"]} == {
        loc["id"] for loc in doc["locations"]}
    again = cloud(url, "seed-demo", "--members", "0", capsys=capsys, monkeypatch=monkeypatch)
    assert again[0] == 2 and "--reset" in again[2]
    _check_in_everyone(fresh_backend, doc)
    _check_consistency(fresh_backend, date.fromisoformat(doc["date"]))


def _check_in_everyone(backend: Backend, doc: dict[str, Any]) -> None:
    """Every booked member of each open class checks in cleanly through the API."""
    with TestClient(app_for(backend, Clock())) as client:
        for session in doc["checkin_open_sessions"]:
            assert len(session["booked_members"]) >= 10
            desk_staff = next(s for s in doc["staff"] if s["role"] == "front_desk"
                              and session["location"] in s["locations"])
            pair = client.post("/v1/auth/login", json={
                "tenant": "demo", "username": desk_staff["username"],
                "password": desk_staff["password"]}).json()
            device = client.post("/v1/devices", json={"name": "Front desk",
                                                      "location_id": session["location"]},
                                 headers=bearer(pair["access_token"])).json()
            commands = [{"command_id": f"c{n}", "seq": n, "name": "check_in", "version": 1,
                         "args": {"member_id": m, "session_id": session["id"]},
                         "staff_id": pair["staff_id"], "location_id": session["location"],
                         "happened_at": doc_now()}
                        for n, m in enumerate(session["booked_members"], start=1)]
            answer = client.post("/v1/sync/push", json={"client_id": device["client_id"],
                                                        "commands": commands},
                                 headers=bearer(device["access_token"]))
            assert answer.status_code == 200, answer.text
            for outcome in answer.json()["outcomes"]:
                assert (outcome["status"], outcome["code"], outcome["warnings"]) == (
                    "applied", "ok", []), outcome
            pulled = client.post("/v1/sync/pull", json={"partitions": [{"name": "members"}]},
                                 headers=bearer(device["access_token"]))
            from_json(PullResponse, pulled.json())


def doc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _check_consistency(backend: Backend, day: date) -> None:
    with backend.db.transaction() as conn:
        tenant = find_tenant(conn, "demo")
    assert tenant is not None
    with backend.db.transaction(tenant.id) as conn:
        store = TenantStore(conn, tenant.id)
        ledger = Counter[str]()
        for entry in store.all(LedgerEntry):
            ledger[entry.entitlement_id] += entry.delta
        for ent in store.all(Entitlement):
            assert ledger[ent.id] == ent.balance, ent
            assert ent.balance >= 0
        bookings = store.all(Booking)
        sessions = {s.id: s for s in store.all(Session)}
        members = store.all(Member)
        passes = store.all(Entitlement)
        sales = store.all(Sale)
    _check_mix(members, passes, sales, day)
    by_session: dict[str, list[Booking]] = {}
    for booking in bookings:
        by_session.setdefault(booking.session_id, []).append(booking)
    assert len(sessions) >= 2 * 22 * 4
    for session_id, held in by_session.items():
        assert sum(b.status in HOLDS_SPOT for b in held) <= sessions[session_id].capacity
        queue = sorted(b.waitlist_position or 0 for b in held
                       if b.status is BookingStatus.WAITLISTED)
        assert queue == list(range(1, len(queue) + 1))
    assert Counter(b.status for b in bookings).keys() >= {
        BookingStatus.CHECKED_IN, BookingStatus.BOOKED, BookingStatus.NO_SHOW}


def _check_mix(members: list[Member], passes: list[Entitlement], sales: list[Sale],
               day: date) -> None:
    """Chinese and English names; valid, expiring, low-credit, unpaid and expired passes."""
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in m.name) for m in members)
    assert any(m.name.isascii() for m in members)
    by_member: dict[str, list[Entitlement]] = {}
    for ent in passes:
        by_member.setdefault(ent.member_id, []).append(ent)
    unpaid = {s.member_id for s in sales if not s.paid}
    seen: set[AlertCode] = set()
    for member in members:
        owed = [s for s in sales if s.member_id == member.id and s.member_id in unpaid
                and not s.paid]
        alerts = member_alerts(member, by_member.get(member.id, []), owed, day, Policy())
        seen.update(a.code for a in alerts)
    assert seen >= {AlertCode.EXPIRING_SOON, AlertCode.LOW_CREDITS, AlertCode.UNPAID,
                    AlertCode.EXPIRED, AlertCode.NO_VALID_ENTITLEMENT}
    assert {e.kind for e in passes} == set(EntitlementKind)


def test_seed_reset_and_the_settings_file_round_trip(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        return cloud(sqlite_url, *args, capsys=capsys, monkeypatch=monkeypatch)

    code, out, _ = run("seed-demo", "--members", "0", "--json", "--date", "2026-03-08")
    assert code == 0
    doc = json.loads(out)
    assert doc["date"] == "2026-03-08" and doc["checkin_open_sessions"] == []
    code, out, _ = run("seed-demo", "--members", "0", "--reset", "--json")
    assert code == 0 and json.loads(out)["locations"] != doc["locations"]
    code, exported, _ = run("export-config", "demo")
    assert code == 0
    path = tmp_path / "studio.toml"
    path.write_text(exported, encoding="utf-8")
    assert run("configure", "demo", str(path)) == (0, "", "demo: 0 settings rows changed\n")
    edited = exported.replace("cancel_window_minutes = 720", "cancel_window_minutes = 240")
    edited += ('\n[[plans]]\nname = "Trial week"\nkind = "membership"\nprice_cents = 9900\n'
               'validity_days = 7\n\n[[staff]]\nname = "New Hire"\nusername = "new-hire"\n'
               'role = "front_desk"\npin = "4321"\npassword = "welcome-2026"\n')
    path.write_text(edited, encoding="utf-8")
    assert run("configure", "demo", str(path))[0] == 0
    code, second, _ = run("export-config", "demo")
    assert "cancel_window_minutes = 240" in second and 'name = "Trial week"' in second
    assert 'username = "new-hire"' in second and "password" not in second
    path.write_text(second, encoding="utf-8")
    assert run("configure", "demo", str(path))[2] == "demo: 0 settings rows changed\n"
    assert run("export-config", "demo")[1] == second
    # The new staff member can sign in with the password from the file.
    with TestClient(app_for(_backend(sqlite_url), Clock())) as client:
        assert client.post("/v1/auth/login", json={"tenant": "demo", "username": "new-hire",
                                                    "password": "welcome-2026"}).status_code == 200


def _backend(url: str) -> Backend:
    from frontdesk_cloud.db import Database

    return Backend("sqlite", url, url, Database.open(url))


BAD = """\
[studio]
name = "Bad Studio"

[policy]
cancel_window_minutes = "soon"
late_cancel_penalty = "flogging"
surprise = 1

[[locations]]
name = "Main"
timezone = "Mars/Olympus"

[[rooms]]
location = "Nowhere"
name = "Hall"
capacity = -3

[[staff]]
name = "Pat"
username = "pat"
role = "janitor"
pin = 1234
"""


def test_configure_reports_every_problem_with_its_line(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud(sqlite_url, "create-tenant", "bad", capsys=capsys,
                 monkeypatch=monkeypatch)[0] == 0
    path = tmp_path / "bad.toml"
    path.write_text(BAD, encoding="utf-8")
    code, _, err = cloud(sqlite_url, "configure", "bad", str(path), capsys=capsys,
                         monkeypatch=monkeypatch)
    assert code == 2
    lines = {line.split(": ")[1]: line for line in err.strip().splitlines()[1:]}
    expected = {
        "policy.cancel_window_minutes": 5, "policy.late_cancel_penalty": 6,
        "policy.surprise": 7, "locations[1].timezone": 11, "rooms[1].location": 14,
        "rooms[1].capacity": 16, "staff[1].role": 21, "staff[1].pin": 22,
    }
    assert err.startswith("frontdesk-cloud: ")
    first = err.strip().splitlines()[0].removeprefix("frontdesk-cloud: ")
    lines[first.split(": ")[1]] = first
    for where, line in expected.items():
        assert lines[where].startswith(f"{path}:{line}: {where}: "), (where, lines.get(where))
    path.write_text('[studio\nname = "x"\n', encoding="utf-8")
    code, _, err = cloud(sqlite_url, "configure", "bad", str(path), capsys=capsys,
                         monkeypatch=monkeypatch)
    assert code == 2 and f"{path}:1: not valid TOML" in err
    missing = cloud(sqlite_url, "configure", "bad", str(tmp_path / "none.toml"), capsys=capsys,
                    monkeypatch=monkeypatch)
    assert missing[0] == 2 and "cannot read" in missing[2]


def test_admin_commands(sqlite_url: str, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        return cloud(sqlite_url, *args, stdin=stdin, capsys=capsys, monkeypatch=monkeypatch)

    code, out, _ = run("create-tenant", "yoga-one", "--name", "Yoga One", "--json")
    assert code == 0 and json.loads(out)["tenant"] == "yoga-one"
    assert run("create-tenant", "yoga-one")[0] == 2
    assert run("create-tenant", "Not A Slug")[0] == 2
    code, out, err = run("create-staff", "yoga-one", "boss", "--role", "owner", "--pin", "2468",
                         "--json", "--password-stdin", stdin="long-enough-password\n")
    assert code == 0, err
    assert json.loads(out)["role"] == "owner"
    assert run("create-staff", "yoga-one", "boss", "--role", "owner", "--password-stdin",
               stdin="long-enough-password\n")[0] == 2  # username taken
    assert run("create-staff", "yoga-one", "shorty", "--role", "coach", "--password-stdin",
               stdin="short\n")[0] == 2
    assert run("create-staff", "nope", "x", "--role", "coach", "--password-stdin",
               stdin="long-enough-pw\n")[0] == 2
    with pytest.raises(SystemExit) as usage:
        run("create-staff", "yoga-one", "x", "--role", "wizard")
    assert usage.value.code == 2
    with TestClient(app_for(_backend(sqlite_url), Clock())) as client:
        pair = client.post("/v1/auth/login", json={"tenant": "yoga-one", "username": "boss",
                                                   "password": "long-enough-password"}).json()
        assert pair["role"] == "owner"
    assert run("revoke-device", "yoga-one", "no-such-device")[0] == 2


def test_bad_database_urls_and_unmigrated_databases(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = cloud("mysql://x/y", "migrate", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and "sqlite:///PATH" in err
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    code, _, err = cloud(empty, "seed-demo", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1 and "migrate" in err


def test_the_installed_entry_point(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("frontdesk-cloud")
    shown = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "seed-demo" in shown.stdout
    wrong = subprocess.run([str(exe), "frobnicate"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
    url = f"sqlite:///{tmp_path / 'entry.sqlite'}"
    migrated = subprocess.run([str(exe), "--database-url", url, "migrate"], capture_output=True,
                              text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr


def test_roles_in_the_demo_are_real_roles() -> None:
    assert {r.value for r in Role} == ROLES
