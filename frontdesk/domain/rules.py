"""Studio rules used by several commands: which pass pays, alerts, waitlist, cancel terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .clock import local_date
from .model import (
    HOLDS_SPOT,
    AlertCode,
    Booking,
    BookingStatus,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    Member,
    Penalty,
    Policy,
    Sale,
    Session,
)

# --- Entitlements -------------------------------------------------------------------


def cost_of(entitlement: Entitlement, session: Session, policy: Policy) -> int:
    """What one class takes from an entitlement: a credit, money, or nothing."""
    if entitlement.kind is EntitlementKind.MEMBERSHIP:
        return 0
    if entitlement.kind is EntitlementKind.STORED_VALUE:
        return session.price_cents or policy.drop_in_price_cents
    return 1


def is_frozen_on(entitlement: Entitlement, day: date) -> bool:
    return (
        entitlement.frozen_from is not None
        and entitlement.frozen_until is not None
        and entitlement.frozen_from <= day <= entitlement.frozen_until
    )


def covers_day(entitlement: Entitlement, day: date) -> bool:
    """Valid on a local day: `valid_until` is inclusive, judged in the location's zone."""
    return (
        entitlement.status is EntitlementStatus.ACTIVE
        and entitlement.valid_from <= day
        and (entitlement.valid_until is None or day <= entitlement.valid_until)
        and not is_frozen_on(entitlement, day)
    )


@dataclass(frozen=True)
class Usability:
    usable: bool
    reason: str = ""  # an AlertCode value or a refusal code when not usable


def usability(
    entitlement: Entitlement,
    session: Session,
    session_day: date,
    policy: Policy,
    member_bookings: list[Booking],
    sessions_day: dict[str, date],
) -> Usability:
    """Whether `entitlement` can pay for `session`; `sessions_day` maps session ids to days."""
    if entitlement.status is not EntitlementStatus.ACTIVE:
        return Usability(False, "refunded")
    if entitlement.valid_until is not None and session_day > entitlement.valid_until:
        return Usability(False, AlertCode.EXPIRED.value)
    if session_day < entitlement.valid_from:
        return Usability(False, "not_started")
    if is_frozen_on(entitlement, session_day):
        return Usability(False, "frozen")
    if entitlement.class_type_ids and session.class_type_id not in entitlement.class_type_ids:
        return Usability(False, "class_type_not_covered")
    if entitlement.balance < cost_of(entitlement, session, policy):
        return Usability(False, "no_credits_left")
    if entitlement.max_per_day:
        used = sum(
            1
            for b in member_bookings
            if b.entitlement_id == entitlement.id
            and b.session_id != session.id
            and b.status not in (BookingStatus.CANCELLED,)
            and sessions_day.get(b.session_id) == session_day
        )
        if used >= entitlement.max_per_day:
            return Usability(False, "daily_limit_reached")
    return Usability(True)


def choose_entitlement(
    entitlements: list[Entitlement],
    session: Session,
    session_day: date,
    policy: Policy,
    member_bookings: list[Booking],
    sessions_day: dict[str, date],
) -> tuple[Entitlement | None, str]:
    """The usable entitlement that expires first (memberships before packs on a tie).

    Returns the choice, or None and the most telling reason none fits.
    """
    usable: list[Entitlement] = []
    reasons: list[str] = []
    for ent in entitlements:
        verdict = usability(ent, session, session_day, policy, member_bookings, sessions_day)
        if verdict.usable:
            usable.append(ent)
        else:
            reasons.append(verdict.reason)
    if usable:
        usable.sort(
            key=lambda e: (
                e.valid_until or date.max,
                e.kind is not EntitlementKind.MEMBERSHIP,
                e.id,
            )
        )
        return usable[0], ""
    for reason in (
        "daily_limit_reached",
        "no_credits_left",
        "class_type_not_covered",
        "frozen",
        AlertCode.EXPIRED.value,
    ):
        if reason in reasons:
            return None, reason
    return None, AlertCode.NO_VALID_ENTITLEMENT.value


# --- Alerts -------------------------------------------------------------------------

ALERT_RANK = list(AlertCode)

ALERT_TEXT: dict[AlertCode, tuple[str, str]] = {
    AlertCode.NO_VALID_ENTITLEMENT: ("No valid pass for this class.", "sell_pass"),
    AlertCode.EXPIRED: ("Their pass has expired.", "renew"),
    AlertCode.UNPAID: ("There is an unpaid balance.", "mark_paid"),
    AlertCode.WAIVER_MISSING: ("No signed waiver on file.", "sign_waiver"),
    AlertCode.STAFF_NOTE: ("Staff note: {note}", "view_note"),
    AlertCode.EXPIRING_SOON: ("Pass expires on {date}.", "renew"),
    AlertCode.LOW_CREDITS: ("Only {credits} class(es) left.", "sell_pass"),
    AlertCode.FREEZE_ENDING: ("Freeze ends on {date}.", "unfreeze"),
    AlertCode.BIRTHDAY: ("Birthday today!", ""),
}


@dataclass(frozen=True)
class Alert:
    code: AlertCode
    blocking: bool
    message: str
    action: str  # the one-click action the desk offers: sell_pass, renew, mark_paid, ...


def member_alerts(
    member: Member,
    entitlements: list[Entitlement],
    unpaid_sales: list[Sale],
    today: date,
    policy: Policy,
    usable_today: bool | None = None,
) -> list[Alert]:
    """Ranked alerts for a member at the desk: blocking ones first, then by rank.

    `usable_today` tells whether an entitlement covers the class at hand; None judges
    by whether any entitlement covers today at all.
    """
    found: dict[AlertCode, dict[str, str]] = {}
    active = [e for e in entitlements if e.status is EntitlementStatus.ACTIVE]
    valid = [e for e in active if covers_day(e, today) and (e.balance > 0 or _unlimited(e))]
    has_valid = usable_today if usable_today is not None else bool(valid)
    if not has_valid:
        expired = [e for e in active if e.valid_until is not None and e.valid_until < today]
        found[AlertCode.EXPIRED if expired and not valid else AlertCode.NO_VALID_ENTITLEMENT] = {}
    if unpaid_sales or any(not e.paid for e in active):
        found[AlertCode.UNPAID] = {}
    if member.waiver_signed_at is None:
        found[AlertCode.WAIVER_MISSING] = {}
    if member.notes.strip():
        found[AlertCode.STAFF_NOTE] = {"note": member.notes.strip()}
    soon = today + timedelta(days=policy.expiring_soon_days)
    ending = sorted(e.valid_until for e in valid if e.valid_until is not None)
    if ending and ending[0] <= soon:
        found[AlertCode.EXPIRING_SOON] = {"date": ending[0].isoformat()}
    packs = [e for e in valid if e.kind is EntitlementKind.PACK]
    if packs and not any(_unlimited(e) for e in valid):
        left = sum(e.balance for e in packs)
        if left <= policy.low_credits_threshold:
            found[AlertCode.LOW_CREDITS] = {"credits": str(left)}
    for e in active:
        if e.frozen_until is not None and today <= e.frozen_until <= today + timedelta(days=7):
            found[AlertCode.FREEZE_ENDING] = {"date": e.frozen_until.isoformat()}
    if member.birthday is not None and (member.birthday.month, member.birthday.day) == (
        today.month,
        today.day,
    ):
        found[AlertCode.BIRTHDAY] = {}
    alerts = [
        Alert(
            code,
            code in policy.blocking_alerts,
            ALERT_TEXT[code][0].format(**params),
            ALERT_TEXT[code][1],
        )
        for code, params in found.items()
    ]
    alerts.sort(key=lambda a: (not a.blocking, ALERT_RANK.index(a.code)))
    return alerts


def _unlimited(entitlement: Entitlement) -> bool:
    return entitlement.kind is EntitlementKind.MEMBERSHIP


# --- Capacity, waitlist and cancellation ------------------------------------------


def spots_taken(bookings: list[Booking]) -> int:
    return sum(1 for b in bookings if b.status in HOLDS_SPOT)


def waitlist(bookings: list[Booking]) -> list[Booking]:
    """Waitlisted bookings in strict queue order."""
    queue = [b for b in bookings if b.status is BookingStatus.WAITLISTED]
    queue.sort(key=lambda b: (b.waitlist_position or 0, b.created_at, b.id))
    return queue


def waitlist_open(session: Session, now: datetime, policy: Policy) -> bool:
    """Promotion and joining stop `waitlist_cutoff_minutes` before the class."""
    return now < session.start - timedelta(minutes=policy.waitlist_cutoff_minutes)


@dataclass(frozen=True)
class CancelTerms:
    late: bool
    penalty: Penalty
    refund_credit: bool
    fee_cents: int

    def describe(self) -> str:
        if not self.late:
            return "Early cancellation: the class is returned to their pass."
        if self.penalty is Penalty.FORFEIT_CREDIT:
            return "Late cancellation: the class is not returned to their pass."
        if self.penalty is Penalty.FEE:
            return f"Late cancellation: a fee of {self.fee_cents / 100:.2f} is charged."
        return "Late cancellation: no penalty under this studio's policy."


def cancel_terms(session: Session, now: datetime, policy: Policy) -> CancelTerms:
    """Whether a cancellation now is late, and what the tenant's penalty then does."""
    late = now > session.start - timedelta(minutes=policy.cancel_window_minutes)
    return penalty_terms(late, policy.late_cancel_penalty, policy)


def penalty_terms(applies: bool, penalty: Penalty, policy: Policy) -> CancelTerms:
    if not applies:
        return CancelTerms(False, Penalty.NONE, True, 0)
    return CancelTerms(
        True,
        penalty,
        refund_credit=penalty is not Penalty.FORFEIT_CREDIT,
        fee_cents=policy.penalty_fee_cents if penalty is Penalty.FEE else 0,
    )


def checkin_window(session: Session, policy: Policy) -> tuple[datetime, datetime]:
    opens = session.start - timedelta(minutes=policy.checkin_opens_minutes)
    closes = max(session.end, session.start + timedelta(minutes=policy.checkin_closes_minutes))
    return opens, closes


def session_day(session: Session, tz_name: str) -> date:
    return local_date(session.start, tz_name)
