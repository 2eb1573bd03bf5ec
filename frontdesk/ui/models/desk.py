"""The desk's tables: today's sessions (with a "now" marker), a roster, member matches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from frontdesk.domain.model import BookingStatus, SessionStatus
from frontdesk.local_db import MemberHit, RosterLine, SessionLine

from ..i18n import tr, tr_code, tr_status
from .table import Column, RowsModel


@dataclass(frozen=True)
class NowMarker:
    """A row between sessions at the current time of day."""

    at: datetime  # local


SessionRow = SessionLine | NowMarker


def with_now_marker(lines: list[SessionLine], now_local: datetime | None) -> list[SessionRow]:
    """Sessions in time order, with a marker where `now` falls (None: not today)."""
    if now_local is None:
        return list(lines)
    rows: list[SessionRow] = []
    placed = False
    for line in lines:
        if not placed and line.start_local > now_local:
            rows.append(NowMarker(now_local))
            placed = True
        rows.append(line)
    if not placed:
        rows.append(NowMarker(now_local))
    return rows


def _session_cell(getter: str) -> Callable[[SessionRow], str]:
    def text(row: SessionRow) -> str:
        if isinstance(row, NowMarker):
            return tr("▶ now {time}", time=row.at.strftime("%H:%M")) if getter == "time" else ""
        s = row.session
        if getter == "time":
            return f"{row.start_local:%H:%M}–{row.end_local:%H:%M}"
        if getter == "class":
            name = s.class_name
            return (
                name if s.status is SessionStatus.SCHEDULED else tr("{name} (cancelled)", name=name)
            )
        values = {
            "coach": s.coach_name,
            "room": s.room_name,
            "capacity": str(s.capacity),
            "booked": str(row.booked),
            "in": str(row.checked_in),
            "wait": str(row.waitlisted),
        }
        return values[getter]

    return text


class SessionsModel(RowsModel[SessionRow]):
    """Sessions of a day; `now_local` (today only) marks the class in progress."""

    now_local: datetime | None = None


def sessions_model() -> SessionsModel:
    def style(row: SessionRow) -> tuple[str | None, bool]:
        if isinstance(row, NowMarker):
            return "#ffe9b8", True
        if row.session.status is SessionStatus.CANCELLED:
            return "#eeeeee", False
        if model.now_local and row.start_local <= model.now_local < row.end_local:
            return "#e3f4e8", True
        return None, False

    columns: list[Column[SessionRow]] = [
        Column(lambda: tr("Time"), _session_cell("time")),
        Column(lambda: tr("Class"), _session_cell("class")),
        Column(lambda: tr("Coach"), _session_cell("coach")),
        Column(lambda: tr("Room"), _session_cell("room")),
        Column(lambda: tr("Capacity"), _session_cell("capacity"), True),
        Column(lambda: tr("Booked"), _session_cell("booked"), True),
        Column(lambda: tr("Checked in"), _session_cell("in"), True),
        Column(lambda: tr("Waitlist"), _session_cell("wait"), True),
    ]
    model = SessionsModel(columns, style)
    return model


def roster_flags(line: RosterLine) -> str:
    b = line.booking
    flags = []
    if b.walk_in:
        flags.append(tr("walk-in"))
    if b.unpaid:
        flags.append(tr("unpaid"))
    if b.over_capacity:
        flags.append(tr("over capacity"))
    if b.penalty_waived:
        flags.append(tr("penalty waived"))
    return ", ".join(flags)


def roster_model() -> RowsModel[RosterLine]:
    colours = {
        BookingStatus.CHECKED_IN: "#e3f4e8",
        BookingStatus.WAITLISTED: "#fff4db",
        BookingStatus.NO_SHOW: "#fde7e5",
        BookingStatus.LATE_CANCELLED: "#f3e8e8",
        BookingStatus.CANCELLED: "#eeeeee",
    }

    def style(line: RosterLine) -> tuple[str | None, bool]:
        return colours.get(line.booking.status), False

    return RowsModel(
        [
            Column(lambda: tr("Name"), lambda line: line.member_name),
            Column(lambda: tr("Status"), lambda line: tr_status(line.booking.status.value)),
            Column(
                lambda: tr("Waitlist #"),
                lambda line: str(line.booking.waitlist_position or ""),
                True,
            ),
            Column(lambda: tr("Notes"), roster_flags),
        ],
        style,
    )


def hits_model() -> RowsModel[MemberHit]:
    return RowsModel(
        [
            Column(lambda: tr("Name"), lambda h: h.name),
            Column(lambda: tr("Phone"), lambda h: h.phone),
            Column(lambda: tr("Card"), lambda h: h.card_code),
            Column(
                lambda: tr("Alerts"),
                lambda h: ", ".join(tr_code(a.code.value, a.message) for a in h.alerts[:2]),
            ),
        ]
    )
