"""Free data portability: the studio's data on this desk as documented CSV files.

One definition per file lists its columns with what each holds; the CSV files and the
README.txt beside them are both written from it, so the documentation cannot drift.
Files are UTF-8 with a BOM (Excel then opens Chinese text correctly); members.csv uses
the column names our own member import recognises, so it reads back in.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection

from frontdesk.domain.clock import to_local
from frontdesk.domain.codec import decode
from frontdesk.domain.model import (
    KIND_OF,
    Booking,
    BookingStatus,
    Entitlement,
    EntitlementKind,
    Location,
    Member,
    Sale,
    Session,
)

from .store import EffectiveReader, Replica

T = TypeVar("T")

_CREDIT_KINDS = frozenset({EntitlementKind.PACK, EntitlementKind.DROP_IN})


@dataclass(frozen=True)
class Column:
    name: str
    doc: str
    value: Callable[[Any], object]


@dataclass(frozen=True)
class ExportFile:
    name: str
    doc: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int


@dataclass
class _Data:
    """Everything the files are made of, read in one transaction."""

    tz: str
    currency: str
    members: dict[str, Member]
    entitlements: list[Entitlement]
    sessions: dict[str, Session]
    bookings: list[Booking]
    sales: list[Sale]

    def when(self, moment: datetime | None) -> str:
        return to_local(moment, self.tz).isoformat() if moment else ""

    def member_name(self, member_id: str) -> str:
        member = self.members.get(member_id)
        return member.name if member else ""

    def session(self, booking: Booking) -> Session | None:
        return self.sessions.get(booking.session_id)


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return str(value)


def _files(data: _Data) -> list[tuple[ExportFile, list[Any]]]:
    """Each file's definition and the rows it holds."""

    def col(name: str, doc: str, value: Callable[[Any], object]) -> Column:
        return Column(name, doc, value)

    def session_of(b: Booking) -> Session | None:
        return data.session(b)

    def session_field(field: str) -> Callable[[Booking], object]:
        return lambda b: getattr(session_of(b), field, "")

    def start_of(b: Booking) -> str:
        session = session_of(b)
        return data.when(session.start) if session else ""

    members = ExportFile(
        "members.csv",
        "Every member record, one per line. Our own member import reads this file back.",
        (
            col("member_id", "FrontDesk's id of the member (a UUID).", lambda m: m.id),
            col("name", "Full name.", lambda m: m.name),
            col("phone", "Phone number as entered (digits, maybe a leading +).", lambda m: m.phone),
            col("email", "Email address.", lambda m: m.email),
            col("card_code", "Membership card or barcode number.", lambda m: m.card_code),
            col("birthday", "Date of birth, YYYY-MM-DD.", lambda m: m.birthday),
            col("tier", "Membership level.", lambda m: m.tier),
            col("notes", "Staff notes.", lambda m: m.notes),
            col("status", "active, merged (into merged_into) or anonymised.", lambda m: m.status),
            col(
                "merged_into",
                "For a merged record: the member_id it was merged into.",
                lambda m: m.merged_into,
            ),
            col(
                "waiver_signed_at",
                "When the waiver was signed (local time with offset).",
                lambda m: data.when(m.waiver_signed_at),
            ),
            col(
                "created_at",
                "When the member was added (local time with offset).",
                lambda m: data.when(m.created_at),
            ),
        ),
    )
    entitlements = ExportFile(
        "entitlements.csv",
        "Passes: class packs (次卡), memberships (期限卡), drop-ins and stored-value cards "
        "(储值卡), several per member.",
        (
            col("entitlement_id", "FrontDesk's id of the pass.", lambda e: e.id),
            col("member_id", "The member who holds it (members.csv).", lambda e: e.member_id),
            col("member_name", "That member's name.", lambda e: data.member_name(e.member_id)),
            col("kind", "pack, membership, drop_in or stored_value.", lambda e: e.kind),
            col("name", "The pass's name.", lambda e: e.name),
            col("valid_from", "First valid day, YYYY-MM-DD.", lambda e: e.valid_from),
            col(
                "valid_until", "Last valid day, YYYY-MM-DD; empty: no end.", lambda e: e.valid_until
            ),
            col("credits_total", "Classes the pack started with.", lambda e: e.credits_total),
            col(
                "credits_left",
                "Classes left (packs and drop-ins; empty otherwise).",
                lambda e: e.balance if e.kind in _CREDIT_KINDS else "",
            ),
            col(
                "stored_value",
                f"Money left on a stored-value card, in {data.currency}.",
                lambda e: _money(e.balance) if e.kind is EntitlementKind.STORED_VALUE else "",
            ),
            col("paid", "true when paid for.", lambda e: e.paid),
            col("frozen_from", "First day of a freeze, if any.", lambda e: e.frozen_from),
            col("frozen_until", "Last day of that freeze.", lambda e: e.frozen_until),
            col("status", "active or refunded.", lambda e: e.status),
            col("plan_id", "The studio plan it was sold from, if any.", lambda e: e.plan_id),
            col("sale_id", "The sale that paid for it (sales.csv), if any.", lambda e: e.sale_id),
        ),
    )
    booking_columns = (
        col("booking_id", "FrontDesk's id of the booking.", lambda b: b.id),
        col("session_id", "FrontDesk's id of the class.", lambda b: b.session_id),
        col("class_name", "The class.", session_field("class_name")),
        col("start", "When the class starts (local time with offset).", start_of),
        col("coach", "Its coach.", session_field("coach_name")),
        col("room", "Its room.", session_field("room_name")),
        col("member_id", "The member (members.csv).", lambda b: b.member_id),
        col("member_name", "That member's name.", lambda b: data.member_name(b.member_id)),
        col(
            "status",
            "booked, waitlisted, cancelled, late_cancelled, checked_in or no_show.",
            lambda b: b.status,
        ),
    )
    bookings = ExportFile(
        "bookings.csv",
        "Every booking of the classes this desk holds, whatever became of it.",
        (
            *booking_columns,
            col(
                "waitlist_position",
                "Place on the waitlist, for waitlisted bookings.",
                lambda b: b.waitlist_position,
            ),
            col(
                "created_at",
                "When it was booked (local time with offset).",
                lambda b: data.when(b.created_at),
            ),
            col(
                "entitlement_id",
                "The pass that paid for it (entitlements.csv), if any.",
                lambda b: b.entitlement_id,
            ),
            col(
                "charged",
                "Classes (or, for stored value, cents) taken from that pass.",
                lambda b: b.charged,
            ),
            col(
                "over_capacity",
                "true when kept over the class's capacity.",
                lambda b: b.over_capacity,
            ),
            col(
                "penalty_waived",
                "true when a late-cancel or no-show penalty was waived.",
                lambda b: b.penalty_waived,
            ),
        ),
    )
    attendance = ExportFile(
        "attendance.csv",
        "Who came and who did not: the checked-in and no-show bookings of bookings.csv.",
        (
            *booking_columns,
            col(
                "checked_in_at",
                "When they were checked in (local time with offset).",
                lambda b: data.when(b.checked_in_at),
            ),
            col("walk_in", "true for a walk-in (not booked beforehand).", lambda b: b.walk_in),
            col("unpaid", "true when they attended without a valid pass.", lambda b: b.unpaid),
        ),
    )
    sales = ExportFile(
        "sales.csv",
        "Every sale: passes, drop-ins, stored-value top-ups and penalty fees.",
        (
            col("sale_id", "FrontDesk's id of the sale.", lambda s: s.id),
            col("at", "When it was sold (local time with offset).", lambda s: data.when(s.at)),
            col("member_id", "The buyer (members.csv).", lambda s: s.member_id),
            col("member_name", "The buyer's name.", lambda s: data.member_name(s.member_id)),
            col("location_id", "Where it was sold.", lambda s: s.location_id),
            col("kind", "pass, drop_in, top_up or fee.", lambda s: s.kind),
            col("description", "What was sold.", lambda s: s.description),
            col("amount", f"Price in {data.currency}.", lambda s: _money(s.amount_cents)),
            col(
                "refunded",
                f"Refunded so far, in {data.currency}.",
                lambda s: _money(s.refunded_cents),
            ),
            col("currency", "Currency code.", lambda s: data.currency),
            col(
                "method",
                "cash, card, wechat_pay, alipay, stored_value or other.",
                lambda s: s.method,
            ),
            col("paid", "true when the money came in.", lambda s: s.paid),
            col("void", "true when cancelled (a waived fee).", lambda s: s.void),
            col("plan_id", "The plan sold, if any.", lambda s: s.plan_id),
            col(
                "entitlement_id",
                "The pass it made or topped up (entitlements.csv).",
                lambda s: s.entitlement_id,
            ),
            col("staff_id", "The staff member who sold it.", lambda s: s.staff_id),
        ),
    )

    def by_start(b: Booking) -> tuple[str, str]:
        session = session_of(b)
        return (session.start.isoformat() if session else "", b.id)

    attended = [
        b for b in data.bookings if b.status in (BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW)
    ]
    return [
        (members, sorted(data.members.values(), key=lambda m: (m.name, m.id))),
        (entitlements, sorted(data.entitlements, key=lambda e: (e.member_id, e.valid_from, e.id))),
        (attendance, sorted(attended, key=by_start)),
        (bookings, sorted(data.bookings, key=by_start)),
        (sales, sorted(data.sales, key=lambda s: (s.at, s.id))),
    ]


def export_all(replica: Replica, directory: Path) -> list[Written]:
    """Write every file and the README.txt describing them; returns what was written."""
    data = _read(replica)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    files = _files(data)
    for spec, rows in files:
        path = directory / spec.name
        _write_csv(
            path,
            [c.name for c in spec.columns],
            ([_text(c.value(row)) for c in spec.columns] for row in rows),
        )
        written.append(Written(path, len(rows)))
    readme = directory / "README.txt"
    _atomic_write(readme, _readme(data, [spec for spec, _ in files]).encode("utf-8-sig"))
    written.append(Written(readme, 0))
    return written


def _read(replica: Replica) -> _Data:
    with replica.read() as conn:
        reader = EffectiveReader(conn)
        location_id = Replica.get_meta(conn, "location_id")
        location = reader.get(Location, location_id) if location_id else None
        return _Data(
            tz=location.timezone if location else "UTC",
            currency=replica.policy(reader).currency,
            members={m.id: m for m in _every(conn, Member)},
            entitlements=_every(conn, Entitlement),
            sessions={s.id: s for s in _every(conn, Session)},
            bookings=_every(conn, Booking),
            sales=_every(conn, Sale),
        )


def _every(conn: Connection, cls: type[T]) -> list[T]:
    """Every entity of a kind as the desk sees it: pending work over server truth."""
    kind = KIND_OF[cls]
    found = conn.exec_driver_sql(
        "SELECT data FROM overlay WHERE kind = ? UNION ALL SELECT data FROM rows "
        "WHERE kind = ? AND id NOT IN (SELECT id FROM overlay WHERE kind = ?)",
        (kind, kind, kind),
    )
    return [decode(cls, json.loads(row[0])) for row in found]


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    temporary = path.with_name(path.name + ".part")
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(temporary, path)


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _readme(data: _Data, files: list[ExportFile]) -> str:
    lines = [
        "FrontDesk export",
        "================",
        "",
        "CSV files, UTF-8 with a byte-order mark, comma-separated, first line = column",
        "names. Dates are YYYY-MM-DD; times are ISO 8601 in the location's time zone",
        f"({data.tz}) with their UTC offset; money is in {data.currency} with two decimals;",
        "true/false for yes/no; an empty cell means no value. Ids are UUIDs and link the",
        "files: member_id, session_id, entitlement_id, sale_id.",
        "",
        "This desk holds every member, pass and sale of the studio, but only the classes",
        "of its own location from 7 days back to 14 days ahead: bookings.csv and",
        "attendance.csv cover those days.",
        "",
        "Opening in Excel: use Data > From Text/CSV and set the phone and card_code",
        "columns to Text. Saving a file back from Excel as-is turns long numbers into",
        "1.38E+10; our member import refuses such rows and says so.",
        "",
        "To import members.csv into FrontDesk: frontdesk import members members.csv",
    ]
    for spec in files:
        lines += ["", spec.name, "-" * len(spec.name), spec.doc, ""]
        width = max(len(c.name) for c in spec.columns)
        lines += [f"  {c.name.ljust(width)}  {c.doc}" for c in spec.columns]
    return "\r\n".join(lines) + "\r\n"
