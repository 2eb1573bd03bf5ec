"""Reading a class schedule from an iCalendar (.ics) file as calendar apps export it.

Recurring events are expanded (RRULE, RDATE, EXDATE, moved or cancelled instances by
RECURRENCE-ID) in the event's own time zone, so a weekly 19:00 class stays at 19:00
across daylight-saving changes; TZIDs may be IANA names or Windows names as Outlook
writes them. Times come out as aware datetimes; what cannot be used becomes a note or an
occurrence with a problem, for the planner to report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.domain.imports import values as v
from frontdesk.domain.imports.schedule import Occurrence

from .tables import ImportFileError, decode_text, read_bytes

#: How far a rule with no end is expanded.
OPEN_RULE_WEEKS = 12
#: How far any rule is expanded at most.
MAX_AHEAD_DAYS = 2 * 366

#: Windows time-zone names (as Outlook and Exchange write TZID) for common studio places.
WINDOWS_ZONES: dict[str, str] = {
    "China Standard Time": "Asia/Shanghai",
    "Taipei Standard Time": "Asia/Taipei",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "India Standard Time": "Asia/Kolkata",
    "SE Asia Standard Time": "Asia/Bangkok",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
}


def zone_for(tzid: str) -> ZoneInfo | None:
    """The zone a TZID names: IANA, Windows, or a path ending in an IANA name."""
    name = tzid.strip().strip('"')
    candidates = [WINDOWS_ZONES.get(name, name)]
    parts = name.strip("/").split("/")
    if len(parts) > 2:  # "/freeassociation.sourceforge.net/Asia/Shanghai"
        candidates.append("/".join(parts[-2:]))
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None


@dataclass
class Calendar:
    occurrences: list[Occurrence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _EventProblem(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def read_calendar(path: Path, default_zone: str, today: date) -> Calendar:
    """Every occurrence of every timed event, up to the expansion horizon."""
    import icalendar

    text, _ = decode_text(read_bytes(path), path.name)
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise _unreadable(path, _short(exc)) from exc
    if not calendars or calendars[0].name != "VCALENDAR":
        raise _unreadable(path, "no VCALENDAR")
    events = [e for cal in calendars for e in cal.walk("VEVENT")]
    result = Calendar()
    if not events:
        result.notes.append("The calendar has no events.")
    reader = _Reader(ZoneInfo(default_zone), today, result)
    moved: dict[str, set[datetime]] = {}
    for event in events:
        if "RECURRENCE-ID" in event:
            try:
                instant = reader.moment(event["RECURRENCE-ID"])
            except _EventProblem:
                continue
            if isinstance(instant, datetime):
                moved.setdefault(str(event.get("UID", "")), set()).add(instant.astimezone(UTC))
    for event in events:
        reader.event(event, moved)
    return result


def _unreadable(path: Path, why: str) -> ImportFileError:
    return ImportFileError(
        f"{path.name} is not a readable iCalendar file ({why}). Export the schedule from "
        "the calendar app again (as .ics), then import that file."
    )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


class _Reader:
    def __init__(self, default_zone: ZoneInfo, today: date, result: Calendar) -> None:
        self.zone = default_zone
        self.today = today
        self.result = result
        self.floating_noted = False
        start_of_today = datetime.combine(today, time(0), tzinfo=default_zone)
        self.open_until = start_of_today + timedelta(weeks=OPEN_RULE_WEEKS)
        self.cap = start_of_today + timedelta(days=MAX_AHEAD_DAYS)

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def moment(self, prop: Any, zone: tzinfo | None = None) -> datetime | date:
        """A DTSTART-like value as an aware datetime (or a date for all-day values)."""
        value = prop.dt
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=self._zone_of(prop, zone))
            return value
        if isinstance(value, date):
            return value
        raise _EventProblem(v.INVALID_VALUE, f"{value!r} is not a date or a time.")

    def _zone_of(self, prop: Any, zone: tzinfo | None) -> tzinfo:
        tzid = prop.params.get("TZID")
        if tzid:
            found = zone_for(str(tzid))
            if found is None:
                raise _EventProblem(
                    v.INVALID_VALUE,
                    f"The time zone {tzid!r} is unknown. Set the event's time zone in the "
                    "calendar app (for example Asia/Shanghai), export again and import again.",
                )
            return found
        if zone is not None:
            return zone
        if not self.floating_noted:
            self.floating_noted = True
            self.note(
                f"Some events give no time zone: their times are read in the location's "
                f"time zone ({self.zone.key})."
            )
        return self.zone

    def event(self, event: Any, moved: dict[str, set[datetime]]) -> None:
        title = " ".join(str(event.get("SUMMARY", "")).split())
        uid = str(event.get("UID", "")).strip()
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            if "RECURRENCE-ID" not in event:
                self.note(f"Cancelled event {title!r} skipped.")
            return
        try:
            self._expand(event, title, uid, moved)
        except _EventProblem as problem:
            self.result.occurrences.append(
                Occurrence(uid or title, title, None, None, problem=(problem.code, problem.reason))
            )

    def _expand(self, event: Any, title: str, uid: str, moved: dict[str, set[datetime]]) -> None:
        broken = [name for name, _ in event.errors]
        if broken:
            raise _EventProblem(
                v.INVALID_VALUE,
                f"The calendar app wrote an unreadable {', '.join(sorted(set(broken)))} for "
                "this event. Open the event in the calendar app, save it again, export and "
                "import again.",
            )
        if "DTSTART" not in event:
            raise _EventProblem(v.MISSING_REQUIRED, "This event has no start time.")
        start = self.moment(event["DTSTART"])
        if not isinstance(start, datetime):
            self.note(
                f"All-day event {title!r} ({start.isoformat()}) skipped: a class needs a "
                "start time."
            )
            return
        length = self._length(event, start, title)
        uid = uid or f"{title}|{start.isoformat()}"
        description = str(event.get("DESCRIPTION", ""))
        place = str(event.get("LOCATION", ""))
        skip = moved.get(uid, set()) if "RECURRENCE-ID" not in event else set()
        for instant in self._instants(event, start, title):
            if instant.astimezone(UTC) in skip:
                continue
            self.result.occurrences.append(
                Occurrence(uid, title, instant, instant + length, description, place)
            )

    def _length(self, event: Any, start: datetime, title: str) -> timedelta:
        if "DTEND" in event:
            end = self.moment(event["DTEND"], start.tzinfo)
            if isinstance(end, datetime):
                return end - start
        elif "DURATION" in event:
            duration = event["DURATION"].dt
            if isinstance(duration, timedelta):
                return duration
        self.note(f"Event {title!r} gives no end time: its sessions last 60 minutes.")
        return timedelta(minutes=60)

    def _instants(self, event: Any, start: datetime, title: str) -> Iterator[datetime]:
        from dateutil.rrule import rruleset, rrulestr

        rules = event.get("RRULE")
        if rules is None or "RECURRENCE-ID" in event:
            yield start
            return
        ruleset = rruleset()
        open_ended = False
        for rule in rules if isinstance(rules, list) else [rules]:
            parts = {k: list(x) for k, x in rule.items()}
            until = parts.pop("UNTIL", None)
            text = type(rule)(parts).to_ical().decode()
            try:
                recurrence = rrulestr(text, dtstart=start)
            except (ValueError, TypeError) as exc:
                raise _EventProblem(
                    v.INVALID_VALUE, f"Its repeat rule is unusable: {exc}."
                ) from exc
            if until:
                recurrence = recurrence.replace(until=self._until(until[0], start))
            elif "COUNT" not in parts:
                open_ended = True
                recurrence = recurrence.replace(until=self.open_until)
            ruleset.rrule(recurrence)
        ruleset.rdate(start)
        days_off: set[date] = set()
        for prop, add in (("RDATE", True), ("EXDATE", False)):
            for value in self._dates(event, prop, start):
                if isinstance(value, datetime):
                    (ruleset.rdate if add else ruleset.exdate)(value)
                elif add:
                    ruleset.rdate(datetime.combine(value, start.timetz()))
                else:
                    days_off.add(value)
        if open_ended:
            self.note(
                f"Event {title!r} repeats with no end: its sessions are made for "
                f"{OPEN_RULE_WEEKS} weeks ahead (to {self.open_until.date().isoformat()})."
            )
        for count, instant in enumerate(ruleset):
            if instant > self.cap or count >= 5000:
                self.note(
                    f"Event {title!r} repeats beyond {self.cap.date().isoformat()}: only "
                    "sessions up to then are made."
                )
                return
            if instant.date() not in days_off:
                yield instant

    def _until(self, until: date | datetime, start: datetime) -> datetime:
        """UNTIL as an instant: a UTC time, a local time, or a whole last day."""
        if isinstance(until, datetime):
            return until if until.tzinfo else until.replace(tzinfo=start.tzinfo)
        return datetime.combine(until, time(23, 59, 59), tzinfo=start.tzinfo)

    def _dates(self, event: Any, name: str, start: datetime) -> Iterator[date | datetime]:
        props = event.get(name)
        if props is None:
            return
        for prop in props if isinstance(props, list) else [props]:
            zone = self._zone_of(prop, start.tzinfo) if prop.params.get("TZID") else start.tzinfo
            for item in prop.dts:
                value = item.dt
                if isinstance(value, tuple):  # a PERIOD: its start
                    value = value[0]
                if isinstance(value, datetime):
                    yield value if value.tzinfo else value.replace(tzinfo=zone)
                elif isinstance(value, date):
                    yield value
