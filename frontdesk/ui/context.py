"""What every screen is given: the desk's services and who is acting, from app.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from frontdesk.domain.engine import MANAGERS, REGISTRY
from frontdesk.domain.model import Role, StaffMember
from frontdesk.local_db import Desk, Recorded, Replica
from frontdesk.local_db.catalogue import Catalogue

from . import settings as settings_file
from .bridge import SyncBridge, TaskSet
from .pins import PinGate
from .settings import DeskSettings


@dataclass(frozen=True)
class Changed:
    """What a local action or a pull touched, so views refresh only that."""

    sessions: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    partitions: frozenset[str] = frozenset()
    everything: bool = False

    def touches_member(self, member_id: str | None) -> bool:
        return bool(
            member_id
            and (self.everything or member_id in self.members or "members" in self.partitions)
        )

    def touches_day(self, partition: str) -> bool:
        return self.everything or bool(self.sessions) or partition in self.partitions


class DeskEvents(QObject):
    """Signals between screens: who acts, what changed, which member to show."""

    staff_changed = Signal(object)  # StaffMember | None (None: locked)
    changed = Signal(object)  # Changed
    show_member = Signal(str)  # member id
    show_session = Signal(str)  # session id
    refocus = Signal()  # put the cursor back in the check-in bar
    open_attention = Signal()


@dataclass
class DeskContext:
    data_dir: Path
    replica: Replica
    desk: Desk
    catalogue: Catalogue
    bridge: SyncBridge
    settings: DeskSettings
    pins: PinGate
    now: Callable[[], datetime]
    tasks: TaskSet = field(default_factory=TaskSet)
    events: DeskEvents = field(default_factory=DeskEvents)
    staff: StaffMember | None = None
    offline_switch: bool = False

    # -- who acts -----------------------------------------------------------------------
    def unlock(self, staff: StaffMember | None) -> None:
        self.staff = staff
        self.events.staff_changed.emit(staff)

    @property
    def role(self) -> Role | None:
        return self.staff.role if self.staff else None

    def may(self, command: str) -> bool:
        """Whether the acting staff member's role may run a command (the domain's table)."""
        spec = REGISTRY.get(command)
        return bool(self.staff and spec and self.staff.role in spec.roles)

    @property
    def is_manager(self) -> bool:
        return bool(self.staff and self.staff.role in MANAGERS)

    # -- acting -------------------------------------------------------------------------
    def act(
        self,
        command: str,
        /,
        *,
        sessions: tuple[str, ...] = (),
        members: tuple[str, ...] = (),
        **args: Any,
    ) -> Recorded:
        """Record a staff action as the unlocked staff member, then say what changed."""
        if self.staff is None:
            raise PermissionError("the desk is locked")
        recorded = self.replica.record(command, args, staff_id=self.staff.id, now=self.now())
        self.announce(recorded, sessions, members)
        return recorded

    def announce(
        self, recorded: Recorded | None, sessions: tuple[str, ...], members: tuple[str, ...]
    ) -> None:
        if recorded is None or recorded.seq is not None:
            self.events.changed.emit(Changed(frozenset(sessions), frozenset(members)))

    # -- time and place ------------------------------------------------------------------
    def today(self) -> date:
        return self.catalogue.local_day(self.desk.business_now(self.now()))

    @property
    def timezone(self) -> str:
        return self.catalogue.timezone()

    def save_settings(self, new: DeskSettings) -> None:
        self.settings = new
        settings_file.save(self.data_dir / "settings.json", new)
