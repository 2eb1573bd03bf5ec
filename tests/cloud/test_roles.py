"""Every command tried by every role through push: the cloud checks the acting person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdesk.domain import REGISTRY
from frontdesk.domain.model import (
    Booking,
    BookingStatus,
    EntitlementKind,
    PaymentMethod,
    Role,
    Sale,
)
from frontdesk.domain.model import evolve as replace
from tests.cloud.studio import CloudStudio, Desk, new_id

Scenario = Callable[[CloudStudio], dict[str, Any]]


def _booking(studio: CloudStudio, start: timedelta, status: BookingStatus, **fields: Any
             ) -> Booking:
    session = studio.session(start=datetime.now(UTC) + start, capacity=5)
    member, ent = studio.member()
    booking = Booking(new_id(), session.id, member.id, status, datetime.now(UTC),
                      entitlement_id=ent.id, charged=1, **fields)
    studio.write(replace(ent, balance=ent.balance - 1), booking)
    return booking


def _sale(studio: CloudStudio, paid: bool) -> Sale:
    member, ent = studio.member()
    sale = Sale(new_id(), member.id, studio.main.id, "10 classes", 80000, PaymentMethod.CASH,
                paid, datetime.now(UTC), studio.staff[Role.OWNER].id, studio.pack.id, ent.id)
    studio.write(sale, replace(ent, sale_id=sale.id, paid=paid))
    return sale


SOON = timedelta(minutes=10)
LATER = timedelta(hours=3)
TODAY = datetime.now(UTC).date()

SCENARIOS: dict[str, Scenario] = {
    "book": lambda s: {"member_id": s.member()[0].id, "session_id": s.session().id},
    "check_in": lambda s: {"member_id": s.member()[0].id,
                           "session_id": s.session(start=datetime.now(UTC) + SOON).id},
    "undo_check_in": lambda s: {"booking_id": _booking(
        s, SOON, BookingStatus.CHECKED_IN, checked_in_at=datetime.now(UTC)).id},
    "mark_no_show": lambda s: {"booking_id": _booking(s, -SOON, BookingStatus.BOOKED).id},
    "cancel_booking": lambda s: {"booking_id": _booking(s, LATER, BookingStatus.BOOKED).id},
    "waive_penalty": lambda s: {"booking_id": _booking(s, SOON, BookingStatus.LATE_CANCELLED).id,
                                "reason": "train was late"},
    "promote_from_waitlist": lambda s: {"booking_id": _booking(
        s, LATER, BookingStatus.WAITLISTED, waitlist_position=1).id},
    "create_session": lambda s: {
        "location_id": s.main.id, "class_type_id": s.class_type.id,
        "start": datetime.now(UTC) + LATER, "end": datetime.now(UTC) + LATER + LATER,
        "capacity": 12},
    "change_capacity": lambda s: {"session_id": s.session().id, "capacity": 20},
    "cancel_session": lambda s: {"session_id": s.session().id, "reason": "coach ill"},
    "add_member": lambda s: {"name": "王小明", "phone": "13800000000"},
    "edit_member": lambda s: {"member_id": s.member()[0].id, "phone": "555-0100"},
    "sign_waiver": lambda s: {"member_id": s.member(waiver_signed_at=None)[0].id},
    "merge_members": lambda s: {"keep_id": s.member()[0].id, "merge_id": s.member()[0].id},
    "anonymise_member": lambda s: {"member_id": s.member()[0].id, "reason": "asked"},
    "sell": lambda s: {"member_id": s.member()[0].id, "plan_id": s.pack.id, "method": "cash"},
    "top_up": lambda s: {"member_id": s.member()[0].id, "amount_cents": 50000,
                         "method": "wechat_pay"},
    "mark_paid": lambda s: {"sale_id": _sale(s, paid=False).id, "method": "card"},
    "refund": lambda s: {"sale_id": _sale(s, paid=True).id, "amount_cents": 1000,
                         "reason": "moved away"},
    "freeze": lambda s: {"entitlement_id": s.member()[1].id, "start": TODAY,
                         "end": TODAY + timedelta(days=7), "reason": "travel"},
    "unfreeze": lambda s: {"entitlement_id": _frozen(s), "on": TODAY + timedelta(days=1)},
    "walk_in": lambda s: {"session_id": s.session(start=datetime.now(UTC) + SOON).id,
                          "guest": {"name": "Guest Person"}, "plan_id": s.pack.id},
    "record_feedback": lambda s: {"member_id": s.member()[0].id, "rating": 5,
                                  "comment": "great"},
    "record_scan": lambda s: {"code": "0000", "reason": "unknown_card"},
    "import_members": lambda s: {"members": [{"row": 1, "member_id": new_id(),
                                              "name": "李小龙", "phone": "13900000000"}]},
    "import_schedule": lambda s: {"location_id": s.main.id, "sessions": [{
        "row": 1, "session_id": new_id(), "class_type_id": s.class_type.id,
        "class_name": "Yoga", "start": datetime.now(UTC) + LATER,
        "end": datetime.now(UTC) + LATER + LATER, "capacity": 12}]},
}


def _frozen(studio: CloudStudio) -> str:
    _, ent = studio.member()
    studio.write(replace(ent, frozen_from=TODAY, frozen_until=TODAY + timedelta(days=5),
                         kind=EntitlementKind.PACK))
    return ent.id


def test_every_command_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(REGISTRY)


@pytest.mark.parametrize("role", list(Role))
def test_every_command_by_every_role(role: Role, studio: CloudStudio, desk: Desk) -> None:
    names = sorted(REGISTRY)
    batch = [desk.command(name, role=role, **SCENARIOS[name](studio)) for name in names]
    answer = desk.push(*batch)
    assert answer.status_code == 200, answer.text
    for name, outcome in zip(names, answer.json()["outcomes"], strict=True):
        if role in REGISTRY[name].roles:
            assert outcome["status"] != "rejected", (name, role, outcome)
        else:
            assert (outcome["status"], outcome["code"]) == ("rejected", "not_allowed"), (
                name, role, outcome)
