"""A small studio in memory, for tests of the rules: build it, then run commands on it."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from frontdesk.domain import Context, Result, execute
from frontdesk.domain.codec import encode
from frontdesk.domain.model import (
    AuditEntry,
    Booking,
    ClassType,
    Entitlement,
    EntitlementKind,
    LedgerEntry,
    Location,
    Member,
    Plan,
    Policy,
    Role,
    Sale,
    Session,
    StaffMember,
)
from frontdesk.domain.state import MemoryState

_NAMESPACE = uuid.UUID("0b5e3f0e-6d0a-4f57-9a52-0c1f6c3f9d21")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Studio:
    """A location, staff of every role, a class type, plans; commands applied to `state`."""

    tz: str = "Asia/Shanghai"
    policy: Policy = field(default_factory=Policy)
    now: datetime = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    state: MemoryState = field(default_factory=MemoryState)
    #: Balances seeded by `entitlement()` without a grant in the ledger, by entitlement id.
    opening: dict[str, int] = field(default_factory=dict)
    #: Ids are minted from this seed and a counter: give one to rebuild a scenario with
    #: the same ids (and id order), as Hypothesis needs to replay and shrink.
    seed: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self.location = Location(self.new_id(), "Main", self.tz)
        self.class_type = ClassType(self.new_id(), "Yoga")
        self.staff = {
            role: StaffMember(self.new_id(), f"{role.value} person", role, (self.location.id,))
            for role in Role
        }
        self.pack = Plan(self.new_id(), "10 classes", EntitlementKind.PACK, 80000, 10, 90)
        self.drop_in = Plan(self.new_id(), "Drop-in", EntitlementKind.DROP_IN, 10000, 1, 1)
        self.monthly = Plan(self.new_id(), "Monthly", EntitlementKind.MEMBERSHIP, 50000, 0, 30)
        self.state.apply(
            [self.location, self.class_type, *self.staff.values(), self.pack, self.drop_in,
             self.monthly]
        )

    def new_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.seed}:{next(self._ids)}"))

    def ctx(self, role: Role = Role.FRONT_DESK, *, replay: bool = False,
            now: datetime | None = None) -> Context:
        return Context(now or self.now, self.staff[role], self.location.id, self.policy, replay)

    def run(self, command: str, role: Role = Role.FRONT_DESK, /, *, replay: bool = False,
            now: datetime | None = None, command_id: str | None = None, **args: Any) -> Result:
        """Run a command as it would arrive over the wire, and store its changes.

        `command` and `role` are positional-only, so `name=` can be a command argument.
        """
        ctx = self.ctx(role, replay=replay, now=now)
        result = execute(command, 1, encode(args), command_id or self.new_id(), ctx, self.state)
        self.state.apply(result.changes)
        return result

    def session(self, start: datetime | None = None, capacity: int = 10, minutes: int = 60,
                waitlist: int = 5, coach: StaffMember | None = None) -> Session:
        start = start or self.now + timedelta(hours=2)
        session = Session(
            id=self.new_id(), location_id=self.location.id, class_type_id=self.class_type.id,
            class_name="Yoga", start=start, end=start + timedelta(minutes=minutes),
            capacity=capacity, waitlist_size=waitlist,
            coach_id=(coach or self.staff[Role.COACH]).id,
        )
        self.state.apply([session])
        return session

    def member(self, name: str | None = None, *, credits: int = 10,
               until: date | None = date(2027, 3, 1), kind: EntitlementKind = EntitlementKind.PACK,
               waiver: bool = True, **fields: Any) -> Member:
        member = Member(
            id=self.new_id(), name=name or f"Member {len(self.state.all(Member)) + 1}",
            waiver_signed_at=self.now if waiver else None, **fields,
        )
        self.state.apply([member])
        if credits or kind is EntitlementKind.MEMBERSHIP:
            self.entitlement(member, credits=credits, until=until, kind=kind)
        return member

    def entitlement(self, member: Member, *, credits: int = 10, until: date | None = None,
                    kind: EntitlementKind = EntitlementKind.PACK,
                    valid_from: date = date(2026, 1, 1), **fields: Any) -> Entitlement:
        ent = Entitlement(
            id=self.new_id(), member_id=member.id, kind=kind, name=kind.value,
            valid_from=valid_from, valid_until=until, credits_total=credits,
            balance=credits, **fields,
        )
        self.state.apply([ent])
        self.opening[ent.id] = credits
        return ent

    def get(self, cls: type, entity_id: str | None) -> Any:
        return None if entity_id is None else self.state.get(cls, entity_id)

    # -- reading back, for assertions ----------------------------------------------------
    def booking(self, booking_id: str | None) -> Booking:
        assert booking_id is not None, "no booking id"
        found = self.state.get(Booking, booking_id)
        assert found is not None, f"no booking {booking_id}"
        return found

    def balance(self, ent: Entitlement | str | None) -> int:
        assert ent is not None, "no entitlement id"
        found = self.state.get(Entitlement, ent if isinstance(ent, str) else ent.id)
        assert found is not None
        return found.balance

    def bookings(self, session: Session) -> list[Booking]:
        return self.state.find(Booking, "session_id", session.id)

    def entitlements(self, member: Member) -> list[Entitlement]:
        return self.state.find(Entitlement, "member_id", member.id)

    def ledger(self, ent: Entitlement | None = None) -> list[LedgerEntry]:
        if ent is None:
            return self.state.all(LedgerEntry)
        return self.state.find(LedgerEntry, "entitlement_id", ent.id)

    def sales(self, member: Member | None = None) -> list[Sale]:
        if member is None:
            return self.state.all(Sale)
        return self.state.find(Sale, "member_id", member.id)

    def audits(self, action: str | None = None) -> list[AuditEntry]:
        return [a for a in self.state.all(AuditEntry) if action is None or a.action == action]

    def ledger_balance(self, ent: Entitlement | str | None) -> int:
        """What the ledger says an entitlement holds: its seeded balance plus every delta."""
        assert ent is not None, "no entitlement id"
        ent_id = ent if isinstance(ent, str) else ent.id
        deltas = self.state.find(LedgerEntry, "entitlement_id", ent_id)
        return self.opening.get(ent_id, 0) + sum(e.delta for e in deltas)
