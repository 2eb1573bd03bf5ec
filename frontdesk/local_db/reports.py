"""The desk's reports for a day or a range of days at its location, and their CSV export.

Attendance, absences and refused scans come from the schedule partitions the desk holds
(every desk's work, as the cloud sent it, plus this desk's pending work); sales from the
members partition; overrides from this desk's own outbox, which keeps each reason.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from frontdesk.domain.clock import local_date, to_local
from frontdesk.domain.codec import parse_datetime
from frontdesk.domain.model import (
    Booking,
    BookingStatus,
    Location,
    Member,
    Sale,
    ScanRecord,
    Session,
    SessionStatus,
    StaffMember,
)
from frontdesk.protocol import MEMBERS, schedule_partition

from .store import EffectiveReader, Replica

#: Commands whose arguments make them an override or a manager's exception.
OVERRIDE_FLAGS = ("override", "override_capacity", "waive_penalty")
MANAGER_ACTIONS = frozenset(
    {"waive_penalty", "refund", "freeze", "unfreeze", "cancel_session", "change_capacity"}
)


@dataclass(frozen=True)
class AttendanceLine:
    session_id: str
    start_local: datetime
    class_name: str
    coach: str
    capacity: int
    booked: int  # every booking that held or holds a place (not cancelled early)
    checked_in: int
    no_shows: int
    late_cancels: int
    walk_ins: int
    over_capacity: int
    cancelled: bool


@dataclass(frozen=True)
class AbsenceLine:
    start_local: datetime
    class_name: str
    member_id: str
    member_name: str
    status: BookingStatus
    penalty_waived: bool


@dataclass(frozen=True)
class RefusedScanLine:
    at_local: datetime
    code: str
    member_id: str | None
    member_name: str
    reason: str
    staff_name: str


@dataclass(frozen=True)
class SalesLine:
    method: str  # a PaymentMethod value, or "unpaid"
    count: int
    amount_cents: int  # net of refunds


@dataclass(frozen=True)
class OverrideLine:
    at_local: datetime
    staff_name: str
    action: str  # the command name
    reason: str
    seq: int


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    timezone: str
    attendance: list[AttendanceLine]
    absences: list[AbsenceLine]
    refused_scans: list[RefusedScanLine]
    sales: list[SalesLine]
    overrides: list[OverrideLine]

    @property
    def total_checked_in(self) -> int:
        return sum(line.checked_in for line in self.attendance)

    @property
    def total_sales_cents(self) -> int:
        return sum(line.amount_cents for line in self.sales if line.method != "unpaid")


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def build_report(replica: Replica, first: date, last: date) -> Report:
    """The report for local days `first`..`last` (inclusive) at this desk's location."""
    if last < first:
        first, last = last, first
    with replica.read() as conn:
        reader = EffectiveReader(conn, memo=True)
        location_id = Replica.get_meta(conn, "location_id") or ""
        location = reader.get(Location, location_id)
        tz = location.timezone if location else "UTC"
        names: dict[str, str] = {}

        def member_name(member_id: str | None) -> str:
            if not member_id:
                return ""
            if member_id not in names:
                member = reader.get(Member, member_id)
                names[member_id] = member.name if member else member_id[:8]
            return names[member_id]

        def staff_name(staff_id: str) -> str:
            staff = reader.get(StaffMember, staff_id)
            return staff.name if staff else staff_id[:8]

        attendance: list[AttendanceLine] = []
        absences: list[AbsenceLine] = []
        refused: list[RefusedScanLine] = []
        for day in _days(first, last):
            partition = schedule_partition(location_id, day)
            sessions = sorted(
                reader.all_of(Session, "partition", partition), key=lambda s: (s.start, s.id)
            )
            bookings = reader.all_of(Booking, "partition", partition)
            for session in sessions:
                mine = [b for b in bookings if b.session_id == session.id]
                start = to_local(session.start, tz)
                attendance.append(
                    AttendanceLine(
                        session_id=session.id,
                        start_local=start,
                        class_name=session.class_name,
                        coach=session.coach_name,
                        capacity=session.capacity,
                        booked=sum(
                            1
                            for b in mine
                            if b.status not in (BookingStatus.CANCELLED, BookingStatus.WAITLISTED)
                        ),
                        checked_in=_count(mine, BookingStatus.CHECKED_IN),
                        no_shows=_count(mine, BookingStatus.NO_SHOW),
                        late_cancels=sum(1 for b in mine if _late_cancel(b)),
                        walk_ins=sum(
                            1 for b in mine if b.walk_in and b.status is not BookingStatus.CANCELLED
                        ),
                        over_capacity=sum(1 for b in mine if b.over_capacity),
                        cancelled=session.status is SessionStatus.CANCELLED,
                    )
                )
                for b in mine:
                    if b.status is BookingStatus.NO_SHOW or _late_cancel(b):
                        absences.append(
                            AbsenceLine(
                                start,
                                session.class_name,
                                b.member_id,
                                member_name(b.member_id),
                                BookingStatus.NO_SHOW
                                if b.status is BookingStatus.NO_SHOW
                                else BookingStatus.LATE_CANCELLED,
                                b.penalty_waived,
                            )
                        )
            for scan in reader.all_of(ScanRecord, "partition", partition):
                if scan.accepted:
                    continue
                refused.append(
                    RefusedScanLine(
                        to_local(scan.at, tz),
                        scan.code,
                        scan.member_id,
                        member_name(scan.member_id),
                        scan.reason,
                        staff_name(scan.staff_id),
                    )
                )
        sales = _sales(reader.all_of(Sale, "partition", MEMBERS), location_id, tz, first, last)
        overrides = [
            OverrideLine(at, staff_name(staff_id), name, reason, seq)
            for at, staff_id, name, reason, seq in _overrides(conn, tz, first, last)
        ]
    absences.sort(key=lambda a: (a.start_local, a.member_name))
    refused.sort(key=lambda r: r.at_local)
    return Report(first, last, tz, attendance, absences, refused, sales, overrides)


def _late_cancel(booking: Booking) -> bool:
    """A late cancel, also when a manager waived its penalty (it is then stored as cancelled)."""
    return booking.status is BookingStatus.LATE_CANCELLED or (
        booking.status is BookingStatus.CANCELLED and booking.penalty_waived
    )


def _count(bookings: list[Booking], status: BookingStatus) -> int:
    return sum(1 for b in bookings if b.status is status)


def _sales(
    sales: list[Sale], location_id: str, tz: str, first: date, last: date
) -> list[SalesLine]:
    totals: dict[str, list[int]] = {}
    for sale in sales:
        if sale.void or sale.location_id != location_id:
            continue
        if not first <= local_date(sale.at, tz) <= last:
            continue
        key = sale.method.value if sale.paid else "unpaid"
        bucket = totals.setdefault(key, [0, 0])
        bucket[0] += 1
        bucket[1] += sale.amount_cents - sale.refunded_cents
    return [SalesLine(method, n, cents) for method, (n, cents) in sorted(totals.items())]


def _overrides(
    conn: Connection, tz: str, first: date, last: date
) -> list[tuple[datetime, str, str, str, int]]:
    """This desk's overrides and manager exceptions, with the reason staff gave."""
    found = []
    rows = conn.exec_driver_sql(
        "SELECT seq, name, args, staff_id, happened_at, outcome FROM outbox ORDER BY seq"
    )
    for row in rows:
        args = json.loads(row.args)
        flagged = any(args.get(flag) is True for flag in OVERRIDE_FLAGS)
        if not flagged and row.name not in MANAGER_ACTIONS:
            continue
        if row.outcome and json.loads(row.outcome).get("status") == "rejected":
            continue
        at = to_local(parse_datetime(row.happened_at), tz)
        if not first <= at.date() <= last:
            continue
        found.append((at, row.staff_id, row.name, str(args.get("reason", "")), row.seq))
    return found


def export_csv(report: Report, folder: Path) -> list[Path]:
    """Write the report as one CSV file per table (UTF-8 with BOM, so Excel reads 中文)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{report.first.isoformat()}_{report.last.isoformat()}"
    tables: dict[str, tuple[list[str], list[list[object]]]] = {
        "attendance": (
            [
                "start",
                "class",
                "coach",
                "capacity",
                "booked",
                "checked_in",
                "no_shows",
                "late_cancels",
                "walk_ins",
                "over_capacity",
                "session_cancelled",
                "session_id",
            ],
            [
                [
                    a.start_local.isoformat(),
                    a.class_name,
                    a.coach,
                    a.capacity,
                    a.booked,
                    a.checked_in,
                    a.no_shows,
                    a.late_cancels,
                    a.walk_ins,
                    a.over_capacity,
                    a.cancelled,
                    a.session_id,
                ]
                for a in report.attendance
            ],
        ),
        "absences": (
            ["start", "class", "member", "status", "penalty_waived", "member_id"],
            [
                [
                    a.start_local.isoformat(),
                    a.class_name,
                    a.member_name,
                    a.status.value,
                    a.penalty_waived,
                    a.member_id,
                ]
                for a in report.absences
            ],
        ),
        "refused_scans": (
            ["at", "code", "member", "reason", "staff", "member_id"],
            [
                [
                    r.at_local.isoformat(),
                    r.code,
                    r.member_name,
                    r.reason,
                    r.staff_name,
                    r.member_id or "",
                ]
                for r in report.refused_scans
            ],
        ),
        "sales": (
            ["method", "count", "amount"],
            [[s.method, s.count, f"{s.amount_cents / 100:.2f}"] for s in report.sales],
        ),
        "overrides": (
            ["at", "staff", "action", "reason", "seq"],
            [
                [o.at_local.isoformat(), o.staff_name, o.action, o.reason, o.seq]
                for o in report.overrides
            ],
        ),
    }
    written = []
    for name, (header, rows) in tables.items():
        path = folder / f"{name}_{stamp}.csv"
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    return written
