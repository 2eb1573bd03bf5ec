"""Imports for a studio moving to us: pure planning of member and schedule files.

Reading files is the desk's job (`frontdesk.local_db.imports`); here rows of text become
validated command arguments, refusals with reasons, and the report a manager reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CREATE = "create"
CHANGE = "change"
REFUSE = "refuse"


@dataclass(frozen=True)
class ReportRow:
    """What happened (or would happen) to one data row; rows count from 1."""

    row: int
    action: str  # create | change | refuse
    name: str
    code: str | None = None
    reason: str | None = None
    start: str | None = None  # schedule rows: the session's start, ISO 8601 with offset

    def document(self, with_start: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "row": self.row,
            "action": self.action,
            "code": self.code,
            "reason": self.reason,
            "name": self.name,
        }
        if with_start:
            doc["start"] = self.start
        return doc


@dataclass
class ImportReport:
    """The report of contracts.md, "Import reports"."""

    mapping: dict[str, str] = field(default_factory=dict)
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schedule: bool = False  # schedule rows also carry their start

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    def document(self) -> dict[str, Any]:
        return {
            "created": self.count(CREATE),
            "changed": self.count(CHANGE),
            "refused": self.count(REFUSE),
            "mapping": dict(self.mapping),
            "rows": [
                r.document(self.schedule) for r in sorted(self.rows, key=lambda r: r.row)
            ],
            "notes": list(self.notes),
        }


def counted(n: int, noun: str) -> str:
    """"1 row", "2 rows": English counts for notes (the UI translates by code)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """Consecutive slices of at most `size` items: each goes in one import command."""
    if size < 1:
        raise ValueError("a chunk holds at least one row")
    return [items[i : i + size] for i in range(0, len(items), size)]
