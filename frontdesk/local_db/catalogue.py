"""Catalogue look-ups for the desk window: the tenant, this desk's location, staff and plans."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from frontdesk.domain.clock import local_date
from frontdesk.domain.codec import decode
from frontdesk.domain.model import Location, Plan, Policy, Session, StaffMember, Tenant
from frontdesk.domain.rules import CancelTerms, cancel_terms
from frontdesk.protocol import CATALOGUE

from .store import EffectiveReader, Replica


class Catalogue:
    """Read-only answers from the catalogue partition (with pending work layered on)."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def _all(self, cls: type) -> list[Any]:
        with self.replica.read() as conn:
            return EffectiveReader(conn).all_of(cls, "partition", CATALOGUE)

    def tenant(self) -> Tenant | None:
        with self.replica.read() as conn:
            reader = EffectiveReader(conn)
            tenant_id = Replica.get_meta(conn, "tenant_id")
            found = reader.get(Tenant, tenant_id) if tenant_id else None
            if found is not None:
                return found
            tenants = reader.all_of(Tenant, "partition", CATALOGUE)
        return tenants[0] if tenants else None

    def policy(self) -> Policy:
        with self.replica.read() as conn:
            return self.replica.policy(EffectiveReader(conn))

    def location_id(self) -> str | None:
        return self.replica.meta("location_id")

    def location(self) -> Location | None:
        location_id = self.location_id()
        if location_id is None:
            return None
        with self.replica.read() as conn:
            return EffectiveReader(conn).get(Location, location_id)

    def locations(self, ids: tuple[str, ...] = ()) -> list[Location]:
        """Every location of the tenant, or those named (in that order when known)."""
        found: list[Location] = sorted(self._all(Location), key=lambda loc: (loc.name, loc.id))
        if not ids:
            return found
        by_id = {loc.id: loc for loc in found}
        return [by_id[i] for i in ids if i in by_id]

    def timezone(self) -> str:
        location = self.location()
        return location.timezone if location else "UTC"

    def local_day(self, now: datetime) -> date:
        """The calendar day at this desk's location at instant `now`."""
        return local_date(now, self.timezone())

    def signed_in_staff(self) -> StaffMember | None:
        """Who signed this desk in with a password (from the catalogue when it has them)."""
        staff_id = self.replica.meta("staff_id")
        if not staff_id:
            return None
        known = self.staff(staff_id)
        if known is not None:
            return known
        raw = self.replica.meta("staff")
        return decode(StaffMember, json.loads(raw)) if raw else None

    def staff(self, staff_id: str) -> StaffMember | None:
        with self.replica.read() as conn:
            return EffectiveReader(conn).get(StaffMember, staff_id)

    def staff_here(self) -> list[StaffMember]:
        """Active staff who work at this desk's location, by name."""
        location_id = self.location_id()
        staff: list[StaffMember] = self._all(StaffMember)
        return sorted(
            (
                s
                for s in staff
                if s.active and (not s.location_ids or location_id in s.location_ids)
            ),
            key=lambda s: (s.name, s.id),
        )

    def plans(self) -> list[Plan]:
        """Plans on sale, cheapest first within each kind."""
        plans: list[Plan] = self._all(Plan)
        return sorted(
            (p for p in plans if p.active), key=lambda p: (p.kind.value, p.price_cents, p.name)
        )

    def cancel_terms(self, session: Session, now: datetime) -> CancelTerms:
        """What cancelling a booking in `session` at desk time `now` would cost."""
        with self.replica.read() as conn:
            reader = EffectiveReader(conn)
            business = self.replica._business_time(now, self.replica.clock_offset(conn))
            return cancel_terms(session, business, self.replica.policy(reader))
