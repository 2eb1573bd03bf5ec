"""A desk replica filled from an in-memory studio, as if pulled from the cloud."""

from __future__ import annotations

import json
from pathlib import Path

from frontdesk.domain.codec import encode
from frontdesk.domain.model import KIND_OF, Location, Role, Session
from frontdesk.local_db import Replica
from frontdesk.protocol import Change, PullPage, partition_for

from .studio import Studio


def load_replica(path: Path, studio: Studio, role: Role = Role.FRONT_DESK) -> Replica:
    """A signed-in desk at the studio's location holding everything the studio has."""
    replica = Replica(path)
    staff = studio.staff[role]
    replica.set_meta_values(
        {
            "location_id": studio.location.id,
            "staff_id": staff.id,
            "staff": json.dumps(encode(staff)),
            "client_id": "test-client",
            "tenant_id": "",
        }
    )
    push_server_state(replica, studio)
    return replica


def push_server_state(replica: Replica, studio: Studio, position: int = 1) -> None:
    """Deliver the studio's whole state as pulled pages (one per partition)."""

    def tz(location_id: str) -> str:
        location = studio.state.get(Location, location_id)
        assert location is not None
        return location.timezone

    def session_of(session_id: str) -> Session | None:
        return studio.state.get(Session, session_id)

    pages: dict[str, list[Change]] = {}
    for cls in list(studio.state.rows):
        for entity in studio.state.all(cls):
            part = partition_for(entity, tz, session_of)
            if part is None:
                continue
            pages.setdefault(part, []).append(
                Change(KIND_OF[cls], entity.id, encode(entity), position)
            )
    for part, changes in sorted(pages.items()):
        replica.apply_page(PullPage(part, tuple(changes), f"v1:0:{position}", False), position)
