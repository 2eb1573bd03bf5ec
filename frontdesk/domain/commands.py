"""Every command the desk can record and the cloud re-runs, with its rules.

A command is a frozen dataclass of its arguments (what goes over the wire) with a `run`
method that reads state through the unit of work and puts new entity values into it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .clock import to_local
from .engine import ATTENDANCE, DESK_STAFF, EVERYONE, MANAGERS, UnitOfWork, command
from .model import (
    HOLDS_SPOT,
    AlertCode,
    AuditEntry,
    Booking,
    BookingStatus,
    ClassType,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    Feedback,
    LedgerEntry,
    Location,
    Member,
    MemberStatus,
    PaymentMethod,
    Penalty,
    Plan,
    Role,
    Sale,
    ScanRecord,
    Session,
    SessionStatus,
    evolve,
)
from .outcome import Refused
from .rules import (
    CancelTerms,
    cancel_terms,
    checkin_window,
    choose_entitlement,
    cost_of,
    member_alerts,
    penalty_terms,
    spots_taken,
    waitlist,
    waitlist_open,
)

# --- shared steps ---------------------------------------------------------------------


def _scheduled(session: Session) -> Session:
    if session.status is not SessionStatus.SCHEDULED:
        raise Refused("session_cancelled", f"{session.class_name} has been cancelled.")
    return session


def _current_booking(uow: UnitOfWork, session_id: str, member_id: str) -> Booking | None:
    """The member's booking in a session that is not cancelled, if any."""
    for booking in uow.state.find(Booking, "session_id", session_id):
        if booking.member_id == member_id and booking.status not in (
            BookingStatus.CANCELLED,
            BookingStatus.LATE_CANCELLED,
        ):
            return booking
    return None


def _pick_entitlement(
    uow: UnitOfWork, member: Member, session: Session, chosen_id: str | None
) -> tuple[Entitlement | None, str]:
    entitlements = uow.state.find(Entitlement, "member_id", member.id)
    if chosen_id is not None:
        entitlements = [e for e in entitlements if e.id == chosen_id]
        if not entitlements:
            raise Refused("unknown_entitlement", "That pass does not belong to this member.")
    bookings = uow.state.find(Booking, "member_id", member.id)
    days: dict[str, date] = {}
    for b in bookings:
        other = uow.state.get(Session, b.session_id)
        if other is not None:
            days[b.session_id] = uow.day_of(other)
    return choose_entitlement(
        entitlements, session, uow.day_of(session), uow.policy, bookings, days
    )


_NO_PASS_TEXT = {
    "daily_limit_reached": "Their pass allows no more classes today.",
    "no_credits_left": "Their pass has no classes left.",
    "class_type_not_covered": "Their pass does not cover this class.",
    "frozen": "Their pass is frozen on that day.",
    AlertCode.EXPIRED.value: "Their pass has expired.",
    AlertCode.NO_VALID_ENTITLEMENT.value: "They have no valid pass for this class.",
}


def _no_pass(reason: str) -> Refused:
    return Refused(reason, _NO_PASS_TEXT[reason], "Sell a drop-in or a pass.")


def _charge(uow: UnitOfWork, booking: Booking, ent: Entitlement, session: Session) -> Booking:
    cost = cost_of(ent, session, uow.policy)
    if cost:
        uow.move_credit(ent, -cost, "book", booking)
    return evolve(booking, entitlement_id=ent.id, charged=cost)


def _return_charge(uow: UnitOfWork, booking: Booking, reason: str) -> Booking:
    """Give the booking's charge back; the booking is then paid by no pass at all.

    Forgetting the entitlement matters: a no-show whose credit came back and who then
    arrives late must pay again at check-in, not attend for free.
    """
    if booking.charged and booking.entitlement_id:
        ent = uow.require(Entitlement, booking.entitlement_id, "entitlement")
        uow.move_credit(ent, booking.charged, reason, booking)
    return evolve(booking, charged=0, entitlement_id=None)


def _require_override(uow: UnitOfWork, reason: str) -> None:
    uow.require_role(MANAGERS, "override a studio rule")
    if not reason.strip():
        raise Refused("reason_required", "An override needs a reason.")


def _coach_limit(uow: UnitOfWork, session: Session) -> None:
    if uow.ctx.actor.role is Role.COACH and session.coach_id != uow.ctx.actor.id:
        raise Refused("not_your_class", "Coaches mark attendance for their own classes only.")


def promote_waitlist(uow: UnitOfWork, session_id: str) -> list[str]:
    """Fill free spots from the waitlist in strict queue order, up to the cutoff.

    The one promotion routine: every path that frees a spot calls it.
    """
    session = uow.require(Session, session_id, "session")
    if session.status is not SessionStatus.SCHEDULED or not waitlist_open(
        session, uow.now, uow.policy
    ):
        return []
    promoted: list[str] = []
    bookings = uow.state.find(Booking, "session_id", session.id)
    free = session.capacity - spots_taken(bookings)
    for booking in waitlist(bookings)[: max(free, 0)]:
        uow.put(evolve(booking, status=BookingStatus.BOOKED, waitlist_position=None))
        promoted.append(booking.member_id)
    if promoted:
        uow.data["promoted"] = ",".join(promoted)
    return promoted


def _apply_penalty(
    uow: UnitOfWork, booking: Booking, terms: CancelTerms, status: BookingStatus
) -> Booking:
    if terms.refund_credit:
        booking = _return_charge(uow, booking, "refund_credit")
    if terms.fee_cents:
        session = uow.require(Session, booking.session_id, "session")
        fee = Sale(
            id=uow.mint(f"fee:{booking.id}"),
            member_id=booking.member_id,
            location_id=session.location_id,
            description=f"Penalty: {session.class_name}",
            amount_cents=terms.fee_cents,
            method=PaymentMethod.OTHER,
            paid=False,
            at=uow.now,
            staff_id=uow.ctx.actor.id,
            kind="fee",
        )
        uow.put(fee)
        booking = evolve(booking, fee_sale_id=fee.id)
    if terms.late:
        uow.data["penalty"] = terms.penalty.value
    return evolve(booking, status=status)


# --- bookings and attendance ---------------------------------------------------------


@command("book", DESK_STAFF)
@dataclass(frozen=True)
class Book:
    member_id: str
    session_id: str
    entitlement_id: str | None = None
    override_capacity: bool = False
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        session = _scheduled(uow.session(self.session_id))
        existing = _current_booking(uow, session.id, member.id)
        if existing is not None:
            uow.subject_id = existing.id
            uow.data.update(code="already_booked", message=f"{member.name} is already booked.")
            return
        if uow.now >= session.start:
            raise Refused(
                "booking_closed", "This class has already started.", "Check them in as a walk-in."
            )
        if uow.now < session.start - timedelta(days=uow.policy.booking_opens_days):
            raise Refused("booking_not_open", "Booking for this class is not open yet.")
        ent, why = _pick_entitlement(uow, member, session, self.entitlement_id)
        if ent is None:
            raise _no_pass(why)
        bookings = uow.state.find(Booking, "session_id", session.id)
        status, position, over = BookingStatus.BOOKED, None, False
        if spots_taken(bookings) >= session.capacity:
            queue = waitlist(bookings)
            if self.override_capacity:
                _require_override(uow, self.reason)
                over = True
            elif len(queue) < session.waitlist_size and waitlist_open(session, uow.now, uow.policy):
                status = BookingStatus.WAITLISTED
                position = max((b.waitlist_position or 0 for b in queue), default=0) + 1
            else:
                raise Refused(
                    "class_full",
                    f"{session.class_name} is full and its waitlist is closed or full.",
                    "Offer another class, or a manager can override capacity.",
                )
        booking = Booking(
            id=uow.mint("booking"),
            session_id=session.id,
            member_id=member.id,
            status=status,
            created_at=uow.now,
            waitlist_position=position,
            over_capacity=over,
        )
        uow.put(_charge(uow, booking, ent, session))
        if over:
            uow.audit("override_capacity", booking.id, self.reason)
        uow.subject_id = booking.id
        uow.data["booking_id"] = booking.id
        if status is BookingStatus.WAITLISTED:
            uow.data.update(code="waitlisted", message=f"Waitlisted at position {position}.")


@command("check_in", EVERYONE)
@dataclass(frozen=True)
class CheckIn:
    member_id: str
    session_id: str
    at: datetime | None = None  # set for a backdated check-in
    entitlement_id: str | None = None
    override: bool = False
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        session = _scheduled(uow.session(self.session_id))
        _coach_limit(uow, session)
        replay = uow.ctx.replay
        when = self.at or uow.now
        booking = _current_booking(uow, session.id, member.id)
        if booking is not None and booking.status is BookingStatus.CHECKED_IN:
            # Before any time or override check: repeating a check-in is always harmless.
            uow.subject_id = booking.id
            uow.data.update(
                booking_id=booking.id,
                code="already_checked_in",
                message=f"{member.name} is already checked in.",
            )
            return
        if self.override:
            _require_override(uow, self.reason)
        if self.at is not None:
            uow.require_role(DESK_STAFF, "backdate a check-in")
            if not self.reason.strip():
                raise Refused("reason_required", "A backdated check-in needs a reason.")
            if self.at > uow.now + timedelta(minutes=5):
                raise Refused("future_check_in", "A check-in cannot be dated in the future.")
        overridden: list[str] = []
        opens, closes = checkin_window(session, uow.policy)
        if not opens <= when <= closes:
            tz = uow.timezone_of(session.location_id)
            text = (
                f"Check-in for {session.class_name} is open from "
                f"{to_local(opens, tz):%H:%M} to {to_local(closes, tz):%H:%M}."
            )
            if replay:
                uow.warn("outside_checkin_window", text)
            elif not self.override:
                raise Refused(
                    "outside_checkin_window", text, "Choose another class, or backdate it."
                )
            else:
                overridden.append("checkin_window")
        needs_spot = booking is None or booking.status is not BookingStatus.BOOKED
        over = False
        bookings = uow.state.find(Booking, "session_id", session.id)
        if needs_spot and spots_taken(bookings) >= session.capacity:
            over = True
            if replay:
                uow.warn(
                    "over_capacity",
                    f"{member.name} was checked in while {session.class_name} was full; "
                    "they are kept over capacity.",
                    "Keep them (manager) or move them to another class.",
                )
            elif not self.override:
                raise Refused(
                    "class_full",
                    f"{session.class_name} is full.",
                    "Choose another class, or a manager can override capacity.",
                )
            else:
                overridden.append("capacity")
        ent: Entitlement | None = None
        unpaid = False
        if booking is None or booking.entitlement_id is None:
            ent, why = _pick_entitlement(uow, member, session, self.entitlement_id)
            if ent is None:
                unpaid = True
                if replay:
                    uow.warn(
                        "unpaid_attendance",
                        f"{member.name} attended {session.class_name} without a valid pass: "
                        "recorded as unpaid. " + _NO_PASS_TEXT[why],
                        "Sell a drop-in or a pass, or waive it (manager).",
                    )
                elif not self.override:
                    raise _no_pass(why)
                else:
                    overridden.append("no_pass")
        entitlements = uow.state.find(Entitlement, "member_id", member.id)
        unpaid_fees = [
            s for s in uow.state.find(Sale, "member_id", member.id) if not s.paid and not s.void
        ]
        has_pass = not unpaid
        for alert in member_alerts(
            member, entitlements, unpaid_fees, uow.day_of(session), uow.policy, has_pass
        ):
            if not alert.blocking or alert.code in (
                AlertCode.NO_VALID_ENTITLEMENT,
                AlertCode.EXPIRED,
            ):
                continue
            if replay:
                uow.warn(alert.code.value, alert.message)
            elif not self.override:
                raise Refused(alert.code.value, alert.message, "A manager can override.")
            else:
                overridden.append(alert.code.value)
        if booking is None:
            booking = Booking(
                id=uow.mint("booking"),
                session_id=session.id,
                member_id=member.id,
                status=BookingStatus.CHECKED_IN,
                created_at=uow.now,
                walk_in=True,
            )
        if ent is not None:
            booking = _charge(uow, booking, ent, session)
        booking = evolve(
            booking,
            status=BookingStatus.CHECKED_IN,
            checked_in_at=when,
            checked_in_by=uow.ctx.actor.id,
            waitlist_position=None,
            over_capacity=booking.over_capacity or over,
            unpaid=unpaid,
        )
        uow.put(booking)
        # Overrides are audited against the booking they let in: it names the member and
        # the class, and unlike a member id it still means the same after a merge.
        for what in overridden:
            uow.audit(f"override_{what}", booking.id, self.reason, session.id)
        if self.at is not None:
            uow.audit("backdated_check_in", booking.id, self.reason, self.at.isoformat())
        uow.subject_id = booking.id
        uow.data["booking_id"] = booking.id


def _booking_for_attendance(uow: UnitOfWork, booking_id: str) -> tuple[Booking, Session]:
    booking = uow.require(Booking, booking_id, "booking")
    session = uow.session(booking.session_id)
    _coach_limit(uow, session)
    uow.subject_id = booking.id
    return booking, session


@command("undo_check_in", ATTENDANCE)
@dataclass(frozen=True)
class UndoCheckIn:
    booking_id: str

    def run(self, uow: UnitOfWork) -> None:
        booking, session = _booking_for_attendance(uow, self.booking_id)
        if booking.status is not BookingStatus.CHECKED_IN:
            raise Refused("not_checked_in", "This person is not checked in.")
        undone = evolve(booking, checked_in_at=None, checked_in_by=None, unpaid=False)
        if booking.walk_in:
            uow.put(evolve(_return_charge(uow, undone, "undo"), status=BookingStatus.CANCELLED))
            promote_waitlist(uow, session.id)
        else:
            uow.put(evolve(undone, status=BookingStatus.BOOKED))


@command("mark_no_show", ATTENDANCE)
@dataclass(frozen=True)
class MarkNoShow:
    booking_id: str

    def run(self, uow: UnitOfWork) -> None:
        booking, session = _booking_for_attendance(uow, self.booking_id)
        if booking.status is BookingStatus.NO_SHOW:
            uow.data["code"] = "already_no_show"
            return
        if booking.status is not BookingStatus.BOOKED:
            raise Refused("not_booked", f"Only a booked place can be a no-show ({booking.status}).")
        if uow.now < session.start:
            raise Refused("class_not_started", "A no-show can be marked once the class starts.")
        terms = penalty_terms(True, uow.policy.no_show_penalty, uow.policy)
        uow.put(_apply_penalty(uow, booking, terms, BookingStatus.NO_SHOW))
        promote_waitlist(uow, session.id)


@command("cancel_booking", DESK_STAFF)
@dataclass(frozen=True)
class CancelBooking:
    booking_id: str
    waive_penalty: bool = False
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        booking = uow.require(Booking, self.booking_id, "booking")
        session = uow.session(booking.session_id)
        uow.subject_id = booking.id
        if booking.status in (BookingStatus.CANCELLED, BookingStatus.LATE_CANCELLED):
            uow.data.update(code="already_cancelled", message="This booking is already cancelled.")
            return
        if booking.status in (BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW):
            raise Refused(
                "cannot_cancel_attended",
                "This booking is already checked in or marked no-show.",
                "Undo the check-in first.",
            )
        if booking.status is BookingStatus.WAITLISTED:
            terms = penalty_terms(False, Penalty.NONE, uow.policy)
        else:
            terms = cancel_terms(session, uow.now, uow.policy)
        if terms.late and self.waive_penalty:
            _require_override(uow, self.reason)
            uow.audit("waive_penalty", booking.id, self.reason)
            terms = penalty_terms(False, Penalty.NONE, uow.policy)
        status = BookingStatus.LATE_CANCELLED if terms.late else BookingStatus.CANCELLED
        uow.put(
            evolve(
                _apply_penalty(uow, booking, terms, status),
                waitlist_position=None,
                penalty_waived=self.waive_penalty and not terms.late,
            )
        )
        uow.data["message"] = terms.describe()
        promote_waitlist(uow, session.id)


@command("waive_penalty", MANAGERS)
@dataclass(frozen=True)
class WaivePenalty:
    booking_id: str
    reason: str

    def run(self, uow: UnitOfWork) -> None:
        booking = uow.require(Booking, self.booking_id, "booking")
        uow.session(booking.session_id)
        uow.subject_id = booking.id
        if booking.status not in (BookingStatus.LATE_CANCELLED, BookingStatus.NO_SHOW):
            raise Refused("no_penalty", "Only a late cancel or a no-show carries a penalty.")
        if booking.penalty_waived:
            uow.data["code"] = "already_waived"
            return
        _require_override(uow, self.reason)
        booking = _return_charge(uow, booking, "waive_penalty")
        if booking.fee_sale_id is not None:
            fee = uow.require(Sale, booking.fee_sale_id, "sale")
            if not fee.void:
                uow.put(evolve(fee, void=True))
        uow.put(evolve(booking, penalty_waived=True))
        uow.audit("waive_penalty", booking.id, self.reason)


@command("promote_from_waitlist", DESK_STAFF)
@dataclass(frozen=True)
class PromoteFromWaitlist:
    booking_id: str
    override_capacity: bool = False
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        booking = uow.require(Booking, self.booking_id, "booking")
        session = _scheduled(uow.session(booking.session_id))
        uow.subject_id = booking.id
        if booking.status is not BookingStatus.WAITLISTED:
            raise Refused("not_waitlisted", "This booking is not on the waitlist.")
        over = False
        if spots_taken(uow.state.find(Booking, "session_id", session.id)) >= session.capacity:
            if not self.override_capacity:
                raise Refused(
                    "class_full", f"{session.class_name} is full.", "A manager can override."
                )
            _require_override(uow, self.reason)
            uow.audit("override_capacity", booking.id, self.reason)
            over = True
        uow.put(
            evolve(booking, status=BookingStatus.BOOKED, waitlist_position=None, over_capacity=over)
        )


# --- schedule ------------------------------------------------------------------------


@command("create_session", MANAGERS)
@dataclass(frozen=True)
class CreateSession:
    location_id: str
    class_type_id: str
    start: datetime
    end: datetime
    capacity: int
    class_name: str = ""
    coach_id: str | None = None
    coach_name: str = ""
    room_id: str | None = None
    room_name: str = ""
    waitlist_size: int = 10
    price_cents: int = 0
    session_id: str | None = None  # an import mints its own ids

    def run(self, uow: UnitOfWork) -> None:
        uow.check_location(self.location_id)
        uow.require(Location, self.location_id, "location")
        class_type = uow.require(ClassType, self.class_type_id, "class_type")
        if self.end <= self.start:
            raise Refused("invalid_value", "A class must end after it starts.")
        if self.capacity < 0 or self.waitlist_size < 0 or self.price_cents < 0:
            raise Refused("invalid_value", "Capacity, waitlist and price cannot be negative.")
        session_id = self.session_id or uow.mint("session")
        if uow.state.get(Session, session_id) is not None:
            uow.subject_id = session_id
            uow.data["code"] = "already_exists"
            return
        uow.put(
            Session(
                id=session_id,
                location_id=self.location_id,
                class_type_id=class_type.id,
                class_name=self.class_name or class_type.name,
                start=self.start,
                end=self.end,
                capacity=self.capacity,
                coach_id=self.coach_id,
                coach_name=self.coach_name,
                room_id=self.room_id,
                room_name=self.room_name,
                waitlist_size=self.waitlist_size,
                price_cents=self.price_cents,
            )
        )
        uow.subject_id = session_id


@command("change_capacity", MANAGERS)
@dataclass(frozen=True)
class ChangeCapacity:
    session_id: str
    capacity: int

    def run(self, uow: UnitOfWork) -> None:
        session = _scheduled(uow.session(self.session_id))
        if self.capacity < 0:
            raise Refused("invalid_value", "Capacity cannot be negative.")
        uow.subject_id = session.id
        if self.capacity == session.capacity:
            uow.data["code"] = "unchanged"
            return
        held = spots_taken(uow.state.find(Booking, "session_id", session.id))
        if self.capacity < held:
            raise Refused(
                "capacity_below_booked",
                f"{held} places are already taken in {session.class_name}.",
                "Cancel or move people first, then lower the capacity.",
            )
        uow.put(evolve(session, capacity=self.capacity))
        uow.audit("change_capacity", session.id, detail=f"{session.capacity}->{self.capacity}")
        promote_waitlist(uow, session.id)


@command("cancel_session", MANAGERS)
@dataclass(frozen=True)
class CancelSession:
    session_id: str
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        session = uow.session(self.session_id)
        uow.subject_id = session.id
        if session.status is SessionStatus.CANCELLED:
            uow.data["code"] = "already_cancelled"
            return
        told: list[str] = []
        for booking in uow.state.find(Booking, "session_id", session.id):
            if booking.status in HOLDS_SPOT or booking.status is BookingStatus.WAITLISTED:
                refunded = _return_charge(uow, booking, "session_cancelled")
                uow.put(evolve(refunded, status=BookingStatus.CANCELLED, waitlist_position=None))
                told.append(booking.member_id)
        uow.put(evolve(session, status=SessionStatus.CANCELLED))
        uow.audit("cancel_session", session.id, self.reason, f"{len(told)} bookings refunded")
        uow.data["told"] = ",".join(told)
        uow.data["message"] = f"{session.class_name} cancelled; {len(told)} people to tell."


# --- members -------------------------------------------------------------------------


def _visible(text: str) -> str:
    """Text without control or invisible formatting characters (a bidi override, a
    zero-width space): pasted into a name they make it display wrongly and unsearchable."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") or c in "\t\n")


_PHONE_CHARS = frozenset("0123456789+-() .")


def _clean_phone(phone: str) -> str:
    cleaned = " ".join(_visible(phone).split())
    if cleaned and (not set(cleaned) <= _PHONE_CHARS or not any(c.isdigit() for c in cleaned)):
        raise Refused(
            "invalid_value",
            f"{cleaned!r} is not a phone number.",
            "Type digits, with spaces, +, - or ( ) if you like.",
        )
    return cleaned


def _clean_name(name: str) -> str:
    cleaned = " ".join(_visible(name).split())
    if not cleaned:
        raise Refused("missing_required", "A member needs a name.")
    if len(cleaned) > 200:
        raise Refused("invalid_value", "That name is too long (200 characters at most).")
    return cleaned


def _check_card_free(uow: UnitOfWork, card_code: str, member_id: str) -> str:
    code = card_code.strip()
    if code:
        for other in uow.state.find(Member, "card_code", code):
            if other.id != member_id and other.status is MemberStatus.ACTIVE:
                raise Refused(
                    "duplicate_card",
                    f"Card {code} already belongs to {other.name}.",
                    "Use another card, or merge the two members.",
                )
    return code


@command("add_member", DESK_STAFF)
@dataclass(frozen=True)
class AddMember:
    name: str
    phone: str = ""
    email: str = ""
    card_code: str = ""
    birthday: date | None = None
    notes: str = ""
    tier: str = ""
    member_id: str | None = None  # an import mints its own ids

    def run(self, uow: UnitOfWork) -> None:
        member_id = self.member_id or uow.mint("member")
        existing = uow.state.get(Member, member_id)
        if existing is not None:
            uow.subject_id = member_id
            uow.data.update(code="already_exists", member_id=member_id)
            return
        uow.put(
            Member(
                id=member_id,
                name=_clean_name(self.name),
                phone=_clean_phone(self.phone),
                email=self.email.strip(),
                card_code=_check_card_free(uow, self.card_code, member_id),
                birthday=self.birthday,
                notes=self.notes.strip(),
                tier=self.tier.strip(),
                created_at=uow.now,
            )
        )
        uow.subject_id = member_id
        uow.data["member_id"] = member_id


@command("edit_member", DESK_STAFF)
@dataclass(frozen=True)
class EditMember:
    member_id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    card_code: str | None = None
    birthday: date | None = None
    notes: str | None = None
    tier: str | None = None

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        changes: dict[str, object] = {}
        if self.name is not None:
            changes["name"] = _clean_name(self.name)
        if self.card_code is not None:
            changes["card_code"] = _check_card_free(uow, self.card_code, member.id)
        if self.phone is not None:
            changes["phone"] = _clean_phone(self.phone)
        for name in ("email", "notes", "tier"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value.strip()
        if self.birthday is not None:
            changes["birthday"] = self.birthday
        uow.put(evolve(member, **changes))
        uow.subject_id = member.id


@command("sign_waiver", DESK_STAFF)
@dataclass(frozen=True)
class SignWaiver:
    member_id: str

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        if member.waiver_signed_at is None:
            uow.put(evolve(member, waiver_signed_at=uow.now))
        uow.subject_id = member.id


@command("merge_members", MANAGERS)
@dataclass(frozen=True)
class MergeMembers:
    """Two records of one person (made at two offline desks): keep one, lose no history."""

    keep_id: str
    merge_id: str

    def run(self, uow: UnitOfWork) -> None:
        if self.keep_id == self.merge_id:
            raise Refused("invalid_value", "A member cannot be merged into themself.")
        keep = uow.member(self.keep_id)
        gone = uow.require(Member, self.merge_id, "member")
        if gone.status is MemberStatus.MERGED:
            uow.data["code"] = "already_merged"
            return
        if gone.status is not MemberStatus.ACTIVE:
            raise Refused("member_inactive", f"{gone.name} is {gone.status.value}.")
        if keep.id == gone.id:
            # keep_id was itself merged into merge_id: going on would cancel every booking
            # of the member as a "duplicate" and leave a record merged into itself.
            raise Refused(
                "invalid_value",
                f"{keep.name} already holds that record; there is nothing to merge.",
            )
        freed: list[str] = []
        for booking in uow.state.find(Booking, "member_id", gone.id):
            moved = evolve(booking, member_id=keep.id)
            twin = _current_booking(uow, booking.session_id, keep.id)
            if twin is not None and booking.status not in (
                BookingStatus.CANCELLED,
                BookingStatus.LATE_CANCELLED,
            ):
                if booking.status is BookingStatus.CHECKED_IN and twin.status is not (
                    BookingStatus.CHECKED_IN
                ):
                    booking, twin = twin, booking
                    moved = evolve(booking, member_id=keep.id)
                    uow.put(evolve(twin, member_id=keep.id))
                if moved.status in HOLDS_SPOT:
                    freed.append(moved.session_id)
                moved = evolve(
                    _return_charge(uow, moved, "merge_duplicate"),
                    status=BookingStatus.CANCELLED,
                    waitlist_position=None,
                )
            uow.put(moved)
        for cls in (Entitlement, Sale, Feedback, LedgerEntry):
            for row in uow.state.find(cls, "member_id", gone.id):
                uow.put(evolve(row, member_id=keep.id))
        filled = {
            name: getattr(gone, name)
            for name in ("phone", "email", "card_code", "birthday", "tier")
            if not getattr(keep, name) and getattr(gone, name)
        }
        notes = "\n".join(n for n in (keep.notes, gone.notes) if n)
        waiver = keep.waiver_signed_at or gone.waiver_signed_at
        uow.put(evolve(keep, notes=notes, waiver_signed_at=waiver, **filled))
        uow.put(evolve(gone, status=MemberStatus.MERGED, merged_into=keep.id, card_code=""))
        uow.audit("merge_members", keep.id, detail=f"merged {gone.id}")
        promoted = [m for session_id in freed for m in promote_waitlist(uow, session_id)]
        if promoted:
            uow.data["promoted"] = ",".join(promoted)
        uow.subject_id = keep.id


@command("anonymise_member", MANAGERS)
@dataclass(frozen=True)
class AnonymiseMember:
    """Erase personal data on request; visits and payments stay, unnamed."""

    member_id: str
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        member = uow.require(Member, self.member_id, "member")
        uow.subject_id = member.id
        if member.status is MemberStatus.ANONYMISED:
            uow.data["code"] = "already_anonymised"
            return
        uow.put(_erased(member, MemberStatus.ANONYMISED))
        # Records merged into this member still hold the same person's data.
        merged = _merged_into(uow, member.id)
        for old in merged:
            uow.put(_erased(old, MemberStatus.MERGED))
        uow.audit("anonymise_member", member.id, self.reason, f"{len(merged)} merged records")


def _erased(member: Member, status: MemberStatus) -> Member:
    return Member(
        id=member.id,
        name="Anonymised member",
        status=status,
        merged_into=member.merged_into,
        created_at=member.created_at,
    )


def _merged_into(uow: UnitOfWork, member_id: str) -> list[Member]:
    """Every record merged into a member, directly or through earlier merges."""
    found: dict[str, Member] = {}
    todo = [member_id]
    while todo:
        for old in uow.state.find(Member, "merged_into", todo.pop()):
            if old.id not in found and old.id != member_id:
                found[old.id] = old
                todo.append(old.id)
    return list(found.values())


# --- sales and entitlements -----------------------------------------------------------


def _sale(
    uow: UnitOfWork,
    member: Member,
    description: str,
    amount: int,
    method: PaymentMethod,
    paid: bool,
    kind: str,
    plan_id: str | None = None,
) -> Sale:
    if amount < 0:
        raise Refused("invalid_value", "A price cannot be negative.")
    sale = Sale(
        id=uow.mint(f"sale:{kind}"),
        member_id=member.id,
        location_id=uow.ctx.location_id,
        description=description,
        amount_cents=amount,
        method=method,
        paid=paid,
        at=uow.now,
        staff_id=uow.ctx.actor.id,
        plan_id=plan_id,
        kind=kind,
    )
    uow.data["sale_id"] = sale.id
    return sale


@command("sell", DESK_STAFF)
@dataclass(frozen=True)
class Sell:
    member_id: str
    plan_id: str
    method: PaymentMethod
    paid: bool = True
    price_cents: int | None = None  # None: the plan's price; another price is audited
    starts: date | None = None

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        plan = uow.require(Plan, self.plan_id, "plan")
        if not plan.active:
            raise Refused("plan_inactive", f"{plan.name} is no longer sold.")
        price = plan.price_cents if self.price_cents is None else self.price_cents
        if self.method is PaymentMethod.STORED_VALUE:
            raise Refused("invalid_value", "Pay for a pass in cash, card, WeChat Pay or Alipay.")
        sale = _sale(uow, member, plan.name, price, self.method, self.paid, "pass", plan.id)
        ent_id = uow.mint("entitlement")
        uow.subject_id = ent_id
        uow.data["entitlement_id"] = ent_id
        if uow.applied_before(Sale, "sale:pass"):
            # Re-run on its own effects: a fresh pass would undo every use and payment since.
            return
        valid_from = self.starts or uow.today()
        ent = Entitlement(
            id=ent_id,
            member_id=member.id,
            kind=plan.kind,
            name=plan.name,
            valid_from=valid_from,
            valid_until=(
                valid_from + timedelta(days=plan.validity_days - 1) if plan.validity_days else None
            ),
            credits_total=plan.credits,
            class_type_ids=plan.class_type_ids,
            max_per_day=plan.max_per_day,
            plan_id=plan.id,
            sale_id=sale.id,
            paid=self.paid,
        )
        uow.put(evolve(sale, entitlement_id=ent.id))
        uow.put(ent)
        grant = 1 if plan.kind is EntitlementKind.DROP_IN else plan.credits
        if grant:
            uow.move_credit(ent, grant, "grant")
        uow.audit("sale", sale.id, detail=f"{plan.name} {price}")
        if price != plan.price_cents:
            uow.audit("price_override", sale.id, detail=f"{plan.price_cents}->{price}")


@command("top_up", DESK_STAFF)
@dataclass(frozen=True)
class TopUp:
    """Add money to a member's stored-value card (储值卡), making one if needed."""

    member_id: str
    amount_cents: int
    method: PaymentMethod
    paid: bool = True

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        if self.amount_cents <= 0:
            raise Refused("invalid_value", "A top-up must be more than zero.")
        sale = _sale(
            uow, member, "Stored value top-up", self.amount_cents, self.method, self.paid, "top_up"
        )
        if uow.applied_before(Sale, "sale:top_up"):
            # Re-run on its own effects: the money is on the card already.
            uow.subject_id = uow.require(Sale, sale.id, "sale").entitlement_id
            uow.data["entitlement_id"] = uow.subject_id or ""
            return
        cards = [
            e
            for e in uow.state.find(Entitlement, "member_id", member.id)
            if e.kind is EntitlementKind.STORED_VALUE and e.status is EntitlementStatus.ACTIVE
        ]
        card = (
            cards[0]
            if cards
            else Entitlement(
                id=uow.mint("entitlement"),
                member_id=member.id,
                kind=EntitlementKind.STORED_VALUE,
                name="Stored value",
                valid_from=uow.today(),
                valid_until=None,
                sale_id=sale.id,
                paid=self.paid,
            )
        )
        if not self.paid:
            card = evolve(card, paid=False)
        uow.put(card)
        uow.put(evolve(sale, entitlement_id=card.id))
        uow.move_credit(card, self.amount_cents, "top_up")
        uow.audit("top_up", sale.id, detail=str(self.amount_cents))
        uow.subject_id = card.id
        uow.data["entitlement_id"] = card.id


@command("mark_paid", DESK_STAFF)
@dataclass(frozen=True)
class MarkPaid:
    sale_id: str
    method: PaymentMethod

    def run(self, uow: UnitOfWork) -> None:
        sale = uow.require(Sale, self.sale_id, "sale")
        uow.subject_id = sale.id
        if sale.paid:
            uow.data["code"] = "already_paid"
            return
        uow.put(evolve(sale, paid=True, method=self.method))
        if sale.entitlement_id:
            ent = uow.require(Entitlement, sale.entitlement_id, "entitlement")
            others = [
                s
                for s in uow.state.find(Sale, "member_id", sale.member_id)
                if s.entitlement_id == ent.id and s.id != sale.id and not s.paid and not s.void
            ]
            if not others:
                uow.put(evolve(ent, paid=True))
        uow.audit("mark_paid", sale.id, detail=self.method.value)


@command("refund", MANAGERS)
@dataclass(frozen=True)
class Refund:
    sale_id: str
    amount_cents: int
    reason: str

    def run(self, uow: UnitOfWork) -> None:
        sale = uow.require(Sale, self.sale_id, "sale")
        uow.subject_id = sale.id
        _require_override(uow, self.reason)
        if uow.applied_before(AuditEntry, f"audit:refund:{sale.id}"):
            uow.data["code"] = "already_refunded"  # re-run on its own effects
            return
        if not sale.paid:
            # Refunding money that never came in would unbalance the till and leave the
            # sale unpaid (an alert for ever) on a pass that no longer exists.
            raise Refused(
                "not_paid",
                "Only a paid sale can be refunded.",
                "Mark it paid first, then refund it.",
            )
        left = sale.amount_cents - sale.refunded_cents
        if not 0 < self.amount_cents <= left:
            raise Refused("invalid_value", f"A refund must be between 0.01 and {left / 100:.2f}.")
        if sale.entitlement_id:
            ent = uow.require(Entitlement, sale.entitlement_id, "entitlement")
            if ent.kind is EntitlementKind.STORED_VALUE:
                if ent.balance < self.amount_cents:
                    raise Refused("invalid_value", "The card holds less than that refund.")
                uow.move_credit(ent, -self.amount_cents, "refund")
            elif self.amount_cents == left:
                if ent.balance:
                    ent = uow.move_credit(ent, -ent.balance, "refund")
                uow.put(evolve(ent, status=EntitlementStatus.REFUNDED))
        uow.put(evolve(sale, refunded_cents=sale.refunded_cents + self.amount_cents))
        uow.audit("refund", sale.id, self.reason, str(self.amount_cents))


@command("freeze", MANAGERS)
@dataclass(frozen=True)
class Freeze:
    """Hold a pass for some days; its expiry moves out by as many days."""

    entitlement_id: str
    start: date
    end: date
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        ent = uow.require(Entitlement, self.entitlement_id, "entitlement")
        uow.subject_id = ent.id
        if self.end < self.start:
            raise Refused("invalid_value", "A freeze must end on or after its first day.")
        if (ent.frozen_from, ent.frozen_until) == (self.start, self.end):
            # The same freeze again (or this one re-run): the expiry moved out once already.
            uow.data["code"] = "already_frozen"
            return
        if (
            ent.frozen_from is not None
            and ent.frozen_until is not None
            and (ent.frozen_until >= uow.today())
        ):
            raise Refused("already_frozen", "This pass already has a freeze; end it first.")
        days = (self.end - self.start).days + 1
        until = ent.valid_until + timedelta(days=days) if ent.valid_until else None
        uow.put(evolve(ent, frozen_from=self.start, frozen_until=self.end, valid_until=until))
        uow.audit("freeze", ent.id, self.reason, f"{self.start}..{self.end}")


@command("unfreeze", MANAGERS)
@dataclass(frozen=True)
class Unfreeze:
    """End a freeze early from `on`; the expiry gives back the unused days."""

    entitlement_id: str
    on: date

    def run(self, uow: UnitOfWork) -> None:
        ent = uow.require(Entitlement, self.entitlement_id, "entitlement")
        uow.subject_id = ent.id
        if ent.frozen_from is None or ent.frozen_until is None or self.on > ent.frozen_until:
            raise Refused("not_frozen", "This pass has no freeze to end.")
        first_unused = max(self.on, ent.frozen_from)
        unused = (ent.frozen_until - first_unused).days + 1
        until = ent.valid_until - timedelta(days=unused) if ent.valid_until else None
        if first_unused == ent.frozen_from:
            ent = evolve(ent, frozen_from=None, frozen_until=None, valid_until=until)
        else:
            ent = evolve(ent, frozen_until=first_unused - timedelta(days=1), valid_until=until)
        uow.put(ent)
        uow.audit("unfreeze", ent.id, detail=str(self.on))


# --- walk-in, feedback, scans -----------------------------------------------------------


@dataclass(frozen=True)
class NewGuest:
    name: str
    phone: str = ""
    email: str = ""
    card_code: str = ""


@command("walk_in", DESK_STAFF)
@dataclass(frozen=True)
class WalkIn:
    """One flow: find or quick-add a guest, sell if needed, book and check in."""

    session_id: str
    member_id: str | None = None
    guest: NewGuest | None = None
    plan_id: str | None = None  # sell this first (a drop-in or a pass)
    method: PaymentMethod = PaymentMethod.CASH
    paid: bool = True
    price_cents: int | None = None
    override: bool = False
    reason: str = ""

    def run(self, uow: UnitOfWork) -> None:
        if (self.member_id is None) == (self.guest is None):
            raise Refused("invalid_arguments", "Give either an existing member or a new guest.")
        member_id = self.member_id
        if self.guest is not None:
            AddMember(
                name=self.guest.name,
                phone=self.guest.phone,
                email=self.guest.email,
                card_code=self.guest.card_code,
            ).run(uow)
            member_id = uow.data["member_id"]
        assert member_id is not None
        entitlement_id = None
        if self.plan_id is not None:
            Sell(member_id, self.plan_id, self.method, self.paid, self.price_cents).run(uow)
            entitlement_id = uow.data["entitlement_id"]
        CheckIn(
            member_id=member_id,
            session_id=self.session_id,
            entitlement_id=entitlement_id,
            override=self.override,
            reason=self.reason,
        ).run(uow)
        uow.data["member_id"] = member_id


@command("record_feedback", EVERYONE)
@dataclass(frozen=True)
class RecordFeedback:
    member_id: str
    rating: int
    comment: str = ""
    session_id: str | None = None

    def run(self, uow: UnitOfWork) -> None:
        member = uow.member(self.member_id)
        if not 1 <= self.rating <= 5:
            raise Refused("invalid_value", "A rating is from 1 to 5.")
        feedback = Feedback(
            id=uow.mint("feedback"),
            member_id=member.id,
            session_id=self.session_id,
            rating=self.rating,
            comment=self.comment.strip()[:2000],
            at=uow.now,
        )
        uow.put(feedback)
        uow.subject_id = feedback.id


@command("record_scan", EVERYONE)
@dataclass(frozen=True)
class RecordScan:
    """A refused scan, kept so the member becomes a follow-up instead of a lost visit."""

    code: str
    reason: str
    member_id: str | None = None
    session_id: str | None = None

    def run(self, uow: UnitOfWork) -> None:
        scan = ScanRecord(
            id=uow.mint("scan"),
            location_id=uow.ctx.location_id,
            at=uow.now,
            staff_id=uow.ctx.actor.id,
            code=self.code[:200],
            member_id=self.member_id,
            accepted=False,
            reason=self.reason[:200],
            session_id=self.session_id,
        )
        uow.put(scan)
        uow.subject_id = scan.id
