"""The service's settings: typed, with defaults, built by the CLI or by tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    database_url: str
    #: The JWT signing key; None takes a random one kept in the database (shared by workers).
    secret_key: str | None = None
    access_ttl: timedelta = timedelta(minutes=15)
    #: Long enough to cover an offline weekend and then some.
    refresh_ttl: timedelta = timedelta(days=30)
    #: The previous refresh token stays good this long after rotation (a lost answer).
    refresh_grace: timedelta = timedelta(hours=24)
    login_window: timedelta = timedelta(minutes=15)
    #: Failed logins allowed in the window: for one user from one address, for one user
    #: from anywhere, and from one address against any user of a tenant.
    login_limit_user_address: int = 5
    login_limit_user: int = 20
    login_limit_address: int = 50
    max_body_bytes: int = 16 * 1024 * 1024
    #: How often SQLite workers look at the feed counters for the live signal.
    live_poll_seconds: float = 0.1
    pool_size: int = 10
    clock: Callable[[], datetime] = field(default=system_clock)
