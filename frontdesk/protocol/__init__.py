"""Message types shared by the desk and the cloud: commands up, outcomes back, pages down.

Every message is a frozen dataclass; `to_json` / `from_json` turn it into plain JSON and
back through the domain codec, refusing bad input with a message that names the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from frontdesk.domain.clock import local_date
from frontdesk.domain.codec import DecodeError, decode, encode
from frontdesk.domain.model import Booking, ScanRecord, Session, kind_of
from frontdesk.domain.outcome import Notice, Outcome, Status

T = TypeVar("T")

PROTOCOL_VERSION = 1
MAX_BATCH = 1000  # commands in one push
MAX_PAGE = 5000  # changes in one pull page

__all__ = [
    "CATALOGUE",
    "MAX_BATCH",
    "MAX_PAGE",
    "MEMBERS",
    "PROTOCOL_VERSION",
    "Change",
    "CommandEnvelope",
    "CommandOutcome",
    "DecodeError",
    "DeviceRegistration",
    "DeviceRequest",
    "LiveAnswer",
    "LoginRequest",
    "PartitionCursor",
    "PullPage",
    "PullRequest",
    "PullResponse",
    "PushRequest",
    "PushResponse",
    "RefreshRequest",
    "TokenPair",
    "from_json",
    "parse_partition",
    "partition_for",
    "schedule_partition",
    "to_json",
    "window_days",
]


def to_json(message: object) -> Any:
    return encode(message)


def from_json(cls: type[T], data: Any) -> T:
    return decode(cls, data)


# --- partitions -------------------------------------------------------------------------

CATALOGUE = "catalogue"  # tenant, locations, rooms, class types, plans, staff
MEMBERS = "members"  # members, entitlements, sales, feedback
_SCHEDULE = re.compile(r"^schedule:([0-9a-fA-F-]{36}):(\d{4}-\d{2}-\d{2})$")

#: Entity kinds that stay in the cloud (the desk derives them but never pulls them).
CLOUD_ONLY_KINDS = frozenset({"ledger", "audit"})
CATALOGUE_KINDS = frozenset({"tenant", "location", "room", "class_type", "staff", "plan"})
MEMBER_KINDS = frozenset({"member", "entitlement", "sale", "feedback"})
SCHEDULE_KINDS = frozenset({"session", "booking", "scan"})


def schedule_partition(location_id: str, day: date) -> str:
    """One location's sessions, bookings and scans for one local day."""
    return f"schedule:{location_id}:{day.isoformat()}"


def parse_partition(name: str) -> tuple[str, str | None, date | None]:
    """("catalogue"|"members"|"schedule", location id, day); ValueError when malformed."""
    if name in (CATALOGUE, MEMBERS):
        return name, None, None
    match = _SCHEDULE.match(name)
    if match is None:
        raise ValueError(f"unknown partition {name!r}")
    try:
        day = date.fromisoformat(match.group(2))
    except ValueError:
        raise ValueError(f"unknown partition {name!r}") from None
    return "schedule", match.group(1).lower(), day


def partition_for(
    entity: object,
    timezone_of: Callable[[str], str],
    session_of: Callable[[str], Session | None],
) -> str | None:
    """The partition an entity belongs to; None for cloud-only kinds (ledger, audit).

    `timezone_of` maps a location id to its IANA zone; `session_of` finds a session
    (a booking lives in its session's partition). Raises LookupError when a booking's
    session is unknown.
    """
    kind = kind_of(entity)
    if kind in CLOUD_ONLY_KINDS:
        return None
    if kind in CATALOGUE_KINDS:
        return CATALOGUE
    if kind in MEMBER_KINDS:
        return MEMBERS
    if isinstance(entity, Booking):
        session = session_of(entity.session_id)
        if session is None:
            raise LookupError(f"booking {entity.id} names unknown session {entity.session_id}")
        entity = session
    if isinstance(entity, Session):
        tz = timezone_of(entity.location_id)
        return schedule_partition(entity.location_id, local_date(entity.start, tz))
    if isinstance(entity, ScanRecord):
        tz = timezone_of(entity.location_id)
        return schedule_partition(entity.location_id, local_date(entity.at, tz))
    raise ValueError(f"no partition for {kind}")


def window_days(today: date, back: int = 7, ahead: int = 14) -> list[date]:
    """The days a desk holds: `back` days before today to `ahead` days after."""
    return [today + timedelta(days=n) for n in range(-back, ahead + 1)]


# --- auth and devices -------------------------------------------------------------------


@dataclass(frozen=True)
class LoginRequest:
    tenant: str
    username: str
    password: str


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    staff_id: str
    role: str
    location_ids: tuple[str, ...]
    tenant_id: str
    server_time: datetime


@dataclass(frozen=True)
class RefreshRequest:
    refresh_token: str


@dataclass(frozen=True)
class DeviceRequest:
    name: str
    location_id: str
    # The desk's durable local id: registering the same desk again (a new sign-in after
    # its token was lost) returns the same device and client id, so its outbox sequence
    # carries on without a gap. A revoked device is not revived.
    desk_id: str | None = None


@dataclass(frozen=True)
class DeviceRegistration:
    device_id: str
    client_id: str  # the durable id that, with the sequence, makes pushes exactly once
    location_id: str
    refresh_token: str  # a device-bound refresh token replaces the login one
    access_token: str
    expires_in: int


# --- push -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandEnvelope:
    command_id: str
    seq: int  # gapless per client, from 1
    name: str
    version: int
    args: dict[str, Any]
    staff_id: str
    location_id: str
    happened_at: datetime  # the desk's clock when staff acted
    clock_offset_s: float | None = None  # cloud time minus desk time, last measured

    def content_hash(self) -> str:
        """What must match when a (client, seq) is seen again."""
        body = {
            "command_id": self.command_id,
            "name": self.name,
            "version": self.version,
            "args": self.args,
            "staff_id": self.staff_id,
            "location_id": self.location_id,
            "happened_at": encode(self.happened_at),
        }
        raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()

    def corrected_time(self) -> datetime:
        """When it happened on the cloud's clock, by the desk's last measured offset."""
        return self.happened_at + timedelta(seconds=self.clock_offset_s or 0.0)


@dataclass(frozen=True)
class PushRequest:
    client_id: str
    commands: tuple[CommandEnvelope, ...]


@dataclass(frozen=True)
class CommandOutcome:
    seq: int
    command_id: str
    status: Status
    code: str = "ok"
    message: str = ""
    fix: str = ""
    warnings: tuple[Notice, ...] = ()
    subject_id: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    feed_position: int = 0  # the change-feed position of this command's effects

    @classmethod
    def of(cls, env: CommandEnvelope, outcome: Outcome, feed_position: int) -> CommandOutcome:
        return cls(
            seq=env.seq,
            command_id=env.command_id,
            status=outcome.status,
            code=outcome.code,
            message=outcome.message,
            fix=outcome.fix,
            warnings=outcome.warnings,
            subject_id=outcome.subject_id,
            data=outcome.data,
            feed_position=feed_position,
        )


@dataclass(frozen=True)
class PushResponse:
    outcomes: tuple[CommandOutcome, ...]
    last_seq: int  # the last sequence the cloud has applied for this client
    server_time: datetime


# --- pull -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionCursor:
    name: str
    cursor: str | None = None  # opaque; None asks for the whole partition


@dataclass(frozen=True)
class PullRequest:
    partitions: tuple[PartitionCursor, ...]
    limit: int = 2000  # changes per page, at most MAX_PAGE


@dataclass(frozen=True)
class Change:
    kind: str
    id: str
    data: dict[str, Any] | None  # None: a tombstone (deleted, or moved out of the partition)
    position: int


@dataclass(frozen=True)
class PullPage:
    partition: str
    changes: tuple[Change, ...]
    cursor: str
    more: bool  # another page is waiting
    reset: bool = False  # the cursor was unknown: drop the partition, this page starts anew


@dataclass(frozen=True)
class PullResponse:
    pages: tuple[PullPage, ...]
    position: int  # the feed position this answer is consistent up to
    server_time: datetime


@dataclass(frozen=True)
class LiveAnswer:
    """A long-poll answer: the feed moved past `position` (or the wait timed out)."""

    position: int
    changed: bool
    server_time: datetime
