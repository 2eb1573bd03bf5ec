"""Imports on a desk replica: dry run vs apply, chunks in the outbox, resuming, refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from frontdesk.domain.model import Entitlement, Member, Role, Session
from frontdesk.local_db import EffectiveReader, Replica, Views
from frontdesk.local_db.imports import ImportRefused, import_members, import_schedule
from tests.imports.conftest import MEMBERS, SCHEDULES, ImportStudio, outbox
from tests.replica_fixture import load_replica, push_server_state


def members_csv(tmp_path: Path, count: int, name: str = "many.csv") -> Path:
    lines = ["Name,Phone,Card code"] + [
        f"Member {n:03d},1390000{n:04d},M-{n:03d}" for n in range(1, count + 1)
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(replica: Replica, studio: ImportStudio, manager: str, path: Path, apply: bool,
        **options: Any) -> dict[str, Any]:
    report = import_members(replica, path, staff_id=manager, now=studio.now, apply=apply,
                            **options)
    doc: dict[str, Any] = report.document()
    return doc


def members_in(replica: Replica) -> dict[str, Member]:
    with replica.read() as conn:
        return {m.name: m for m in EffectiveReader(conn).all_of(Member, "partition", "members")}


def test_the_report_has_the_contract_shape(replica: Replica, studio: ImportStudio,
                                           manager: str) -> None:
    doc = run(replica, studio, manager, MEMBERS / "scientific.csv", apply=False)
    assert list(doc) == ["created", "changed", "refused", "mapping", "rows", "notes"]
    assert (doc["created"], doc["changed"], doc["refused"]) == (1, 0, 2)
    assert doc["mapping"] == {"Name": "name", "Phone": "phone", "Card code": "card_code"}
    assert [list(r) for r in doc["rows"]] == [["row", "action", "code", "reason", "name"]] * 3
    assert [(r["row"], r["action"], r["code"]) for r in doc["rows"]] == [
        (1, "refuse", "spreadsheet_number"), (2, "refuse", "spreadsheet_number"),
        (3, "create", None)]


def test_a_dry_run_changes_nothing_and_applying_queues_the_same_answer(
    replica: Replica, studio: ImportStudio, manager: str
) -> None:
    dry = run(replica, studio, manager, MEMBERS / "gbk_excel.csv", apply=False)
    assert outbox(replica) == [] and "李娜" not in members_in(replica)

    applied = run(replica, studio, manager, MEMBERS / "gbk_excel.csv", apply=True)

    assert applied["rows"] == dry["rows"]
    assert applied["created"] == 4
    assert outbox(replica) == [(1, "import_members")]
    assert any("is in: queued for the cloud as command #1" in n for n in applied["notes"])
    members = members_in(replica)
    assert members["李娜"].card_code == "B2001" and members["李娜"].notes == "怕冷，请关空调"
    card = Views(replica).member_card(members["李娜"].id, date(2026, 12, 3))
    assert card is not None
    assert [(e.name, e.balance, e.valid_until) for e in card.entitlements] == [
        ("次卡20次", 12, date(2027, 5, 1))]
    assert Views(replica).search("13700000022", date(2026, 12, 3))[0].name == "张伟"


def test_large_files_go_in_chunks_and_resume(replica: Replica, studio: ImportStudio,
                                             manager: str, tmp_path: Path) -> None:
    path = members_csv(tmp_path, 5)
    first = run(replica, studio, manager, path, apply=True, chunk_rows=2)
    assert outbox(replica) == [(1, "import_members"), (2, "import_members"),
                               (3, "import_members")]
    assert first["created"] == 5
    assert any("3 parts of up to 2 rows" in n for n in first["notes"])
    assert any("Part 3 of 3 (rows 5–5) is in" in n for n in first["notes"])

    bigger = members_csv(tmp_path, 7, "bigger.csv")
    again = run(replica, studio, manager, bigger, apply=True, chunk_rows=2)
    assert again["created"] == 2
    assert {r["code"] for r in again["rows"] if r["action"] == "refuse"} == {"duplicate_member"}
    assert [r["row"] for r in again["rows"] if r["action"] == "create"] == [6, 7]
    assert len(outbox(replica)) == 4
    assert len(members_in(replica)) == 7 + len(studio.state.all(Member))


def test_a_chunk_refused_at_apply_time_reports_its_rows(
    replica: Replica, studio: ImportStudio, manager: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = members_csv(tmp_path, 4)
    record = Replica.record

    def someone_else_adds_a_card_first(self: Replica, name: str, args: dict[str, Any],
                                       **kw: Any) -> Any:
        if name == "import_members" and args["members"][0]["row"] == 3:
            record(self, "add_member", {"name": "Quick Guest", "card_code": "M-004"}, **kw)
        return record(self, name, args, **kw)

    monkeypatch.setattr(Replica, "record", someone_else_adds_a_card_first)
    doc = run(replica, studio, manager, path, apply=True, chunk_rows=2)

    assert [(r["row"], r["action"], r["code"]) for r in doc["rows"]] == [
        (1, "create", None), (2, "create", None),
        (3, "refuse", "duplicate_member"), (4, "refuse", "duplicate_member")]
    reasons = {r["row"]: r["reason"] for r in doc["rows"]}
    assert reasons[4].startswith("Card M-004 already belongs to Quick Guest.")
    assert "row 4 was refused" in reasons[3]
    assert any("Part 2 of 2 (rows 3–4) is not in" in n for n in doc["notes"])
    assert "Member 003" not in members_in(replica)


def test_front_desk_staff_cannot_import(tmp_path: Path, studio: ImportStudio) -> None:
    replica = load_replica(tmp_path / "desk.db", studio)
    try:
        with pytest.raises(ImportRefused) as caught:
            import_members(replica, MEMBERS / "utf8.csv", staff_id=studio.staff[Role.FRONT_DESK].id,
                           now=studio.now, apply=False)
        assert caught.value.outcome.code == "not_allowed"
        assert outbox(replica) == []
    finally:
        replica.close()


def test_a_mapping_file_is_used(replica: Replica, studio: ImportStudio, manager: str) -> None:
    doc = run(replica, studio, manager, MEMBERS / "custom_headers.csv", apply=True,
              mapping=MEMBERS / "custom_mapping.toml")
    assert doc["created"] == 2
    assert doc["mapping"]["Celular"] == "phone"
    xavier = members_in(replica)["Xavier Mora"]
    with replica.read() as conn:
        [ent] = EffectiveReader(conn).find(Entitlement, "member_id", xavier.id)
    assert (ent.plan_id, ent.balance, ent.valid_until) == (studio.pack.id, 6, date(2027, 3, 31))


def schedule(replica: Replica, studio: ImportStudio, manager: str, name: str, apply: bool,
             **options: Any) -> dict[str, Any]:
    report = import_schedule(replica, SCHEDULES / name, staff_id=manager, now=studio.now,
                             apply=apply, **options)
    doc: dict[str, Any] = report.document()
    return doc


def test_a_schedule_is_imported_and_shown_and_not_twice(
    replica: Replica, studio: ImportStudio, manager: str
) -> None:
    dry = schedule(replica, studio, manager, "weekly_exdate_rdate.ics", apply=False)
    assert list(dry["rows"][0]) == ["row", "action", "code", "reason", "name", "start"]
    assert dry["created"] == 6 and outbox(replica) == []

    doc = schedule(replica, studio, manager, "weekly_exdate_rdate.ics", apply=True)

    assert doc["rows"] == dry["rows"]
    assert outbox(replica) == [(1, "import_schedule")]
    [line] = Views(replica).sessions_on(date(2026, 12, 7))
    assert (line.session.class_name, line.session.coach_name, line.session.room_name) == (
        "Vinyasa Yoga", "李娜", "Studio A")
    assert line.start_local.isoformat() == "2026-12-07T19:00:00+08:00"
    assert line.session.capacity == 18
    assert Views(replica).sessions_on(date(2026, 12, 14)) == []

    again = schedule(replica, studio, manager, "weekly_exdate_rdate.ics", apply=True)
    assert (again["created"], again["rows"]) == (0, [])
    assert any("Left 6 occurrences already on the schedule" in n for n in again["notes"])
    assert len(outbox(replica)) == 1


def test_a_schedule_for_another_location(replica: Replica, studio: ImportStudio,
                                         manager: str) -> None:
    """The manager works at the main location only; an owner may import anywhere."""
    with pytest.raises(ImportRefused) as caught:
        schedule(replica, studio, manager, "all_day.ics", apply=False,
                 location_id=studio.branch.id)
    assert caught.value.outcome.code == "wrong_location"
    owner = studio.staff[Role.OWNER]
    with replica.write() as conn:  # an owner who works everywhere
        replica.set_meta(conn, "staff_id", owner.id)
    studio.state.apply([replace(owner, location_ids=())])
    push_server_state(replica, studio, position=2)
    doc = schedule(replica, studio, owner.id, "all_day.ics", apply=True,
                   location_id=studio.branch.id)
    assert doc["created"] == 1
    with replica.read() as conn:
        sessions = EffectiveReader(conn).all_of(Session, "partition",
                                                f"schedule:{studio.branch.id}:2026-12-10")
    assert [(s.class_name, s.room_name, s.capacity) for s in sessions] == [("Yin Yoga", "Loft", 30)]


def test_refused_rows_of_a_schedule(replica: Replica, studio: ImportStudio,
                                    manager: str) -> None:
    doc = schedule(replica, studio, manager, "problems.ics", apply=True)
    refused = {r["name"]: r["code"] for r in doc["rows"] if r["action"] == "refuse"}
    assert refused == {"": "missing_required", "Yoga Basics": "duplicate_in_file",
                       "Broken Yoga": "invalid_value", "Yoga on Mars": "invalid_value"}
    assert doc["created"] == 3


def test_an_excel_workbook_is_imported(replica: Replica, studio: ImportStudio, manager: str,
                                       tmp_path: Path) -> None:
    from tests.imports.test_readers import write_workbook

    path = write_workbook(tmp_path / "members.xlsx", [
        ["姓名", "手机", "生日", "会员卡类型", "到期日", "剩余次数"],
        ["周杰", 13600000001, datetime(1990, 5, 17), "10 classes", datetime(2027, 3, 1), 5],
        ["林青", "1.36E+10", None, None, None, None],
    ])
    doc = run(replica, studio, manager, path, apply=True)
    assert [(r["name"], r["action"], r["code"]) for r in doc["rows"]] == [
        ("周杰", "create", None), ("林青", "refuse", "spreadsheet_number")]
    zhou = members_in(replica)["周杰"]
    assert (zhou.phone, zhou.birthday) == ("13600000001", date(1990, 5, 17))
