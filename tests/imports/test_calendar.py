"""Reading .ics schedules and planning them into sessions of a location."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from frontdesk.domain.imports.schedule import Occurrence, plan_schedule
from frontdesk.domain.model import Session
from frontdesk.local_db.imports import ImportFileError
from frontdesk.local_db.imports.ics import read_calendar, zone_for
from tests.imports.conftest import SCHEDULES, ImportStudio

TODAY = date(2026, 12, 3)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_starts(path: Path, today: date = TODAY) -> list[str]:
    calendar = read_calendar(path, "Asia/Shanghai", today)
    return [o.start.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            for o in calendar.occurrences if o.start is not None]


def test_weekly_rule_with_exdate_and_rdate() -> None:
    assert sorted(local_starts(SCHEDULES / "weekly_exdate_rdate.ics")) == [
        "2026-11-23 19:00", "2026-11-30 19:00", "2026-12-07 19:00", "2026-12-17 19:00",
        "2026-12-21 19:00", "2026-12-28 19:00", "2027-01-04 19:00", "2027-01-11 19:00",
    ]


def test_windows_zone_names_are_understood() -> None:
    assert zone_for("China Standard Time") == SHANGHAI
    assert zone_for("/freeassociation.sourceforge.net/Asia/Shanghai") == SHANGHAI
    assert zone_for("Mars/Olympus_Mons") is None
    assert local_starts(SCHEDULES / "windows_tz.ics") == [
        "2026-12-09 07:30", "2026-12-16 07:30", "2026-12-23 07:30", "2026-12-30 07:30",
    ]


def test_until_in_utc_against_a_local_start_keeps_the_last_local_day() -> None:
    # UNTIL 2026-12-10T23:00Z is 07:00 on 11 Dec in Shanghai: that class is in.
    assert local_starts(SCHEDULES / "until_utc.ics") == [
        f"2026-12-{day:02d} 07:00" for day in range(7, 12)
    ]


def test_all_day_events_are_skipped_with_a_note() -> None:
    calendar = read_calendar(SCHEDULES / "all_day.ics", "Asia/Shanghai", TODAY)
    assert [o.title for o in calendar.occurrences] == ["Yin Yoga"]
    assert any("All-day event 'Studio closed'" in n for n in calendar.notes)


def test_a_rule_without_end_is_expanded_twelve_weeks() -> None:
    calendar = read_calendar(SCHEDULES / "open_rule.ics", "Asia/Shanghai", TODAY)
    starts = [o.start for o in calendar.occurrences if o.start]
    assert len(starts) == 13  # 1 Dec (before today) and 12 Tuesdays from 8 Dec
    assert max(starts).astimezone(SHANGHAI).date() == date(2027, 2, 23)
    assert any("repeats with no end" in n and "12 weeks" in n for n in calendar.notes)


def test_a_weekly_class_keeps_its_wall_time_across_daylight_saving(tmp_path: Path) -> None:
    path = tmp_path / "ny.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:ny\r\n"
        "SUMMARY:Yoga\r\nDTSTART;TZID=America/New_York:20270301T190000\r\n"
        "DTEND;TZID=America/New_York:20270301T200000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    calendar = read_calendar(path, "Asia/Shanghai", TODAY)
    utc_hours = [o.start.astimezone(UTC).hour for o in calendar.occurrences if o.start]
    assert utc_hours == [0, 0, 23]  # 19:00 EST, then 19:00 EDT after 14 March


def test_moved_cancelled_and_broken_events() -> None:
    calendar = read_calendar(SCHEDULES / "problems.ics", "Asia/Shanghai", TODAY)
    hatha = sorted(o.start.astimezone(SHANGHAI).strftime("%m-%d %H:%M")
                   for o in calendar.occurrences if o.title == "Hatha Yoga" and o.start)
    assert hatha == ["12-09 10:00", "12-16 11:30"]  # moved on 16 Dec, cancelled on 23 Dec
    problems = {o.title: o.problem for o in calendar.occurrences if o.problem}
    assert problems["Yoga on Mars"] is not None and "Mars/Olympus_Mons" in problems[
        "Yoga on Mars"][1]
    assert problems["Broken Yoga"] is not None and "DTSTART" in problems["Broken Yoga"][1]
    assert "Cancelled Yoga" not in {o.title for o in calendar.occurrences}
    assert any("Cancelled event 'Cancelled Yoga'" in n for n in calendar.notes)


@pytest.mark.parametrize("name", ["broken.ics"])
def test_a_broken_calendar_cannot_be_read(name: str) -> None:
    with pytest.raises(ImportFileError, match="not a readable iCalendar file"):
        read_calendar(SCHEDULES / name, "Asia/Shanghai", TODAY)


def test_junk_is_not_a_calendar() -> None:
    from tests.imports.conftest import MEMBERS

    with pytest.raises(ImportFileError):
        read_calendar(MEMBERS / "unreadable.csv", "Asia/Shanghai", TODAY)
    with pytest.raises(ImportFileError):
        read_calendar(MEMBERS / "utf8.csv", "Asia/Shanghai", TODAY)


def plan(studio: ImportStudio, occurrences: list[Occurrence],
         existing: list[Session] | None = None):  # type: ignore[no-untyped-def]
    state = studio.state
    return plan_schedule(
        occurrences, studio.location, state.all(type(studio.class_type)),
        state.all(type(studio.coach)), state.all(type(studio.room_a)), existing or [],
        lambda sid: state.get(Session, sid) is not None, TODAY,
    )


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=SHANGHAI)


def test_class_type_coach_and_room_come_from_the_event() -> None:
    studio = ImportStudio()
    occ = Occurrence("u1", "Mat Pilates", at(9, 10), at(9, 11), "Coach: 李娜", "Studio B")
    result = plan(studio, [occ])
    [session] = result.ready
    assert session.class_type_id == studio.pilates.id
    assert session.class_name == "Mat Pilates"
    assert (session.coach_id, session.room_id, session.capacity) == (
        studio.coach.id, studio.room_b.id, 12)
    assert not any("No " in n for n in result.notes)


def test_defaults_are_used_and_named_in_the_notes() -> None:
    studio = ImportStudio()
    result = plan(studio, [Occurrence("u1", "Barre", at(9, 10), at(9, 11))])
    [session] = result.ready
    assert session.class_type_id == studio.pilates.id  # first class type by name
    assert (session.coach_id, session.room_id, session.capacity) == (None, studio.room_a.id, 18)
    notes = " ".join(result.notes)
    assert "No class type matches 'Barre' (1)" in notes and "'Pilates'" in notes
    assert "No coach is named in 'Barre'" in notes
    assert "'Studio A' (18 places)" in notes


def test_past_occurrences_and_sessions_already_there_are_left_out() -> None:
    studio = ImportStudio()
    occurrences = [Occurrence("u1", "Yoga", at(day, 10), at(day, 11)) for day in (2, 3, 4)]
    first = plan(studio, occurrences)
    assert [s.row for s in first.ready] == [1, 2]
    assert "Skipped 1 occurrence before today (2026-12-03)." in first.notes
    held = Session(first.ready[0].session_id, studio.location.id, studio.class_type.id, "Yoga",
                   at(3, 10), at(3, 11), 10)
    seeded = Session("seeded", studio.location.id, studio.class_type.id, "yoga", at(4, 10),
                     at(4, 11), 10)
    again = plan(studio, occurrences, [held, seeded])
    assert again.ready == []
    assert any("Left 2 occurrences already on the schedule" in n for n in again.notes)


def test_schedule_refusals() -> None:
    studio = ImportStudio()
    result = plan(studio, [
        Occurrence("u1", "", at(9, 10), at(9, 11)),
        Occurrence("u2", "Yoga", at(9, 12), at(9, 11)),
        Occurrence("u3", "Yoga", at(10, 10), at(10, 11)),
        Occurrence("u4", "Yoga", at(10, 10), at(10, 11)),
        Occurrence("u5", "Yoga", None, None, problem=("invalid_value", "Unknown zone.")),
    ])
    codes = {r.row: (r.code, r.name, r.start) for r in result.refused}
    assert codes == {
        1: ("missing_required", "", "2026-12-09T10:00:00+08:00"),
        2: ("invalid_value", "Yoga", "2026-12-09T12:00:00+08:00"),
        4: ("duplicate_in_file", "Yoga", "2026-12-10T10:00:00+08:00"),
        5: ("invalid_value", "Yoga", None),
    }
    assert [s.row for s in result.ready] == [3]
