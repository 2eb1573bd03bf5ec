"""Cancelling, penalties and their waiver, and the one waitlist promotion routine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from frontdesk.domain.model import (
    BookingStatus,
    Member,
    Penalty,
    Role,
    Session,
)
from tests.domain.conftest import DAY, HOUR, applied, rejected
from tests.studio import Studio


def _book(studio: Studio, member: Member, session: Session) -> str:
    result = studio.run("book", member_id=member.id, session_id=session.id)
    assert result.outcome.ok, result.outcome
    assert result.outcome.subject_id is not None
    return result.outcome.subject_id


def _penalty_studio(penalty: Penalty, fee: int = 0) -> Studio:
    return Studio(policy=replace(Studio().policy, late_cancel_penalty=penalty,
                                 no_show_penalty=penalty, penalty_fee_cents=fee))


# --- cancel_booking -------------------------------------------------------------------


def test_early_cancel_returns_the_credit(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session(start=studio.now + 2 * DAY))

    result = applied(studio.run("cancel_booking", booking_id=booking_id))

    booking = studio.booking(booking_id)
    assert (booking.status, booking.charged) == (BookingStatus.CANCELLED, 0)
    assert studio.balance(ent) == 3
    assert sorted((e.reason, e.delta) for e in studio.ledger(ent)) == [
        ("book", -1), ("refund_credit", 1)]
    assert "returned" in result.outcome.message
    assert "penalty" not in result.outcome.data


def test_cancel_exactly_at_the_window_edge_is_still_early(studio: Studio) -> None:
    window = studio.policy.cancel_window_minutes * HOUR / 60
    session = studio.session(start=studio.now + window)
    booking_id = _book(studio, studio.member(), session)

    applied(studio.run("cancel_booking", booking_id=booking_id))

    assert studio.booking(booking_id).status is BookingStatus.CANCELLED


def test_late_cancel_forfeits_the_credit_by_default(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())  # starts in two hours

    result = applied(studio.run("cancel_booking", booking_id=booking_id))

    booking = studio.booking(booking_id)
    assert (booking.status, booking.charged) == (BookingStatus.LATE_CANCELLED, 1)
    assert studio.balance(ent) == 2
    assert result.outcome.data["penalty"] == "forfeit_credit"
    assert "not returned" in result.outcome.message
    assert studio.sales(member) == []


def test_late_cancel_with_a_fee_returns_the_credit_and_charges_an_unpaid_fee() -> None:
    studio = _penalty_studio(Penalty.FEE, fee=5000)
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())

    result = applied(studio.run("cancel_booking", booking_id=booking_id))

    booking = studio.booking(booking_id)
    assert booking.status is BookingStatus.LATE_CANCELLED
    assert studio.balance(ent) == 3
    (fee,) = studio.sales(member)
    assert (fee.kind, fee.amount_cents, fee.paid) == ("fee", 5000, False)
    assert fee.id == booking.fee_sale_id
    assert result.outcome.data["penalty"] == "fee"
    assert "50.00" in result.outcome.message


def test_late_cancel_under_a_no_penalty_policy_returns_the_credit() -> None:
    studio = _penalty_studio(Penalty.NONE)
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())

    result = applied(studio.run("cancel_booking", booking_id=booking_id))

    assert studio.booking(booking_id).status is BookingStatus.LATE_CANCELLED
    assert studio.balance(ent) == 3
    assert studio.sales(member) == []
    assert result.outcome.data["penalty"] == "none"


def test_manager_waives_a_late_cancel_penalty_with_an_audit_entry(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())

    result = applied(studio.run("cancel_booking", Role.MANAGER, booking_id=booking_id,
                                waive_penalty=True, reason="sick child"))

    booking = studio.booking(booking_id)
    assert booking.status is BookingStatus.CANCELLED
    assert booking.penalty_waived
    assert studio.balance(ent) == 3
    (audit,) = studio.audits("waive_penalty")
    assert (audit.subject_id, audit.reason) == (booking_id, "sick child")
    assert "penalty" not in result.outcome.data


def test_front_desk_may_not_waive_a_late_cancel_penalty(studio: Studio) -> None:
    booking_id = _book(studio, studio.member(), studio.session())
    rejected(studio.run("cancel_booking", booking_id=booking_id, waive_penalty=True,
                        reason="please"), "not_allowed")
    assert studio.booking(booking_id).status is BookingStatus.BOOKED


def test_waiving_a_penalty_needs_a_reason(studio: Studio) -> None:
    booking_id = _book(studio, studio.member(), studio.session())
    rejected(studio.run("cancel_booking", Role.MANAGER, booking_id=booking_id,
                        waive_penalty=True), "reason_required")


def test_the_same_cancel_sent_twice_does_not_cancel_or_refund_twice(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session(start=studio.now + 2 * DAY))
    applied(studio.run("cancel_booking", booking_id=booking_id))
    ledger_before = studio.ledger(ent)

    again = applied(studio.run("cancel_booking", booking_id=booking_id), "already_cancelled")

    assert again.changes == []
    assert studio.ledger(ent) == ledger_before
    assert studio.balance(ent) == 3


def test_the_same_cancel_command_replayed_with_its_own_id_refunds_once(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session(start=studio.now + 2 * DAY))

    applied(studio.run("cancel_booking", booking_id=booking_id, command_id="cmd-1"))
    again = studio.run("cancel_booking", booking_id=booking_id, command_id="cmd-1")

    applied(again, "already_cancelled")
    assert again.changes == []
    assert studio.balance(ent) == 3
    assert len(studio.ledger(ent)) == 2


def test_a_late_cancel_sent_twice_charges_one_fee() -> None:
    studio = _penalty_studio(Penalty.FEE, fee=5000)
    member = studio.member()
    booking_id = _book(studio, member, studio.session())
    applied(studio.run("cancel_booking", booking_id=booking_id))
    applied(studio.run("cancel_booking", booking_id=booking_id), "already_cancelled")
    assert len(studio.sales(member)) == 1


def test_cancelling_a_waitlisted_place_is_never_late(studio: Studio) -> None:
    session = studio.session(capacity=0)  # starts in two hours: inside the cancel window
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, session)

    applied(studio.run("cancel_booking", booking_id=booking_id))

    booking = studio.booking(booking_id)
    assert (booking.status, booking.waitlist_position) == (BookingStatus.CANCELLED, None)
    assert studio.balance(ent) == 3


def test_a_checked_in_booking_cannot_be_cancelled(studio: Studio) -> None:
    member = studio.member()
    session = studio.session(start=studio.now + HOUR / 2)
    booking_id = _book(studio, member, session)
    applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    result = rejected(studio.run("cancel_booking", booking_id=booking_id),
                      "cannot_cancel_attended")
    assert result.outcome.fix == "Undo the check-in first."


# --- waive_penalty --------------------------------------------------------------------


def test_waive_penalty_returns_a_forfeited_credit(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())
    applied(studio.run("cancel_booking", booking_id=booking_id))
    assert studio.balance(ent) == 2

    applied(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason="goodwill"))

    booking = studio.booking(booking_id)
    assert (booking.status, booking.penalty_waived, booking.charged) == (
        BookingStatus.LATE_CANCELLED, True, 0)
    assert studio.balance(ent) == 3
    assert [a.reason for a in studio.audits("waive_penalty")] == ["goodwill"]


def test_waive_penalty_voids_an_unpaid_fee() -> None:
    studio = _penalty_studio(Penalty.FEE, fee=5000)
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())
    applied(studio.run("cancel_booking", booking_id=booking_id))

    applied(studio.run("waive_penalty", Role.OWNER, booking_id=booking_id, reason="goodwill"))

    (fee,) = studio.sales(member)
    assert fee.void
    assert studio.balance(ent) == 3  # returned once, at the cancel, not again


def test_waive_penalty_twice_returns_the_credit_once(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    booking_id = _book(studio, member, studio.session())
    applied(studio.run("cancel_booking", booking_id=booking_id))
    applied(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason="x"))

    again = applied(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id,
                               reason="x"), "already_waived")

    assert again.changes == []
    assert studio.balance(ent) == 3


def test_waive_penalty_refuses_a_booking_without_a_penalty(studio: Studio) -> None:
    booking_id = _book(studio, studio.member(), studio.session(start=studio.now + 2 * DAY))
    rejected(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason="x"),
             "no_penalty")
    applied(studio.run("cancel_booking", booking_id=booking_id))  # early: no penalty either
    rejected(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason="x"),
             "no_penalty")


def test_waive_penalty_needs_a_reason(studio: Studio) -> None:
    booking_id = _book(studio, studio.member(), studio.session())
    applied(studio.run("cancel_booking", booking_id=booking_id))
    rejected(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason=""),
             "reason_required")


def test_waive_penalty_after_a_no_show_returns_the_credit(studio: Studio) -> None:
    member = studio.member(credits=3)
    (ent,) = studio.entitlements(member)
    session = studio.session()
    booking_id = _book(studio, member, session)
    applied(studio.run("mark_no_show", booking_id=booking_id, now=session.start + HOUR))

    applied(studio.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason="storm"))

    assert studio.balance(ent) == 3
    assert studio.booking(booking_id).status is BookingStatus.NO_SHOW


# --- the waitlist ----------------------------------------------------------------------


def _full_with_queue(studio: Studio, capacity: int,
                     queued: int) -> tuple[Session, list[str], list[str]]:
    session = studio.session(start=studio.now + 2 * DAY, capacity=capacity, waitlist=10)
    holders = [_book(studio, studio.member(), session) for _ in range(capacity)]
    queue = [_book(studio, studio.member(), session) for _ in range(queued)]
    assert all(studio.booking(b).status is BookingStatus.WAITLISTED for b in queue)
    return session, holders, queue


def test_a_cancel_promotes_the_head_of_the_waitlist(studio: Studio) -> None:
    _, holders, queue = _full_with_queue(studio, capacity=2, queued=3)

    result = applied(studio.run("cancel_booking", booking_id=holders[0]))

    assert [studio.booking(b).status for b in queue] == [
        BookingStatus.BOOKED, BookingStatus.WAITLISTED, BookingStatus.WAITLISTED]
    assert studio.booking(queue[0]).waitlist_position is None
    assert result.outcome.data["promoted"] == studio.booking(queue[0]).member_id


def test_a_spot_freed_by_staff_promotes_in_strict_queue_order(studio: Studio) -> None:
    _, holders, queue = _full_with_queue(studio, capacity=3, queued=4)

    for holder in holders:
        applied(studio.run("cancel_booking", Role.MANAGER, booking_id=holder))

    assert [studio.booking(b).status for b in queue] == [BookingStatus.BOOKED] * 3 + [
        BookingStatus.WAITLISTED]


def test_a_capacity_increase_promotes_in_queue_order(studio: Studio) -> None:
    session, _, queue = _full_with_queue(studio, capacity=1, queued=3)

    result = applied(studio.run("change_capacity", Role.MANAGER, session_id=session.id,
                                capacity=3))

    assert [studio.booking(b).status for b in queue] == [
        BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.WAITLISTED]
    promoted = [studio.booking(b).member_id for b in queue[:2]]
    assert result.outcome.data["promoted"] == ",".join(promoted)
    (audit,) = studio.audits("change_capacity")
    assert audit.detail == "1->3"


def test_the_waitlist_is_not_promoted_after_the_cutoff(studio: Studio) -> None:
    session, holders, queue = _full_with_queue(studio, capacity=1, queued=1)
    cutoff = session.start - studio.policy.waitlist_cutoff_minutes * HOUR / 60

    applied(studio.run("cancel_booking", Role.MANAGER, booking_id=holders[0], now=cutoff))

    assert studio.booking(queue[0]).status is BookingStatus.WAITLISTED
    assert studio.booking(holders[0]).status is BookingStatus.LATE_CANCELLED


def test_the_waitlist_is_promoted_just_before_the_cutoff(studio: Studio) -> None:
    session, holders, queue = _full_with_queue(studio, capacity=1, queued=1)
    cutoff = session.start - studio.policy.waitlist_cutoff_minutes * HOUR / 60

    studio.run("cancel_booking", Role.MANAGER, booking_id=holders[0], now=cutoff - HOUR / 60)

    assert studio.booking(queue[0]).status is BookingStatus.BOOKED


def test_a_capacity_increase_after_the_cutoff_does_not_promote(studio: Studio) -> None:
    session, _, queue = _full_with_queue(studio, capacity=1, queued=2)

    applied(studio.run("change_capacity", Role.MANAGER, session_id=session.id, capacity=5,
                       now=session.start - HOUR / 2))

    assert all(studio.booking(b).status is BookingStatus.WAITLISTED for b in queue)


def test_a_no_show_release_after_the_start_does_not_promote(studio: Studio) -> None:
    session, holders, queue = _full_with_queue(studio, capacity=1, queued=1)

    applied(studio.run("mark_no_show", booking_id=holders[0], now=session.start + HOUR / 4))

    assert studio.booking(queue[0]).status is BookingStatus.WAITLISTED


def test_a_cancelled_waitlist_place_keeps_the_others_in_order(studio: Studio) -> None:
    session, holders, queue = _full_with_queue(studio, capacity=1, queued=3)
    applied(studio.run("cancel_booking", booking_id=queue[0]))
    newcomer = _book(studio, studio.member(), session)
    positions = [studio.booking(b).waitlist_position or 0 for b in (*queue[1:], newcomer)]
    assert positions == sorted(positions) and len(set(positions)) == 3 and 0 not in positions

    applied(studio.run("cancel_booking", booking_id=holders[0]))

    assert studio.booking(queue[1]).status is BookingStatus.BOOKED
    assert studio.booking(queue[2]).status is BookingStatus.WAITLISTED
    assert studio.booking(newcomer).status is BookingStatus.WAITLISTED


def test_promote_from_waitlist_when_there_is_space(studio: Studio) -> None:
    session, _, queue = _full_with_queue(studio, capacity=1, queued=2)
    studio.state.apply([replace(session, capacity=2)])  # edited elsewhere, not yet promoted

    applied(studio.run("promote_from_waitlist", booking_id=queue[1]))

    booking = studio.booking(queue[1])
    assert (booking.status, booking.waitlist_position, booking.over_capacity) == (
        BookingStatus.BOOKED, None, False)


def test_promote_from_waitlist_refuses_a_full_class(studio: Studio) -> None:
    _, _, queue = _full_with_queue(studio, capacity=1, queued=1)
    result = rejected(studio.run("promote_from_waitlist", booking_id=queue[0]), "class_full")
    assert result.outcome.fix


def test_manager_promotes_over_capacity_with_an_audit_entry(studio: Studio) -> None:
    _, _, queue = _full_with_queue(studio, capacity=1, queued=1)

    applied(studio.run("promote_from_waitlist", Role.MANAGER, booking_id=queue[0],
                       override_capacity=True, reason="coach agreed"))

    assert studio.booking(queue[0]).over_capacity
    (audit,) = studio.audits("override_capacity")
    assert (audit.subject_id, audit.reason) == (queue[0], "coach agreed")


def test_front_desk_may_not_promote_over_capacity(studio: Studio) -> None:
    _, _, queue = _full_with_queue(studio, capacity=1, queued=1)
    rejected(studio.run("promote_from_waitlist", booking_id=queue[0], override_capacity=True,
                        reason="x"), "not_allowed")


def test_promote_from_waitlist_refuses_a_booked_place(studio: Studio) -> None:
    _, holders, _ = _full_with_queue(studio, capacity=1, queued=0)
    rejected(studio.run("promote_from_waitlist", booking_id=holders[0]), "not_waitlisted")


# --- change_capacity, create_session, cancel_session ---------------------------------


def test_change_capacity_refuses_a_negative_capacity(studio: Studio) -> None:
    session = studio.session()
    rejected(studio.run("change_capacity", Role.MANAGER, session_id=session.id, capacity=-1),
             "invalid_value")


def test_change_capacity_refuses_a_cancelled_class(studio: Studio) -> None:
    session = studio.session()
    applied(studio.run("cancel_session", Role.MANAGER, session_id=session.id))
    rejected(studio.run("change_capacity", Role.MANAGER, session_id=session.id, capacity=5),
             "session_cancelled")


def test_create_session(studio: Studio) -> None:
    start = studio.now + DAY
    result = applied(studio.run(
        "create_session", Role.MANAGER, location_id=studio.location.id,
        class_type_id=studio.class_type.id, start=start, end=start + HOUR, capacity=12,
        coach_id=studio.staff[Role.COACH].id, price_cents=9000))

    session = studio.get(Session, result.outcome.subject_id)
    assert (session.class_name, session.capacity, session.start, session.price_cents) == (
        "Yoga", 12, start, 9000)
    applied(studio.run("book", member_id=studio.member().id, session_id=session.id))


def test_create_session_with_its_own_id_is_idempotent(studio: Studio) -> None:
    start = studio.now + DAY
    args: dict[str, Any] = dict(location_id=studio.location.id,
                                class_type_id=studio.class_type.id, start=start,
                                end=start + HOUR, capacity=12, session_id="imported-1")
    applied(studio.run("create_session", Role.MANAGER, **args))
    again = applied(studio.run("create_session", Role.MANAGER, **args), "already_exists")
    assert again.changes == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"end_offset": 0}, "invalid_value"),
        ({"capacity": -1}, "invalid_value"),
        ({"waitlist_size": -1}, "invalid_value"),
        ({"price_cents": -1}, "invalid_value"),
        ({"class_type_id": "nope"}, "unknown_class_type"),
        ({"location_id": "nope"}, "wrong_location"),
    ],
)
def test_create_session_refuses_bad_values(studio: Studio, change: dict[str, Any],
                                           code: str) -> None:
    start = studio.now + DAY
    args: dict[str, Any] = dict(location_id=studio.location.id,
                                   class_type_id=studio.class_type.id, start=start,
                                   end=start + HOUR, capacity=12)
    end_offset = change.pop("end_offset", None)
    if end_offset is not None:
        args["end"] = start
    args.update(change)
    rejected(studio.run("create_session", Role.MANAGER, **args), code)


def test_cancel_session_cancels_and_refunds_everyone(studio: Studio) -> None:
    session = studio.session(start=studio.now + 2 * DAY, capacity=2, waitlist=5)
    members = [studio.member(credits=4) for _ in range(3)]
    ids = [_book(studio, m, session) for m in members]  # the third is waitlisted
    applied(studio.run("check_in", member_id=members[0].id, session_id=session.id,
                       now=session.start - HOUR / 2))

    result = applied(studio.run("cancel_session", Role.MANAGER, session_id=session.id,
                                reason="coach ill"))

    assert [studio.booking(b).status for b in ids] == [BookingStatus.CANCELLED] * 3
    assert all(studio.booking(b).waitlist_position is None for b in ids)
    assert [studio.balance(studio.entitlements(m)[0]) for m in members] == [4, 4, 4]
    assert set(result.outcome.data["told"].split(",")) == {m.id for m in members}
    assert studio.get(Session, session.id).status.value == "cancelled"
    (audit,) = studio.audits("cancel_session")
    assert audit.reason == "coach ill"


def test_cancel_session_twice_refunds_once(studio: Studio) -> None:
    session = studio.session()
    member = studio.member(credits=4)
    _book(studio, member, session)
    applied(studio.run("cancel_session", Role.MANAGER, session_id=session.id))

    again = applied(studio.run("cancel_session", Role.MANAGER, session_id=session.id),
                    "already_cancelled")

    assert again.changes == []
    assert studio.balance(studio.entitlements(member)[0]) == 4



def test_capacity_cannot_drop_below_the_places_already_held(studio: Studio) -> None:
    """Shrinking a class under its bookings would overbook it silently."""
    session = studio.session(start=studio.now + 2 * DAY, capacity=3)
    for _ in range(2):
        _book(studio, studio.member(), session)

    result = rejected(studio.run("change_capacity", Role.MANAGER, session_id=session.id,
                                 capacity=1), "capacity_below_booked")

    assert "2" in result.outcome.message
    applied(studio.run("change_capacity", Role.MANAGER, session_id=session.id, capacity=2))
    assert studio.get(Session, session.id).capacity == 2


def test_a_no_show_release_promotes_the_queue_head_where_promotion_runs_into_class() -> None:
    """A studio that promotes until 15 minutes into the class: a no-show frees a place."""
    studio = Studio(policy=replace(Studio().policy, waitlist_cutoff_minutes=-15))
    session, holders, queue = _full_with_queue(studio, capacity=1, queued=2)

    result = applied(studio.run("mark_no_show", booking_id=holders[0],
                                now=session.start + 5 * HOUR / 60))

    assert [studio.booking(b).status for b in queue] == [
        BookingStatus.BOOKED, BookingStatus.WAITLISTED]
    assert result.outcome.data["promoted"] == studio.booking(queue[0]).member_id
