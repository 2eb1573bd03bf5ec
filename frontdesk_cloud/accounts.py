"""Signing in, refreshing, registering desks, and telling who is calling.

Plain functions over the database: the HTTP routes only translate to and from JSON.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from frontdesk.domain.model import Location, StaffMember
from frontdesk.protocol import DeviceRegistration, DeviceRequest, LoginRequest, TokenPair

from .auth import (
    Claims,
    TokenError,
    hash_secret,
    issue_access,
    new_refresh_token,
    read_access,
    refresh_tenant,
    token_hash,
    verify_secret,
)
from .db import Database
from .settings import Settings
from .store import (
    Device,
    RefreshRecord,
    TenantStore,
    failed_logins_since,
    find_tenant,
    record_login_attempt,
    service_key,
)


@dataclass
class ApiError(Exception):
    """A refusal the client can act on: an HTTP status, a stable code and a message."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, {"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member, in a tenant, maybe through a registered desk."""

    claims: Claims
    device: Device | None

    @property
    def tenant_id(self) -> str:
        return self.claims.tenant_id

    def require_device(self) -> Device:
        if self.device is None:
            raise ApiError(403, "device_required", "This needs a registered desk's token.")
        return self.device


class Accounts:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._key = settings.secret_key
        #: device id -> (monotonic time it was read, the device): see `authenticate`.
        self._devices: dict[str, tuple[float, Device]] = {}

    @property
    def key(self) -> str:
        if self._key is None:
            with self.db.transaction(write=True) as conn:
                self._key = service_key(conn, "jwt")
        return self._key

    def now(self) -> datetime:
        return self.settings.clock()

    # --- who is calling ----------------------------------------------------------------

    def authenticate(self, authorization: str | None, *, reuse_s: float = 0.0) -> Principal:
        """The caller of a request. With `reuse_s`, a desk's record read in the last
        `reuse_s` seconds is trusted without a database round trip: only for the live
        signal, which hands out nothing but a counter, so that 500 desks holding it do not
        cost a transaction each every time they are woken. Pushes and pulls read it fresh
        (a revoked desk is refused at once there)."""
        claims = self._claims(authorization, self.key)
        known = self._known(claims, reuse_s)
        if known is not None:
            return known
        assert claims.device_id is not None
        with self.db.transaction(claims.tenant_id) as conn:
            device = TenantStore(conn, claims.tenant_id).device(claims.device_id)
        if device is not None:
            self._devices[claims.device_id] = (time.monotonic(), device)
        return self._checked(claims, device)

    def recent(self, authorization: str | None, reuse_s: float) -> Principal | None:
        """`authenticate(..., reuse_s=...)` when it needs no database (None when it does):
        cheap enough for the event loop, so a woken long-poll skips the thread pool."""
        if self._key is None:
            return None
        return self._known(self._claims(authorization, self._key), reuse_s)

    def _known(self, claims: Claims, reuse_s: float) -> Principal | None:
        """The caller without a database round trip, if its desk was read recently enough."""
        if claims.device_id is None:
            return Principal(claims, None)
        seen = self._devices.get(claims.device_id)
        if seen is None or time.monotonic() - seen[0] >= reuse_s:
            return None
        return self._checked(claims, seen[1])

    def _claims(self, authorization: str | None, key: str) -> Claims:
        if not authorization:
            raise unauthorized("missing_token", "Sign in first: no access token was sent.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("invalid_token", "Send the access token as 'Bearer <token>'.")
        try:
            return read_access(key, token.strip(), self.now())
        except TokenError as exc:
            code = "token_expired" if "expired" in str(exc) else "invalid_token"
            raise unauthorized(code, f"Sign in again: {exc}.") from None

    @staticmethod
    def _checked(claims: Claims, device: Device | None) -> Principal:
        if device is None:
            raise unauthorized("invalid_token", "Sign in again: this desk is not known.")
        if device.revoked:
            raise unauthorized("device_revoked", "This desk has been removed from the studio.")
        return Principal(claims, device)

    # --- sign in -------------------------------------------------------------------------

    def login(self, request: LoginRequest, address: str) -> TokenPair:
        now = self.now()
        key = self.key
        self._check_rate(request.tenant, request.username, address, now)
        tenant = None
        with self.db.transaction() as conn:
            tenant = find_tenant(conn, request.tenant)
        staff: StaffMember | None = None
        stored_hash: str | None = None
        if tenant is not None:
            with self.db.transaction(tenant.id) as conn:
                store = TenantStore(conn, tenant.id)
                found = store.credentials(request.username)
                if found is not None:
                    staff = store.get(StaffMember, found[0])
                    stored_hash = found[1]
        ok = verify_secret(stored_hash, request.password) and staff is not None and staff.active
        with self.db.transaction(write=True) as conn:
            record_login_attempt(conn, request.tenant, request.username, address, now, ok)
        if not ok or staff is None or tenant is None:
            raise unauthorized("bad_credentials", "The studio, username or password is wrong.")
        with self.db.transaction(tenant.id, write=True) as conn:
            return self._tokens(TenantStore(conn, tenant.id), staff, None, now, key)

    def _check_rate(self, tenant: str, username: str, address: str, now: datetime) -> None:
        s = self.settings
        since = now - s.login_window
        with self.db.transaction() as conn:
            checks = (
                (failed_logins_since(conn, tenant, since, username=username, address=address),
                 s.login_limit_user_address),
                (failed_logins_since(conn, tenant, since, username=username),
                 s.login_limit_user),
                (failed_logins_since(conn, tenant, since, address=address),
                 s.login_limit_address),
            )
        for (count, oldest), limit in checks:
            if count >= limit:
                wait = s.login_window - (now - oldest) if oldest else s.login_window
                seconds = max(1, int(wait.total_seconds()) + 1)
                raise ApiError(
                    429, "rate_limited",
                    f"Too many failed sign-ins. Try again in {seconds} seconds.",
                    {"Retry-After": str(seconds)},
                )

    def _tokens(
        self, store: TenantStore, staff: StaffMember, device: Device | None, now: datetime,
        key: str,
    ) -> TokenPair:
        refresh = new_refresh_token(store.tenant_id)
        store.add_refresh(
            RefreshRecord(token_hash(refresh), staff.id, device.id if device else None,
                          now + self.settings.refresh_ttl, None),
            now,
        )
        claims = Claims(staff.id, store.tenant_id, staff.role.value, device.id if device else None)
        return TokenPair(
            access_token=issue_access(key, claims, now, self.settings.access_ttl),
            refresh_token=refresh,
            expires_in=int(self.settings.access_ttl.total_seconds()),
            staff_id=staff.id,
            role=staff.role.value,
            location_ids=staff.location_ids or store.location_ids(),
            tenant_id=store.tenant_id,
            server_time=now,
        )

    # --- refresh -------------------------------------------------------------------------

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: a new pair; the old token keeps working for the grace period."""
        now = self.now()
        key = self.key
        tenant_id = refresh_tenant(refresh_token)
        invalid = unauthorized("invalid_token", "Sign in again: the refresh token is not valid.")
        if tenant_id is None:
            raise invalid
        with self.db.transaction(tenant_id, write=True) as conn:
            store = TenantStore(conn, tenant_id)
            record = store.refresh_record(token_hash(refresh_token), lock=True)
            if record is None or record.expires_at <= now:
                raise invalid
            if record.replaced_at is not None and (
                now - record.replaced_at > self.settings.refresh_grace
            ):
                raise invalid
            device = store.device(record.device_id) if record.device_id else None
            if record.device_id and (device is None or device.revoked):
                raise unauthorized("device_revoked", "This desk has been removed from the studio.")
            staff = store.get(StaffMember, record.staff_id)
            if staff is None or not staff.active:
                raise invalid
            store.mark_replaced(record.token_hash, now)
            store.drop_expired_refresh(now)
            return self._tokens(store, staff, device, now, key)

    # --- devices -------------------------------------------------------------------------

    @staticmethod
    def _device_for(store: TenantStore, request: DeviceRequest, name: str, staff: StaffMember,
                    now: datetime) -> Device:
        """A new device, or the one this desk registered as before (same client id)."""
        desk_id = _checked_desk_id(request.desk_id)
        known = store.device_of_desk(desk_id) if desk_id is not None else None
        if known is not None:
            if known.revoked:
                raise ApiError(403, "device_revoked",
                               "This desk has been removed from the studio.")
            store.move_device(known.id, name, request.location_id)
            return Device(known.id, known.client_id, name, request.location_id, known.staff_id,
                          None, desk_id)
        device = Device(str(uuid.uuid4()), str(uuid.uuid4()), name, request.location_id,
                        staff.id, None, desk_id)
        store.add_device(device, now)
        return device

    def register_device(self, principal: Principal, request: DeviceRequest) -> DeviceRegistration:
        now = self.now()
        key = self.key
        name = request.name.strip()
        if not name or len(name) > 200:
            raise ApiError(422, "invalid_value", "A desk needs a name of 1 to 200 characters.")
        tenant_id = principal.tenant_id
        with self.db.transaction(tenant_id, write=True) as conn:
            store = TenantStore(conn, tenant_id)
            staff = store.get(StaffMember, principal.claims.staff_id)
            if staff is None or not staff.active:
                raise unauthorized("invalid_token", "Sign in again: this staff account is gone.")
            if store.get(Location, request.location_id) is None:
                raise ApiError(404, "unknown_location", "This studio has no such location.")
            if staff.location_ids and request.location_id not in staff.location_ids:
                raise ApiError(403, "wrong_location",
                               f"{staff.name} does not work at that location.")
            device = self._device_for(store, request, name, staff, now)
            pair = self._tokens(store, staff, device, now, key)
        return DeviceRegistration(
            device_id=device.id,
            client_id=device.client_id,
            location_id=device.location_id,
            refresh_token=pair.refresh_token,
            access_token=pair.access_token,
            expires_in=pair.expires_in,
        )


def _checked_desk_id(desk_id: str | None) -> str | None:
    if desk_id is not None and not 0 < len(desk_id) <= 64:
        raise ApiError(422, "invalid_value", "desk_id is text of 1 to 64 characters.")
    return desk_id


def staff_password_hash(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return hash_secret(password)


def pin_hash(pin: str) -> str:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")
    return hash_secret(pin)


__all__ = [
    "Accounts",
    "ApiError",
    "Principal",
    "pin_hash",
    "staff_password_hash",
]
