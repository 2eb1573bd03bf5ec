"""Booking a class: credits, the waitlist, the booking window and capacity overrides."""

from __future__ import annotations

from datetime import date

from frontdesk.domain import execute
from frontdesk.domain.codec import encode
from frontdesk.domain.model import (
    BookingStatus,
    EntitlementKind,
    EntitlementStatus,
    Location,
    Role,
    evolve,
)
from tests.domain.conftest import DAY, HOUR, applied, rejected
from tests.studio import Studio, new_id


def test_book_takes_one_credit_and_writes_it_to_the_ledger(studio: Studio) -> None:
    member = studio.member(credits=5)
    (ent,) = studio.entitlements(member)
    session = studio.session()

    result = applied(studio.run("book", member_id=member.id, session_id=session.id))

    booking = studio.booking(result.outcome.data["booking_id"])
    assert booking.status is BookingStatus.BOOKED
    assert (booking.entitlement_id, booking.charged) == (ent.id, 1)
    assert studio.balance(ent) == 4
    (entry,) = studio.ledger(ent)
    assert (entry.delta, entry.reason, entry.booking_id) == (-1, "book", booking.id)
    assert result.outcome.subject_id == booking.id


def test_book_waitlists_in_order_when_the_class_is_full(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=3)
    first, second, third = (studio.member() for _ in range(3))
    applied(studio.run("book", member_id=first.id, session_id=session.id))

    r2 = applied(studio.run("book", member_id=second.id, session_id=session.id), "waitlisted")
    r3 = applied(studio.run("book", member_id=third.id, session_id=session.id), "waitlisted")

    w2 = studio.booking(r2.outcome.data["booking_id"])
    w3 = studio.booking(r3.outcome.data["booking_id"])
    assert (w2.status, w2.waitlist_position) == (BookingStatus.WAITLISTED, 1)
    assert (w3.status, w3.waitlist_position) == (BookingStatus.WAITLISTED, 2)
    assert "position 2" in r3.outcome.message
    # A waitlisted place is paid for when it is taken, so promotion never fails for money.
    assert w2.charged == 1
    (ent,) = studio.entitlements(second)
    assert studio.balance(ent) == 9


def test_book_refuses_class_full_when_the_waitlist_is_full(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=1)
    for _ in range(2):
        studio.run("book", member_id=studio.member().id, session_id=session.id)
    late = studio.member()

    result = rejected(studio.run("book", member_id=late.id, session_id=session.id), "class_full")

    assert result.outcome.fix  # the desk shows what to do next
    (ent,) = studio.entitlements(late)
    assert studio.balance(ent) == 10


def test_book_refuses_class_full_when_the_waitlist_has_closed(studio: Studio) -> None:
    # The cutoff is 60 minutes before the start: 30 minutes before, nobody joins the queue.
    session = studio.session(start=studio.now + HOUR / 2, capacity=1, waitlist=5)
    applied(studio.run("book", member_id=studio.member().id, session_id=session.id))

    rejected(studio.run("book", member_id=studio.member().id, session_id=session.id), "class_full")


def test_book_a_class_with_a_zero_waitlist_is_refused_when_full(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=0)
    applied(studio.run("book", member_id=studio.member().id, session_id=session.id))

    rejected(studio.run("book", member_id=studio.member().id, session_id=session.id), "class_full")


def test_booking_twice_answers_already_booked_and_charges_once(studio: Studio) -> None:
    member = studio.member()
    session = studio.session()
    first = applied(studio.run("book", member_id=member.id, session_id=session.id))

    again = applied(studio.run("book", member_id=member.id, session_id=session.id),
                    "already_booked")

    assert again.changes == []
    assert again.outcome.subject_id == first.outcome.subject_id
    (ent,) = studio.entitlements(member)
    assert studio.balance(ent) == 9


def test_a_waitlisted_member_is_already_booked(studio: Studio) -> None:
    session = studio.session(capacity=0)
    member = studio.member()
    applied(studio.run("book", member_id=member.id, session_id=session.id), "waitlisted")

    again = applied(studio.run("book", member_id=member.id, session_id=session.id),
                    "already_booked")
    assert again.changes == []


def test_a_member_who_cancelled_can_book_again(studio: Studio) -> None:
    member = studio.member()
    session = studio.session(start=studio.now + 2 * DAY)
    first = studio.run("book", member_id=member.id, session_id=session.id)
    applied(studio.run("cancel_booking", booking_id=first.outcome.subject_id))

    second = applied(studio.run("book", member_id=member.id, session_id=session.id))

    assert second.outcome.subject_id != first.outcome.subject_id
    (ent,) = studio.entitlements(member)
    assert studio.balance(ent) == 9


def test_booking_closes_when_the_class_starts(studio: Studio) -> None:
    session = studio.session(start=studio.now)
    result = rejected(
        studio.run("book", member_id=studio.member().id, session_id=session.id), "booking_closed"
    )
    assert "walk-in" in result.outcome.fix


def test_booking_opens_booking_opens_days_before_the_class(studio: Studio) -> None:
    days = studio.policy.booking_opens_days
    too_early = studio.session(start=studio.now + days * DAY + HOUR)
    just_open = studio.session(start=studio.now + days * DAY)
    member = studio.member(until=None)

    rejected(studio.run("book", member_id=member.id, session_id=too_early.id),
             "booking_not_open")
    applied(studio.run("book", member_id=member.id, session_id=just_open.id))


def test_manager_overrides_capacity_with_an_audit_entry(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=0)
    applied(studio.run("book", member_id=studio.member().id, session_id=session.id))
    member = studio.member()

    result = applied(studio.run("book", Role.MANAGER, member_id=member.id,
                                session_id=session.id, override_capacity=True,
                                reason="regular, asked nicely"))

    booking = studio.booking(result.outcome.subject_id)
    assert booking.status is BookingStatus.BOOKED
    assert booking.over_capacity
    (audit,) = studio.audits("override_capacity")
    assert audit.subject_id == booking.id
    assert audit.staff_id == studio.staff[Role.MANAGER].id
    assert audit.reason == "regular, asked nicely"
    assert audit.command_id  # ties the entry to the command that made it


def test_manager_override_jumps_ahead_of_a_full_waitlist(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=1)
    for _ in range(2):
        studio.run("book", member_id=studio.member().id, session_id=session.id)

    result = applied(studio.run("book", Role.OWNER, member_id=studio.member().id,
                                session_id=session.id, override_capacity=True, reason="owner"))

    assert studio.booking(result.outcome.subject_id).status is BookingStatus.BOOKED


def test_capacity_override_needs_a_reason(studio: Studio) -> None:
    session = studio.session(capacity=0, waitlist=0)
    rejected(studio.run("book", Role.MANAGER, member_id=studio.member().id,
                        session_id=session.id, override_capacity=True, reason="  "),
             "reason_required")


def test_front_desk_may_not_override_capacity(studio: Studio) -> None:
    session = studio.session(capacity=0, waitlist=0)
    result = rejected(studio.run("book", Role.FRONT_DESK, member_id=studio.member().id,
                                 session_id=session.id, override_capacity=True, reason="please"),
                      "not_allowed")
    assert result.outcome.fix == "Ask a manager."


def test_an_override_flag_on_a_class_with_space_books_normally(studio: Studio) -> None:
    session = studio.session(capacity=5)
    result = applied(studio.run("book", member_id=studio.member().id, session_id=session.id,
                                override_capacity=True))
    assert not studio.booking(result.outcome.subject_id).over_capacity
    assert studio.audits("override_capacity") == []


def test_book_refuses_without_any_pass(studio: Studio) -> None:
    member = studio.member(credits=0)
    session = studio.session()
    result = rejected(studio.run("book", member_id=member.id, session_id=session.id),
                      "no_valid_entitlement")
    assert result.outcome.fix == "Sell a drop-in or a pass."


def test_book_refuses_an_expired_pass(studio: Studio) -> None:
    member = studio.member(until=date(2026, 12, 2))
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id), "expired")


def test_book_refuses_a_pass_with_no_credits_left(studio: Studio) -> None:
    member = studio.member(credits=0)
    studio.entitlement(member, credits=0, until=date(2027, 1, 1))
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "no_credits_left")


def test_book_refuses_a_pass_that_does_not_cover_the_class_type(studio: Studio) -> None:
    member = studio.member(credits=0)
    studio.entitlement(member, class_type_ids=(new_id(),), until=date(2027, 1, 1))
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "class_type_not_covered")


def test_book_refuses_a_pass_that_starts_later(studio: Studio) -> None:
    member = studio.member(credits=0)
    studio.entitlement(member, valid_from=date(2026, 12, 10))
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "no_valid_entitlement")


def test_book_refuses_a_refunded_pass(studio: Studio) -> None:
    member = studio.member(credits=0)
    studio.entitlement(member, status=EntitlementStatus.REFUNDED)
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "no_valid_entitlement")


def test_book_uses_the_pass_that_expires_first(studio: Studio) -> None:
    member = studio.member(credits=0)
    later = studio.entitlement(member, until=date(2027, 6, 1))
    sooner = studio.entitlement(member, until=date(2027, 1, 1))
    endless = studio.entitlement(member, until=None)

    result = applied(studio.run("book", member_id=member.id, session_id=studio.session().id))

    assert studio.booking(result.outcome.subject_id).entitlement_id == sooner.id
    assert [studio.balance(e) for e in (later, sooner, endless)] == [10, 9, 10]


def test_book_prefers_a_membership_over_a_pack_that_ends_the_same_day(studio: Studio) -> None:
    member = studio.member(credits=0)
    pack = studio.entitlement(member, until=date(2027, 1, 1))
    membership = studio.entitlement(member, credits=0, until=date(2027, 1, 1),
                                    kind=EntitlementKind.MEMBERSHIP)

    result = applied(studio.run("book", member_id=member.id, session_id=studio.session().id))

    booking = studio.booking(result.outcome.subject_id)
    assert (booking.entitlement_id, booking.charged) == (membership.id, 0)
    assert studio.balance(pack) == 10
    assert studio.ledger(membership) == []


def test_book_with_a_chosen_pass(studio: Studio) -> None:
    member = studio.member(credits=0)
    studio.entitlement(member, until=date(2027, 1, 1))
    chosen = studio.entitlement(member, until=date(2027, 6, 1))

    result = applied(studio.run("book", member_id=member.id, session_id=studio.session().id,
                                entitlement_id=chosen.id))

    assert studio.booking(result.outcome.subject_id).entitlement_id == chosen.id


def test_book_refuses_someone_elses_pass(studio: Studio) -> None:
    member, other = studio.member(), studio.member()
    (theirs,) = studio.entitlements(other)
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id,
                        entitlement_id=theirs.id), "unknown_entitlement")


def test_book_from_stored_value_takes_the_class_price(studio: Studio) -> None:
    member = studio.member(credits=0)
    card = studio.entitlement(member, credits=30000, kind=EntitlementKind.STORED_VALUE)
    priced = evolve(studio.session(), price_cents=8800)
    studio.state.apply([priced])
    unpriced = studio.session()

    applied(studio.run("book", member_id=member.id, session_id=priced.id))
    applied(studio.run("book", member_id=member.id, session_id=unpriced.id))

    assert studio.balance(card) == 30000 - 8800 - studio.policy.drop_in_price_cents
    assert sorted(e.delta for e in studio.ledger(card)) == [-10000, -8800]


def test_book_refuses_stored_value_that_cannot_pay_the_class(studio: Studio) -> None:
    member = studio.member(credits=0)
    studio.entitlement(member, credits=9999, kind=EntitlementKind.STORED_VALUE)
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "no_credits_left")


def test_book_refuses_a_cancelled_class(studio: Studio) -> None:
    session = studio.session()
    applied(studio.run("cancel_session", Role.MANAGER, session_id=session.id))
    rejected(studio.run("book", member_id=studio.member().id, session_id=session.id),
             "session_cancelled")


def test_book_refuses_unknown_members_and_sessions(studio: Studio) -> None:
    rejected(studio.run("book", member_id=new_id(), session_id=studio.session().id),
             "unknown_member")
    rejected(studio.run("book", member_id=studio.member().id, session_id=new_id()),
             "unknown_session")


def test_staff_book_only_at_their_own_locations(studio: Studio) -> None:
    elsewhere = Location(new_id(), "Other", "Asia/Shanghai")
    session = evolve(studio.session(), id=new_id(), location_id=elsewhere.id)
    studio.state.apply([elsewhere, session])
    rejected(studio.run("book", member_id=studio.member().id, session_id=session.id),
             "wrong_location")


def test_booking_a_merged_member_books_the_member_they_were_merged_into(
    studio: Studio,
) -> None:
    kept, gone = studio.member(), studio.member()
    applied(studio.run("merge_members", Role.MANAGER, keep_id=kept.id, merge_id=gone.id))

    result = applied(studio.run("book", member_id=gone.id, session_id=studio.session().id))

    assert studio.booking(result.outcome.subject_id).member_id == kept.id


def test_an_anonymised_member_cannot_book(studio: Studio) -> None:
    member = studio.member()
    applied(studio.run("anonymise_member", Role.MANAGER, member_id=member.id))
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "member_inactive")


def test_two_bookings_of_the_last_spot_in_quick_succession_one_gets_it(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=0)
    anna, ben = studio.member("Anna"), studio.member("Ben")
    same_instant = studio.now

    first = studio.run("book", member_id=anna.id, session_id=session.id, now=same_instant)
    second = studio.run("book", member_id=ben.id, session_id=session.id, now=same_instant)

    applied(first)
    rejected(second, "class_full")
    holders = [b.member_id for b in studio.bookings(session) if b.status is BookingStatus.BOOKED]
    assert holders == [anna.id]
    (ben_pass,) = studio.entitlements(ben)
    assert studio.balance(ben_pass) == 10


def test_two_bookings_of_the_last_spot_the_second_is_waitlisted(studio: Studio) -> None:
    session = studio.session(capacity=1, waitlist=5)
    anna, ben = studio.member("Anna"), studio.member("Ben")

    applied(studio.run("book", member_id=anna.id, session_id=session.id))
    second = applied(studio.run("book", member_id=ben.id, session_id=session.id), "waitlisted")

    statuses = {b.member_id: b.status for b in studio.bookings(session)}
    assert statuses == {anna.id: BookingStatus.BOOKED, ben.id: BookingStatus.WAITLISTED}
    assert studio.booking(second.outcome.subject_id).waitlist_position == 1


def test_two_desks_booking_the_last_spot_offline_the_cloud_keeps_one(studio: Studio) -> None:
    """Both desks saw a free spot; the cloud applies them in turn on its own state."""
    session = studio.session(capacity=1, waitlist=0)
    anna, ben = studio.member("Anna"), studio.member("Ben")
    before = studio.state
    desk_a = execute("book", 1, encode({"member_id": anna.id, "session_id": session.id}),
                     new_id(), studio.ctx(), before)
    desk_b = execute("book", 1, encode({"member_id": ben.id, "session_id": session.id}),
                     new_id(), studio.ctx(), before)
    assert desk_a.outcome.ok and desk_b.outcome.ok  # each desk alone saw a free spot

    studio.state.apply(desk_a.changes)
    cloud_b = execute("book", 1, encode({"member_id": ben.id, "session_id": session.id}),
                      new_id(), studio.ctx(), studio.state)
    rejected(cloud_b, "class_full")

