"""Quick staff switching by PIN, verified locally (offline too) with limited attempts.

PIN hashes are argon2 (the cloud hashes them with argon2-cffi's defaults), so a check
is slow on purpose; the window runs it off the UI thread. After `max_failures` wrong
PINs in a row the desk refuses every PIN for `lockout_seconds`; the count survives a
restart of the app (kept in a small file private to the OS user), so quitting does
not buy more guesses.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from frontdesk.domain.model import StaffMember

_hasher = PasswordHasher()


@dataclass(frozen=True)
class PinAnswer:
    ok: bool
    code: str  # "ok", "wrong_pin", "locked_out", "no_pin"
    wait_seconds: int = 0
    failures_left: int = 0


def pin_matches(pin_hash: str, pin: str) -> bool:
    if not pin_hash or not pin:
        return False
    try:
        return bool(_hasher.verify(pin_hash, pin))
    except (VerificationError, InvalidHashError):
        return False


class PinGate:
    """Counts failures across staff members: the desk, not the account, is locked out."""

    def __init__(
        self,
        state_file: Path,
        *,
        max_failures: int = 5,
        lockout_seconds: int = 60,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.state_file = state_file
        self.max_failures = max(max_failures, 1)
        self.lockout = timedelta(seconds=max(lockout_seconds, 1))
        self.now = now
        self.failures = 0
        self.locked_until: datetime | None = None
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.state_file.read_text())
            self.failures = int(data.get("failures", 0))
            until = data.get("locked_until")
            self.locked_until = datetime.fromisoformat(until) if until else None
        except (FileNotFoundError, ValueError, TypeError, AttributeError):
            self.failures, self.locked_until = 0, None

    def _save(self) -> None:
        with contextlib.suppress(OSError):
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(
                json.dumps(
                    {
                        "failures": self.failures,
                        "locked_until": self.locked_until.isoformat()
                        if self.locked_until
                        else None,
                    }
                )
            )
            os.chmod(self.state_file, 0o600)

    def wait_seconds(self) -> int:
        """Seconds until PINs are accepted again (0: now)."""
        if self.locked_until is None:
            return 0
        left = (self.locked_until - self.now()).total_seconds()
        return max(int(left + 0.999), 0)

    def check(self, staff: StaffMember, pin: str) -> PinAnswer:
        """Verify one attempt (slow: argon2). Call off the UI thread."""
        wait = self.wait_seconds()
        if wait:
            return PinAnswer(False, "locked_out", wait_seconds=wait)
        if not staff.pin_hash:
            return PinAnswer(False, "no_pin")
        if pin_matches(staff.pin_hash, pin):
            self.failures, self.locked_until = 0, None
            self._save()
            return PinAnswer(True, "ok")
        self.failures += 1
        if self.failures >= self.max_failures:
            self.failures = 0
            self.locked_until = self.now() + self.lockout
            self._save()
            return PinAnswer(False, "locked_out", wait_seconds=self.wait_seconds())
        self._save()
        return PinAnswer(False, "wrong_pin", failures_left=self.max_failures - self.failures)
