"""`configure` / `export-config`: a studio's settings as a TOML file, validated by line.

The file holds the tenant's name, branding, policy, locations, rooms, class types,
plans and staff (roles, locations, PINs). Every problem is reported at once as
`FILE:LINE: where: what`. An exported file configures the same studio again unchanged.
Staff and plans missing from a file are deactivated (their history stays); locations,
rooms and class types missing from it are kept, since sessions refer to them.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
import typing
import uuid
from dataclasses import dataclass, field
from typing import Any

from frontdesk.domain.clock import zone
from frontdesk.domain.codec import DecodeError, decode
from frontdesk.domain.model import (
    Branding,
    ClassType,
    EntitlementKind,
    Location,
    Plan,
    Policy,
    Role,
    Room,
    StaffMember,
    Tenant,
)

from .accounts import pin_hash, staff_password_hash
from .admin import USERNAME, AdminError, tenant_row
from .db import Database
from .store import TenantStore

_NAMESPACE = uuid.UUID("a3c5f3f4-2f3e-4d0e-9b9f-6a8f0f1b2c11")
_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z_]+)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([A-Za-z_]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=")
_SECTIONS = ("studio", "branding", "policy", "locations", "rooms", "class_types", "plans",
             "staff")


class ConfigError(ValueError):
    """The file cannot be applied; `problems` are `FILE:LINE: where: what` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Lines:
    """Where each table, array item and key starts in the file (tomllib keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.at: dict[tuple[str, int | None, str | None], int] = {}
        counts: dict[str, int] = {}
        section: tuple[str, int | None] = ("", None)
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _HEADER.match(line):
                name = header.group(1)
                index = counts.get(name, 0)
                counts[name] = index + 1
                section = (name, index)
            elif table := _TABLE.match(line):
                section = (table.group(1), None)
            elif key := _KEY.match(line):
                self.at.setdefault((*section, key.group(1)), number)
                continue
            else:
                continue
            self.at.setdefault((*section, None), number)

    def line(self, section: str, index: int | None = None, key: str | None = None) -> int:
        for probe in ((section, index, key), (section, index, None), (section, None, None)):
            if probe in self.at:
                return self.at[probe]
        return 1


@dataclass
class StudioConfig:
    name: str
    branding: Branding
    policy: Policy
    locations: list[Location] = field(default_factory=list)
    rooms: list[Room] = field(default_factory=list)
    class_types: list[ClassType] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    staff: list[tuple[StaffMember, str, str | None]] = field(default_factory=list)  # +user, pw


class _Checker:
    def __init__(self, filename: str, lines: _Lines, tenant_id: str) -> None:
        self.filename = filename
        self.lines = lines
        self.tenant_id = tenant_id
        self.problems: list[str] = []

    def fail(self, section: str, index: int | None, key: str | None, message: str) -> None:
        where = section if index is None else f"{section}[{index + 1}]"
        if key:
            where += f".{key}"
        line = self.lines.line(section, index, key)
        self.problems.append(f"{self.filename}:{line}: {where}: {message}")

    def table(self, data: dict[str, Any], section: str, index: int | None, allowed: set[str]
              ) -> dict[str, Any]:
        for key in sorted(set(data) - allowed):
            self.fail(section, index, key, f"unknown setting (expected one of: "
                                           f"{', '.join(sorted(allowed))})")
        return data

    def value(self, data: dict[str, Any], section: str, index: int | None, key: str,
              kind: Any, default: Any = dataclasses.MISSING) -> Any:
        if key not in data:
            if default is dataclasses.MISSING:
                self.fail(section, index, None, f"missing {key!r}")
            return default
        try:
            return decode(kind, data[key], key)
        except DecodeError as exc:
            self.fail(section, index, key, str(exc).split(": ", 1)[-1])
            return default

    def entity_id(self, data: dict[str, Any], section: str, index: int, name: str) -> str:
        given = data.get("id")
        if given is None:
            return str(uuid.uuid5(_NAMESPACE, f"{self.tenant_id}:{section}:{name}"))
        if not isinstance(given, str) or not given.strip() or len(given) > 36:
            self.fail(section, index, "id", "an id is text of 1 to 36 characters")
            return str(uuid.uuid4())
        return given


def parse_config(text: str, filename: str, tenant_id: str) -> StudioConfig:
    """Read and validate a settings file; raises ConfigError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ConfigError([f"{filename}:{found.group(1) if found else 1}: not valid TOML: "
                           f"{exc}"]) from None
    check = _Checker(filename, _Lines(text), tenant_id)
    for key in sorted(set(raw) - set(_SECTIONS)):
        check.fail(key, None, None, f"unknown section (expected: {', '.join(_SECTIONS)})")
    sections: dict[str, Any] = {}
    for name in _SECTIONS:
        many = name not in ("studio", "branding", "policy")
        value = raw.get(name, [] if many else {})
        if many and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            check.fail(name, None, None, f"write each entry as a [[{name}]] table")
            value = []
        if not many and not isinstance(value, dict):
            check.fail(name, None, None, f"write it as a [{name}] table")
            value = {}
        sections[name] = value
    studio = check.table(sections["studio"], "studio", None, {"name"})
    config = StudioConfig(
        name=check.value(studio, "studio", None, "name", str, ""),
        branding=_dataclass_table(check, sections["branding"], "branding", Branding),
        policy=_dataclass_table(check, sections["policy"], "policy", Policy),
    )
    if not config.name.strip():
        check.fail("studio", None, "name", "the studio needs a name")
    _locations(check, sections["locations"], config)
    _rooms(check, sections["rooms"], config)
    _class_types(check, sections["class_types"], config)
    _plans(check, sections["plans"], config)
    _staff(check, sections["staff"], config)
    if check.problems:
        raise ConfigError(check.problems)
    return config


def _dataclass_table(check: _Checker, data: dict[str, Any], section: str, cls: type) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    check.table(data, section, None, set(fields))
    hints = typing.get_type_hints(cls)
    values = {key: check.value(data, section, None, key, hints[key], fields[key].default)
              for key in fields if key in data}
    made = cls(**{k: v for k, v in values.items() if v is not dataclasses.MISSING})
    for key, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            check.fail(section, None, key, "cannot be negative")
    return made


def _unique(check: _Checker, section: str, index: int, entity_id: str, seen: set[str]) -> None:
    if entity_id in seen:
        check.fail(section, index, "id", f"the id {entity_id!r} is used twice")
    seen.add(entity_id)


def _name(check: _Checker, data: dict[str, Any], section: str, index: int) -> str:
    name = check.value(data, section, index, "name", str, "")
    if not name.strip() and "name" in data:
        check.fail(section, index, "name", "cannot be empty")
    return str(name).strip()


def _locations(check: _Checker, items: list[dict[str, Any]], config: StudioConfig) -> None:
    seen: set[str] = set()
    for i, data in enumerate(items):
        check.table(data, "locations", i, {"id", "name", "timezone"})
        name = _name(check, data, "locations", i)
        tz = check.value(data, "locations", i, "timezone", str, "UTC")
        try:
            zone(tz)
        except ValueError as exc:
            check.fail("locations", i, "timezone", f"{exc} (use an IANA name like Asia/Shanghai)")
        entity_id = check.entity_id(data, "locations", i, name)
        _unique(check, "locations", i, entity_id, seen)
        config.locations.append(Location(entity_id, name, tz))
    if not items:
        check.fail("locations", None, None, "a studio needs at least one [[locations]] entry")


def _location_ref(check: _Checker, config: StudioConfig, section: str, index: int, key: str,
                  ref: str) -> str:
    for loc in config.locations:
        if ref in (loc.id, loc.name):
            return loc.id
    check.fail(section, index, key, f"no location {ref!r} in this file")
    return ref


def _rooms(check: _Checker, items: list[dict[str, Any]], config: StudioConfig) -> None:
    seen: set[str] = set()
    for i, data in enumerate(items):
        check.table(data, "rooms", i, {"id", "location", "name", "capacity"})
        name = _name(check, data, "rooms", i)
        ref = check.value(data, "rooms", i, "location", str, "")
        location_id = _location_ref(check, config, "rooms", i, "location", ref)
        capacity = check.value(data, "rooms", i, "capacity", int, 0)
        if capacity < 0:
            check.fail("rooms", i, "capacity", "cannot be negative")
        entity_id = check.entity_id(data, "rooms", i, f"{location_id}:{name}")
        _unique(check, "rooms", i, entity_id, seen)
        config.rooms.append(Room(entity_id, location_id, name, capacity))


def _class_types(check: _Checker, items: list[dict[str, Any]], config: StudioConfig) -> None:
    seen: set[str] = set()
    for i, data in enumerate(items):
        check.table(data, "class_types", i, {"id", "name", "level", "color"})
        name = _name(check, data, "class_types", i)
        entity_id = check.entity_id(data, "class_types", i, name)
        _unique(check, "class_types", i, entity_id, seen)
        config.class_types.append(ClassType(
            entity_id, name, check.value(data, "class_types", i, "level", str, ""),
            check.value(data, "class_types", i, "color", str, "")))


def _plans(check: _Checker, items: list[dict[str, Any]], config: StudioConfig) -> None:
    seen: set[str] = set()
    known = {c.id for c in config.class_types}
    for i, data in enumerate(items):
        check.table(data, "plans", i, {"id", "name", "kind", "price_cents", "credits",
                                       "validity_days", "class_types", "max_per_day", "active"})
        name = _name(check, data, "plans", i)
        kind = check.value(data, "plans", i, "kind", EntitlementKind, EntitlementKind.PACK)
        numbers = {key: check.value(data, "plans", i, key, int, default)
                   for key, default in (("price_cents", 0), ("credits", 0),
                                        ("validity_days", 0), ("max_per_day", 0))}
        if "price_cents" not in data:
            check.fail("plans", i, None, "missing 'price_cents'")
        for key, number in numbers.items():
            if number < 0:
                check.fail("plans", i, key, "cannot be negative")
        class_types = check.value(data, "plans", i, "class_types", tuple[str, ...], ())
        for ref in class_types:
            if ref not in known:
                check.fail("plans", i, "class_types", f"no class type {ref!r} in this file")
        entity_id = check.entity_id(data, "plans", i, name)
        _unique(check, "plans", i, entity_id, seen)
        config.plans.append(Plan(entity_id, name, kind, numbers["price_cents"],
                                 numbers["credits"], numbers["validity_days"], class_types,
                                 numbers["max_per_day"],
                                 check.value(data, "plans", i, "active", bool, True)))


def _staff(check: _Checker, items: list[dict[str, Any]], config: StudioConfig) -> None:
    seen: set[str] = set()
    usernames: set[str] = set()
    for i, data in enumerate(items):
        check.table(data, "staff", i, {"id", "name", "username", "role", "locations", "pin",
                                       "pin_hash", "password", "active"})
        name = _name(check, data, "staff", i)
        username = check.value(data, "staff", i, "username", str, "")
        if username and not USERNAME.match(username):
            check.fail("staff", i, "username", "use 1-100 letters, digits, '.', '_', '@', '-'")
        if username in usernames:
            check.fail("staff", i, "username", f"{username!r} is used twice")
        usernames.add(username)
        role = check.value(data, "staff", i, "role", Role, Role.FRONT_DESK)
        refs = check.value(data, "staff", i, "locations", tuple[str, ...], ())
        locations = tuple(_location_ref(check, config, "staff", i, "locations", r) for r in refs)
        hashed = _staff_pin(check, data, i)
        password = check.value(data, "staff", i, "password", str, None)
        if password is not None and len(password) < 8:
            check.fail("staff", i, "password", "a password needs at least 8 characters")
        entity_id = check.entity_id(data, "staff", i, username or name)
        _unique(check, "staff", i, entity_id, seen)
        member = StaffMember(entity_id, name, role, locations, hashed,
                             check.value(data, "staff", i, "active", bool, True))
        config.staff.append((member, username, password))


def _staff_pin(check: _Checker, data: dict[str, Any], index: int) -> str:
    if "pin" in data and "pin_hash" in data:
        check.fail("staff", index, "pin", "give either pin or pin_hash, not both")
    if "pin" in data:
        pin = data["pin"]
        if not isinstance(pin, str):
            check.fail("staff", index, "pin", 'write the PIN in quotes, e.g. pin = "0123"')
            return ""
        try:
            return pin_hash(pin)
        except ValueError as exc:
            check.fail("staff", index, "pin", str(exc))
            return ""
    stored = check.value(data, "staff", index, "pin_hash", str, "")
    if stored and not stored.startswith("$argon2"):
        check.fail("staff", index, "pin_hash", "not an argon2 hash (use pin = \"1234\" instead)")
    return str(stored)


# --- applying and exporting -----------------------------------------------------------------


def configure(db: Database, slug: str, text: str, filename: str) -> dict[str, int]:
    """Apply a settings file to a tenant, all or nothing; returns counts of what changed."""
    row = tenant_row(db, slug)
    config = parse_config(text, filename, row.id)
    hashes = {member.id: staff_password_hash(pw) for member, _, pw in config.staff
              if pw is not None}
    with db.transaction(row.id, write=True) as conn:
        store = TenantStore(conn, row.id)
        store.lock_feed()
        tenant = store.tenant()
        wanted: list[object] = [
            Tenant(tenant.id, tenant.slug, config.name, config.policy, config.branding),
            *config.locations, *config.rooms, *config.class_types, *config.plans,
            *(member for member, _, _ in config.staff),
        ]
        plan_ids = {p.id for p in config.plans}
        wanted += [dataclasses.replace(p, active=False) for p in store.all(Plan)
                   if p.id not in plan_ids and p.active]
        staff_ids = {m.id for m, _, _ in config.staff}
        wanted += [dataclasses.replace(s, active=False) for s in store.all(StaffMember)
                   if s.id not in staff_ids and s.active]
        changed = [e for e in wanted if store.get(type(e), e.id) != e]  # type: ignore[attr-defined]
        names = store.usernames()
        for member, username, _ in config.staff:
            owner = next((sid for sid, name in names.items() if name == username), None)
            if owner is not None and owner != member.id:
                raise ConfigError([f"{filename}: staff {member.name!r}: username {username!r} "
                                   "belongs to another staff member of this studio"])
            if not username and member.id not in names:
                continue
            store.set_credentials(member.id, username or names[member.id], hashes.get(member.id))
        store.write(changed)
    return {"changed": len(changed), "staff": len(config.staff), "plans": len(config.plans),
            "locations": len(config.locations)}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _table(out: list[str], header: str, values: dict[str, Any]) -> None:
    out.append(header)
    out.extend(f"{key} = {_toml(value)}" for key, value in values.items() if value is not None)
    out.append("")


def export_config(db: Database, slug: str) -> str:
    row = tenant_row(db, slug)
    with db.transaction(row.id) as conn:
        store = TenantStore(conn, row.id)
        tenant = store.tenant()
        locations, rooms = store.all(Location), store.all(Room)
        class_types, plans, staff = store.all(ClassType), store.all(Plan), store.all(StaffMember)
        usernames = store.usernames()
    out = [f"# FrontDesk studio settings for {slug!r}.",
           f"# Apply with: frontdesk-cloud configure {slug} FILE.toml", ""]
    _table(out, "[studio]", {"name": tenant.name})
    _table(out, "[branding]", {f.name: getattr(tenant.branding, f.name)
                               for f in dataclasses.fields(Branding)})
    policy = {f.name: getattr(tenant.policy, f.name) for f in dataclasses.fields(Policy)}
    policy["blocking_alerts"] = sorted(a.value for a in tenant.policy.blocking_alerts)
    policy = {k: v.value if hasattr(v, "value") else v for k, v in policy.items()}
    _table(out, "[policy]", policy)
    for loc in locations:
        _table(out, "[[locations]]", {"id": loc.id, "name": loc.name, "timezone": loc.timezone})
    for room in rooms:
        _table(out, "[[rooms]]", {"id": room.id, "location": room.location_id, "name": room.name,
                                  "capacity": room.capacity})
    for kind in class_types:
        _table(out, "[[class_types]]", {"id": kind.id, "name": kind.name, "level": kind.level,
                                        "color": kind.color})
    for plan in plans:
        _table(out, "[[plans]]", {
            "id": plan.id, "name": plan.name, "kind": plan.kind.value,
            "price_cents": plan.price_cents, "credits": plan.credits,
            "validity_days": plan.validity_days, "class_types": list(plan.class_type_ids),
            "max_per_day": plan.max_per_day, "active": plan.active})
    for member in staff:
        _table(out, "[[staff]]", {
            "id": member.id, "name": member.name, "username": usernames.get(member.id),
            "role": member.role.value, "locations": list(member.location_ids),
            "pin_hash": member.pin_hash or None, "active": member.active})
    return "\n".join(out)


__all__ = ["AdminError", "ConfigError", "configure", "export_config", "parse_config"]
