"""Seeded reference data: a tenant with N members and one location's schedule window."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from frontdesk.domain.codec import encode
from frontdesk.domain.model import (
    Booking,
    BookingStatus,
    ClassType,
    Entitlement,
    EntitlementKind,
    Location,
    Member,
    Role,
    Session,
    StaffMember,
    Tenant,
)
from frontdesk.local_db import Replica
from frontdesk.protocol import CATALOGUE, MEMBERS, Change, PullPage, schedule_partition

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷"
    "钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬飞鹏宇浩然子涵梓萱欣怡俊"
FIRST = [
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Henry",
    "Ivy",
    "Jack",
    "Kate",
    "Leo",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Ruby",
    "Sam",
    "Tara",
]
LAST = [
    "Lee",
    "Smith",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Moore",
    "Taylor",
    "Clark",
    "Lewis",
    "Young",
    "Walker",
    "Hall",
    "Allen",
    "King",
    "Wright",
    "Scott",
]


@dataclass
class Reference:
    tenant: Tenant
    location: Location
    staff: StaffMember
    members: list[Member]
    sessions: list[Session]
    bookings: list[Booking]
    entitlements: list[Entitlement]
    today: date


def build(members: int, now: datetime, seed: int = 7) -> Reference:
    rng = random.Random(seed)
    tenant = Tenant(str(uuid.UUID(int=rng.getrandbits(128))), "bench", "Bench Studio")
    location = Location(str(uuid.UUID(int=rng.getrandbits(128))), "Main", "Asia/Shanghai")
    staff = StaffMember(
        str(uuid.UUID(int=rng.getrandbits(128))), "Desk", Role.FRONT_DESK, (location.id,)
    )
    class_type = ClassType(str(uuid.UUID(int=rng.getrandbits(128))), "Yoga")
    people = []
    passes = []
    for n in range(members):
        if rng.random() < 0.7:
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        member = Member(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            name=name,
            phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}",
            card_code=f"C{n:07d}",
            waiver_signed_at=now,
        )
        people.append(member)
        passes.append(
            Entitlement(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                member_id=member.id,
                kind=EntitlementKind.PACK,
                name="20 classes",
                valid_from=date(2026, 1, 1),
                valid_until=date(2027, 12, 31),
                credits_total=20,
                balance=rng.randint(1, 20),
            )
        )
    today = now.astimezone(UTC).date()
    sessions, bookings = [], []
    for day_offset in range(-7, 15):
        for hour in (7, 9, 12, 17, 18, 19, 20):
            midnight_shanghai = datetime(
                today.year, today.month, today.day, tzinfo=UTC
            ) - timedelta(hours=8)
            start = midnight_shanghai + timedelta(days=day_offset, hours=hour)
            session = Session(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                location_id=location.id,
                class_type_id=class_type.id,
                class_name="Yoga",
                start=start,
                end=start + timedelta(hours=1),
                capacity=25,
                coach_name="Coach",
            )
            sessions.append(session)
            for member in rng.sample(people, min(15, len(people))):
                bookings.append(
                    Booking(
                        id=str(uuid.UUID(int=rng.getrandbits(128))),
                        session_id=session.id,
                        member_id=member.id,
                        status=BookingStatus.BOOKED,
                        created_at=now - timedelta(days=10),
                    )
                )
    return Reference(tenant, location, staff, people, sessions, bookings, passes, today)


def pages(ref: Reference, page_size: int = 5000) -> list[PullPage]:
    """The reference data as the pull pages a cloud would send, in partition order."""
    by_partition: dict[str, list[Change]] = {CATALOGUE: [], MEMBERS: []}
    position = 0

    def add(partition: str, kind: str, entity: object) -> None:
        nonlocal position
        position += 1
        by_partition.setdefault(partition, []).append(
            Change(kind, entity.id, encode(entity), position)  # type: ignore[attr-defined]
        )

    add(CATALOGUE, "tenant", ref.tenant)
    add(CATALOGUE, "location", ref.location)
    add(CATALOGUE, "staff", ref.staff)
    for member, ent in zip(ref.members, ref.entitlements, strict=True):
        add(MEMBERS, "member", member)
        add(MEMBERS, "entitlement", ent)
    sessions = {s.id: s for s in ref.sessions}
    for session in ref.sessions:
        add(schedule_partition(ref.location.id, _local_day(session)), "session", session)
    for booking in ref.bookings:
        add(
            schedule_partition(ref.location.id, _local_day(sessions[booking.session_id])),
            "booking",
            booking,
        )
    out = []
    for partition, changes in by_partition.items():
        for i in range(0, len(changes), page_size):
            chunk = tuple(changes[i : i + page_size])
            more = i + page_size < len(changes)
            out.append(PullPage(partition, chunk, f"v1:0:{chunk[-1].position}", more))
    return out


def _local_day(session: Session) -> date:
    from frontdesk.domain.clock import local_date

    return local_date(session.start, "Asia/Shanghai")


def load(path: Path, ref: Reference) -> Replica:
    """A signed-in replica holding the reference data."""
    import json

    replica = Replica(path)
    replica.set_meta_values(
        {
            "location_id": ref.location.id,
            "staff_id": ref.staff.id,
            "staff": json.dumps(encode(ref.staff)),
            "tenant_id": ref.tenant.id,
            "client_id": "bench",
        }
    )
    for page in pages(ref):
        replica.apply_page(page, page.changes[-1].position if page.changes else 0)
    return replica
