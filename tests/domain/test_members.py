"""Members: adding and editing, waivers, merging duplicates, erasure, walk-ins, feedback."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from frontdesk.domain.model import (
    Booking,
    BookingStatus,
    Entitlement,
    EntitlementKind,
    Feedback,
    LedgerEntry,
    Member,
    MemberStatus,
    Role,
    Sale,
    ScanRecord,
    Session,
)
from tests.domain.conftest import DAY, HOUR, applied, rejected
from tests.studio import Studio


def _book(studio: Studio, member: Member, session: Session) -> str:
    result = studio.run("book", member_id=member.id, session_id=session.id)
    assert result.outcome.ok and result.outcome.subject_id, result.outcome
    return result.outcome.subject_id


def _member(studio: Studio, member_id: str) -> Member:
    found = studio.get(Member, member_id)
    assert isinstance(found, Member)
    return found


# --- add_member, edit_member, sign_waiver --------------------------------------------


def test_add_member_tidies_what_was_typed(studio: Studio) -> None:
    result = applied(studio.run("add_member", name="  张   伟 ", phone=" 13800138000 ",
                                card_code=" C-1 ", birthday=date(1990, 5, 1)))

    member = _member(studio, result.outcome.data["member_id"])
    assert (member.name, member.phone, member.card_code, member.birthday) == (
        "张 伟", "13800138000", "C-1", date(1990, 5, 1))
    assert member.created_at == studio.now
    assert member.waiver_signed_at is None


@pytest.mark.parametrize(("name", "code"), [("   ", "missing_required"),
                                            ("x" * 201, "invalid_value")])
def test_add_member_refuses_a_bad_name(studio: Studio, name: str, code: str) -> None:
    rejected(studio.run("add_member", name=name), code)


def test_add_member_refuses_a_card_that_belongs_to_someone(studio: Studio) -> None:
    studio.member("Owner of C-1", card_code="C-1")
    result = rejected(studio.run("add_member", name="New", card_code="C-1"), "duplicate_card")
    assert "Owner of C-1" in result.outcome.message


def test_add_member_with_its_own_id_is_idempotent(studio: Studio) -> None:
    applied(studio.run("add_member", name="Imported", member_id="m-1"))
    again = applied(studio.run("add_member", name="Imported", member_id="m-1"),
                    "already_exists")
    assert again.changes == []


def test_edit_member_changes_only_what_was_given(studio: Studio) -> None:
    member = studio.member("Li", phone="1", email="li@example.com", card_code="C-1")

    applied(studio.run("edit_member", member_id=member.id, phone=" 2 ", notes="knee injury"))

    after = _member(studio, member.id)
    assert (after.name, after.phone, after.email, after.card_code, after.notes) == (
        "Li", "2", "li@example.com", "C-1", "knee injury")


def test_edit_member_refuses_another_members_card(studio: Studio) -> None:
    studio.member(card_code="C-1")
    member = studio.member(card_code="C-2")
    rejected(studio.run("edit_member", member_id=member.id, card_code="C-1"), "duplicate_card")
    applied(studio.run("edit_member", member_id=member.id, card_code="C-2"))  # their own


def test_edit_member_refuses_an_empty_name(studio: Studio) -> None:
    rejected(studio.run("edit_member", member_id=studio.member().id, name=""),
             "missing_required")


def test_sign_waiver_keeps_the_first_signature(studio: Studio) -> None:
    member = studio.member(waiver=False)
    applied(studio.run("sign_waiver", member_id=member.id))
    applied(studio.run("sign_waiver", member_id=member.id, now=studio.now + DAY))
    assert _member(studio, member.id).waiver_signed_at == studio.now


# --- merge_members --------------------------------------------------------------------


def test_merge_moves_every_row_to_the_kept_member(studio: Studio) -> None:
    keep = studio.member("Wei", phone="138")
    gone = studio.member("Wei Z", card_code="C-9", email="w@example.com", notes="vegan",
                         waiver=False)
    _book(studio, gone, studio.session())
    applied(studio.run("top_up", member_id=gone.id, amount_cents=1000, method="cash"))
    applied(studio.run("record_feedback", member_id=gone.id, rating=5))
    counts = {cls: len(studio.state.all(cls)) for cls in (Booking, Entitlement, Sale,
                                                          LedgerEntry, Feedback)}

    result = applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id,
                                merge_id=gone.id))

    assert result.outcome.subject_id == keep.id
    for cls, count in counts.items():
        rows = studio.state.all(cls)
        assert len(rows) == count, cls
        assert all(getattr(r, "member_id") != gone.id for r in rows), cls  # noqa: B009
    kept = _member(studio, keep.id)
    assert (kept.phone, kept.email, kept.card_code, kept.notes) == (
        "138", "w@example.com", "C-9", "vegan")
    merged = _member(studio, gone.id)
    assert (merged.status, merged.merged_into, merged.card_code) == (
        MemberStatus.MERGED, keep.id, "")
    (audit,) = studio.audits("merge_members")
    assert audit.detail == f"merged {gone.id}"


def test_merge_keeps_one_place_per_class_and_refunds_the_duplicate(studio: Studio) -> None:
    keep, gone = studio.member(credits=5), studio.member(credits=5)
    (keep_pass,), (gone_pass,) = studio.entitlements(keep), studio.entitlements(gone)
    session = studio.session()
    kept_booking = _book(studio, keep, session)
    duplicate = _book(studio, gone, session)

    applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id))

    assert studio.booking(kept_booking).status is BookingStatus.BOOKED
    assert studio.booking(duplicate).status is BookingStatus.CANCELLED
    assert studio.booking(duplicate).member_id == keep.id
    assert (studio.balance(keep_pass), studio.balance(gone_pass)) == (4, 5)
    assert studio.get(Entitlement, gone_pass.id).member_id == keep.id


def test_merge_keeps_the_checked_in_place_of_the_two(studio: Studio) -> None:
    keep, gone = studio.member(), studio.member()
    session = studio.session(start=studio.now + HOUR / 2)
    kept_booking = _book(studio, keep, session)
    checked_in = applied(studio.run("check_in", member_id=gone.id, session_id=session.id))

    applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id))

    assert studio.booking(checked_in.outcome.subject_id).status is BookingStatus.CHECKED_IN
    assert studio.booking(checked_in.outcome.subject_id).member_id == keep.id
    assert studio.booking(kept_booking).status is BookingStatus.CANCELLED
    assert sum(studio.balance(e) for e in studio.entitlements(keep)) == 19


def test_merge_frees_the_duplicate_place_for_the_waitlist(studio: Studio) -> None:
    session = studio.session(start=studio.now + 2 * DAY, capacity=2)
    keep, gone = studio.member(), studio.member()
    _book(studio, keep, session)
    _book(studio, gone, session)
    waiting = _book(studio, studio.member(), session)

    result = applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id,
                                merge_id=gone.id))

    assert studio.booking(waiting).status is BookingStatus.BOOKED
    assert result.outcome.data["promoted"] == studio.booking(waiting).member_id


def test_merge_twice_is_harmless(studio: Studio) -> None:
    keep, gone = studio.member(), studio.member()
    applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id))
    again = applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id,
                               merge_id=gone.id), "already_merged")
    assert again.changes == []


def test_a_member_cannot_be_merged_into_themself(studio: Studio) -> None:
    member = studio.member()
    rejected(studio.run("merge_members", Role.MANAGER, keep_id=member.id, merge_id=member.id),
             "invalid_value")


def test_merging_back_into_a_record_already_merged_away_is_refused(studio: Studio) -> None:
    """B was merged into A; merging A "into" B would merge A into itself."""
    a, b = studio.member("A"), studio.member("B")
    booking_id = _book(studio, a, studio.session())
    applied(studio.run("merge_members", Role.MANAGER, keep_id=a.id, merge_id=b.id))

    rejected(studio.run("merge_members", Role.MANAGER, keep_id=b.id, merge_id=a.id),
             "invalid_value")

    assert _member(studio, a.id).status is MemberStatus.ACTIVE
    assert studio.booking(booking_id).status is BookingStatus.BOOKED


def test_merging_into_an_anonymised_member_is_refused(studio: Studio) -> None:
    keep, gone = studio.member(), studio.member()
    applied(studio.run("anonymise_member", Role.MANAGER, member_id=keep.id))
    rejected(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id),
             "member_inactive")
    rejected(studio.run("merge_members", Role.MANAGER, keep_id=gone.id, merge_id=keep.id),
             "member_inactive")


def test_the_card_of_a_merged_record_can_be_given_out_again(studio: Studio) -> None:
    keep = studio.member(card_code="K-1")
    gone = studio.member(card_code="G-1")
    applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id))
    applied(studio.run("add_member", name="Someone new", card_code="G-1"))


# --- anonymise_member -----------------------------------------------------------------


def test_anonymise_erases_personal_data_and_keeps_the_history(studio: Studio) -> None:
    member = studio.member("Zhang Wei", phone="138", email="z@example.com", card_code="C-1",
                           birthday=date(1990, 1, 1), notes="asthma")
    booking_id = _book(studio, member, studio.session())
    applied(studio.run("top_up", member_id=member.id, amount_cents=1000, method="cash"))
    rows = {cls: len(studio.state.all(cls)) for cls in (Booking, Sale, LedgerEntry)}

    applied(studio.run("anonymise_member", Role.MANAGER, member_id=member.id,
                       reason="member asked"))

    after = _member(studio, member.id)
    assert after.status is MemberStatus.ANONYMISED
    assert (after.name, after.phone, after.email, after.card_code, after.birthday,
            after.notes, after.waiver_signed_at) == ("Anonymised member", "", "", "", None, "",
                                                     None)
    assert {cls: len(studio.state.all(cls)) for cls in rows} == rows
    assert studio.booking(booking_id).member_id == member.id
    (audit,) = studio.audits("anonymise_member")
    assert audit.reason == "member asked"
    applied(studio.run("add_member", name="New", card_code="C-1"))


def test_anonymise_twice_is_harmless(studio: Studio) -> None:
    member = studio.member()
    applied(studio.run("anonymise_member", Role.MANAGER, member_id=member.id))
    again = applied(studio.run("anonymise_member", Role.MANAGER, member_id=member.id),
                    "already_anonymised")
    assert again.changes == []


def test_anonymise_also_erases_records_merged_into_the_member(studio: Studio) -> None:
    keep = studio.member("Zhang Wei", phone="138")
    duplicate = studio.member("张伟", phone="139", email="zw@example.com")
    applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=duplicate.id))

    applied(studio.run("anonymise_member", Role.MANAGER, member_id=keep.id, reason="asked"))

    old = _member(studio, duplicate.id)
    assert (old.name, old.phone, old.email) == ("Anonymised member", "", "")


# --- walk_in --------------------------------------------------------------------------


def test_walk_in_adds_a_guest_sells_a_drop_in_and_checks_them_in(studio: Studio) -> None:
    session = studio.session(start=studio.now + HOUR / 2)

    result = applied(studio.run("walk_in", session_id=session.id,
                                guest={"name": "Guest", "phone": "139"},
                                plan_id=studio.drop_in.id, method="wechat_pay"))

    data = result.outcome.data
    member = _member(studio, data["member_id"])
    assert (member.name, member.phone) == ("Guest", "139")
    sale = studio.get(Sale, data["sale_id"])
    assert (sale.member_id, sale.amount_cents, sale.paid) == (member.id, 10000, True)
    booking = studio.booking(data["booking_id"])
    assert (booking.member_id, booking.status, booking.walk_in) == (
        member.id, BookingStatus.CHECKED_IN, True)
    assert booking.entitlement_id == data["entitlement_id"] == sale.entitlement_id
    assert studio.balance(data["entitlement_id"]) == 0
    assert result.outcome.subject_id == booking.id


def test_walk_in_of_a_member_with_a_pass_just_checks_in(studio: Studio) -> None:
    member = studio.member(credits=3)
    session = studio.session(start=studio.now + HOUR / 2)
    result = applied(studio.run("walk_in", session_id=session.id, member_id=member.id))
    assert studio.booking(result.outcome.data["booking_id"]).member_id == member.id
    assert studio.sales(member) == []
    assert studio.balance(studio.entitlements(member)[0]) == 2


def test_walk_in_uses_the_pass_just_sold_not_an_older_one(studio: Studio) -> None:
    member = studio.member(credits=3, until=date(2026, 12, 10))
    session = studio.session(start=studio.now + HOUR / 2)
    result = applied(studio.run("walk_in", session_id=session.id, member_id=member.id,
                                plan_id=studio.pack.id))
    booking = studio.booking(result.outcome.data["booking_id"])
    assert booking.entitlement_id == result.outcome.data["entitlement_id"]


@pytest.mark.parametrize("who", ["both", "neither"])
def test_walk_in_needs_exactly_one_of_member_or_guest(studio: Studio, who: str) -> None:
    args: dict[str, Any] = {"session_id": studio.session(start=studio.now + HOUR / 2).id}
    if who == "both":
        args.update(member_id=studio.member().id, guest={"name": "G"})
    rejected(studio.run("walk_in", **args), "invalid_arguments")


def test_a_refused_walk_in_leaves_no_guest_and_no_sale(studio: Studio) -> None:
    session = studio.session(start=studio.now + HOUR / 2, capacity=0)
    members_before = len(studio.state.all(Member))

    rejected(studio.run("walk_in", session_id=session.id, guest={"name": "Guest"},
                        plan_id=studio.drop_in.id), "class_full")

    assert len(studio.state.all(Member)) == members_before
    assert studio.sales() == []


def test_manager_walks_in_a_guest_over_capacity(studio: Studio) -> None:
    session = studio.session(start=studio.now + HOUR / 2, capacity=0)
    result = applied(studio.run("walk_in", Role.MANAGER, session_id=session.id,
                                guest={"name": "Guest"}, plan_id=studio.drop_in.id,
                                override=True, reason="trial class"))
    assert studio.booking(result.outcome.data["booking_id"]).over_capacity
    assert [a.reason for a in studio.audits("override_capacity")] == ["trial class"]


def test_walk_in_refuses_a_guest_with_a_taken_card(studio: Studio) -> None:
    studio.member(card_code="C-1")
    rejected(studio.run("walk_in", session_id=studio.session(start=studio.now + HOUR / 2).id,
                        guest={"name": "G", "card_code": "C-1"}, plan_id=studio.drop_in.id),
             "duplicate_card")


def test_walk_in_of_a_member_without_a_pass_is_refused(studio: Studio) -> None:
    member = studio.member(credits=0)
    rejected(studio.run("walk_in", session_id=studio.session(start=studio.now + HOUR / 2).id,
                        member_id=member.id), "no_valid_entitlement")


# --- feedback and scans ---------------------------------------------------------------


def test_record_feedback(studio: Studio) -> None:
    member = studio.member()
    session = studio.session()
    result = applied(studio.run("record_feedback", Role.KIOSK, member_id=member.id, rating=4,
                                comment="  lovely class  ", session_id=session.id))
    feedback = studio.get(Feedback, result.outcome.subject_id)
    assert (feedback.member_id, feedback.rating, feedback.comment, feedback.session_id) == (
        member.id, 4, "lovely class", session.id)


@pytest.mark.parametrize("rating", [0, 6])
def test_record_feedback_refuses_a_rating_outside_one_to_five(studio: Studio,
                                                              rating: int) -> None:
    rejected(studio.run("record_feedback", member_id=studio.member().id, rating=rating),
             "invalid_value")


def test_record_feedback_keeps_a_long_comment_bounded(studio: Studio) -> None:
    result = applied(studio.run("record_feedback", member_id=studio.member().id, rating=1,
                                comment="x" * 5000))
    assert len(studio.get(Feedback, result.outcome.subject_id).comment) == 2000


def test_record_scan_keeps_a_refused_scan_for_follow_up(studio: Studio) -> None:
    member = studio.member()
    result = applied(studio.run("record_scan", Role.KIOSK, code="C-1" + "!" * 500,
                                reason="expired", member_id=member.id))
    scan = studio.get(ScanRecord, result.outcome.subject_id)
    assert (scan.member_id, scan.accepted, scan.reason, scan.location_id) == (
        member.id, False, "expired", studio.location.id)
    assert len(scan.code) == 200
    assert scan.staff_id == studio.staff[Role.KIOSK].id
    assert scan.at == studio.now


def test_record_scan_of_an_unknown_code(studio: Studio) -> None:
    result = applied(studio.run("record_scan", code="???", reason="unknown_card"))
    assert studio.get(ScanRecord, result.outcome.subject_id).member_id is None


def test_feedback_for_a_merged_member_goes_to_the_kept_member(studio: Studio) -> None:
    keep, gone = studio.member(), studio.member()
    applied(studio.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id))
    result = applied(studio.run("record_feedback", member_id=gone.id, rating=3,
                                now=studio.now + timedelta(minutes=1)))
    assert studio.get(Feedback, result.outcome.subject_id).member_id == keep.id


def test_a_membership_walk_in_costs_nothing(studio: Studio) -> None:
    member = studio.member(kind=EntitlementKind.MEMBERSHIP, credits=0)
    result = applied(studio.run("walk_in", session_id=studio.session(start=studio.now).id,
                                member_id=member.id))
    assert studio.booking(result.outcome.data["booking_id"]).charged == 0


def test_anonymise_follows_a_chain_of_merges(studio: Studio) -> None:
    a, b, c = studio.member("A", phone="1"), studio.member("B", phone="2"), studio.member("C")
    applied(studio.run("merge_members", Role.MANAGER, keep_id=b.id, merge_id=a.id))
    applied(studio.run("merge_members", Role.MANAGER, keep_id=c.id, merge_id=b.id))
    unrelated = studio.member("D", phone="4")

    applied(studio.run("anonymise_member", Role.MANAGER, member_id=c.id))

    assert [_member(studio, m.id).phone for m in (a, b, c)] == ["", "", ""]
    assert [_member(studio, m.id).status for m in (a, b)] == [MemberStatus.MERGED] * 2
    assert _member(studio, unrelated.id).phone == "4"


def test_names_lose_invisible_characters_and_phones_must_be_numbers() -> None:
    """A pasted bidi override or zero-width space made a name display wrongly."""
    from tests.studio import Studio

    studio = Studio()
    done = studio.run("add_member", name="Evil\u202eNAME\u200b line2", phone="+86 138-0013 8000")
    assert done.outcome.ok
    member = studio.get(Member, done.outcome.subject_id)
    assert member.name == "EvilNAME line2" and member.phone == "+86 138-0013 8000"
    refused = studio.run("add_member", name="Bad Phone", phone="abc")
    assert refused.outcome.code == "invalid_value"
    assert studio.run("add_member", name="\u200b\u202e").outcome.code == "missing_required"
