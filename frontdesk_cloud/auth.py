"""Passwords and PINs (argon2id), access tokens (JWT HS256), opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
#: Spent on unknown usernames so a login's timing does not say whether a user exists.
_DUMMY_HASH = _HASHER.hash("no such user")


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class TokenError(Exception):
    """An access token that is missing, forged, expired or of the wrong type."""


@dataclass(frozen=True)
class Claims:
    staff_id: str
    tenant_id: str
    role: str
    device_id: str | None


def issue_access(key: str, claims: Claims, now: datetime, ttl: timedelta) -> str:
    payload: dict[str, Any] = {
        "sub": claims.staff_id,
        "tid": claims.tenant_id,
        "role": claims.role,
        "dev": claims.device_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(payload, key, algorithm="HS256")


def read_access(key: str, token: str, now: datetime) -> Claims:
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            # Expiry is judged below by the service's clock, not PyJWT's system clock.
            options={"require": ["exp", "sub", "tid", "typ"], "verify_iat": False,
                     "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise TokenError("the access token is not valid") from None
    if not isinstance(payload["exp"], int) or payload["exp"] <= int(now.timestamp()):
        raise TokenError("the access token has expired")
    if payload.get("typ") != "access":
        raise TokenError("not an access token")
    dev = payload.get("dev")
    fields = (payload.get("sub"), payload.get("tid"), payload.get("role", ""))
    if not all(isinstance(v, str) for v in fields) or not (dev is None or isinstance(dev, str)):
        raise TokenError("the access token is not valid")
    return Claims(str(payload["sub"]), str(payload["tid"]), str(payload.get("role", "")), dev)


def new_refresh_token(tenant_id: str) -> str:
    """Opaque to the desk; it starts with the tenant id so its row is found under RLS."""
    return f"{tenant_id}.{secrets.token_urlsafe(32)}"


def refresh_tenant(token: str) -> str | None:
    tenant_id, dot, rest = token.partition(".")
    if not dot or len(tenant_id) != 36 or not rest:
        return None
    return tenant_id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
