"""`seed-demo`: a realistic two-location studio, bulk-inserted (100,000 members in seconds).

Rows are built as domain entities and inserted directly with feed positions, not run
command by command; every credit ledger still balances (a grant or opening balance, and
one entry per charged booking), so the rules see a consistent studio.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from frontdesk.domain.clock import local_date, zone
from frontdesk.domain.model import (
    Booking,
    BookingStatus,
    Branding,
    ClassType,
    Entitlement,
    EntitlementKind,
    Feedback,
    LedgerEntry,
    Location,
    Member,
    PaymentMethod,
    Plan,
    Policy,
    Role,
    Room,
    Sale,
    Session,
    StaffMember,
    evolve,
)
from frontdesk.domain.rules import cost_of

from .accounts import pin_hash, staff_password_hash
from .admin import AdminError, create_tenant, delete_tenant
from .db import Database
from .store import TenantStore, find_tenant

SLUG = "demo"
CHECKIN_BOOKED = 12  # booked members in each check-in-open session

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
          "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "婷", "雪", "晨", "欣怡", "子涵",
          "浩然", "宇轩", "思琪", "梓萱", "一诺"]
_FIRST = ["Emma", "Olivia", "Ava", "Sophia", "Mia", "Liam", "Noah", "James", "Lucas", "Ethan",
          "Chloe", "Grace", "Zoe", "Ryan", "Jack", "Leo", "Nora", "Ella", "Hannah", "Daniel",
          "Isabella", "Amelia", "Henry", "Oscar"]
_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
         "Wilson", "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Lee", "Walker", "Hall",
         "Young", "King", "Wright", "Chen", "Nguyen"]
_DAY_PLAN = [(time(7, 0), 60), (time(9, 30), 75), (time(12, 15), 45), (time(18, 0), 60),
             (time(19, 30), 60)]


@dataclass
class _Builder:
    rng: random.Random
    day: date
    today: date  # at the first location, at the moment of seeding
    now: datetime
    policy: Policy
    rows: list[object] = field(default_factory=list)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, *entities: object) -> None:
        self.rows.extend(entities)


@dataclass
class _Pass:
    """An entitlement being built, with the balance left as bookings take from it."""

    ent: Entitlement
    balance: int
    row: int  # where the entitlement sits in the builder's rows
    floor: int = 0  # bookings leave at least this much (a low-credit pass stays low, not 0)


def _local(day: date, at: time, tz: str) -> datetime:
    return datetime.combine(day, at, tzinfo=zone(tz)).astimezone(UTC)


def _staff_accounts(locations: list[Location]) -> list[dict[str, Any]]:
    sh, ny = locations[0].id, locations[1].id
    both = [sh, ny]
    people = [
        ("owner", "周雅 Zhou Ya", Role.OWNER, both),
        ("manager", "Megan Brooks", Role.MANAGER, both),
        ("desk-sh", "陈静 Chen Jing", Role.FRONT_DESK, [sh]),
        ("desk-ny", "Tyler Reed", Role.FRONT_DESK, [ny]),
        ("coach-li", "李娜 Li Na", Role.COACH, [sh]),
        ("coach-wang", "王芳 Wang Fang", Role.COACH, [sh]),
        ("coach-emma", "Emma Johnson", Role.COACH, [ny]),
        ("coach-carlos", "Carlos Rivera", Role.COACH, [ny]),
        ("kiosk-sh", "Kiosk 静安", Role.KIOSK, [sh]),
        ("kiosk-ny", "Kiosk Brooklyn", Role.KIOSK, [ny]),
    ]
    return [
        {"username": username, "name": name, "role": role, "locations": locs,
         "password": f"{username}-demo-2026", "pin": f"{(n + 1) % 10}" * 4 + f"{n:02d}"}
        for n, (username, name, role, locs) in enumerate(people)
    ]


def seed_demo(
    db: Database, *, day: date | None = None, members: int = 500, reset: bool = False,
    now: datetime | None = None, seed: int = 2026,
    progress: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Seed the demo tenant; returns the document `seed-demo --json` prints."""
    if members < 0:
        raise AdminError("--members cannot be negative")
    now = now or datetime.now(UTC)
    with db.transaction() as conn:
        exists = find_tenant(conn, SLUG) is not None
    if exists and not reset:
        raise AdminError(f"tenant {SLUG!r} already exists; add --reset to replace it")
    if exists:
        delete_tenant(db, SLUG)
    locations = [Location(str(uuid.uuid4()), "静安 Jing'an", "Asia/Shanghai"),
                 Location(str(uuid.uuid4()), "Brooklyn", "America/New_York")]
    day = day or local_date(now, locations[0].timezone)
    policy = Policy()
    tenant_id = create_tenant(db, SLUG, "Lotus & Oak 莲橡瑜伽", now, policy=policy,
                              branding=Branding(display_name="Lotus & Oak 莲橡瑜伽"))
    b = _Builder(random.Random(seed), day, local_date(now, locations[0].timezone), now, policy)
    accounts = _staff_accounts(locations)
    progress("hashing staff passwords and PINs")
    pins = [pin_hash(a["pin"]) for a in accounts]  # argon2 already uses both cores
    passwords = [staff_password_hash(a["password"]) for a in accounts]
    staff = []
    for account, pin, password in zip(accounts, pins, passwords, strict=True):
        member = StaffMember(b.uid(), account["name"], account["role"],
                             tuple(account["locations"]), pin)
        account["id"] = member.id
        account["password_hash"] = password
        staff.append(member)
    b.add(*locations, *staff)
    catalogue = _catalogue(b, locations)
    sessions = _schedule(b, locations, staff, catalogue)
    open_sessions: list[dict[str, Any]] = []
    if members:
        progress(f"building {members} members")
        owner = next(s for s in staff if s.role is Role.OWNER)
        passes, clean = _members(b, members, catalogue["plans"], locations, owner.id)
        _bookings(b, sessions, passes, clean, locations)
        open_sessions = _checkin_open(b, locations, staff, catalogue, passes, clean)
        for held in passes.values():  # the balance after the bookings charged to each pass
            for p in held:
                b.rows[p.row] = evolve(p.ent, balance=p.balance)
    progress(f"inserting {len(b.rows)} rows")
    with db.transaction(tenant_id, write=True) as conn:
        store = TenantStore(conn, tenant_id)
        store.bulk_insert(b.rows)
        for account in accounts:
            store.set_credentials(account["id"], account["username"], account["password_hash"])
    if db.is_postgres:
        # Fresh statistics after a bulk load, so the planner sees the table as it is (a
        # non-owner role only gets a warning: autovacuum will do it later).
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE entities")
    return {
        "tenant": SLUG,
        "date": day.isoformat(),
        "staff": [{"username": a["username"], "password": a["password"], "pin": a["pin"],
                   "role": a["role"].value, "locations": a["locations"]} for a in accounts],
        "locations": [{"id": loc.id, "name": loc.name, "timezone": loc.timezone}
                      for loc in locations],
        "checkin_open_sessions": open_sessions,
    }


def _catalogue(b: _Builder, locations: list[Location]) -> dict[str, Any]:
    rooms = {loc.id: [Room(b.uid(), loc.id, name, cap)
                      for name, cap in (("Studio A", 20), ("Studio B", 12))]
             for loc in locations}
    class_types = [ClassType(b.uid(), name, level, color) for name, level, color in (
        ("Vinyasa Flow 流瑜伽", "all levels", "#2F6F5E"), ("Hatha 哈他", "beginner", "#4C8BF5"),
        ("Pilates Mat 普拉提", "all levels", "#F2A541"), ("Yin Yoga 阴瑜伽", "gentle", "#9B59B6"),
        ("HIIT", "intermediate", "#E74C3C"), ("Barre", "all levels", "#E67E22"))]
    plans = {
        "pack10": Plan(b.uid(), "10-class pack 10次卡", EntitlementKind.PACK, 128000, 10, 90),
        "pack20": Plan(b.uid(), "20-class pack 20次卡", EntitlementKind.PACK, 228000, 20, 180),
        "monthly": Plan(b.uid(), "Monthly unlimited 月卡", EntitlementKind.MEMBERSHIP, 98000, 0,
                        30),
        "annual": Plan(b.uid(), "Annual unlimited 年卡", EntitlementKind.MEMBERSHIP, 880000, 0,
                       365),
        "drop_in": Plan(b.uid(), "Drop-in 单次", EntitlementKind.DROP_IN, 15000, 1, 1),
        "stored": Plan(b.uid(), "Stored value ¥1000 储值卡", EntitlementKind.STORED_VALUE,
                       100000, 100000, 0),
    }
    b.add(*(r for rs in rooms.values() for r in rs), *class_types, *plans.values())
    return {"rooms": rooms, "class_types": class_types, "plans": plans}


def _schedule(b: _Builder, locations: list[Location], staff: list[StaffMember],
              catalogue: dict[str, Any]) -> list[Session]:
    sessions = []
    for loc in locations:
        coaches = [s for s in staff if s.role is Role.COACH and loc.id in s.location_ids]
        rooms = catalogue["rooms"][loc.id]
        for offset in range(-7, 15):
            day = b.day + timedelta(days=offset)
            for slot, (at, minutes) in enumerate(_DAY_PLAN):
                start = _local(day, at, loc.timezone)
                kind = catalogue["class_types"][(offset + slot) % len(catalogue["class_types"])]
                coach = coaches[(offset + slot) % len(coaches)]
                room = rooms[slot % len(rooms)]
                sessions.append(Session(
                    b.uid(), loc.id, kind.id, kind.name, start, start + timedelta(minutes=minutes),
                    room.capacity, coach.id, coach.name, room.id, room.name, waitlist_size=5,
                    price_cents=15000))
    b.add(*sessions)
    return sessions


def _name(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(_SURNAMES) + rng.choice(_GIVEN)
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _members(b: _Builder, count: int, plans: dict[str, Plan], locations: list[Location],
             seller: str) -> tuple[dict[str, list[_Pass]], list[str]]:
    """Members, their passes, sales and grant ledger; returns passes and clean members."""
    rng = b.rng
    passes: dict[str, list[_Pass]] = {}
    clean: list[str] = []
    for i in range(count):
        chinese = rng.random() < 0.6
        must_be_clean = i < CHECKIN_BOOKED * len(locations)
        member = Member(
            id=b.uid(),
            name=_name(rng),
            phone=f"1{rng.choice('3589')}{i:09d}" if chinese else f"+1 718 {i:07d}",
            email="" if rng.random() < 0.5 else f"member{i}@example.com",
            card_code=f"88{i:08d}",
            birthday=date(1960 + rng.randrange(45), rng.randrange(1, 13), rng.randrange(1, 29)),
            waiver_signed_at=(b.now - timedelta(days=rng.randrange(1, 700))
                              if must_be_clean or rng.random() < 0.9 else None),
            notes="" if must_be_clean or rng.random() > 0.03 else "Knee injury: offer props.",
            created_at=b.now - timedelta(days=rng.randrange(1, 900)),
        )
        b.add(member)
        profile = "clean" if must_be_clean else rng.choices(
            ["pack", "low", "monthly", "expiring", "stored", "drop_in", "expired", "unpaid",
             "none"], [35, 8, 15, 6, 9, 5, 8, 5, 9])[0]
        if profile == "none":
            continue
        made = _pass(b, member, profile, plans, locations[i % len(locations)], seller)
        passes[member.id] = [made]
        if must_be_clean:
            clean.append(member.id)
    return passes, clean


def _pass(b: _Builder, member: Member, profile: str, plans: dict[str, Plan],
          location: Location, seller: str) -> _Pass:
    rng, day = b.rng, b.day
    plan = {"clean": plans["pack20"], "pack": plans["pack10"], "low": plans["pack10"],
            "monthly": plans["monthly"], "expiring": plans["monthly"], "stored": plans["stored"],
            "drop_in": plans["drop_in"], "expired": plans["pack10"],
            "unpaid": plans["pack10"]}[profile]
    if profile == "expired":
        start = day - timedelta(days=100 + rng.randrange(60))
    elif profile == "expiring":
        start = day - timedelta(days=24 + rng.randrange(5))
    elif profile == "drop_in":
        start = day
    else:
        start = day - timedelta(days=rng.randrange(0, 25))
    until = start + timedelta(days=plan.validity_days - 1) if plan.validity_days else None
    grant = 1 if plan.kind is EntitlementKind.DROP_IN else plan.credits
    balance = {
        "clean": 15 + rng.randrange(6), "low": 1 + rng.randrange(2),
        "pack": 3 + rng.randrange(8), "expired": rng.randrange(4), "unpaid": 10,
        "stored": 15000 * (2 + rng.randrange(5)),
    }.get(profile, grant)
    if profile == "clean":  # valid on the seed date and at the moment of seeding
        start = min(day, b.today) - timedelta(days=rng.randrange(0, 25))
        until = max(day, b.today) + timedelta(days=150)
    paid = profile != "unpaid"
    at = datetime.combine(start, time(10), tzinfo=UTC)
    sale_id, ent_id = b.uid(), b.uid()
    method = rng.choice([PaymentMethod.WECHAT_PAY, PaymentMethod.ALIPAY, PaymentMethod.CARD,
                         PaymentMethod.CASH])
    sale = Sale(sale_id, member.id, location.id, plan.name, plan.price_cents, method, paid, at,
                seller, plan.id, ent_id)
    ent = Entitlement(ent_id, member.id, plan.kind, plan.name, start, until, plan.credits,
                      balance, plan.class_type_ids, plan.max_per_day, plan.id, sale.id, paid)
    b.add(sale, ent)
    row = len(b.rows) - 1
    # A pass already part used opens with its balance, as one imported from a till would.
    reason = "grant" if grant == balance else "opening_balance"
    b.add(LedgerEntry(b.uid(), ent.id, member.id, balance, reason, sale.id, at))
    return _Pass(ent, balance, row, floor=1 if profile == "low" else 0)


def _usable(p: _Pass, session: Session, day: date, policy: Policy) -> bool:
    e = p.ent
    return (e.paid and e.valid_from <= day and (e.valid_until is None or day <= e.valid_until)
            and p.balance - p.floor >= cost_of(e, session, policy))


def _book(b: _Builder, session: Session, member_id: str, p: _Pass, status: BookingStatus,
          **fields: Any) -> Booking:
    cost = 0 if status is BookingStatus.CANCELLED else cost_of(p.ent, session, b.policy)
    booking = Booking(b.uid(), session.id, member_id, status,
                      session.start - timedelta(days=1 + b.rng.randrange(5)),
                      entitlement_id=p.ent.id, charged=cost, **fields)
    if cost:
        p.balance -= cost
        b.add(LedgerEntry(b.uid(), p.ent.id, member_id, -cost, "book", booking.id,
                          booking.created_at, booking.id))
    b.add(booking)
    return booking


def _bookings(b: _Builder, sessions: list[Session], passes: dict[str, list[_Pass]],
              clean: list[str], locations: list[Location]) -> None:
    """Past visits (checked in, no-shows, late cancels), future bookings and waitlists."""
    rng = b.rng
    tz = {loc.id: loc.timezone for loc in locations}
    keep_clean = set(clean)
    pool = [m for m in passes if m not in keep_clean]
    busy: set[tuple[str, date]] = set()  # one class a day per member keeps it plausible
    for session in sessions:
        day = local_date(session.start, tz[session.location_id])
        past = session.end <= b.now
        demand = int(session.capacity * rng.uniform(0.3, 1.3))
        held = waitlisted = 0
        for member_id in rng.sample(pool, min(len(pool), demand * 2)):
            if demand <= 0:
                break
            p = passes[member_id][0]
            if (member_id, day) in busy or not _usable(p, session, day, b.policy):
                continue
            busy.add((member_id, day))
            demand -= 1
            if past and held < session.capacity:
                status = rng.choices([BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW,
                                      BookingStatus.LATE_CANCELLED, BookingStatus.CANCELLED],
                                     [80, 8, 6, 6])[0]
                held += status in (BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW)
                attended = status is BookingStatus.CHECKED_IN
                _book(b, session, member_id, p, status,
                      checked_in_at=session.start - timedelta(minutes=5) if attended else None)
                if attended and rng.random() < 0.05:
                    b.add(Feedback(b.uid(), member_id, session.id, rng.choice([4, 5, 5, 3]),
                                   rng.choice(["Great class!", "很好", "A bit crowded", ""]),
                                   session.end + timedelta(hours=1)))
            elif not past and held < session.capacity:
                held += 1
                _book(b, session, member_id, p, BookingStatus.BOOKED)
            elif not past and waitlisted < session.waitlist_size:
                waitlisted += 1
                _book(b, session, member_id, p, BookingStatus.WAITLISTED,
                      waitlist_position=waitlisted)


def _checkin_open(b: _Builder, locations: list[Location], staff: list[StaffMember],
                  catalogue: dict[str, Any], passes: dict[str, list[_Pass]],
                  clean: list[str]) -> list[dict[str, Any]]:
    """Per location a class starting within the hour, with clean booked members."""
    start = (b.now + timedelta(minutes=20)).replace(second=0, microsecond=0)
    kind = catalogue["class_types"][0]
    out = []
    for index, loc in enumerate(locations):
        coach = next(s for s in staff if s.role is Role.COACH and loc.id in s.location_ids)
        room = catalogue["rooms"][loc.id][0]
        session = Session(b.uid(), loc.id, kind.id, kind.name, start,
                          start + timedelta(minutes=60), room.capacity, coach.id, coach.name,
                          room.id, room.name, waitlist_size=5, price_cents=15000)
        b.add(session)
        members = clean[index * CHECKIN_BOOKED:(index + 1) * CHECKIN_BOOKED]
        for member_id in members:
            _book(b, session, member_id, passes[member_id][0], BookingStatus.BOOKED)
        out.append({"id": session.id, "location": loc.id, "booked_members": members})
    return out
