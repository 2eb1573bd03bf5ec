"""Which pass pays: validity in the location's local days, daily limits, freezes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from frontdesk.domain.model import Entitlement, EntitlementKind, Member, Role, Session
from tests.domain.conftest import HOUR, applied, rejected
from tests.studio import Studio

UNTIL_3_DEC = date(2026, 12, 3)


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def _studio(tz: str) -> Studio:
    return Studio(tz=tz, now=_utc(1, 0))


def _book(studio: Studio, member: Member, session: Session) -> str:
    result = studio.run("book", member_id=member.id, session_id=session.id)
    return result.outcome.code if not result.outcome.ok else "ok"


# --- "valid until 3 December" in the location's time zone ---------------------------


@pytest.mark.parametrize(
    ("tz", "start_utc", "covered"),
    [
        # Shanghai is UTC+8: 07:00 on 3 Dec local is 23:00 on 2 Dec UTC.
        ("Asia/Shanghai", _utc(2, 23), True),
        ("Asia/Shanghai", _utc(3, 15, 30), True),  # 23:30 local on 3 Dec
        ("Asia/Shanghai", _utc(3, 16, 30), False),  # 00:30 local on 4 Dec, still 3 Dec UTC
        # New York is UTC-5 in December: 20:00 on 3 Dec local is 01:00 on 4 Dec UTC.
        ("America/New_York", _utc(4, 1), True),
        ("America/New_York", _utc(4, 4, 30), True),  # 23:30 local on 3 Dec
        ("America/New_York", _utc(4, 13), False),  # 08:00 local on 4 Dec
        ("America/New_York", _utc(3, 4), True),  # 23:00 local on 2 Dec
    ],
)
def test_valid_until_covers_the_whole_local_day(tz: str, start_utc: datetime,
                                                covered: bool) -> None:
    studio = _studio(tz)
    member = studio.member(until=UNTIL_3_DEC)
    session = studio.session(start=start_utc)

    booked = _book(studio, member, session)
    checked_in = studio.run("check_in", member_id=member.id, session_id=session.id,
                            now=start_utc - HOUR / 2)

    if covered:
        assert booked == "ok"
        applied(checked_in)
    else:
        assert booked == "expired"
        rejected(checked_in, "expired")


def test_a_pass_starting_on_a_local_day_covers_that_days_early_class() -> None:
    studio = _studio("Asia/Shanghai")
    member = studio.member(credits=0)
    studio.entitlement(member, valid_from=date(2026, 12, 3), until=None)
    early_on_3rd = studio.session(start=_utc(2, 23))  # 07:00 local on 3 Dec
    late_on_2nd = studio.session(start=_utc(2, 15))  # 23:00 local on 2 Dec

    assert _book(studio, member, early_on_3rd) == "ok"
    assert _book(studio, member, late_on_2nd) == "no_valid_entitlement"


def test_a_pass_sold_at_night_starts_on_the_local_day() -> None:
    # 01:00 UTC on 3 Dec is still 20:00 on 2 Dec in New York.
    studio = Studio(tz="America/New_York", now=_utc(3, 1))
    member = studio.member(credits=0)

    result = applied(studio.run("sell", member_id=member.id, plan_id=studio.drop_in.id,
                                method="cash"))

    ent = studio.get(Entitlement, result.outcome.subject_id)
    assert (ent.valid_from, ent.valid_until) == (date(2026, 12, 2), date(2026, 12, 2))


# --- daily limits count the local day -------------------------------------------------


def _limited(studio: Studio, per_day: int = 1) -> Member:
    member = studio.member(credits=0)
    studio.entitlement(member, until=None, max_per_day=per_day)
    return member


def test_a_daily_limit_counts_the_local_day_not_the_utc_day() -> None:
    studio = _studio("Asia/Shanghai")
    member = _limited(studio)
    morning = studio.session(start=_utc(2, 23))  # 07:00 local on 3 Dec (2 Dec in UTC)
    evening = studio.session(start=_utc(3, 11))  # 19:00 local on 3 Dec

    assert _book(studio, member, morning) == "ok"
    assert _book(studio, member, evening) == "daily_limit_reached"


def test_a_class_the_previous_local_day_does_not_count() -> None:
    studio = _studio("Asia/Shanghai")
    member = _limited(studio)
    day_before = studio.session(start=_utc(2, 11))  # 19:00 local on 2 Dec, same UTC day...
    morning = studio.session(start=_utc(2, 23))  # ...as 07:00 local on 3 Dec

    assert _book(studio, member, day_before) == "ok"
    assert _book(studio, member, morning) == "ok"


def test_a_daily_limit_in_new_york_counts_the_local_evening() -> None:
    studio = _studio("America/New_York")
    member = _limited(studio)
    morning = studio.session(start=_utc(3, 12))  # 07:00 local on 3 Dec
    evening = studio.session(start=_utc(4, 1))  # 20:00 local on 3 Dec (4 Dec UTC)
    next_morning = studio.session(start=_utc(4, 12))

    assert _book(studio, member, morning) == "ok"
    assert _book(studio, member, evening) == "daily_limit_reached"
    assert _book(studio, member, next_morning) == "ok"


def test_a_daily_limit_of_two_allows_two(studio: Studio) -> None:
    member = _limited(studio, per_day=2)
    sessions = [studio.session(start=studio.now + k * HOUR) for k in (2, 4, 6)]
    assert [_book(studio, member, s) for s in sessions] == ["ok", "ok", "daily_limit_reached"]


def test_a_cancelled_class_gives_the_day_back(studio: Studio) -> None:
    member = _limited(studio)
    first = studio.session(start=studio.now + 20 * HOUR)
    second = studio.session(start=studio.now + 22 * HOUR)
    result = studio.run("book", member_id=member.id, session_id=first.id)
    applied(studio.run("cancel_booking", booking_id=result.outcome.subject_id))

    assert _book(studio, member, second) == "ok"


def test_a_daily_limit_applies_at_walk_in_check_in(studio: Studio) -> None:
    member = _limited(studio)
    booked = studio.session(start=studio.now + 6 * HOUR)  # 15:00 local, same day
    walk_in = studio.session(start=studio.now + HOUR / 2)
    assert _book(studio, member, booked) == "ok"
    rejected(studio.run("check_in", member_id=member.id, session_id=walk_in.id),
             "daily_limit_reached")


def test_another_pass_pays_once_the_first_reached_its_daily_limit(studio: Studio) -> None:
    member = _limited(studio)
    spare = studio.entitlement(member, credits=3, until=None)
    assert _book(studio, member, studio.session(start=studio.now + 2 * HOUR)) == "ok"

    result = studio.run("book", member_id=member.id,
                        session_id=studio.session(start=studio.now + 4 * HOUR).id)

    assert studio.booking(result.outcome.subject_id).entitlement_id == spare.id


# --- freezes --------------------------------------------------------------------------


def test_freeze_pushes_the_expiry_and_blocks_the_frozen_days(studio: Studio) -> None:
    member = studio.member(until=date(2027, 1, 31))
    (ent,) = studio.entitlements(member)

    applied(studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
                       end=date(2026, 12, 9), reason="travel"))

    frozen = studio.get(Entitlement, ent.id)
    assert (frozen.frozen_from, frozen.frozen_until) == (date(2026, 12, 5), date(2026, 12, 9))
    assert frozen.valid_until == date(2027, 2, 5)  # five frozen days added
    (audit,) = studio.audits("freeze")
    assert audit.reason == "travel"
    on_6th = studio.session(start=_utc(6, 2))
    on_10th = studio.session(start=_utc(10, 2))
    assert _book(studio, member, on_6th) == "frozen"
    assert _book(studio, member, on_10th) == "ok"


def test_unfreeze_early_gives_back_the_unused_days(studio: Studio) -> None:
    member = studio.member(until=date(2027, 1, 31))
    (ent,) = studio.entitlements(member)
    studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
               end=date(2026, 12, 9))

    applied(studio.run("unfreeze", Role.MANAGER, entitlement_id=ent.id, on=date(2026, 12, 7)))

    after = studio.get(Entitlement, ent.id)
    assert (after.frozen_from, after.frozen_until) == (date(2026, 12, 5), date(2026, 12, 6))
    assert after.valid_until == date(2027, 2, 2)  # 7, 8 and 9 Dec given back
    assert _book(studio, member, studio.session(start=_utc(7, 2))) == "ok"
    assert [a.detail for a in studio.audits("unfreeze")] == ["2026-12-07"]


def test_unfreeze_before_the_freeze_starts_cancels_it(studio: Studio) -> None:
    member = studio.member(until=date(2027, 1, 31))
    (ent,) = studio.entitlements(member)
    studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
               end=date(2026, 12, 9))

    applied(studio.run("unfreeze", Role.MANAGER, entitlement_id=ent.id, on=date(2026, 12, 4)))

    after = studio.get(Entitlement, ent.id)
    assert (after.frozen_from, after.frozen_until, after.valid_until) == (
        None, None, date(2027, 1, 31))


def test_freeze_of_a_pass_without_an_end_keeps_no_end(studio: Studio) -> None:
    member = studio.member(until=None)
    (ent,) = studio.entitlements(member)
    applied(studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
                       end=date(2026, 12, 9)))
    assert studio.get(Entitlement, ent.id).valid_until is None


def test_a_second_freeze_while_one_is_pending_is_refused(studio: Studio) -> None:
    member = studio.member()
    (ent,) = studio.entitlements(member)
    studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
               end=date(2026, 12, 9))
    rejected(studio.run("freeze", Role.MANAGER, entitlement_id=ent.id,
                        start=date(2026, 12, 20), end=date(2026, 12, 21)), "already_frozen")


def test_a_new_freeze_after_an_old_one_ended(studio: Studio) -> None:
    member = studio.member(until=date(2027, 1, 31))
    ent = studio.entitlement(member, frozen_from=date(2026, 11, 1),
                             frozen_until=date(2026, 11, 5), until=date(2027, 1, 31))
    applied(studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
                       end=date(2026, 12, 6)))
    assert studio.get(Entitlement, ent.id).valid_until == date(2027, 2, 2)


def test_freeze_refuses_an_end_before_its_start(studio: Studio) -> None:
    (ent,) = studio.entitlements(studio.member())
    rejected(studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 9),
                        end=date(2026, 12, 5)), "invalid_value")


def test_unfreeze_refuses_a_pass_without_a_freeze(studio: Studio) -> None:
    (ent,) = studio.entitlements(studio.member())
    rejected(studio.run("unfreeze", Role.MANAGER, entitlement_id=ent.id, on=date(2026, 12, 9)),
             "not_frozen")


def test_unfreeze_after_the_freeze_ended_is_refused(studio: Studio) -> None:
    (ent,) = studio.entitlements(studio.member())
    studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 5),
               end=date(2026, 12, 9))
    rejected(studio.run("unfreeze", Role.MANAGER, entitlement_id=ent.id, on=date(2026, 12, 10)),
             "not_frozen")


def test_front_desk_may_not_freeze(studio: Studio) -> None:
    (ent,) = studio.entitlements(studio.member())
    rejected(studio.run("freeze", entitlement_id=ent.id, start=date(2026, 12, 5),
                        end=date(2026, 12, 9)), "not_allowed")


def test_a_frozen_membership_gets_the_frozen_day_back_at_its_end(studio: Studio) -> None:
    member = studio.member(kind=EntitlementKind.MEMBERSHIP, credits=0, until=date(2026, 12, 10))
    (ent,) = studio.entitlements(member)
    applied(studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 3),
                       end=date(2026, 12, 3)))

    assert _book(studio, member, studio.session()) == "frozen"  # today, 3 Dec local
    just_after_old_end = studio.session(start=_utc(10, 16, 30))  # 00:30 local on 11 Dec
    assert _book(studio, member, just_after_old_end) == "ok"
    assert _book(studio, member, studio.session(start=_utc(11, 16, 30))) == "expired"
