"""`export`: documented CSV files of the desk's data that our own import reads back."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from frontdesk.domain.model import Member, Role
from frontdesk.local_db import EffectiveReader
from frontdesk.local_db.export import export_all
from frontdesk.local_db.imports import import_members
from tests.imports.conftest import ImportStudio
from tests.replica_fixture import load_replica


def busy_studio() -> tuple[ImportStudio, dict[str, Member]]:
    """Members with every field, a pass sold, a class attended, one booking cancelled."""
    studio = ImportStudio()
    people = {
        "wang": studio.member("王芳", phone="13800000011", email="wang@example.cn",
                              card_code="A1001", birthday=date(1992, 5, 17),
                              notes="怕冷, \"请\" 关空调\n第二行", tier="金卡"),
        "olivia": studio.member("Olivia Harper", phone="+8613910000001", card_code="FD-0001"),
        "ken": studio.member("Ken Sato", credits=0),
    }
    session = studio.session(start=studio.now + timedelta(minutes=30))
    later = studio.session(start=studio.now + timedelta(days=2))
    studio.run("check_in", member_id=people["wang"].id, session_id=session.id)
    booked = studio.run("book", member_id=people["olivia"].id, session_id=later.id)
    studio.run("cancel_booking", booking_id=booked.outcome.subject_id)
    studio.run("sell", member_id=people["ken"].id, plan_id=studio.pack.id, method="wechat_pay")
    return studio, people


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_file_holds_its_rows(tmp_path: Path) -> None:
    studio, _ = busy_studio()
    replica = load_replica(tmp_path / "a.db", studio)
    written = export_all(replica, tmp_path / "out")
    replica.close()

    assert {w.path.name: w.rows for w in written} == {
        "members.csv": 3, "entitlements.csv": 3, "attendance.csv": 1, "bookings.csv": 2,
        "sales.csv": 1, "README.txt": 0}
    members = {m["name"]: m for m in read(tmp_path / "out" / "members.csv")}
    assert members["王芳"]["notes"] == '怕冷, "请" 关空调\n第二行'
    assert members["王芳"]["birthday"] == "1992-05-17"
    [attended] = read(tmp_path / "out" / "attendance.csv")
    assert (attended["member_name"], attended["status"], attended["class_name"]) == (
        "王芳", "checked_in", "Yoga")
    assert attended["start"] == "2026-12-03T09:30:00+08:00"
    assert {b["status"] for b in read(tmp_path / "out" / "bookings.csv")} == {
        "checked_in", "cancelled"}
    [sale] = read(tmp_path / "out" / "sales.csv")
    assert (sale["member_name"], sale["amount"], sale["currency"], sale["method"]) == (
        "Ken Sato", "800.00", "CNY", "wechat_pay")
    passes = {e["member_name"]: e for e in read(tmp_path / "out" / "entitlements.csv")}
    assert (passes["Ken Sato"]["credits_left"], passes["Ken Sato"]["stored_value"]) == ("10", "")


def test_the_readme_documents_every_column(tmp_path: Path) -> None:
    studio, _ = busy_studio()
    replica = load_replica(tmp_path / "a.db", studio)
    export_all(replica, tmp_path / "out")
    replica.close()
    readme = (tmp_path / "out" / "README.txt").read_bytes().decode("utf-8-sig")
    for name in ("members", "entitlements", "attendance", "bookings", "sales"):
        path = tmp_path / "out" / f"{name}.csv"
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Chinese right
        assert f"\r\n{name}.csv\r\n" in readme
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
        section = readme.split(f"\r\n{name}.csv\r\n", 1)[1].split("\r\n\r\n", 2)[1]
        documented = [line.split()[0] for line in section.splitlines() if line.strip()]
        assert documented == header, name


def test_members_csv_reads_back_into_another_studio(tmp_path: Path) -> None:
    studio, _ = busy_studio()
    source = load_replica(tmp_path / "a.db", studio)
    export_all(source, tmp_path / "out")

    fresh = ImportStudio()
    target = load_replica(tmp_path / "b.db", fresh, role=Role.MANAGER)
    report = import_members(target, tmp_path / "out" / "members.csv",
                            staff_id=fresh.staff[Role.MANAGER].id, now=fresh.now, apply=True)

    doc = report.document()
    assert (doc["created"], doc["refused"]) == (3, 0)
    assert doc["mapping"] == {"member_id": "member_id", "name": "name", "phone": "phone",
                              "email": "email",
                              "card_code": "card_code", "birthday": "birthday",
                              "tier": "tier", "notes": "notes"}

    def people(replica: object) -> set[tuple[object, ...]]:
        with replica.read() as conn:  # type: ignore[attr-defined]
            members = EffectiveReader(conn).all_of(Member, "partition", "members")
        return {(m.name, m.phone, m.email, m.card_code, m.birthday, m.tier, m.notes)
                for m in members}

    assert people(target) == people(source)
    again = import_members(source, tmp_path / "out" / "members.csv",
                           staff_id=studio.staff[Role.MANAGER].id, now=studio.now,
                           apply=False).document()
    assert {r["code"] for r in again["rows"]} == {"duplicate_member"}
    source.close()
    target.close()
