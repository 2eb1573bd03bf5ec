"""Member and schedule imports on the desk: read the file, plan it against the replica,
and preview (dry run) or record it as import commands, one per chunk of rows.

Each chunk is one command in the outbox: it applies here at once and in the cloud when
the desk syncs, all or nothing, so an import works offline. Re-running an import after
an interruption skips the rows already in (they are duplicates of members or sessions
the desk now holds), so it resumes where it stopped.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from frontdesk.domain import Context, Outcome, Status, execute
from frontdesk.domain.clock import local_date
from frontdesk.domain.codec import encode
from frontdesk.domain.engine import REGISTRY
from frontdesk.domain.import_commands import CHUNK_ROWS, ImportMembers, ImportSchedule
from frontdesk.domain.imports import CREATE, REFUSE, ImportReport, ReportRow, chunks, counted
from frontdesk.domain.imports.members import MappingChoice, MappingError, plan_members
from frontdesk.domain.imports.schedule import plan_schedule
from frontdesk.domain.imports.values import DUPLICATE_MEMBER, ROW_CODES
from frontdesk.domain.model import ClassType, Location, Member, Plan, Room, Session, StaffMember
from frontdesk.protocol import CATALOGUE, MEMBERS, schedule_partition

from ..store import EffectiveReader, Replica
from .ics import read_calendar
from .tables import ImportFileError, load_mapping, read_table

__all__ = [
    "ImportFileError",
    "ImportRefused",
    "MappingError",
    "import_members",
    "import_schedule",
    "load_mapping",
]


class ImportRefused(Exception):
    """The studio's rules refuse the import as a whole (not a manager, wrong location)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclass(frozen=True)
class _Chunk:
    rows: list[int]
    args: dict[str, Any]


def import_members(
    replica: Replica,
    path: Path,
    *,
    staff_id: str,
    now: datetime,
    apply: bool,
    mapping: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Members (and their current passes) from a CSV or XLSX file."""
    table = read_table(path)
    choice = load_mapping(mapping) if mapping is not None else MappingChoice()
    with replica.read() as conn:
        reader = EffectiveReader(conn)
        location = _location(conn, reader, None)
        today = local_date(_business(replica, conn, now), location.timezone)
        plan = plan_members(
            table.lines,
            choice,
            reader.all_of(Member, "partition", MEMBERS),
            reader.all_of(Plan, "partition", CATALOGUE),
            today,
            scope=Replica.get_meta(conn, "tenant_id") or "",
        )
    report = ImportReport(plan.mapping, list(plan.refused), table.notes + plan.notes)
    names = {m.row: m.name for m in plan.ready}
    parts = [
        _Chunk([m.row for m in part], encode(ImportMembers(tuple(part), source=path.name)))
        for part in chunks(plan.ready, chunk_rows)
    ]
    _send(
        replica,
        "import_members",
        parts,
        staff_id,
        now,
        apply,
        report,
        lambda row, action, code=None, reason=None: ReportRow(
            row, action, names[row], code, reason
        ),
    )
    return report


def import_schedule(
    replica: Replica,
    path: Path,
    *,
    staff_id: str,
    now: datetime,
    apply: bool,
    location_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Sessions of a location (default: the desk's) from an iCalendar file."""
    with replica.read() as conn:
        reader = EffectiveReader(conn)
        location = _location(conn, reader, location_id)
        today = local_date(_business(replica, conn, now), location.timezone)
        calendar = read_calendar(path, location.timezone, today)
        days = {
            local_date(o.start, location.timezone)
            for o in calendar.occurrences
            if o.start is not None
        }
        existing = [
            s
            for day in sorted(d for d in days if d >= today)
            for s in reader.all_of(Session, "partition", schedule_partition(location.id, day))
        ]
        plan = plan_schedule(
            calendar.occurrences,
            location,
            reader.all_of(ClassType, "partition", CATALOGUE),
            reader.all_of(StaffMember, "partition", CATALOGUE),
            reader.all_of(Room, "partition", CATALOGUE),
            existing,
            lambda sid: reader.get(Session, sid) is not None,
            today,
        )
    report = ImportReport({}, list(plan.refused), calendar.notes + plan.notes, schedule=True)
    parts = [
        _Chunk(
            [s.row for s in part],
            encode(ImportSchedule(location.id, tuple(part), source=path.name)),
        )
        for part in chunks(plan.ready, chunk_rows)
    ]
    _send(replica, "import_schedule", parts, staff_id, now, apply, report, plan.report_row)
    return report


def _location(conn: Connection, reader: EffectiveReader, location_id: str | None) -> Location:
    wanted = location_id or Replica.get_meta(conn, "location_id")
    location = reader.get(Location, wanted) if wanted else None
    if location is None:
        raise ImportFileError(
            f"No location {wanted} on this desk." if wanted else "This desk has no location."
        )
    return location


def _business(replica: Replica, conn: Connection, now: datetime) -> datetime:
    return replica._business_time(now, replica.clock_offset(conn))


_ROW = re.compile(r"^Row (\d+): ")


def _send(
    replica: Replica,
    name: str,
    parts: list[_Chunk],
    staff_id: str,
    now: datetime,
    apply: bool,
    report: ImportReport,
    row_of: Callable[..., ReportRow],
) -> None:
    """Preview or record each chunk; every row of the chunk gets its outcome."""
    total = len(parts)
    if total > 1:
        report.notes.append(
            f"The rows go in {total} parts of up to {len(parts[0].rows)} rows; each part goes "
            "in whole or not at all."
        )
    for number, part in enumerate(parts, start=1):
        span = f"part {number} of {total} (rows {part.rows[0]}–{part.rows[-1]})"
        if apply:
            recorded = replica.record(name, part.args, staff_id=staff_id, now=now)
            outcome, seq = recorded.outcome, recorded.seq
        else:
            outcome, seq = _preview(replica, name, part.args, staff_id, now), None
        if outcome.status is Status.REJECTED and outcome.code not in ROW_CODES:
            raise ImportRefused(outcome)
        if outcome.status is Status.REJECTED:
            match = _ROW.match(outcome.message)
            failed = int(match.group(1)) if match else None
            detail = " ".join(p for p in (_ROW.sub("", outcome.message), outcome.fix) if p)
            for row in part.rows:
                reason = (
                    detail
                    if row == failed
                    else f"Not imported: the rows of {span} go in together and row {failed} "
                    "was refused. Fix that row and import again; rows already in are skipped."
                )
                report.rows.append(row_of(row, REFUSE, outcome.code, reason))
            report.notes.append(f"{span.capitalize()} is not in: row {failed} was refused.")
            continue
        outcomes = {o["row"]: o["outcome"] for o in _row_outcomes(outcome)}
        already = 0
        for row in part.rows:
            if outcomes.get(row, "created") == "created":
                report.rows.append(row_of(row, CREATE))
            elif name == "import_members":
                report.rows.append(
                    row_of(
                        row,
                        REFUSE,
                        DUPLICATE_MEMBER,
                        "This row was imported before; nothing to do.",
                    )
                )
            else:
                already += 1
        if already:
            report.notes.append(
                f"Left {counted(already, 'occurrence')} of {span} already on the schedule "
                "(imported before) as they are."
            )
        if apply:
            where = f"queued for the cloud as command #{seq}" if seq else "nothing new"
            report.notes.append(f"{span.capitalize()} is in: {where}.")


def _row_outcomes(outcome: Outcome) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(outcome.data.get("rows", "[]"))
    return rows


def _preview(
    replica: Replica, name: str, args: dict[str, Any], staff_id: str, now: datetime
) -> Outcome:
    """What recording the command would answer, without recording it (a dry run)."""
    with replica.read() as conn:
        reader = EffectiveReader(conn)
        location_id = Replica.get_meta(conn, "location_id") or ""
        ctx = Context(
            now=_business(replica, conn, now),
            actor=replica.actor(reader, staff_id),
            location_id=location_id,
            policy=replica.policy(reader),
        )
        result = execute(name, REGISTRY[name].current, args, str(uuid.uuid4()), ctx, reader)
    return result.outcome
