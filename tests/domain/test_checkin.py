"""Check-in at the desk and its replay by the cloud, undo and no-shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from frontdesk.domain.model import (
    AlertCode,
    BookingStatus,
    Member,
    Penalty,
    Role,
    Session,
    StaffMember,
)
from tests.domain.conftest import DAY, HOUR, applied, rejected, warned
from tests.studio import Studio

MINUTE = HOUR / 60


def _soon(studio: Studio, **kwargs: object) -> Session:
    """A class starting in 30 minutes: check-in is open, booking still is."""
    return studio.session(start=studio.now + 30 * MINUTE, **kwargs)  # type: ignore[arg-type]


def _book(studio: Studio, member: Member, session: Session) -> str:
    result = studio.run("book", member_id=member.id, session_id=session.id)
    assert result.outcome.ok and result.outcome.subject_id, result.outcome
    return result.outcome.subject_id


def _blocking(studio: Studio, *codes: AlertCode) -> Studio:
    studio.policy = replace(studio.policy, blocking_alerts=studio.policy.blocking_alerts
                            | frozenset(codes))
    return studio


# --- check_in -------------------------------------------------------------------------


def test_check_in_a_booked_member_uses_the_credit_taken_at_booking(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    booking_id = _book(studio, member, session)

    result = applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    booking = studio.booking(booking_id)
    assert result.outcome.subject_id == booking_id
    assert booking.status is BookingStatus.CHECKED_IN
    assert (booking.checked_in_at, booking.checked_in_by) == (
        studio.now, studio.staff[Role.FRONT_DESK].id)
    assert not (booking.walk_in or booking.unpaid or booking.over_capacity)
    assert studio.balance(ent) == 4
    assert len(studio.ledger(ent)) == 1


def test_check_in_a_walk_in_without_a_booking_takes_a_credit(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)

    result = applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    booking = studio.booking(result.outcome.data["booking_id"])
    assert (booking.status, booking.walk_in, booking.charged) == (
        BookingStatus.CHECKED_IN, True, 1)
    assert studio.balance(ent) == 4


def test_checking_in_twice_is_harmless(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    first = applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    again = applied(studio.run("check_in", member_id=member.id, session_id=session.id),
                    "already_checked_in")

    assert again.changes == []
    assert again.outcome.subject_id == first.outcome.subject_id
    assert studio.balance(ent) == 4


def test_checking_in_twice_after_the_window_closed_is_still_harmless(studio: Studio) -> None:
    member = studio.member()
    session = _soon(studio)
    applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    again = studio.run("check_in", member_id=member.id, session_id=session.id,
                       now=session.end + HOUR)

    applied(again, "already_checked_in")
    assert again.changes == []


@pytest.mark.parametrize(
    ("offset", "open_"),
    [(-61, False), (-60, True), (0, True), (60, True), (61, False)],
)
def test_check_in_window_opens_an_hour_before_and_closes_at_the_end(
    studio: Studio, offset: int, open_: bool
) -> None:
    session = studio.session(start=studio.now + DAY, minutes=60)
    member = studio.member()
    result = studio.run("check_in", member_id=member.id, session_id=session.id,
                        now=session.start + offset * MINUTE)
    if open_:
        applied(result)
    else:
        assert rejected(result, "outside_checkin_window").outcome.fix


def test_outside_window_message_shows_local_times(studio: Studio) -> None:
    # 10:00 Shanghai is 02:00 UTC: the desk shows the location's clock, not UTC.
    session = studio.session(start=studio.now + DAY + HOUR, minutes=60)
    result = rejected(studio.run("check_in", member_id=studio.member().id,
                                 session_id=session.id), "outside_checkin_window")
    assert "09:00 to 11:00" in result.outcome.message


def test_a_short_class_stays_open_for_check_in_30_minutes_after_its_start(
    studio: Studio,
) -> None:
    session = studio.session(start=studio.now + DAY, minutes=15)
    member = studio.member()
    applied(studio.run("check_in", member_id=member.id, session_id=session.id,
                       now=session.start + 30 * MINUTE))


def test_manager_checks_in_outside_the_window_with_an_override(studio: Studio) -> None:
    session = studio.session(start=studio.now + DAY)
    member = studio.member()
    result = applied(studio.run("check_in", Role.MANAGER, member_id=member.id,
                                session_id=session.id, override=True, reason="early bird"))
    assert studio.booking(result.outcome.subject_id).status is BookingStatus.CHECKED_IN
    (audit,) = studio.audits("override_checkin_window")
    assert (audit.subject_id, audit.detail, audit.reason) == (
        result.outcome.subject_id, session.id, "early bird")


def test_backdated_check_in_needs_a_reason_and_is_audited(studio: Studio) -> None:
    session = studio.session(start=studio.now - 2 * HOUR)  # ended an hour ago
    member = studio.member()
    at = session.start + 5 * MINUTE
    rejected(studio.run("check_in", member_id=member.id, session_id=session.id, at=at),
             "reason_required")

    result = applied(studio.run("check_in", member_id=member.id, session_id=session.id, at=at,
                                reason="paper sign-in sheet"))

    booking = studio.booking(result.outcome.subject_id)
    assert (booking.status, booking.checked_in_at) == (BookingStatus.CHECKED_IN, at)
    (audit,) = studio.audits("backdated_check_in")
    assert (audit.subject_id, audit.reason, audit.detail) == (
        booking.id, "paper sign-in sheet", at.isoformat())


def test_backdated_check_in_must_fall_in_the_window(studio: Studio) -> None:
    session = studio.session(start=studio.now - 3 * HOUR)
    rejected(studio.run("check_in", member_id=studio.member().id, session_id=session.id,
                        at=session.start - 2 * HOUR, reason="sheet"), "outside_checkin_window")


def test_a_check_in_cannot_be_dated_in_the_future(studio: Studio) -> None:
    session = _soon(studio)
    rejected(studio.run("check_in", member_id=studio.member().id, session_id=session.id,
                        at=studio.now + 10 * MINUTE, reason="typo"), "future_check_in")


def test_a_coach_cannot_backdate(studio: Studio) -> None:
    session = studio.session(start=studio.now - 2 * HOUR)
    rejected(studio.run("check_in", Role.COACH, member_id=studio.member().id,
                        session_id=session.id, at=session.start, reason="sheet"),
             "not_allowed")


def test_a_coach_checks_in_to_their_own_classes_only(studio: Studio) -> None:
    own = _soon(studio)
    other_coach = StaffMember("coach-2", "Other coach", Role.COACH, (studio.location.id,))
    studio.state.apply([other_coach])
    theirs = _soon(studio, coach=other_coach)
    member = studio.member()

    applied(studio.run("check_in", Role.COACH, member_id=member.id, session_id=own.id))
    rejected(studio.run("check_in", Role.COACH, member_id=member.id, session_id=theirs.id),
             "not_your_class")


def test_the_kiosk_checks_in_a_booked_member(studio: Studio) -> None:
    session = _soon(studio)
    member = studio.member()
    _book(studio, member, session)
    result = applied(studio.run("check_in", Role.KIOSK, member_id=member.id,
                                session_id=session.id))
    assert studio.booking(result.outcome.subject_id).checked_in_by == studio.staff[Role.KIOSK].id


def test_the_kiosk_cannot_override(studio: Studio) -> None:
    session = _soon(studio, capacity=0)
    rejected(studio.run("check_in", Role.KIOSK, member_id=studio.member().id,
                        session_id=session.id, override=True, reason="let me in"),
             "not_allowed")


def test_check_in_refused_without_a_valid_pass(studio: Studio) -> None:
    member = studio.member(until=date(2026, 11, 30))
    rejected(studio.run("check_in", member_id=member.id, session_id=_soon(studio).id),
             "expired")


def test_manager_checks_in_without_a_pass_recorded_unpaid_and_audited(studio: Studio) -> None:
    member = studio.member(credits=0)
    session = _soon(studio)

    result = applied(studio.run("check_in", Role.MANAGER, member_id=member.id,
                                session_id=session.id, override=True, reason="pays tomorrow"))

    booking = studio.booking(result.outcome.subject_id)
    assert booking.unpaid
    assert (booking.entitlement_id, booking.charged) == (None, 0)
    (audit,) = studio.audits("override_no_pass")
    assert (audit.subject_id, audit.detail, audit.reason) == (
        booking.id, session.id, "pays tomorrow")


def test_walk_in_check_in_refused_when_the_class_is_full(studio: Studio) -> None:
    session = _soon(studio, capacity=1)
    applied(studio.run("check_in", member_id=studio.member().id, session_id=session.id))
    rejected(studio.run("check_in", member_id=studio.member().id, session_id=session.id),
             "class_full")


def test_manager_checks_in_over_capacity_with_an_audit_entry(studio: Studio) -> None:
    session = _soon(studio, capacity=0)
    member = studio.member()

    result = applied(studio.run("check_in", Role.MANAGER, member_id=member.id,
                                session_id=session.id, override=True, reason="friend of coach"))

    assert studio.booking(result.outcome.subject_id).over_capacity
    (audit,) = studio.audits("override_capacity")
    assert (audit.subject_id, audit.detail) == (result.outcome.subject_id, session.id)


def test_walk_ins_fill_a_class_then_booked_members_can_still_check_in(studio: Studio) -> None:
    session = studio.session(start=studio.now + 2 * DAY, capacity=3)
    booked = [studio.member() for _ in range(2)]
    for member in booked:
        _book(studio, member, session)
    at_the_door = session.start - 10 * MINUTE

    applied(studio.run("check_in", member_id=studio.member().id, session_id=session.id,
                       now=at_the_door))  # the last free spot goes to a walk-in
    rejected(studio.run("check_in", member_id=studio.member().id, session_id=session.id,
                        now=at_the_door), "class_full")
    for member in booked:
        result = applied(studio.run("check_in", member_id=member.id, session_id=session.id,
                                    now=at_the_door))
        assert not studio.booking(result.outcome.subject_id).over_capacity

    held = [b for b in studio.bookings(session) if b.status is BookingStatus.CHECKED_IN]
    assert len(held) == session.capacity


def test_a_waitlisted_member_checking_in_needs_a_free_spot(studio: Studio) -> None:
    session = studio.session(start=studio.now + 2 * DAY, capacity=1)
    _book(studio, studio.member(), session)
    member = studio.member()
    waiting = _book(studio, member, session)

    rejected(studio.run("check_in", member_id=member.id, session_id=session.id,
                        now=session.start), "class_full")

    session_bigger = replace(session, capacity=2)
    studio.state.apply([session_bigger])
    applied(studio.run("check_in", member_id=member.id, session_id=session.id,
                       now=session.start))
    booking = studio.booking(waiting)
    assert (booking.status, booking.waitlist_position, booking.charged) == (
        BookingStatus.CHECKED_IN, None, 1)


def test_a_blocking_alert_refuses_check_in(studio: Studio) -> None:
    _blocking(studio, AlertCode.WAIVER_MISSING)
    member = studio.member(waiver=False)
    result = rejected(studio.run("check_in", member_id=member.id,
                                 session_id=_soon(studio).id), "waiver_missing")
    assert result.outcome.fix == "A manager can override."


def test_a_warning_alert_does_not_refuse_check_in(studio: Studio) -> None:
    member = studio.member(waiver=False)  # waiver missing is a warning by default
    applied(studio.run("check_in", member_id=member.id, session_id=_soon(studio).id))


def test_an_unpaid_fee_blocks_when_the_studio_says_so() -> None:
    studio = Studio(policy=replace(Studio().policy, late_cancel_penalty=Penalty.FEE,
                                   penalty_fee_cents=2000))
    _blocking(studio, AlertCode.UNPAID)
    member = studio.member()
    late = _book(studio, member, studio.session())
    applied(studio.run("cancel_booking", booking_id=late))

    rejected(studio.run("check_in", member_id=member.id, session_id=_soon(studio).id),
             "unpaid")


def test_manager_overrides_a_blocking_alert_with_an_audit_entry(studio: Studio) -> None:
    _blocking(studio, AlertCode.WAIVER_MISSING, AlertCode.STAFF_NOTE)
    member = studio.member(waiver=False, notes="owes a towel")
    session = _soon(studio)

    result = applied(studio.run("check_in", Role.MANAGER, member_id=member.id,
                                session_id=session.id, override=True,
                                reason="signs after class"))

    actions = sorted(a.action for a in studio.audits())
    assert actions == ["override_staff_note", "override_waiver_missing"]
    assert all(a.subject_id == result.outcome.subject_id for a in studio.audits())
    assert all(a.staff_id == studio.staff[Role.MANAGER].id for a in studio.audits())


def test_check_in_refuses_a_cancelled_class(studio: Studio) -> None:
    session = _soon(studio)
    applied(studio.run("cancel_session", Role.MANAGER, session_id=session.id))
    rejected(studio.run("check_in", member_id=studio.member().id, session_id=session.id),
             "session_cancelled")


def test_a_member_who_cancelled_late_and_comes_anyway_pays_again(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    late = _book(studio, member, session)
    applied(studio.run("cancel_booking", booking_id=late))

    result = applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    assert result.outcome.subject_id != late
    assert studio.balance(ent) == 3


# --- replay: the cloud re-runs an offline check-in -----------------------------------


def test_replay_keeps_an_offline_check_in_to_a_full_class_with_a_warning(studio: Studio) -> None:
    session = _soon(studio, capacity=1)
    applied(studio.run("check_in", member_id=studio.member().id, session_id=session.id))
    member = studio.member()

    result = warned(studio.run("check_in", replay=True, member_id=member.id,
                               session_id=session.id), "over_capacity")

    booking = studio.booking(result.outcome.subject_id)
    assert (booking.status, booking.over_capacity) == (BookingStatus.CHECKED_IN, True)
    assert result.outcome.warnings[0].fix


def test_replay_keeps_an_offline_check_in_without_a_pass_as_unpaid(studio: Studio) -> None:
    member = studio.member(credits=0)
    session = _soon(studio)

    result = warned(studio.run("check_in", replay=True, member_id=member.id,
                               session_id=session.id), "unpaid_attendance")

    booking = studio.booking(result.outcome.subject_id)
    assert (booking.status, booking.unpaid, booking.charged) == (
        BookingStatus.CHECKED_IN, True, 0)
    assert "no valid pass" in result.outcome.warnings[0].message


def test_replay_full_and_without_a_pass_gives_both_warnings(studio: Studio) -> None:
    session = _soon(studio, capacity=0)
    result = warned(studio.run("check_in", replay=True, member_id=studio.member(credits=0).id,
                               session_id=session.id), "over_capacity", "unpaid_attendance")
    assert studio.booking(result.outcome.subject_id).status is BookingStatus.CHECKED_IN


def test_replay_outside_the_window_and_with_a_blocking_alert_warns(studio: Studio) -> None:
    _blocking(studio, AlertCode.WAIVER_MISSING)
    session = studio.session(start=studio.now - 3 * HOUR)
    result = warned(studio.run("check_in", replay=True, member_id=studio.member(waiver=False).id,
                               session_id=session.id), "outside_checkin_window",
                    "waiver_missing")
    assert studio.booking(result.outcome.subject_id).status is BookingStatus.CHECKED_IN


def test_replay_of_a_normal_check_in_is_plainly_applied(studio: Studio) -> None:
    session = _soon(studio)
    applied(studio.run("check_in", replay=True, member_id=studio.member().id,
                       session_id=session.id))


# --- undo_check_in --------------------------------------------------------------------


def test_undo_check_in_of_a_booked_member_keeps_the_booking(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    booking_id = _book(studio, member, session)
    applied(studio.run("check_in", member_id=member.id, session_id=session.id))

    applied(studio.run("undo_check_in", booking_id=booking_id))

    booking = studio.booking(booking_id)
    assert (booking.status, booking.checked_in_at, booking.checked_in_by) == (
        BookingStatus.BOOKED, None, None)
    assert studio.balance(ent) == 4


def test_undo_check_in_of_a_walk_in_returns_the_credit_and_promotes_the_waitlist() -> None:
    studio = Studio(policy=replace(Studio().policy, waitlist_cutoff_minutes=30))
    session = studio.session(start=studio.now + DAY, capacity=1)
    walk = studio.member(credits=5)
    (ent,) = studio.entitlements(walk)
    at_the_door = session.start - 50 * MINUTE
    result = applied(studio.run("check_in", member_id=walk.id, session_id=session.id,
                                now=at_the_door))
    waiting = studio.run("book", member_id=studio.member().id, session_id=session.id,
                         now=at_the_door)
    applied(waiting, "waitlisted")

    undo = applied(studio.run("undo_check_in", booking_id=result.outcome.subject_id,
                              now=at_the_door))

    booking = studio.booking(result.outcome.subject_id)
    assert (booking.status, booking.charged) == (BookingStatus.CANCELLED, 0)
    assert studio.balance(ent) == 5
    assert studio.booking(waiting.outcome.subject_id).status is BookingStatus.BOOKED
    assert undo.outcome.data["promoted"] == studio.booking(waiting.outcome.subject_id).member_id


def test_undo_check_in_refuses_someone_not_checked_in(studio: Studio) -> None:
    booking_id = _book(studio, studio.member(), _soon(studio))
    rejected(studio.run("undo_check_in", booking_id=booking_id), "not_checked_in")


def test_a_coach_undoes_check_ins_in_their_own_classes_only(studio: Studio) -> None:
    other_coach = StaffMember("coach-2", "Other coach", Role.COACH, (studio.location.id,))
    studio.state.apply([other_coach])
    session = _soon(studio, coach=other_coach)
    member = studio.member()
    result = applied(studio.run("check_in", member_id=member.id, session_id=session.id))
    rejected(studio.run("undo_check_in", Role.COACH, booking_id=result.outcome.subject_id),
             "not_your_class")


# --- mark_no_show ---------------------------------------------------------------------


def test_mark_no_show_forfeits_the_credit_by_default(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    booking_id = _book(studio, member, session)

    result = applied(studio.run("mark_no_show", booking_id=booking_id, now=session.start))

    booking = studio.booking(booking_id)
    assert (booking.status, booking.charged) == (BookingStatus.NO_SHOW, 1)
    assert studio.balance(ent) == 4
    assert result.outcome.data["penalty"] == "forfeit_credit"


def test_mark_no_show_with_a_fee_policy_returns_the_credit_and_charges_a_fee() -> None:
    studio = Studio(policy=replace(Studio().policy, no_show_penalty=Penalty.FEE,
                                   penalty_fee_cents=4000))
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    booking_id = _book(studio, member, session)

    applied(studio.run("mark_no_show", booking_id=booking_id, now=session.start))

    assert studio.balance(ent) == 5
    (fee,) = studio.sales(member)
    assert (fee.kind, fee.amount_cents, fee.paid) == ("fee", 4000, False)
    assert studio.booking(booking_id).fee_sale_id == fee.id


def test_mark_no_show_only_once_the_class_has_started(studio: Studio) -> None:
    session = _soon(studio)
    booking_id = _book(studio, studio.member(), session)
    rejected(studio.run("mark_no_show", booking_id=booking_id,
                        now=session.start - MINUTE), "class_not_started")


def test_mark_no_show_twice_applies_the_penalty_once() -> None:
    studio = Studio(policy=replace(Studio().policy, no_show_penalty=Penalty.FEE,
                                   penalty_fee_cents=4000))
    member = studio.member()
    session = _soon(studio)
    booking_id = _book(studio, member, session)
    applied(studio.run("mark_no_show", booking_id=booking_id, now=session.start))

    again = applied(studio.run("mark_no_show", booking_id=booking_id, now=session.start),
                    "already_no_show")

    assert again.changes == []
    assert len(studio.sales(member)) == 1


def test_mark_no_show_refuses_someone_who_came(studio: Studio) -> None:
    member = studio.member()
    session = _soon(studio)
    booking_id = _book(studio, member, session)
    applied(studio.run("check_in", member_id=member.id, session_id=session.id))
    rejected(studio.run("mark_no_show", booking_id=booking_id, now=session.start), "not_booked")


def test_a_member_marked_no_show_who_arrives_late_does_not_attend_for_free() -> None:
    """A no-show under a fee or no-penalty policy got their credit back."""
    studio = Studio(policy=replace(Studio().policy, no_show_penalty=Penalty.NONE))
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = _soon(studio)
    booking_id = _book(studio, member, session)
    applied(studio.run("mark_no_show", booking_id=booking_id, now=session.start))
    assert studio.balance(ent) == 5

    applied(studio.run("check_in", member_id=member.id, session_id=session.id,
                       now=session.start + 10 * MINUTE))

    booking = studio.booking(booking_id)
    assert booking.status is BookingStatus.CHECKED_IN
    assert booking.charged == 1
    assert studio.balance(ent) == 4
