"""What a command's run says: applied, applied with warnings, or rejected with a reason."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    APPLIED = "applied"
    APPLIED_WITH_WARNING = "applied_with_warning"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Notice:
    """A reason code (stable, translated by the UI) and an English message."""

    code: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Outcome:
    status: Status
    code: str = "ok"
    message: str = ""
    fix: str = ""
    warnings: tuple[Notice, ...] = ()
    subject_id: str | None = None  # the main thing the command made or changed
    data: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not Status.REJECTED


class Refused(Exception):
    """A studio rule says no. Raised by handlers; becomes a rejected outcome."""

    def __init__(self, code: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix

    def notice(self) -> Notice:
        return Notice(self.code, self.message, self.fix)
