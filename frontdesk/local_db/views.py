"""Read models for the desk's screens and command line: schedule, roster, members."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection

from frontdesk.domain.clock import local_date, to_local
from frontdesk.domain.model import (
    HOLDS_SPOT,
    Booking,
    BookingStatus,
    Entitlement,
    EntitlementStatus,
    Location,
    Member,
    Policy,
    Sale,
    Session,
    SessionStatus,
)
from frontdesk.domain.rules import Alert, member_alerts
from frontdesk.protocol import schedule_partition

from .search import Hit, match_expression, rank
from .store import EffectiveReader, Replica

ROSTER_ORDER = {
    BookingStatus.CHECKED_IN: 0,
    BookingStatus.BOOKED: 1,
    BookingStatus.WAITLISTED: 2,
    BookingStatus.NO_SHOW: 3,
    BookingStatus.LATE_CANCELLED: 4,
    BookingStatus.CANCELLED: 5,
}


@dataclass(frozen=True)
class SessionLine:
    session: Session
    start_local: datetime
    end_local: datetime
    booked: int  # places held: booked and checked in
    checked_in: int
    waitlisted: int

    @property
    def free(self) -> int:
        return max(self.session.capacity - self.booked, 0)


@dataclass(frozen=True)
class RosterLine:
    booking: Booking
    member_name: str


@dataclass(frozen=True)
class MemberHit:
    member_id: str
    name: str
    phone: str
    card_code: str
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class VisitLine:
    booking: Booking
    session: Session | None


@dataclass(frozen=True)
class MemberCard:
    member: Member
    entitlements: list[Entitlement]
    alerts: list[Alert]
    visits: list[VisitLine]
    sales: list[Sale]


class Views:
    """Queries over the effective state (pending work included)."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def location(self, conn: Connection) -> Location | None:
        location_id = Replica.get_meta(conn, "location_id")
        return EffectiveReader(conn).get(Location, location_id) if location_id else None

    def today(self, now: datetime) -> date:
        with self.replica.read() as conn:
            location = self.location(conn)
        return local_date(now, location.timezone) if location else now.date()

    def sessions_on(self, day: date) -> list[SessionLine]:
        with self.replica.read() as conn:
            reader = EffectiveReader(conn, memo=True)
            location = self.location(conn)
            if location is None:
                return []
            partition = schedule_partition(location.id, day)
            sessions = reader.all_of(Session, "partition", partition)
            bookings = reader.all_of(Booking, "partition", partition)
        lines = []
        for session in sorted(sessions, key=lambda s: (s.start, s.class_name, s.id)):
            mine = [b for b in bookings if b.session_id == session.id]
            lines.append(
                SessionLine(
                    session=session,
                    start_local=to_local(session.start, location.timezone),
                    end_local=to_local(session.end, location.timezone),
                    booked=sum(1 for b in mine if b.status in HOLDS_SPOT),
                    checked_in=sum(1 for b in mine if b.status is BookingStatus.CHECKED_IN),
                    waitlisted=sum(1 for b in mine if b.status is BookingStatus.WAITLISTED),
                )
            )
        return lines

    def session(self, session_id: str) -> Session | None:
        with self.replica.read() as conn:
            return EffectiveReader(conn).get(Session, session_id)

    def open_sessions(self, now: datetime) -> list[SessionLine]:
        """Today's classes still running or to come, scheduled, soonest first."""
        return [
            line
            for line in self.sessions_on(self.today(now))
            if line.session.end > now and line.session.status is SessionStatus.SCHEDULED
        ]

    def roster(self, session_id: str) -> list[RosterLine]:
        with self.replica.read() as conn:
            reader = EffectiveReader(conn, memo=True)
            bookings = reader.find(Booking, "session_id", session_id)
            names = reader.names("member", (b.member_id for b in bookings))
        lines = [RosterLine(b, names.get(b.member_id) or "…") for b in bookings]
        lines.sort(
            key=lambda line: (
                ROSTER_ORDER[line.booking.status],
                line.booking.waitlist_position or 0,
                line.member_name,
            )
        )
        return lines

    def search(
        self, query: str, today: date, limit: int = 20, alerts: bool = True
    ) -> list[MemberHit]:
        expression = match_expression(query)
        if expression is None:
            return []
        with self.replica.read() as conn:
            found = conn.exec_driver_sql(
                "SELECT member_id, name, phone, card FROM member_fts WHERE member_fts MATCH ? "
                "LIMIT ?",
                (expression, max(limit * 3, 50)),
            ).fetchall()
            hits = rank(query, [Hit(r[0], r[1], r[2], r[3], 0) for r in found])[:limit]
            reader = EffectiveReader(conn, memo=True)
            policy = self.replica.policy(reader)
            return [
                MemberHit(
                    h.member_id,
                    h.name,
                    h.phone,
                    h.card_code,
                    self._alerts(reader, h.member_id, today, policy) if alerts else [],
                )
                for h in hits
            ]

    @staticmethod
    def _alerts(
        reader: EffectiveReader, member_id: str, today: date, policy: Policy
    ) -> list[Alert]:
        member = reader.get(Member, member_id)
        if member is None:
            return []
        entitlements = reader.find(Entitlement, "member_id", member_id)
        unpaid = [s for s in reader.find(Sale, "member_id", member_id) if not s.paid and not s.void]
        return member_alerts(member, entitlements, unpaid, today, policy)

    def member_by_code(self, code: str) -> Member | None:
        """A member by id, else by card code (what a scanner or a person types)."""
        code = code.strip()
        if not code:
            return None
        with self.replica.read() as conn:
            reader = EffectiveReader(conn, memo=True)
            member = reader.get(Member, code)
            if member is not None:
                return member
            for candidate in (code, code.upper(), code.lower()):
                matches = reader.find(Member, "card_code", candidate)
                if matches:
                    return matches[0]
        return None

    def member_card(self, member_id: str, today: date) -> MemberCard | None:
        with self.replica.read() as conn:
            reader = EffectiveReader(conn, memo=True)
            member = reader.get(Member, member_id)
            if member is None:
                return None
            entitlements = reader.find(Entitlement, "member_id", member_id)
            sales = reader.find(Sale, "member_id", member_id)
            bookings = reader.find(Booking, "member_id", member_id)
            visits = [VisitLine(b, reader.get(Session, b.session_id)) for b in bookings]
            policy = self.replica.policy(reader)
        unpaid = [s for s in sales if not s.paid and not s.void]
        visits.sort(
            key=lambda v: v.session.start if v.session else v.booking.created_at, reverse=True
        )
        active = [e for e in entitlements if e.status is EntitlementStatus.ACTIVE]
        active.sort(key=lambda e: (e.valid_until or date.max, e.id))
        return MemberCard(
            member,
            active,
            member_alerts(member, entitlements, unpaid, today, policy),
            visits,
            sorted(sales, key=lambda s: s.at, reverse=True),
        )

    def attention(self, include_resolved: bool = False) -> list[dict[str, object]]:
        with self.replica.read() as conn:
            query = "SELECT * FROM attention"
            if not include_resolved:
                query += " WHERE resolved_at IS NULL"
            rows = conn.exec_driver_sql(query + " ORDER BY seq").mappings().fetchall()
        return [
            {
                "command_id": r["command_id"],
                "seq": r["seq"],
                "command": r["name"],
                "status": r["status"],
                "code": r["code"],
                "message": r["message"],
                "fix": r["fix"],
                "warnings": json.loads(r["warnings"]),
                "subject_id": r["subject_id"],
                "created_at": r["created_at"],
                "resolved_at": r["resolved_at"],
            }
            for r in rows
        ]

    def counts(self) -> tuple[int, int]:
        """(commands the cloud has not acknowledged, unresolved attention items)."""
        with self.replica.read() as conn:
            pending = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM outbox WHERE state = 'pending'"
            ).scalar_one()
            attention = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM attention WHERE resolved_at IS NULL"
            ).scalar_one()
        return int(pending), int(attention)

    def partitions(self) -> list[dict[str, object]]:
        with self.replica.read() as conn:
            return [
                {"name": r.partition, "cursor": r.cursor}
                for r in conn.exec_driver_sql(
                    "SELECT partition, cursor FROM cursors ORDER BY partition"
                )
            ]

    def booking(self, booking_id: str) -> Booking | None:
        with self.replica.read() as conn:
            return EffectiveReader(conn).get(Booking, booking_id)
