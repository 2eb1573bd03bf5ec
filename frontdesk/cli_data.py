"""`frontdesk import members|schedule` and `frontdesk export`: a studio's data in and out.

Exit codes as for every desk command (contracts.md): 0 done (a report with refused rows
is done too), 1 the studio's rules refuse the import (not a manager), 2 the file cannot
be read at all or the command line is wrong (applying without --yes), 4 not signed in.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from frontdesk.cli import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Fail,
    Output,
    desk_now,
    signed_in_desk,
)

Handler = Callable[[argparse.Namespace, Output], int]


def register(add: Callable[[str, Handler, str], Any], common: argparse.ArgumentParser) -> None:
    """Add `import` (with `members` and `schedule`) and `export` to the desk's parser."""
    parser = add("import", cmd_import_usage, "import members (CSV, XLSX) or a schedule (.ics)")
    kinds = parser.add_subparsers(dest="import_kind", metavar="{members,schedule}")

    def kind(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = kinds.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(handler=handler)
        p.add_argument("file", help="the file to import")
        p.add_argument("--dry-run", action="store_true",
                       help="report what would be created, changed or refused; change nothing")
        p.add_argument("--yes", action="store_true", help="apply the import (confirmation)")
        return p

    p = kind("members", cmd_import_members,
             "members (and their current passes) from a CSV or XLSX file")
    p.add_argument("--mapping", help="a TOML file mapping the file's columns to member fields")
    p = kind("schedule", cmd_import_schedule, "a class schedule from an iCalendar (.ics) file")
    p.add_argument("--location", help="the location to import into (default: this desk's)")
    p = add("export", cmd_export, "members, passes, attendance, bookings and sales as CSV files")
    p.add_argument("dir", help="the folder to write the files to (made if missing)")


def cmd_import_usage(args: argparse.Namespace, out: Output) -> int:
    raise Fail(EXIT_USAGE, "Say what to import: `frontdesk import members FILE` or "
                           "`frontdesk import schedule FILE`.")


def _run_import(args: argparse.Namespace, out: Output, run: Callable[..., Any]) -> int:
    from frontdesk.local_db.imports import ImportFileError, ImportRefused, MappingError

    if not args.dry_run and not args.yes:
        raise Fail(
            EXIT_USAGE,
            "Nothing imported: applying an import needs --yes. Run it with --dry-run first "
            "to see what it would create and refuse.",
        )
    replica, _desk, staff_id = signed_in_desk(args)
    try:
        report = run(replica, Path(args.file), staff_id=staff_id, now=desk_now(),
                     apply=not args.dry_run)
    except (ImportFileError, MappingError) as exc:
        raise Fail(EXIT_USAGE, str(exc)) from exc
    except ImportRefused as exc:
        outcome = exc.outcome
        raise Fail(EXIT_REFUSED, f"Import refused: {outcome.message} {outcome.fix}".strip(),
                   {"code": outcome.code, "fix": outcome.fix}) from exc
    finally:
        replica.close()
    out.emit(report.document(), lambda: report_text(report.document(), args.dry_run))
    return EXIT_OK


def cmd_import_members(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.local_db.imports import import_members

    mapping = Path(args.mapping) if args.mapping else None
    return _run_import(
        args, out, lambda *a, **kw: import_members(*a, mapping=mapping, **kw)
    )


def cmd_import_schedule(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.local_db.imports import import_schedule

    return _run_import(
        args, out, lambda *a, **kw: import_schedule(*a, location_id=args.location, **kw)
    )


def report_text(doc: dict[str, Any], dry_run: bool) -> str:
    """An import report for a person reading a terminal."""
    verb = ("would be created", "would be refused") if dry_run else ("created", "refused")
    lines = [
        "Dry run: nothing was imported." if dry_run else "Import applied.",
        f"{doc['created']} {verb[0]}, {doc['refused']} {verb[1]}.",
    ]
    if doc["mapping"]:
        lines.append("Columns:")
        lines += [f"  {column} -> {field}" for column, field in doc["mapping"].items()]
    lines.append("Rows:")
    for row in doc["rows"]:
        when = f" {row['start']}" if row.get("start") else ""
        line = f"  {row['row']:>5} {row['action']:<7}{when} {row['name']}"
        if row["code"]:
            line += f"\n        {row['code']}: {row['reason']}"
        lines.append(line)
    if doc["notes"]:
        lines.append("Notes:")
        lines += [f"  - {note}" for note in doc["notes"]]
    return "\n".join(lines)


def cmd_export(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.local_db.export import export_all

    replica, _desk, _staff = signed_in_desk(args)
    try:
        written = export_all(replica, Path(args.dir))
    except OSError as exc:
        raise Fail(EXIT_USAGE, f"Cannot write to {args.dir}: {exc.strerror or exc}.") from exc
    finally:
        replica.close()
    doc = {
        "directory": str(Path(args.dir).resolve()),
        "files": [{"name": w.path.name, "rows": w.rows} for w in written],
    }
    out.emit(
        doc,
        lambda: f"Wrote to {doc['directory']}:\n"
        + "\n".join(
            f"  {w.path.name} "
            + (f"({w.rows} rows)" if w.path.suffix == ".csv" else "(what every column holds)")
            for w in written
        ),
    )
    return EXIT_OK
