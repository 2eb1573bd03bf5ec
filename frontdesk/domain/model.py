"""The studio's entities: immutable values with UUID string ids minted by their creator."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar


class Role(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    FRONT_DESK = "front_desk"
    COACH = "coach"
    KIOSK = "kiosk"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"


#: Statuses that hold a spot in the room.
HOLDS_SPOT = frozenset({BookingStatus.BOOKED, BookingStatus.CHECKED_IN})


class EntitlementKind(enum.StrEnum):
    PACK = "pack"  # N credits within a validity period (次卡, class pack, 课消)
    MEMBERSHIP = "membership"  # unlimited within a validity period (期限卡)
    DROP_IN = "drop_in"  # one class
    STORED_VALUE = "stored_value"  # money on account, classes paid from it (储值卡)


class EntitlementStatus(enum.StrEnum):
    ACTIVE = "active"
    REFUNDED = "refunded"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    MERGED = "merged"
    ANONYMISED = "anonymised"


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    STORED_VALUE = "stored_value"
    OTHER = "other"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Penalty(enum.StrEnum):
    NONE = "none"
    FORFEIT_CREDIT = "forfeit_credit"  # the credit is not returned
    FEE = "fee"  # the credit is returned and an unpaid fee is charged


class AlertCode(enum.StrEnum):
    NO_VALID_ENTITLEMENT = "no_valid_entitlement"
    EXPIRED = "expired"
    UNPAID = "unpaid"
    WAIVER_MISSING = "waiver_missing"
    STAFF_NOTE = "staff_note"
    EXPIRING_SOON = "expiring_soon"
    LOW_CREDITS = "low_credits"
    FREEZE_ENDING = "freeze_ending"
    BIRTHDAY = "birthday"


@dataclass(frozen=True)
class Policy:
    """A tenant's studio rules. Times in minutes; money in the smallest currency unit."""

    cancel_window_minutes: int = 12 * 60
    late_cancel_penalty: Penalty = Penalty.FORFEIT_CREDIT
    no_show_penalty: Penalty = Penalty.FORFEIT_CREDIT
    penalty_fee_cents: int = 0
    booking_opens_days: int = 14
    waitlist_cutoff_minutes: int = 60
    checkin_opens_minutes: int = 60
    checkin_closes_minutes: int = 30  # after the start
    blocking_alerts: frozenset[AlertCode] = frozenset(
        {AlertCode.NO_VALID_ENTITLEMENT, AlertCode.EXPIRED}
    )
    expiring_soon_days: int = 7
    low_credits_threshold: int = 2
    clock_tolerance_seconds: int = 300
    # People in the room are never refused by sync (architecture principle 4): an offline
    # check-in the cloud finds over capacity or without a pass is kept, with a warning.
    drop_in_price_cents: int = 10000
    currency: str = "CNY"


@dataclass(frozen=True)
class Branding:
    display_name: str = ""
    primary_color: str = "#2F6F5E"
    accent_color: str = "#F2A541"
    logo_png_base64: str = ""


@dataclass(frozen=True)
class Tenant:
    id: str
    slug: str
    name: str
    policy: Policy = Policy()
    branding: Branding = Branding()


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    timezone: str  # IANA name, e.g. "Asia/Shanghai"


@dataclass(frozen=True)
class Room:
    id: str
    location_id: str
    name: str
    capacity: int


@dataclass(frozen=True)
class ClassType:
    id: str
    name: str
    level: str = ""
    color: str = ""


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    role: Role
    location_ids: tuple[str, ...] = ()
    pin_hash: str = ""  # argon2 hash, verified on the desk so switching works offline
    active: bool = True


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    kind: EntitlementKind
    price_cents: int
    credits: int = 0  # packs: credits; stored value: the value in cents
    validity_days: int = 0  # 0: no end
    class_type_ids: tuple[str, ...] = ()  # empty: every class type
    max_per_day: int = 0  # 0: no limit
    active: bool = True


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    phone: str = ""
    email: str = ""
    card_code: str = ""
    birthday: date | None = None
    tier: str = ""
    notes: str = ""
    waiver_signed_at: datetime | None = None
    status: MemberStatus = MemberStatus.ACTIVE
    merged_into: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Entitlement:
    """A member's right to attend: its balance is derived from the ledger and kept here."""

    id: str
    member_id: str
    kind: EntitlementKind
    name: str
    valid_from: date
    valid_until: date | None  # inclusive local date; None: no end
    credits_total: int = 0
    balance: int = 0  # credits left (pack, drop-in) or cents left (stored value)
    class_type_ids: tuple[str, ...] = ()
    max_per_day: int = 0
    plan_id: str | None = None
    sale_id: str | None = None
    paid: bool = True
    frozen_from: date | None = None
    frozen_until: date | None = None
    status: EntitlementStatus = EntitlementStatus.ACTIVE


@dataclass(frozen=True)
class LedgerEntry:
    """One append-only movement of an entitlement's credits or stored value."""

    id: str
    entitlement_id: str
    member_id: str
    delta: int
    reason: str  # "grant", "book", "refund_credit", "penalty", "top_up", "refund", ...
    command_id: str
    at: datetime
    booking_id: str | None = None


@dataclass(frozen=True)
class Session:
    """A scheduled class; times are UTC, shown in the location's time zone."""

    id: str
    location_id: str
    class_type_id: str
    class_name: str
    start: datetime
    end: datetime
    capacity: int
    coach_id: str | None = None
    coach_name: str = ""
    room_id: str | None = None
    room_name: str = ""
    waitlist_size: int = 10
    price_cents: int = 0  # drop-in / stored-value price; 0: the tenant's drop-in price
    status: SessionStatus = SessionStatus.SCHEDULED


@dataclass(frozen=True)
class Booking:
    id: str
    session_id: str
    member_id: str
    status: BookingStatus
    created_at: datetime
    entitlement_id: str | None = None
    charged: int = 0  # credits or cents taken from the entitlement for this booking
    waitlist_position: int | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    over_capacity: bool = False  # kept by override or by policy for people in the room
    unpaid: bool = False  # attended with no valid entitlement: staff must resolve
    penalty_waived: bool = False
    fee_sale_id: str | None = None
    walk_in: bool = False


@dataclass(frozen=True)
class Sale:
    id: str
    member_id: str
    location_id: str
    description: str
    amount_cents: int
    method: PaymentMethod
    paid: bool
    at: datetime
    staff_id: str
    plan_id: str | None = None
    entitlement_id: str | None = None
    refunded_cents: int = 0
    kind: str = "pass"  # "pass", "drop_in", "top_up", "fee"
    void: bool = False


@dataclass(frozen=True)
class ScanRecord:
    """Every scan, refusals included, so a refused member becomes a follow-up."""

    id: str
    location_id: str
    at: datetime
    staff_id: str
    code: str
    member_id: str | None
    accepted: bool
    reason: str = ""
    session_id: str | None = None


@dataclass(frozen=True)
class Feedback:
    id: str
    member_id: str
    session_id: str | None
    rating: int
    comment: str
    at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """An override or money-relevant action, with who did it and why."""

    id: str
    action: str
    staff_id: str
    at: datetime
    command_id: str
    reason: str = ""
    subject_id: str | None = None
    detail: str = ""


Entity = (
    Tenant
    | Location
    | Room
    | ClassType
    | StaffMember
    | Plan
    | Member
    | Entitlement
    | LedgerEntry
    | Session
    | Booking
    | Sale
    | ScanRecord
    | Feedback
    | AuditEntry
)

#: Entity kinds by their wire name, used by storage and the change feed.
KINDS: dict[str, type] = {
    "tenant": Tenant,
    "location": Location,
    "room": Room,
    "class_type": ClassType,
    "staff": StaffMember,
    "plan": Plan,
    "member": Member,
    "entitlement": Entitlement,
    "ledger": LedgerEntry,
    "session": Session,
    "booking": Booking,
    "sale": Sale,
    "scan": ScanRecord,
    "feedback": Feedback,
    "audit": AuditEntry,
}
E = TypeVar("E")

KIND_OF: dict[type, str] = {cls: name for name, cls in KINDS.items()}


def kind_of(entity: object) -> str:
    return KIND_OF[type(entity)]


def evolve(entity: E, **changes: object) -> E:
    """A copy of a frozen entity with some fields changed."""
    return dataclasses.replace(entity, **changes)  # type: ignore[type-var]
