from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from frontdesk.domain.model import Role
from frontdesk.local_db import Desk, Replica
from tests.replica_fixture import load_replica
from tests.studio import Studio


@pytest.fixture
def studio() -> Studio:
    return Studio()


@pytest.fixture
def replica(tmp_path: Path, studio: Studio) -> Iterator[Replica]:
    replica = load_replica(tmp_path / "replica.db", studio)
    yield replica
    replica.close()


@pytest.fixture
def desk(replica: Replica) -> Desk:
    return Desk(replica)


@pytest.fixture
def clerk(studio: Studio) -> str:
    return studio.staff[Role.FRONT_DESK].id


def soon(studio: Studio, minutes: int = 30):  # type: ignore[no-untyped-def]
    return studio.now + timedelta(minutes=minutes)
