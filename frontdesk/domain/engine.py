"""Runs one command against state: permissions, version window, rules, and its changes.

The desk and the cloud both call `execute`, so their answers agree whenever they see the
same state. Ids of things a command creates derive from the command's own id, so the
desk's optimistic effects and the cloud's authoritative ones name the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from .clock import local_date
from .codec import DecodeError, decode
from .model import (
    AuditEntry,
    Booking,
    Entitlement,
    LedgerEntry,
    Location,
    Member,
    MemberStatus,
    Policy,
    Role,
    Session,
    StaffMember,
    evolve,
)
from .outcome import Notice, Outcome, Refused, Status
from .state import Overlay, StateReader

T = TypeVar("T")

_ID_NAMESPACE = uuid.UUID("6f1c1a52-9d0e-4c51-8d57-2f7e3b0c4a11")

MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
DESK_STAFF = MANAGERS | {Role.FRONT_DESK}
ATTENDANCE = DESK_STAFF | {Role.COACH}
EVERYONE = ATTENDANCE | {Role.KIOSK}


@dataclass(frozen=True)
class Context:
    """Who acts, where, and at what business time. Time is passed in, never read."""

    now: datetime
    actor: StaffMember
    location_id: str
    policy: Policy
    # True when the cloud re-runs a command the desk already confirmed to people in the
    # room: space and pass problems of check-ins then become warnings (principle 4).
    replay: bool = False


class Command(Protocol):
    NAME: ClassVar[str]
    ROLES: ClassVar[frozenset[Role]]

    def run(self, uow: UnitOfWork) -> None: ...


@dataclass(frozen=True)
class CommandSpec:
    name: str
    cls: type
    versions: tuple[int, int]  # the accepted window, inclusive
    roles: frozenset[Role]
    upgrade: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None

    @property
    def current(self) -> int:
        return self.versions[1]


REGISTRY: dict[str, CommandSpec] = {}


def command(
    name: str,
    roles: frozenset[Role],
    versions: tuple[int, int] = (1, 1),
    upgrade: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[type[T]], type[T]]:
    """Register a command class under its wire name, with the roles that may run it."""

    def register(cls: type[T]) -> type[T]:
        cls.NAME = name  # type: ignore[attr-defined]
        cls.ROLES = roles  # type: ignore[attr-defined]
        REGISTRY[name] = CommandSpec(name, cls, versions, roles, upgrade)
        return cls

    return register


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    changes: list[object] = field(default_factory=list)


class UnitOfWork:
    """One command's view of state, its collected changes, warnings and data."""

    def __init__(self, command_id: str, ctx: Context, reader: StateReader) -> None:
        self.command_id = command_id
        self.ctx = ctx
        self.state = Overlay(reader)
        self.warnings: list[Notice] = []
        self.data: dict[str, str] = {}
        self.subject_id: str | None = None
        self._minted: set[str] = set()

    # -- reading ------------------------------------------------------------------
    @property
    def policy(self) -> Policy:
        return self.ctx.policy

    @property
    def now(self) -> datetime:
        return self.ctx.now

    def require(self, cls: type[T], entity_id: str, what: str) -> T:
        found = self.state.get(cls, entity_id)
        if found is None:
            raise Refused(f"unknown_{what}", f"No {what.replace('_', ' ')} with id {entity_id}.")
        return found

    def member(self, member_id: str) -> Member:
        member = self.require(Member, member_id, "member")
        if member.status is MemberStatus.MERGED and member.merged_into:
            return self.member(member.merged_into)
        if member.status is not MemberStatus.ACTIVE:
            raise Refused("member_inactive", f"{member.name} is {member.status.value}.")
        return member

    def session(self, session_id: str) -> Session:
        session = self.require(Session, session_id, "session")
        self.check_location(session.location_id)
        return session

    def timezone_of(self, location_id: str) -> str:
        return self.require(Location, location_id, "location").timezone

    def day_of(self, session: Session) -> date:
        return local_date(session.start, self.timezone_of(session.location_id))

    def today(self) -> date:
        return local_date(self.now, self.timezone_of(self.ctx.location_id))

    def check_location(self, location_id: str) -> None:
        allowed = self.ctx.actor.location_ids
        if allowed and location_id not in allowed:
            raise Refused("wrong_location", "This staff member does not work at that location.")

    def require_role(self, roles: frozenset[Role], what: str) -> None:
        if self.ctx.actor.role not in roles:
            raise Refused(
                "not_allowed",
                f"A {self.ctx.actor.role.value.replace('_', ' ')} may not {what}.",
                "Ask a manager.",
            )

    # -- writing ------------------------------------------------------------------
    def _id_for(self, purpose: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.command_id}:{purpose}"))

    def applied_before(self, cls: type, purpose: str) -> bool:
        """Whether state already holds what this command minted for `purpose`.

        True when the command is re-run on top of its own effects (its answer was lost,
        the desk pulled the effects and rebased the still-pending command on them).
        Effects that add to a total must then not be added again.
        """
        return self.state.get(cls, self._id_for(purpose)) is not None

    def mint(self, purpose: str) -> str:
        """A new id, the same on every run of this command."""
        minted = self._id_for(purpose)
        if minted in self._minted:
            raise AssertionError(f"id purpose {purpose!r} used twice in one command")
        self._minted.add(minted)
        return minted

    def put(self, entity: object) -> None:
        self.state.put(entity)

    def warn(self, code: str, message: str, fix: str = "") -> None:
        self.warnings.append(Notice(code, message, fix))

    def audit(
        self, action: str, subject_id: str | None, reason: str = "", detail: str = ""
    ) -> None:
        self.put(
            AuditEntry(
                id=self.mint(f"audit:{action}:{subject_id}"),
                action=action,
                staff_id=self.ctx.actor.id,
                at=self.now,
                command_id=self.command_id,
                reason=reason,
                subject_id=subject_id,
                detail=detail,
            )
        )

    def move_credit(
        self, entitlement: Entitlement, delta: int, reason: str, booking: Booking | None = None
    ) -> Entitlement:
        """Append a ledger entry and keep the entitlement's balance equal to the ledger."""
        current = self.state.get(Entitlement, entitlement.id) or entitlement
        tag = f"ledger:{reason}:{current.id}:{booking.id if booking else ''}"
        if self.applied_before(LedgerEntry, tag):
            return current  # this very movement is already in the ledger and the balance
        entry = LedgerEntry(
            id=self.mint(tag),
            entitlement_id=current.id,
            member_id=current.member_id,
            delta=delta,
            reason=reason,
            command_id=self.command_id,
            at=self.now,
            booking_id=booking.id if booking else None,
        )
        updated = evolve(current, balance=current.balance + delta)
        self.put(entry)
        self.put(updated)
        return updated


def execute(
    name: str,
    version: int,
    args: dict[str, Any],
    command_id: str,
    ctx: Context,
    reader: StateReader,
) -> Result:
    """Validate and run one command; a refusal or bad arguments give a rejected outcome."""
    spec = REGISTRY.get(name)
    if spec is None:
        return _rejected("unknown_command", f"Unknown command {name!r}.")
    low, high = spec.versions
    if not low <= version <= high:
        return _rejected(
            "unsupported_version",
            f"Version {version} of {name!r} is not supported (accepted: {low} to {high}).",
            "Update FrontDesk on this PC.",
        )
    if spec.upgrade is not None and version < high:
        args = spec.upgrade(version, args)
    try:
        cmd: Any = decode(spec.cls, args, name)
    except DecodeError as exc:
        return _rejected("invalid_arguments", str(exc))
    return run(cmd, command_id, ctx, reader)


def run(cmd: Any, command_id: str, ctx: Context, reader: StateReader) -> Result:
    """Run an already-decoded command."""
    uow = UnitOfWork(command_id, ctx, reader)
    try:
        if not ctx.actor.active:
            raise Refused("staff_inactive", "This staff account is no longer active.")
        uow.require_role(cmd.ROLES, f"run {cmd.NAME.replace('_', ' ')}")
        cmd.run(uow)
    except Refused as refusal:
        return _rejected(refusal.code, refusal.message, refusal.fix)
    status = Status.APPLIED_WITH_WARNING if uow.warnings else Status.APPLIED
    code = uow.data.pop("code", "ok")
    message = uow.data.pop("message", "")
    return Result(
        Outcome(
            status=status,
            code=code,
            message=message,
            warnings=tuple(uow.warnings),
            subject_id=uow.subject_id,
            data=dict(uow.data),
        ),
        uow.state.changes(),
    )


def _rejected(code: str, message: str, fix: str = "") -> Result:
    return Result(Outcome(Status.REJECTED, code=code, message=message, fix=fix))
