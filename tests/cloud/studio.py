"""A small studio in a cloud database, and desks that talk to the API, for cloud tests."""

from __future__ import annotations

import contextlib
import functools
import itertools
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from frontdesk.domain.clock import local_date
from frontdesk.domain.codec import encode
from frontdesk.domain.model import (
    ClassType,
    Entitlement,
    EntitlementKind,
    Location,
    Member,
    Plan,
    Policy,
    Role,
    Session,
    StaffMember,
)
from frontdesk.protocol import schedule_partition
from frontdesk_cloud.admin import create_tenant
from frontdesk_cloud.api import create_app
from frontdesk_cloud.auth import hash_secret
from frontdesk_cloud.db import Database
from frontdesk_cloud.settings import Settings
from frontdesk_cloud.store import TenantStore

T = TypeVar("T")


@dataclass
class Backend:
    """A migrated database: `owner_url` migrates, `url` is what the service connects as."""

    name: str
    owner_url: str
    url: str
    db: Database

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"


PASSWORD = "correct-horse-battery"
SIGNING_KEY = "test-signing-key-of-at-least-32-bytes"
_names = itertools.count(1)


@functools.cache
def password_hash() -> str:
    """One argon2 hash for every test account: hashing is slow on purpose."""
    return hash_secret(PASSWORD)


def new_id() -> str:
    return str(uuid.uuid4())


class Clock:
    """The service's clock in tests: real time unless a test moves it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


@dataclass
class CloudStudio:
    """A tenant with two locations, staff of every role (at Main) and plans."""

    backend: Backend
    slug: str
    tenant_id: str
    main: Location
    other: Location
    class_type: ClassType
    staff: dict[Role, StaffMember]
    usernames: dict[Role, str]
    pack: Plan
    policy: Policy = field(default_factory=Policy)

    @classmethod
    def build(cls, backend: Backend, policy: Policy | None = None) -> CloudStudio:
        number = next(_names)
        slug = f"studio-{number}-{uuid.uuid4().hex[:6]}"
        policy = policy or Policy()
        tenant_id = create_tenant(backend.db, slug, f"Studio {number}", datetime.now(UTC),
                                  policy=policy)
        main = Location(new_id(), "Main", "Asia/Shanghai")
        other = Location(new_id(), "Uptown", "America/New_York")
        class_type = ClassType(new_id(), "Yoga")
        staff = {role: StaffMember(new_id(), f"{role.value} {number}", role, (main.id,))
                 for role in Role}
        pack = Plan(new_id(), "10 classes", EntitlementKind.PACK, 80000, 10, 90)
        studio = cls(backend, slug, tenant_id, main, other, class_type, staff,
                     {role: f"{role.value}-{number}" for role in Role}, pack, policy)
        with studio.store() as store:
            store.write([main, other, class_type, pack, *staff.values()])
            for role, member in staff.items():
                store.set_credentials(member.id, studio.usernames[role], password_hash())
        return studio

    @contextlib.contextmanager
    def store(self) -> Iterator[TenantStore]:
        with self.backend.db.transaction(self.tenant_id, write=True) as conn:
            yield TenantStore(conn, self.tenant_id)

    def write(self, *entities: object) -> None:
        with self.store() as store:
            store.write(list(entities))

    def get(self, cls: type[T], entity_id: str) -> T | None:
        with self.store() as store:
            return store.get(cls, entity_id)

    def find(self, cls: type[T], field_name: str, value: str) -> list[T]:
        with self.store() as store:
            return store.find(cls, field_name, value)

    def session(self, start: datetime | None = None, capacity: int = 10,
                location: Location | None = None, waitlist: int = 5) -> Session:
        start = start or datetime.now(UTC) + timedelta(hours=3)
        made = Session(new_id(), (location or self.main).id, self.class_type.id, "Yoga",
                       start, start + timedelta(hours=1), capacity,
                       coach_id=self.staff[Role.COACH].id, waitlist_size=waitlist)
        self.write(made)
        return made

    def member(self, name: str | None = None, credits: int = 10, **fields: Any
               ) -> tuple[Member, Entitlement]:
        fields.setdefault("waiver_signed_at", datetime.now(UTC))
        member = Member(new_id(), name or f"Member {next(_names)}", **fields)
        ent = Entitlement(new_id(), member.id, EntitlementKind.PACK, "10 classes",
                          date(2020, 1, 1), None, credits, credits)
        self.write(member, ent)
        return member, ent

    def partition(self, session: Session) -> str:
        location = self.main if session.location_id == self.main.id else self.other
        return schedule_partition(location.id, local_date(session.start, location.timezone))


def settings_for(backend: Backend, clock: Clock, **overrides: Any) -> Settings:
    return Settings(database_url=backend.url, secret_key=SIGNING_KEY, clock=clock,
                    live_poll_seconds=0.05, **overrides)


def app_for(backend: Backend, clock: Clock, **overrides: Any) -> FastAPI:
    return create_app(settings_for(backend, clock, **overrides), db=backend.db)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Desk:
    """A registered desk: its client, tokens and gapless sequence."""

    client: Any  # TestClient or httpx.Client
    studio: CloudStudio
    device_id: str
    client_id: str
    location_id: str
    access_token: str
    refresh_token: str
    staff_id: str
    seq: int = 0

    @classmethod
    def register(cls, client: Any, studio: CloudStudio, role: Role = Role.FRONT_DESK,
                 location: Location | None = None) -> Desk:
        pair = login(client, studio, role)
        location_id = (location or studio.main).id
        answer = client.post("/v1/devices", json={"name": f"Desk {next(_names)}",
                                                   "location_id": location_id},
                             headers=bearer(pair["access_token"]))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return cls(client, studio, body["device_id"], body["client_id"], location_id,
                   body["access_token"], body["refresh_token"], pair["staff_id"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)

    def command(self, name: str, /, *, role: Role | None = None, version: int = 1,
                happened_at: datetime | None = None, offset: float | None = None,
                **args: Any) -> dict[str, Any]:
        """An envelope with the next sequence number."""
        self.seq += 1
        staff_id = self.studio.staff[role].id if role is not None else self.staff_id
        return {
            "command_id": new_id(),
            "seq": self.seq,
            "name": name,
            "version": version,
            "args": encode(args),
            "staff_id": staff_id,
            "location_id": self.location_id,
            "happened_at": encode(happened_at or datetime.now(UTC)),
            "clock_offset_s": offset,
        }

    def push(self, *commands: dict[str, Any]) -> httpx.Response:
        response: httpx.Response = self.client.post(
            "/v1/sync/push", json={"client_id": self.client_id, "commands": list(commands)},
            headers=self.headers,
        )
        return response

    def run(self, name: str, /, **args: Any) -> dict[str, Any]:
        """Push one command and return its outcome."""
        answer = self.push(self.command(name, **args))
        assert answer.status_code == 200, answer.text
        outcome: dict[str, Any] = answer.json()["outcomes"][0]
        return outcome

    def pull(self, *partitions: tuple[str, str | None], limit: int = 2000) -> httpx.Response:
        response: httpx.Response = self.client.post(
            "/v1/sync/pull",
            json={"partitions": [{"name": n, "cursor": c} for n, c in partitions],
                  "limit": limit},
            headers=self.headers,
        )
        return response


def login(client: Any, studio: CloudStudio, role: Role) -> dict[str, Any]:
    answer = client.post("/v1/auth/login", json={"tenant": studio.slug,
                                                  "username": studio.usernames[role],
                                                  "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app on a real uvicorn server on loopback; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # readiness poll: uvicorn offers no event to wait on
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
