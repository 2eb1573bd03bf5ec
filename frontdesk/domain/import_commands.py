"""Imports as commands: one chunk of already-checked rows, applied all or nothing.

The desk plans an import file into chunks (see `frontdesk.domain.imports`) and records
one command per chunk, so an import works offline and the cloud re-runs it with the
same rules. Ids come from the desk (derived from the file's content, so re-running an
import names the same rows); a row whose id already exists was imported before and is
left alone. Any other row that fails refuses the whole chunk with the row's number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from .commands import _clean_name
from .engine import MANAGERS, UnitOfWork, command
from .model import (
    ClassType,
    Entitlement,
    EntitlementKind,
    Location,
    Member,
    MemberStatus,
    Plan,
    Room,
    Session,
    StaffMember,
)
from .outcome import Refused

#: Rows in one import command: each chunk goes in whole or not at all.
CHUNK_ROWS = 500

IMPORTED_KINDS = (EntitlementKind.PACK, EntitlementKind.MEMBERSHIP, EntitlementKind.DROP_IN)


@dataclass(frozen=True)
class ImportedPass:
    """A member's current pass as the old system had it."""

    entitlement_id: str
    name: str
    kind: EntitlementKind
    valid_until: date | None = None  # inclusive; None: no end
    sessions_left: int = 0  # packs and drop-ins
    plan_id: str | None = None  # the studio's plan of that name, when there is one


@dataclass(frozen=True)
class ImportedMember:
    row: int  # the data row of the file, from 1
    member_id: str
    name: str
    phone: str = ""
    email: str = ""
    card_code: str = ""
    birthday: date | None = None
    notes: str = ""
    tier: str = ""
    current_pass: ImportedPass | None = None


@dataclass(frozen=True)
class ImportedSession:
    row: int  # the occurrence's number in the report, from 1
    session_id: str
    class_type_id: str
    class_name: str
    start: datetime
    end: datetime
    capacity: int
    coach_id: str | None = None
    room_id: str | None = None


def _row_refusal(row: int, refusal: Refused) -> Refused:
    return Refused(refusal.code, f"Row {row}: {refusal.message}", refusal.fix)


def _outcomes(uow: UnitOfWork, outcomes: list[dict[str, object]]) -> int:
    """Per-row outcomes in the outcome's data; returns how many rows were created."""
    created = sum(1 for o in outcomes if o["outcome"] == "created")
    uow.data["rows"] = json.dumps(outcomes, ensure_ascii=False)
    uow.data["created"] = str(created)
    uow.data["existing"] = str(len(outcomes) - created)
    return created


@command("import_members", MANAGERS)
@dataclass(frozen=True)
class ImportMembers:
    """New members (and their current passes) from one chunk of an import file."""

    members: tuple[ImportedMember, ...]
    source: str = ""  # the file's name, for the audit trail

    def run(self, uow: UnitOfWork) -> None:
        if not self.members:
            raise Refused("invalid_value", "An import needs at least one row.")
        outcomes: list[dict[str, object]] = []
        for row in self.members:
            try:
                outcome = self._one(uow, row)
            except Refused as refusal:
                raise _row_refusal(row.row, refusal) from None
            outcomes.append({"row": row.row, "outcome": outcome, "id": row.member_id})
        if _outcomes(uow, outcomes):
            uow.audit(
                "import_members", None, detail=f"{uow.data['created']} members from {self.source}"
            )

    def _one(self, uow: UnitOfWork, row: ImportedMember) -> str:
        if uow.state.get(Member, row.member_id) is not None:
            return "exists"
        name = _clean_name(row.name)
        card = row.card_code.strip()
        if card:
            for other in uow.state.find(Member, "card_code", card):
                if other.status is MemberStatus.ACTIVE:
                    raise Refused(
                        "duplicate_member",
                        f"Card {card} already belongs to {other.name}.",
                        "Remove that row or give it another card code, then import again.",
                    )
        uow.put(
            Member(
                id=row.member_id,
                name=name,
                phone=row.phone.strip(),
                email=row.email.strip(),
                card_code=card,
                birthday=row.birthday,
                notes=row.notes.strip(),
                tier=row.tier.strip(),
                created_at=uow.now,
            )
        )
        if row.current_pass is not None:
            self._pass(uow, row.member_id, row.current_pass)
        return "created"

    @staticmethod
    def _pass(uow: UnitOfWork, member_id: str, imported: ImportedPass) -> None:
        if uow.state.get(Entitlement, imported.entitlement_id) is not None:
            raise Refused("invalid_value", "That pass was already imported for another member.")
        if imported.kind not in IMPORTED_KINDS:
            raise Refused("invalid_value", f"A {imported.kind.value} pass cannot be imported.")
        if imported.sessions_left < 0:
            raise Refused("invalid_value", "Sessions left cannot be negative.")
        plan = None
        if imported.plan_id is not None:
            plan = uow.require(Plan, imported.plan_id, "plan")
        today = uow.today()
        valid_from = min(today, imported.valid_until) if imported.valid_until else today
        credits = 0 if imported.kind is EntitlementKind.MEMBERSHIP else imported.sessions_left
        ent = Entitlement(
            id=imported.entitlement_id,
            member_id=member_id,
            kind=imported.kind,
            name=imported.name.strip() or (plan.name if plan else imported.kind.value),
            valid_from=valid_from,
            valid_until=imported.valid_until,
            credits_total=credits,
            class_type_ids=plan.class_type_ids if plan else (),
            max_per_day=plan.max_per_day if plan else 0,
            plan_id=plan.id if plan else None,
        )
        uow.put(ent)
        if credits:
            uow.move_credit(ent, credits, "import")


@command("import_schedule", MANAGERS)
@dataclass(frozen=True)
class ImportSchedule:
    """Sessions of one location, one per occurrence, from one chunk of a calendar file."""

    location_id: str
    sessions: tuple[ImportedSession, ...]
    source: str = ""

    def run(self, uow: UnitOfWork) -> None:
        if not self.sessions:
            raise Refused("invalid_value", "An import needs at least one row.")
        uow.check_location(self.location_id)
        uow.require(Location, self.location_id, "location")
        outcomes: list[dict[str, object]] = []
        for row in self.sessions:
            try:
                outcome = self._one(uow, row)
            except Refused as refusal:
                raise _row_refusal(row.row, refusal) from None
            outcomes.append({"row": row.row, "outcome": outcome, "id": row.session_id})
        if _outcomes(uow, outcomes):
            uow.audit(
                "import_schedule",
                self.location_id,
                detail=f"{uow.data['created']} sessions from {self.source}",
            )

    def _one(self, uow: UnitOfWork, row: ImportedSession) -> str:
        if uow.state.get(Session, row.session_id) is not None:
            return "exists"
        class_type = uow.require(ClassType, row.class_type_id, "class_type")
        coach = uow.require(StaffMember, row.coach_id, "coach") if row.coach_id else None
        room = uow.require(Room, row.room_id, "room") if row.room_id else None
        if room is not None and room.location_id != self.location_id:
            raise Refused("invalid_value", f"Room {room.name} is at another location.")
        if row.end <= row.start:
            raise Refused("invalid_value", "A class must end after it starts.")
        if row.capacity < 0:
            raise Refused("invalid_value", "Capacity cannot be negative.")
        uow.put(
            Session(
                id=row.session_id,
                location_id=self.location_id,
                class_type_id=class_type.id,
                class_name=" ".join(row.class_name.split()) or class_type.name,
                start=row.start,
                end=row.end,
                capacity=row.capacity,
                coach_id=coach.id if coach else None,
                coach_name=coach.name if coach else "",
                room_id=room.id if room else None,
                room_name=room.name if room else "",
            )
        )
        return "created"
