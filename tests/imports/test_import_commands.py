"""import_members and import_schedule through the domain: all or nothing, row outcomes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from frontdesk.domain.model import (
    Entitlement,
    EntitlementKind,
    LedgerEntry,
    Member,
    Role,
    Session,
)
from frontdesk.domain.outcome import Status
from tests.imports.conftest import ImportStudio
from tests.studio import new_id

HOUR = timedelta(hours=1)


def member_row(row: int, name: str, **fields: Any) -> dict[str, Any]:
    return {"row": row, "member_id": new_id(), "name": name, **fields}


def rows_of(result: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(result.outcome.data["rows"])
    return rows


def test_members_and_their_passes_are_created(studio: ImportStudio) -> None:
    pack = {"entitlement_id": new_id(), "name": "10 classes", "kind": "pack",
            "valid_until": "2027-03-31", "sessions_left": 7, "plan_id": studio.pack.id}
    card = {"entitlement_id": new_id(), "name": "年卡", "kind": "membership",
            "valid_until": "2027-12-31"}
    rows = [member_row(1, "王芳", phone="13800000011", card_code="A1001", current_pass=pack,
                       birthday="1992-05-17"),
            member_row(2, "陈晓明", current_pass=card)]

    result = studio.run("import_members", Role.MANAGER, members=rows, source="members.csv")

    assert result.outcome.status is Status.APPLIED
    assert result.outcome.data["created"] == "2"
    assert [r["outcome"] for r in rows_of(result)] == ["created", "created"]
    wang = studio.get(Member, rows[0]["member_id"])
    assert (wang.name, wang.card_code, wang.birthday) == ("王芳", "A1001", date(1992, 5, 17))
    ent = studio.get(Entitlement, pack["entitlement_id"])
    assert (ent.kind, ent.balance, ent.credits_total, ent.plan_id) == (
        EntitlementKind.PACK, 7, 7, studio.pack.id)
    assert ent.valid_from == date(2026, 12, 3) and ent.valid_until == date(2027, 3, 31)
    assert [e.delta for e in studio.state.find(LedgerEntry, "entitlement_id", ent.id)] == [7]
    chen = studio.get(Entitlement, card["entitlement_id"])
    assert (chen.kind, chen.balance, chen.plan_id) == (EntitlementKind.MEMBERSHIP, 0, None)
    assert [a.detail for a in studio.audits("import_members")] == ["2 members from members.csv"]


def test_an_expired_pass_keeps_a_valid_range(studio: ImportStudio) -> None:
    old = {"entitlement_id": new_id(), "name": "Monthly", "kind": "membership",
           "valid_until": "2026-10-31"}
    studio.run("import_members", Role.MANAGER, members=[member_row(1, "Late", current_pass=old)])
    ent = studio.get(Entitlement, old["entitlement_id"])
    assert ent.valid_from == ent.valid_until == date(2026, 10, 31)


def test_a_card_taken_meanwhile_refuses_the_whole_chunk(studio: ImportStudio) -> None:
    studio.member("Already Here", card_code="A1002")
    rows = [member_row(1, "First"), member_row(2, "Second", card_code="A1002")]

    result = studio.run("import_members", Role.MANAGER, members=rows)

    assert result.outcome.status is Status.REJECTED
    assert result.outcome.code == "duplicate_member"
    assert result.outcome.message == "Row 2: Card A1002 already belongs to Already Here."
    assert result.changes == []
    assert studio.state.get(Member, rows[0]["member_id"]) is None


def test_two_rows_of_one_chunk_with_one_card_refuse_it(studio: ImportStudio) -> None:
    rows = [member_row(1, "One", card_code="Z-1"), member_row(2, "Two", card_code="Z-1")]
    result = studio.run("import_members", Role.MANAGER, members=rows)
    assert (result.outcome.code, result.outcome.message[:7]) == ("duplicate_member", "Row 2: ")


def test_a_row_without_a_name_refuses_the_chunk(studio: ImportStudio) -> None:
    result = studio.run("import_members", Role.MANAGER,
                        members=[member_row(1, "Fine"), member_row(2, "   ")])
    assert (result.outcome.code, result.outcome.message) == (
        "missing_required", "Row 2: A member needs a name.")


def test_an_unknown_plan_refuses_the_chunk(studio: ImportStudio) -> None:
    bad = {"entitlement_id": new_id(), "name": "Gone", "kind": "pack", "sessions_left": 1,
           "plan_id": new_id()}
    result = studio.run("import_members", Role.MANAGER,
                        members=[member_row(1, "Fine", current_pass=bad)])
    assert result.outcome.code == "unknown_plan"
    assert result.outcome.message.startswith("Row 1: ")


def test_a_stored_value_pass_is_not_imported(studio: ImportStudio) -> None:
    bad = {"entitlement_id": new_id(), "name": "Wallet", "kind": "stored_value"}
    result = studio.run("import_members", Role.MANAGER,
                        members=[member_row(1, "Fine", current_pass=bad)])
    assert result.outcome.code == "invalid_value"


def test_running_a_chunk_again_leaves_existing_rows_alone(studio: ImportStudio) -> None:
    rows = [member_row(1, "Once", card_code="O-1")]
    studio.run("import_members", Role.MANAGER, members=rows)
    again = studio.run("import_members", Role.MANAGER,
                       members=[*rows, member_row(2, "New one")])
    assert again.outcome.ok
    assert [r["outcome"] for r in rows_of(again)] == ["exists", "created"]
    assert (again.outcome.data["created"], again.outcome.data["existing"]) == ("1", "1")
    assert len(studio.audits("import_members")) == 2


def test_only_managers_import(studio: ImportStudio) -> None:
    for role in (Role.FRONT_DESK, Role.COACH, Role.KIOSK):
        result = studio.run("import_members", role, members=[member_row(1, "A")])
        assert result.outcome.code == "not_allowed"
    assert studio.run("import_members", Role.OWNER, members=[member_row(1, "A")]).outcome.ok


def session_row(studio: ImportStudio, row: int, **fields: Any) -> dict[str, Any]:
    start = studio.now + timedelta(days=1)
    return {"row": row, "session_id": new_id(), "class_type_id": studio.class_type.id,
            "class_name": "Vinyasa Yoga", "start": start, "end": start + HOUR,
            "capacity": 18, **fields}


def test_sessions_are_created_with_coach_and_room(studio: ImportStudio) -> None:
    rows = [session_row(studio, 1, coach_id=studio.coach.id, room_id=studio.room_a.id),
            session_row(studio, 2)]
    result = studio.run("import_schedule", Role.MANAGER, location_id=studio.location.id,
                        sessions=rows, source="yoga.ics")
    assert result.outcome.data["created"] == "2"
    session = studio.get(Session, rows[0]["session_id"])
    assert (session.class_name, session.coach_name, session.room_name, session.capacity) == (
        "Vinyasa Yoga", "李娜", "Studio A", 18)
    again = studio.run("import_schedule", Role.MANAGER, location_id=studio.location.id,
                       sessions=rows)
    assert [r["outcome"] for r in rows_of(again)] == ["exists", "exists"]
    assert again.changes == []  # nothing new: nothing to queue or audit
    assert [a.detail for a in studio.audits("import_schedule")] == ["2 sessions from yoga.ics"]


def test_a_bad_session_row_refuses_the_chunk(studio: ImportStudio) -> None:
    cases = [
        ({"class_type_id": new_id()}, "unknown_class_type"),
        ({"room_id": studio.branch_room.id}, "invalid_value"),
        ({"end": studio.now}, "invalid_value"),
        ({"capacity": -1}, "invalid_value"),
        ({"coach_id": new_id()}, "unknown_coach"),
    ]
    for fields, code in cases:
        rows = [session_row(studio, 1), session_row(studio, 2, **fields)]
        result = studio.run("import_schedule", Role.MANAGER, location_id=studio.location.id,
                            sessions=rows)
        assert (result.outcome.code, result.outcome.message[:7]) == (code, "Row 2: "), fields
        assert result.changes == []


def test_a_manager_of_another_location_cannot_import_there(studio: ImportStudio) -> None:
    result = studio.run("import_schedule", Role.MANAGER, location_id=studio.branch.id,
                        sessions=[session_row(studio, 1)])
    assert result.outcome.code == "wrong_location"
