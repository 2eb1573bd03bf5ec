"""Planning a schedule import: calendar occurrences to sessions of one location.

The calendar reader expands recurring events into `Occurrence`s; here each one becomes a
session with a class type, coach and room matched by name from the event (else the
defaults the notes name), or a refusal. Session ids derive from the location, the event
and the start, so importing the same calendar again finds its sessions already there.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from frontdesk.domain.clock import local_date, to_local
from frontdesk.domain.import_commands import ImportedSession
from frontdesk.domain.model import ClassType, Location, Role, Room, Session, StaffMember

from . import REFUSE, ReportRow, counted
from . import values as v

_NAMESPACE = uuid.UUID("0c9e3a57-7d4b-4f0e-a1a6-52c1f3b8e9d4")

#: Places in a class when the event names no room and the location has none.
DEFAULT_CAPACITY = 20

_NEVER = datetime.max.replace(tzinfo=UTC)  # sorts events with no usable start last


@dataclass(frozen=True)
class Occurrence:
    """One class time read from a calendar; `problem` is (code, reason) when unusable."""

    uid: str
    title: str
    start: datetime | None  # aware
    end: datetime | None
    description: str = ""
    place: str = ""
    problem: tuple[str, str] | None = None


@dataclass(frozen=True)
class PlannedRow:
    row: int
    name: str
    start: str | None  # ISO 8601 in the location's time zone; None when unknown


@dataclass
class SchedulePlan:
    ready: list[ImportedSession] = field(default_factory=list)
    rows: dict[int, PlannedRow] = field(default_factory=dict)
    refused: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def report_row(self, row: int, action: str, code: str | None = None,
                   reason: str | None = None) -> ReportRow:
        known = self.rows[row]
        return ReportRow(row, action, known.name, code, reason, known.start)


def session_id(location_id: str, uid: str, start: datetime) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{location_id}|{uid}|{start.timestamp():.0f}"))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _named_in(text: str, named: list[tuple[str, object]]) -> object | None:
    """The thing whose name the text holds (longest name first), else None."""
    haystack = _norm(text)
    if not haystack:
        return None
    for name, thing in named:
        if name and name in haystack:
            return thing
    return None


@dataclass
class _Catalogue:
    class_types: list[ClassType]
    coaches: list[StaffMember]
    rooms: list[Room]

    def __post_init__(self) -> None:
        def longest_first(items: list[tuple[str, object]]) -> list[tuple[str, object]]:
            return sorted(items, key=lambda p: (-len(p[0]), p[0]))

        self.type_names = longest_first([(_norm(t.name), t) for t in self.class_types])
        self.coach_names = longest_first([(_norm(c.name), c) for c in self.coaches])
        self.room_names = longest_first([(_norm(r.name), r) for r in self.rooms])
        ordered = sorted(self.class_types, key=lambda t: (t.name, t.id))
        self.default_type = ordered[0] if ordered else None
        rooms = sorted(self.rooms, key=lambda r: (-r.capacity, r.name, r.id))
        self.default_room = rooms[0] if rooms else None

    def class_type(self, occ: Occurrence) -> ClassType | None:
        exact = {n: t for n, t in self.type_names}.get(_norm(occ.title))
        found = exact or _named_in(occ.title, self.type_names)
        found = found or _named_in(occ.description, self.type_names)
        return found if isinstance(found, ClassType) else None

    def coach(self, occ: Occurrence) -> StaffMember | None:
        for text in (occ.description, occ.title, occ.place):
            found = _named_in(text, self.coach_names)
            if isinstance(found, StaffMember):
                return found
        return None

    def room(self, occ: Occurrence) -> Room | None:
        exact = {n: r for n, r in self.room_names}.get(_norm(occ.place))
        found = exact or _named_in(occ.place, self.room_names)
        found = found or _named_in(occ.description, self.room_names)
        return found if isinstance(found, Room) else None


def plan_schedule(
    occurrences: list[Occurrence],
    location: Location,
    class_types: list[ClassType],
    staff: list[StaffMember],
    rooms: list[Room],
    existing: list[Session],
    exists: Callable[[str], bool],
    today: date,
) -> SchedulePlan:
    """Sessions for every occurrence from `today` on (local to the location).

    `existing` are the location's sessions this desk holds; `exists` says whether a
    session id is known (imported before, even outside the days the desk holds).
    """
    plan = SchedulePlan()
    tz = location.timezone
    catalogue = _Catalogue(
        class_types,
        [
            s for s in staff
            if s.role is Role.COACH and s.active
            and (not s.location_ids or location.id in s.location_ids)
        ],
        [r for r in rooms if r.location_id == location.id],
    )
    past = [o for o in occurrences if o.start is not None and local_date(o.start, tz) < today]
    if past:
        plan.notes.append(
            f"Skipped {counted(len(past), 'occurrence')} before today ({today.isoformat()})."
        )
    held = {(s.start, _norm(s.class_name)) for s in existing if s.location_id == location.id}
    held_ids = {s.id for s in existing}
    upcoming = [o for o in occurrences if o.start is None or local_date(o.start, tz) >= today]
    upcoming.sort(key=lambda o: (o.start or _NEVER, o.title, o.uid))
    already = 0
    kept: list[tuple[Occurrence, str]] = []
    for occ in upcoming:
        sid = session_id(location.id, occ.uid, occ.start) if occ.start else ""
        if occ.start is not None and (
            sid in held_ids or exists(sid) or (occ.start, _norm(occ.title)) in held
        ):
            already += 1
            continue
        kept.append((occ, sid))
    if already:
        plan.notes.append(
            f"Left {counted(already, 'occurrence')} already on the schedule (imported "
            "before) as they are."
        )
    seen: dict[tuple[datetime, str], int] = {}
    unmatched_types: Counter[str] = Counter()
    no_coach: Counter[str] = Counter()
    default_rooms: Counter[str] = Counter()
    for number, (occ, sid) in enumerate(kept, start=1):
        start_text = to_local(occ.start, tz).isoformat() if occ.start else None
        title = " ".join(occ.title.split())
        plan.rows[number] = PlannedRow(number, title, start_text)
        problem = occ.problem or _problem(occ, title, seen, number, catalogue)
        if problem is not None:
            plan.refused.append(plan.report_row(number, REFUSE, *problem))
            continue
        assert occ.start is not None and occ.end is not None
        class_type = catalogue.class_type(occ)
        if class_type is None:
            class_type = catalogue.default_type
            unmatched_types[title] += 1
        assert class_type is not None
        coach = catalogue.coach(occ)
        if coach is None:
            no_coach[title] += 1
        room = catalogue.room(occ)
        if room is None and catalogue.default_room is not None:
            room = catalogue.default_room
            default_rooms[title] += 1
        plan.ready.append(
            ImportedSession(
                row=number,
                session_id=sid,
                class_type_id=class_type.id,
                class_name=title,
                start=occ.start,
                end=occ.end,
                capacity=room.capacity if room else DEFAULT_CAPACITY,
                coach_id=coach.id if coach else None,
                room_id=room.id if room else None,
            )
        )
    plan.notes.extend(_default_notes(catalogue, unmatched_types, no_coach, default_rooms))
    if plan.ready and catalogue.default_room is None:
        plan.notes.append(
            f"This location has no rooms: sessions get {DEFAULT_CAPACITY} places each."
        )
    return plan


def _problem(
    occ: Occurrence,
    title: str,
    seen: dict[tuple[datetime, str], int],
    number: int,
    catalogue: _Catalogue,
) -> tuple[str, str] | None:
    if not title:
        return (
            v.MISSING_REQUIRED,
            "This event has no title, so it cannot name a class. Give it the class's name in "
            "the calendar, export the calendar again and import it again.",
        )
    if occ.start is None or occ.end is None or occ.end <= occ.start:
        return (
            v.INVALID_VALUE,
            "This event ends before it starts. Correct its end time in the calendar, export "
            "it again and import it again.",
        )
    if catalogue.default_type is None:
        return (
            v.MISSING_REQUIRED,
            "The studio has no class types yet, so no session can be made. Add the class "
            "types to the studio's configuration first, then import again.",
        )
    key = (occ.start, title.casefold())
    if key in seen:
        return (
            v.DUPLICATE_IN_FILE,
            f"Row {seen[key]} is the same class at the same time. Delete one of the two "
            "events in the calendar, export it again and import it again.",
        )
    seen[key] = number
    return None


def _default_notes(
    catalogue: _Catalogue,
    unmatched_types: Counter[str],
    no_coach: Counter[str],
    default_rooms: Counter[str],
) -> list[str]:
    notes = []
    if unmatched_types and catalogue.default_type is not None:
        notes.append(
            "No class type matches "
            + ", ".join(f"{t!r} ({n})" for t, n in sorted(unmatched_types.items()))
            + f": those sessions use the class type {catalogue.default_type.name!r}. "
            "Name the class type in the event's title to choose another."
        )
    if no_coach:
        notes.append(
            "No coach is named in "
            + ", ".join(f"{t!r} ({n})" for t, n in sorted(no_coach.items()))
            + ": those sessions have no coach. Put the coach's name in the event's "
            "description to set one."
        )
    if default_rooms and catalogue.default_room is not None:
        room = catalogue.default_room
        notes.append(
            "No room is named in "
            + ", ".join(f"{t!r} ({n})" for t, n in sorted(default_rooms.items()))
            + f": those sessions are in {room.name!r} ({room.capacity} places). Put the "
            "room's name in the event's location to choose another."
        )
    return notes
