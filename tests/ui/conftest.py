"""Fixtures for the window: a studio with branding and PINs, a replica, a fake cloud, a loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import keyring
import pytest
from argon2 import PasswordHasher

from frontdesk.domain.model import (
    AlertCode,
    Branding,
    EntitlementKind,
    Member,
    Penalty,
    Policy,
    Role,
    Session,
    Tenant,
    evolve,
)
from frontdesk.local_db import Replica
from frontdesk.sync import CloudClient
from frontdesk.ui import i18n
from frontdesk.ui.app import build_context, open_window
from frontdesk.ui.context import DeskContext
from frontdesk.ui.main_window import MainWindow
from tests.replica_fixture import load_replica
from tests.studio import Studio, new_id

from .fake_cloud import FakeCloud

# Cheap argon2 parameters keep tests fast; verification reads them from the hash.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PINS = {
    Role.OWNER: "1111",
    Role.MANAGER: "2222",
    Role.FRONT_DESK: "3333",
    Role.COACH: "4444",
    Role.KIOSK: "5555",
}
NAMES = {
    Role.OWNER: "Lin Owner 林",
    Role.MANAGER: "Chen Jing 陈静",
    Role.FRONT_DESK: "Wang Fang 王芳",
    Role.COACH: "Li Na 李娜",
    Role.KIOSK: "Lobby kiosk",
}
PASSWORD = "correct horse"
#: This studio blocks check-in on an unpaid balance or a missing waiver (a manager overrides).
STUDIO_POLICY = Policy(
    late_cancel_penalty=Penalty.FORFEIT_CREDIT,
    blocking_alerts=frozenset(
        {
            AlertCode.NO_VALID_ENTITLEMENT,
            AlertCode.EXPIRED,
            AlertCode.UNPAID,
            AlertCode.WAIVER_MISSING,
        }
    ),
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def qt_loop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """qasync's loop, marked running, so tasks run while qtbot waits on signals."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class DeskWorld:
    """A studio's day at 09:00 in Shanghai, a desk replica of it, and its cloud."""

    studio: Studio
    tenant: Tenant
    clock: Clock
    cloud: FakeCloud
    sessions: dict[str, Session] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)

    def staff_id(self, role: Role) -> str:
        return self.studio.staff[role].id


def make_world(policy: Policy | None = None) -> DeskWorld:
    studio = Studio(policy=policy or STUDIO_POLICY)
    tenant = Tenant(
        id=new_id(),
        slug="lotus",
        name="Lotus Yoga",
        policy=studio.policy,
        branding=Branding(
            display_name="Lotus Yoga 莲花瑜伽", primary_color="#6B3F8C", accent_color="#F2A541"
        ),
    )
    for role, staff in list(studio.staff.items()):
        studio.staff[role] = evolve(staff, name=NAMES[role], pin_hash=FAST_HASHER.hash(PINS[role]))
    studio.state.apply([tenant, *studio.staff.values()])
    now = studio.now  # 2026-12-03 01:00 UTC = 09:00 in Shanghai
    coach = studio.staff[Role.COACH]
    other_coach = evolve(coach, id=new_id(), name="Zhao Lei 赵磊", pin_hash="")
    studio.state.apply([other_coach])
    world = DeskWorld(studio, tenant, Clock(now), FakeCloud(studio, "lotus", tenant.id))
    s = world.sessions
    s["early"] = _session(
        studio,
        now - timedelta(hours=2),
        "Morning Flow 晨间流瑜伽",
        coach.id,
        coach.name,
        "Studio A",
    )
    s["now"] = _session(
        studio,
        now + timedelta(minutes=20),
        "Vinyasa 流瑜伽",
        coach.id,
        coach.name,
        "Studio A",
        capacity=12,
    )
    s["small"] = _session(
        studio,
        now + timedelta(minutes=40),
        "Pilates Reformer 普拉提",
        other_coach.id,
        other_coach.name,
        "Studio B",
        capacity=2,
    )
    s["noon"] = _session(
        studio,
        now + timedelta(hours=3),
        "Hatha 哈他瑜伽",
        other_coach.id,
        other_coach.name,
        "Studio A",
        capacity=10,
    )
    s["evening"] = _session(
        studio,
        now + timedelta(hours=10),
        "Yin Yoga 阴瑜伽",
        coach.id,
        coach.name,
        "Studio B",
        capacity=15,
    )
    s["tomorrow"] = _session(
        studio, now + timedelta(days=1), "Vinyasa 流瑜伽", coach.id, coach.name, "Studio A"
    )
    m = world.members
    m["zhang"] = studio.member("张伟", card_code="CARD-1001", phone="13800001001")
    m["li"] = studio.member("李娜娜", card_code="CARD-1002", phone="13800001002")
    m["anna"] = studio.member("Anna Schmidt", card_code="CARD-1003", phone="13800001003")
    m["low"] = studio.member("刘洋", card_code="CARD-1004", credits=1, phone="13800001004")
    m["expired"] = studio.member("Tom Expired", card_code="CARD-1005")
    m["nowaiver"] = studio.member("周杰", card_code="CARD-1006", waiver=False)
    m["guest"] = studio.member("孙丽", card_code="CARD-1007", credits=0)
    m["monthly"] = studio.member(
        "Maria Lopez", card_code="CARD-1008", credits=0, kind=EntitlementKind.MEMBERSHIP
    )
    for key in ("zhang", "li", "anna", "low", "nowaiver", "monthly"):
        studio.run("book", member_id=m[key].id, session_id=s["now"].id, now=now - timedelta(days=1))
    for key in ("zhang", "li"):
        studio.run(
            "book", member_id=m[key].id, session_id=s["small"].id, now=now - timedelta(days=1)
        )
    studio.run(
        "book", member_id=m["anna"].id, session_id=s["small"].id, now=now - timedelta(days=1)
    )  # waitlisted: the class holds two
    for key in ("zhang", "anna"):
        studio.run(
            "book", member_id=m[key].id, session_id=s["early"].id, now=now - timedelta(days=1)
        )
    studio.run(
        "check_in", member_id=m["zhang"].id, session_id=s["early"].id, now=now - timedelta(hours=2)
    )
    for key in ("li", "tomorrow"):
        session = s["evening"] if key == "li" else s["tomorrow"]
        studio.run("book", member_id=m["li"].id, session_id=session.id, now=now - timedelta(days=1))
    # Tom booked while his pass was valid; it ran out three days ago.
    (pass_,) = studio.entitlements(m["expired"])
    studio.state.apply([evolve(pass_, valid_until=now.date() - timedelta(days=3))])
    for key, pw_role in (("frontdesk", Role.FRONT_DESK), ("manager", Role.MANAGER)):
        world.cloud.passwords[key] = (PASSWORD, studio.staff[pw_role].id)
    return world


def _session(
    studio: Studio,
    start: datetime,
    name: str,
    coach_id: str,
    coach_name: str,
    room: str,
    capacity: int = 10,
) -> Session:
    session = Session(
        id=new_id(),
        location_id=studio.location.id,
        class_type_id=studio.class_type.id,
        class_name=name,
        start=start,
        end=start + timedelta(minutes=60),
        capacity=capacity,
        waitlist_size=5,
        coach_id=coach_id,
        coach_name=coach_name,
        room_id=None,
        room_name=room,
    )
    studio.state.apply([session])
    return session


@pytest.fixture
def world() -> DeskWorld:
    return make_world()


def signed_in_replica(path: Path, world: DeskWorld, role: Role = Role.FRONT_DESK) -> Replica:
    replica = load_replica(path, world.studio, role)
    replica.set_meta_values(
        {
            "tenant_id": world.tenant.id,
            "tenant_slug": "lotus",
            "server_url": "http://cloud.test",
            "credential_storage": "keyring",
        }
    )
    keyring.set_password("FrontDesk", f"desk:{replica.meta('desk_id')}", "refresh-0")
    return replica


def client_factory(world: DeskWorld) -> Callable[[str], CloudClient]:
    return lambda url: CloudClient(url, transport=world.cloud.transport)


@pytest.fixture
def make_ctx(
    tmp_path: Path, world: DeskWorld, qt_loop: asyncio.AbstractEventLoop
) -> Iterator[Callable[..., DeskContext]]:
    made: list[DeskContext] = []

    def make(
        role: Role = Role.FRONT_DESK,
        *,
        signed_in: bool = True,
        offline_switch: bool = False,
        settings: dict[str, object] | None = None,
    ) -> DeskContext:
        folder = tmp_path / f"desk{len(made)}"
        folder.mkdir()
        if settings:
            (folder / "settings.json").write_text(json.dumps(settings))
        replica = signed_in_replica(folder / "replica.db", world, role) if signed_in else None
        ctx = build_context(
            folder,
            client_factory=client_factory(world),
            now=world.clock,
            offline_switch=offline_switch,
            replica=replica,
        )
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.tasks.cancel_all()
        ctx.bridge.shutdown()
        ctx.replica.close()


@pytest.fixture
def make_window(
    qtbot: object, make_ctx: Callable[..., DeskContext]
) -> Callable[..., tuple[MainWindow, DeskContext]]:
    def make(
        role: Role = Role.FRONT_DESK, *, unlocked: bool = True, sync: bool = False, **kwargs: object
    ) -> tuple[MainWindow, DeskContext]:
        ctx = make_ctx(role, **kwargs)
        if not sync:
            # Without sync the desk works from its replica alone (the engine is not started).
            ctx.bridge.start = lambda: False  # type: ignore[method-assign]
        window = open_window(ctx, unlocked=unlocked)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.show()
        return window, ctx

    return make
