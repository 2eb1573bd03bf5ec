"""A studio with named coaches, rooms and class types, and a manager's desk replica."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.domain.model import ClassType, Location, Role, Room, StaffMember
from frontdesk.local_db import Replica
from tests.replica_fixture import load_replica
from tests.studio import Studio, new_id

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MEMBERS = FIXTURES / "members"
SCHEDULES = FIXTURES / "schedules"


class ImportStudio(Studio):
    """Studio() plus what a schedule import matches against: coaches, rooms, class types."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.pilates = ClassType(new_id(), "Pilates")
        self.coach = StaffMember(new_id(), "李娜", Role.COACH, (self.location.id,))
        self.room_a = Room(new_id(), self.location.id, "Studio A", 18)
        self.room_b = Room(new_id(), self.location.id, "Studio B", 12)
        self.branch = Location(new_id(), "Riverside", "Asia/Shanghai")
        self.branch_room = Room(new_id(), self.branch.id, "Loft", 30)
        self.state.apply([self.pilates, self.coach, self.room_a, self.room_b, self.branch,
                          self.branch_room])


@pytest.fixture
def studio() -> ImportStudio:
    return ImportStudio()


@pytest.fixture
def manager(studio: ImportStudio) -> str:
    return studio.staff[Role.MANAGER].id


@pytest.fixture
def replica(tmp_path: Path, studio: ImportStudio) -> Iterator[Replica]:
    replica = load_replica(tmp_path / "replica.db", studio, role=Role.MANAGER)
    yield replica
    replica.close()


def outbox(replica: Replica) -> list[tuple[int, str]]:
    """(seq, command name) of every queued command."""
    with replica.read() as conn:
        return [(r[0], r[1]) for r in conn.exec_driver_sql(
            "SELECT seq, name FROM outbox ORDER BY seq")]
