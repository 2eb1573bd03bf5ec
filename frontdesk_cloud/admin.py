"""Operator actions on one tenant: create it, add staff, revoke a desk, remove it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from frontdesk.domain.model import Branding, Location, Policy, Role, StaffMember, Tenant

from .accounts import pin_hash, staff_password_hash
from .db import Database
from .store import TenantRow, TenantStore, delete_tenant_row, find_tenant, insert_tenant

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")


class AdminError(ValueError):
    """Bad operator input: the message says what to change."""


def tenant_row(db: Database, slug: str) -> TenantRow:
    with db.transaction() as conn:
        found = find_tenant(conn, slug)
    if found is None:
        raise AdminError(f"no tenant {slug!r}")
    return found


def create_tenant(
    db: Database, slug: str, name: str, now: datetime, *, policy: Policy | None = None,
    branding: Branding | None = None,
) -> str:
    """A new tenant with an empty feed; returns its id."""
    if not SLUG.match(slug):
        raise AdminError(
            f"tenant slug {slug!r} must be lower-case letters, digits and '-' (at most 63)"
        )
    tenant_id = str(uuid.uuid4())
    with db.transaction(tenant_id, write=True) as conn:
        if find_tenant(conn, slug) is not None:
            raise AdminError(f"tenant {slug!r} already exists")
        insert_tenant(conn, tenant_id, slug, now)
        store = TenantStore(conn, tenant_id)
        store.create_feed()
        store.write([Tenant(tenant_id, slug, name or slug, policy or Policy(),
                            branding or Branding(display_name=name or slug))])
    return tenant_id


def delete_tenant(db: Database, slug: str) -> None:
    row = tenant_row(db, slug)
    with db.transaction(row.id, write=True) as conn:
        TenantStore(conn, row.id).delete_everything()
        delete_tenant_row(conn, row.id)


@dataclass(frozen=True)
class NewStaff:
    username: str
    name: str
    role: Role
    location_ids: tuple[str, ...] = ()
    password: str | None = None
    pin: str | None = None
    staff_id: str | None = None


def check_staff(staff: NewStaff) -> None:
    if not USERNAME.match(staff.username):
        raise AdminError(f"username {staff.username!r}: use 1-100 letters, digits, '.', '_', '-'")
    if not staff.name.strip():
        raise AdminError("a staff member needs a name")


def create_staff(db: Database, slug: str, staff: NewStaff) -> StaffMember:
    check_staff(staff)
    try:
        password = staff_password_hash(staff.password) if staff.password is not None else None
        pin = pin_hash(staff.pin) if staff.pin is not None else ""
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    row = tenant_row(db, slug)
    with db.transaction(row.id, write=True) as conn:
        store = TenantStore(conn, row.id)
        for location_id in staff.location_ids:
            if store.get(Location, location_id) is None:
                raise AdminError(f"tenant {slug!r} has no location {location_id!r}")
        if store.credentials(staff.username) is not None:
            raise AdminError(f"username {staff.username!r} is taken in {slug!r}")
        member = StaffMember(staff.staff_id or str(uuid.uuid4()), staff.name.strip(), staff.role,
                             staff.location_ids, pin, True)
        store.write([member])
        store.set_credentials(member.id, staff.username, password)
    return member


def revoke_device(db: Database, slug: str, device_id: str, now: datetime) -> None:
    row = tenant_row(db, slug)
    with db.transaction(row.id, write=True) as conn:
        store = TenantStore(conn, row.id)
        device = store.device(device_id)
        if device is None:
            raise AdminError(f"tenant {slug!r} has no device {device_id!r}")
        if device.revoked:
            raise AdminError(f"device {device_id!r} is already revoked")
        store.revoke_device(device_id, now)
