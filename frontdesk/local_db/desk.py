"""Front-desk actions over the replica, shared by the window and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from frontdesk.domain import Outcome, Status
from frontdesk.domain.model import Booking, BookingStatus, Member, Session, SessionStatus
from frontdesk.domain.rules import checkin_window

from .store import EffectiveReader, Recorded, Replica
from .views import SessionLine, Views


@dataclass(frozen=True)
class ScanResult:
    """What a scan or a typed check-in did, with what staff need to act on a refusal."""

    outcome: Outcome
    member: Member | None = None
    session: Session | None = None
    seq: int | None = None
    walk_in_options: list[SessionLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome.ok


class Desk:
    """The desk's verbs: record staff actions, and check members in by code."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.views = Views(replica)

    def business_now(self, now: datetime) -> datetime:
        with self.replica.read() as conn:
            return self.replica._business_time(now, self.replica.clock_offset(conn))

    def act(self, command: str, staff_id: str, now: datetime, /, **args: Any) -> Recorded:
        """Record a staff action (positional-only names leave `name=` free for arguments)."""
        return self.replica.record(command, args, staff_id=staff_id, now=now)

    def check_in(
        self, code: str, staff_id: str, now: datetime, session_id: str | None = None
    ) -> ScanResult:
        """Check in by member id or card code, into the class whose window is open now."""
        member = self.views.member_by_code(code)
        if member is None:
            outcome = _refusal(
                "unknown_member",
                f"No member has the code {code.strip()!r}.",
                "Search by name or phone, or add them as a new guest.",
            )
            self._record_refusal(code, None, None, outcome, staff_id, now)
            return ScanResult(outcome)
        session = (
            self.views.session(session_id) if session_id else self._booked_session_now(member, now)
        )
        if session is None:
            options = self.walk_in_options(now)
            outcome = _refusal(
                "unknown_session" if session_id else "no_booking_now",
                f"No session {session_id}."
                if session_id
                else f"{member.name} has no booking in a class open for check-in now.",
                "Choose a class for a walk-in." if options else "No class is open now.",
            )
            self._record_refusal(code, member, None, outcome, staff_id, now)
            return ScanResult(outcome, member, walk_in_options=options)
        recorded = self.act("check_in", staff_id, now, member_id=member.id, session_id=session.id)
        if recorded.outcome.status is Status.REJECTED:
            self._record_refusal(code, member, session, recorded.outcome, staff_id, now)
        return ScanResult(recorded.outcome, member, session, recorded.seq)

    def _booked_session_now(self, member: Member, now: datetime) -> Session | None:
        """The member's booked class at this location whose check-in window holds now."""
        business = self.business_now(now)
        with self.replica.read() as conn:
            reader = EffectiveReader(conn, memo=True)
            location_id = Replica.get_meta(conn, "location_id")
            policy = self.replica.policy(reader)
            candidates = []
            for booking in reader.find(Booking, "member_id", member.id):
                if booking.status not in (
                    BookingStatus.BOOKED,
                    BookingStatus.WAITLISTED,
                    BookingStatus.CHECKED_IN,
                ):
                    continue
                session = reader.get(Session, booking.session_id)
                if session is None or session.location_id != location_id:
                    continue
                opens, closes = checkin_window(session, policy)
                if opens <= business <= closes and session.status is SessionStatus.SCHEDULED:
                    candidates.append(session)
        candidates.sort(key=lambda s: abs((s.start - business).total_seconds()))
        return candidates[0] if candidates else None

    def walk_in_options(self, now: datetime) -> list[SessionLine]:
        """Today's classes open for check-in now or later, with space, soonest first."""
        business = self.business_now(now)
        with self.replica.read() as conn:
            policy = self.replica.policy(EffectiveReader(conn))
        options = []
        for line in self.views.open_sessions(business):
            _, closes = checkin_window(line.session, policy)
            if closes >= business and line.free > 0:
                options.append(line)
        return options

    def _record_refusal(
        self,
        code: str,
        member: Member | None,
        session: Session | None,
        outcome: Outcome,
        staff_id: str,
        now: datetime,
    ) -> None:
        """Every refused scan is recorded so the member becomes a follow-up."""
        args: dict[str, Any] = {"code": code.strip()[:200] or "-", "reason": outcome.code}
        if member is not None:
            args["member_id"] = member.id
        if session is not None:
            args["session_id"] = session.id
        self.act("record_scan", staff_id, now, **args)


def _refusal(code: str, message: str, fix: str) -> Outcome:
    return Outcome(Status.REJECTED, code=code, message=message, fix=fix)
