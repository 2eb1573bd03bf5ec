"""How the rules read state: a small port that the desk replica and the cloud implement.

Rules read through `StateReader` and never write; their writes are collected as whole new
entity values (`Changes`) that the caller stores. `MemoryState` is the reference
implementation used by tests and by anything that needs the rules without a database.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Protocol, TypeVar

from .model import (
    Booking,
    Entitlement,
    Feedback,
    LedgerEntry,
    Member,
    Sale,
)

T = TypeVar("T")

#: The (kind, field) look-ups a reader must answer with `find`; stores index them.
INDEXED: frozenset[tuple[type, str]] = frozenset(
    {
        (Booking, "session_id"),
        (Booking, "member_id"),
        (Entitlement, "member_id"),
        (LedgerEntry, "member_id"),
        (LedgerEntry, "entitlement_id"),
        (Sale, "member_id"),
        (Feedback, "member_id"),
        (Member, "card_code"),
        (Member, "merged_into"),  # anonymising a member erases the records merged into it
    }
)


class StateReader(Protocol):
    def get(self, cls: type[T], entity_id: str) -> T | None: ...

    def find(self, cls: type[T], field: str, value: str) -> list[T]: ...


class Overlay:
    """A reader that sees its own writes on top of a base reader (one command's changes)."""

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.changed: dict[tuple[type, str], object] = {}
        self.order: list[tuple[type, str]] = []

    def put(self, entity: object) -> None:
        key = (type(entity), entity.id)  # type: ignore[attr-defined]
        if key not in self.changed:
            self.order.append(key)
        self.changed[key] = entity

    def changes(self) -> list[object]:
        return [self.changed[k] for k in self.order]

    def get(self, cls: type[T], entity_id: str) -> T | None:
        hit = self.changed.get((cls, entity_id))
        if hit is not None:
            return hit  # type: ignore[return-value]
        return self.base.get(cls, entity_id)

    def find(self, cls: type[T], field: str, value: str) -> list[T]:
        out: dict[str, T] = {}
        for entity in self.base.find(cls, field, value):
            out[entity.id] = entity  # type: ignore[attr-defined]
        for (kind, entity_id), changed in self.changed.items():
            if kind is not cls:
                continue
            if getattr(changed, field) == value:
                out[entity_id] = typing.cast(T, changed)
            else:
                out.pop(entity_id, None)
        return [out[k] for k in sorted(out)]


class MemoryState:
    """All entities in dicts; `find` scans. For tests, property checks and previews."""

    def __init__(self, entities: Iterable[object] = ()) -> None:
        self.rows: dict[type, dict[str, object]] = {}
        self.apply(entities)

    def apply(self, entities: Iterable[object]) -> None:
        for entity in entities:
            self.rows.setdefault(type(entity), {})[entity.id] = entity  # type: ignore[attr-defined]

    def get(self, cls: type[T], entity_id: str) -> T | None:
        return self.rows.get(cls, {}).get(entity_id)  # type: ignore[return-value]

    def find(self, cls: type[T], field: str, value: str) -> list[T]:
        rows = self.rows.get(cls, {})
        return [rows[k] for k in sorted(rows) if getattr(rows[k], field) == value]  # type: ignore[misc]

    def all(self, cls: type[T]) -> list[T]:
        rows = self.rows.get(cls, {})
        return [rows[k] for k in sorted(rows)]  # type: ignore[misc]
