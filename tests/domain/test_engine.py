"""The command runner: wire validation, versions, the role matrix, determinism."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from frontdesk.domain import REGISTRY, commands, execute, run
from frontdesk.domain.codec import encode
from frontdesk.domain.engine import ATTENDANCE, DESK_STAFF, EVERYONE, MANAGERS, CommandSpec
from frontdesk.domain.model import (
    EntitlementKind,
    Member,
    Role,
    ScanRecord,
    StaffMember,
)
from frontdesk.domain.state import MemoryState, Overlay
from tests.domain.conftest import DAY, HOUR, applied, rejected
from tests.studio import Studio, new_id

#: Who may run what: the studio's intent, written out so a change to ROLES is deliberate.
EXPECTED_ROLES: dict[str, frozenset[Role]] = {
    "book": DESK_STAFF,
    "check_in": EVERYONE,
    "undo_check_in": ATTENDANCE,
    "mark_no_show": ATTENDANCE,
    "cancel_booking": DESK_STAFF,
    "waive_penalty": MANAGERS,
    "promote_from_waitlist": DESK_STAFF,
    "create_session": MANAGERS,
    "change_capacity": MANAGERS,
    "cancel_session": MANAGERS,
    "add_member": DESK_STAFF,
    "edit_member": DESK_STAFF,
    "sign_waiver": DESK_STAFF,
    "merge_members": MANAGERS,
    "anonymise_member": MANAGERS,
    "sell": DESK_STAFF,
    "top_up": DESK_STAFF,
    "mark_paid": DESK_STAFF,
    "refund": MANAGERS,
    "freeze": MANAGERS,
    "unfreeze": MANAGERS,
    "walk_in": DESK_STAFF,
    "record_feedback": EVERYONE,
    "record_scan": EVERYONE,
}


def _booked(studio: Studio, start: datetime) -> tuple[Member, str]:
    member = studio.member()
    session = studio.session(start=start)
    result = studio.run("book", member_id=member.id, session_id=session.id)
    assert result.outcome.subject_id is not None
    return member, result.outcome.subject_id


def _setup_book(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    return {"member_id": s.member().id, "session_id": s.session().id}, None


def _setup_check_in(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    return {"member_id": s.member().id,
            "session_id": s.session(start=s.now + HOUR / 2).id}, None


def _setup_undo(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    member = s.member()
    session = s.session(start=s.now + HOUR / 2)
    result = s.run("check_in", member_id=member.id, session_id=session.id)
    return {"booking_id": result.outcome.subject_id}, None


def _setup_no_show(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    _, booking_id = _booked(s, s.now + HOUR)
    return {"booking_id": booking_id}, s.now + 2 * HOUR


def _setup_cancel(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    return {"booking_id": _booked(s, s.now + 2 * DAY)[1]}, None


def _setup_waive(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    _, booking_id = _booked(s, s.now + HOUR * 2)
    s.run("cancel_booking", booking_id=booking_id)
    return {"booking_id": booking_id, "reason": "goodwill"}, None


def _setup_promote(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    session = s.session(capacity=0)
    result = s.run("book", member_id=s.member().id, session_id=session.id)
    s.state.apply([replace(session, capacity=1)])
    return {"booking_id": result.outcome.subject_id}, None


def _setup_create_session(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    return {"location_id": s.location.id, "class_type_id": s.class_type.id,
            "start": s.now + DAY, "end": s.now + DAY + HOUR, "capacity": 10}, None


def _setup_session(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    return {"session_id": s.session().id}, None


def _setup_member(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    return {"member_id": s.member().id}, None


def _setup_sale(s: Studio, paid: bool) -> str:
    result = s.run("sell", member_id=s.member(credits=0).id, plan_id=s.pack.id,
                   method="cash", paid=paid)
    return result.outcome.data["sale_id"]


def _setup_freeze(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    ent = s.entitlement(s.member(credits=0), until=None)
    return {"entitlement_id": ent.id, "start": "2026-12-10", "end": "2026-12-12"}, None


def _setup_unfreeze(s: Studio) -> tuple[dict[str, Any], datetime | None]:
    args, _ = _setup_freeze(s)
    s.run("freeze", Role.MANAGER, **args)
    return {"entitlement_id": args["entitlement_id"], "on": "2026-12-11"}, None


SETUPS: dict[str, Callable[[Studio], tuple[dict[str, Any], datetime | None]]] = {
    "book": _setup_book,
    "check_in": _setup_check_in,
    "undo_check_in": _setup_undo,
    "mark_no_show": _setup_no_show,
    "cancel_booking": _setup_cancel,
    "waive_penalty": _setup_waive,
    "promote_from_waitlist": _setup_promote,
    "create_session": _setup_create_session,
    "change_capacity": lambda s: ({**_setup_session(s)[0], "capacity": 20}, None),
    "cancel_session": _setup_session,
    "add_member": lambda s: ({"name": "New guest", "card_code": "N-1"}, None),
    "edit_member": lambda s: ({**_setup_member(s)[0], "phone": "139"}, None),
    "sign_waiver": lambda s: ({"member_id": s.member(waiver=False).id}, None),
    "merge_members": lambda s: ({"keep_id": s.member().id, "merge_id": s.member().id}, None),
    "anonymise_member": _setup_member,
    "sell": lambda s: ({**_setup_member(s)[0], "plan_id": s.pack.id, "method": "cash"}, None),
    "top_up": lambda s: ({**_setup_member(s)[0], "amount_cents": 500, "method": "cash"}, None),
    "mark_paid": lambda s: ({"sale_id": _setup_sale(s, paid=False), "method": "cash"}, None),
    "refund": lambda s: ({"sale_id": _setup_sale(s, paid=True), "amount_cents": 100,
                          "reason": "x"}, None),
    "freeze": _setup_freeze,
    "unfreeze": _setup_unfreeze,
    "walk_in": lambda s: ({"session_id": s.session(start=s.now + HOUR / 2).id,
                           "guest": {"name": "Guest"}, "plan_id": s.drop_in.id}, None),
    "record_feedback": lambda s: ({**_setup_member(s)[0], "rating": 5}, None),
    "record_scan": lambda s: ({"code": "C-404", "reason": "unknown_card"}, None),
}


def test_every_front_desk_command_has_a_role_entry_and_a_scenario() -> None:
    core = {name for name, spec in REGISTRY.items() if spec.cls.__module__ == commands.__name__}
    assert core == set(EXPECTED_ROLES) == set(SETUPS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_command_refuses_roles_it_does_not_declare(
    name: str, role: Role
) -> None:
    """Covers commands registered elsewhere too: the role check comes before any rule."""
    spec = REGISTRY[name]
    studio = Studio()
    bare: Any = object.__new__(spec.cls)  # no arguments: only a permitted role would reach them

    if role not in spec.roles:
        rejected(run(bare, "c", studio.ctx(role), studio.state), "not_allowed")
        return
    try:
        result = run(bare, "c", studio.ctx(role), studio.state)
    except AttributeError:
        return  # got past the role check to the command's own (missing) arguments
    assert result.outcome.code != "not_allowed"


@pytest.mark.parametrize("name", sorted(EXPECTED_ROLES))
def test_declared_roles_match_the_studios_intent(name: str) -> None:
    assert REGISTRY[name].roles == EXPECTED_ROLES[name]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("name", sorted(SETUPS))
def test_role_matrix(name: str, role: Role) -> None:
    studio = Studio()
    args, now = SETUPS[name](studio)

    result = studio.run(name, role, now=now, **args)

    if role in REGISTRY[name].roles:
        applied(result)
        assert result.changes
    else:
        outcome = rejected(result, "not_allowed").outcome
        assert role.value.replace("_", " ") in outcome.message


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_same_command_on_two_copies_of_a_state_gives_the_same_answer(name: str) -> None:
    studio = Studio()
    args, now = SETUPS[name](studio)
    twin = copy.deepcopy(studio)
    ctx = studio.ctx(Role.OWNER, now=now)

    here = execute(name, 1, encode(args), "cmd-42", ctx, studio.state)
    there = execute(name, 1, encode(args), "cmd-42", ctx, twin.state)

    assert here.outcome.ok
    assert here == there
    assert [encode(c) for c in here.changes] == [encode(c) for c in there.changes]


def test_the_ids_a_command_mints_derive_from_its_own_id(studio: Studio) -> None:
    args = {"name": "Guest"}
    first = execute("add_member", 1, args, "cmd-1", studio.ctx(), studio.state)
    same = execute("add_member", 1, args, "cmd-1", studio.ctx(), studio.state)
    other = execute("add_member", 1, args, "cmd-2", studio.ctx(), studio.state)
    assert first.outcome.subject_id == same.outcome.subject_id != other.outcome.subject_id


def test_running_a_command_does_not_touch_the_state_it_reads(studio: Studio) -> None:
    member = studio.member()
    session = studio.session()
    before = copy.deepcopy(studio.state.rows)
    result = execute("book", 1, {"member_id": member.id, "session_id": session.id}, "c",
                     studio.ctx(), studio.state)
    assert result.changes
    assert studio.state.rows == before


# --- rejected at the door ---------------------------------------------------------------


def test_an_unknown_command_is_rejected(studio: Studio) -> None:
    result = rejected(studio.run("teleport_member"), "unknown_command")
    assert "teleport_member" in result.outcome.message


@pytest.mark.parametrize("version", [0, 2])
def test_an_unsupported_version_is_rejected_with_a_fix(studio: Studio, version: int) -> None:
    result = execute("record_scan", version, {"code": "x", "reason": "y"}, "c", studio.ctx(),
                     studio.state)
    rejected(result, "unsupported_version")
    assert result.outcome.fix == "Update FrontDesk on this PC."


def test_an_older_accepted_version_is_upgraded_before_it_runs(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upgrade(version: int, args: dict[str, Any]) -> dict[str, Any]:
        assert version == 1
        renamed = dict(args)
        renamed["code"] = renamed.pop("barcode")
        return renamed

    spec = REGISTRY["record_scan"]
    monkeypatch.setitem(REGISTRY, "record_scan", CommandSpec(
        spec.name, spec.cls, (1, 2), spec.roles, upgrade))

    old = execute("record_scan", 1, {"barcode": "C-1", "reason": "r"}, "c", studio.ctx(),
                  studio.state)
    new = execute("record_scan", 2, {"code": "C-2", "reason": "r"}, "d", studio.ctx(),
                  studio.state)

    assert [c.code for c in old.changes + new.changes if isinstance(c, ScanRecord)] == [
        "C-1", "C-2"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"member_id": "m"}, "missing field 'session_id'"),
        ({"member_id": "m", "session_id": "s", "surprise": 1}, "unknown field(s) ['surprise']"),
        ({"member_id": 7, "session_id": "s"}, "member_id: expected text"),
        ({"member_id": "m", "session_id": "s", "override_capacity": "yes"}, "true or false"),
    ],
)
def test_invalid_arguments_are_rejected_naming_the_field(
    studio: Studio, args: dict[str, Any], fragment: str
) -> None:
    result = execute("book", 1, args, "c", studio.ctx(), studio.state)
    rejected(result, "invalid_arguments")
    assert fragment in result.outcome.message


def test_a_naive_time_on_the_wire_is_rejected(studio: Studio) -> None:
    result = execute("check_in", 1, {"member_id": "m", "session_id": "s",
                                     "at": "2026-12-03T09:00:00"}, "c", studio.ctx(),
                     studio.state)
    rejected(result, "invalid_arguments")
    assert "needs a UTC offset" in result.outcome.message


def test_an_inactive_staff_account_can_do_nothing(studio: Studio) -> None:
    studio.staff[Role.OWNER] = replace(studio.staff[Role.OWNER], active=False)
    rejected(studio.run("record_scan", Role.OWNER, code="x", reason="y"), "staff_inactive")


def test_staff_limited_to_other_locations_are_refused(studio: Studio) -> None:
    studio.staff[Role.FRONT_DESK] = StaffMember("fd", "Elsewhere", Role.FRONT_DESK, ("other",))
    rejected(studio.run("book", member_id=studio.member().id, session_id=studio.session().id),
             "wrong_location")


def test_staff_without_location_limits_work_everywhere(studio: Studio) -> None:
    studio.staff[Role.FRONT_DESK] = StaffMember("fd", "Roaming", Role.FRONT_DESK, ())
    applied(studio.run("book", member_id=studio.member().id, session_id=studio.session().id))


def test_a_refused_command_keeps_none_of_its_partial_changes(studio: Studio) -> None:
    # walk_in adds the guest and sells before the check-in refuses: nothing may remain.
    session = studio.session(start=studio.now + HOUR / 2, capacity=0)
    members = len(studio.state.all(Member))
    rejected(studio.run("walk_in", session_id=session.id, guest={"name": "G"},
                        plan_id=studio.drop_in.id), "class_full")
    assert len(studio.state.all(Member)) == members


# --- the overlay a command reads through ----------------------------------------------


def test_overlay_find_sees_a_commands_own_writes_and_moves() -> None:
    studio = Studio()
    a = studio.member("A")
    b = studio.member("B")
    overlay = Overlay(studio.state)
    moved = studio.entitlements(a)[0]
    overlay.put(replace(moved, member_id=b.id))
    made = studio.entitlement(Member(new_id(), "C"), kind=EntitlementKind.MEMBERSHIP)
    overlay.put(replace(made, member_id=b.id))

    assert overlay.find(type(moved), "member_id", a.id) == []
    found = overlay.find(type(moved), "member_id", b.id)
    assert {e.id for e in found} == {moved.id, made.id, studio.entitlements(b)[0].id}
    assert [e.id for e in found] == sorted(e.id for e in found)
    assert overlay.changes() == [replace(moved, member_id=b.id), replace(made, member_id=b.id)]


def test_memory_state_finds_and_lists_in_id_order() -> None:
    state = MemoryState()
    members = [Member(f"m{i}", "X", card_code="C") for i in (3, 1, 2)]
    state.apply(members)
    assert [m.id for m in state.find(Member, "card_code", "C")] == ["m1", "m2", "m3"]
    assert [m.id for m in state.all(Member)] == ["m1", "m2", "m3"]
    assert state.get(Member, "nope") is None

