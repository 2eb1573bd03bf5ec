"""`frontdesk-cloud`: the cloud service's admin and server command (see contracts.md).

Exit codes: 0 done; 1 the database could not be used (not reachable, not migrated);
2 bad input or usage, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from frontdesk.domain.model import Role

from .admin import AdminError, NewStaff, create_staff, create_tenant, revoke_device
from .config_file import ConfigError, configure, export_config
from .db import Database, DatabaseURLError, driver_url
from .migrate import current_revision, head_revision, migrate
from .settings import Settings

ENV_URL = "FRONTDESK_CLOUD_DATABASE_URL"
ENV_SECRET = "FRONTDESK_CLOUD_SECRET"


class Usage(Exception):
    """Bad input: exit 2 with this message."""


class Unavailable(Exception):
    """The database cannot be used: exit 1 with this message."""


def default_database_url() -> str:
    import platformdirs

    folder = Path(platformdirs.user_data_dir("frontdesk-cloud", appauthor=False))
    return f"sqlite:///{folder / 'cloud.sqlite'}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdesk-cloud",
                                     description="FrontDesk cloud tenant service.")
    parser.add_argument("--database-url", default=os.environ.get(ENV_URL),
                        help=f"sqlite:///PATH or postgresql://USER@HOST:PORT/DB (env {ENV_URL}; "
                             "default: a SQLite file in the user data folder)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate_cmd = commands.add_parser("migrate", help="bring the schema to the latest version")
    migrate_cmd.add_argument("--app-role", help="PostgreSQL: the non-owner role the service "
                                                "connects as, to be granted row access")

    serve = commands.add_parser("serve", help="run the HTTP API (does not migrate)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    seed = commands.add_parser("seed-demo", help="create the demo studio")
    seed.add_argument("--date", type=_date, help="YYYY-MM-DD (default: today at the first "
                                                 "location)")
    seed.add_argument("--members", type=int, default=500)
    seed.add_argument("--json", action="store_true", help="print only the JSON document")
    seed.add_argument("--reset", action="store_true", help="replace an existing demo tenant")

    config = commands.add_parser("configure", help="apply a studio settings file")
    config.add_argument("tenant")
    config.add_argument("file", type=Path)

    export = commands.add_parser("export-config", help="print a studio's settings file")
    export.add_argument("tenant")

    tenant = commands.add_parser("create-tenant", help="create an empty studio")
    tenant.add_argument("slug")
    tenant.add_argument("--name", default="")
    tenant.add_argument("--json", action="store_true")

    staff = commands.add_parser("create-staff", help="add a staff account to a studio")
    staff.add_argument("tenant")
    staff.add_argument("username")
    staff.add_argument("--role", required=True, choices=[r.value for r in Role])
    staff.add_argument("--name", default="")
    staff.add_argument("--location", action="append", default=[], dest="locations",
                       help="a location id the person works at (repeat; none: every location)")
    staff.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (else it is asked for)")
    staff.add_argument("--pin", help="4 to 8 digits for quick switching at the desk")
    staff.add_argument("--json", action="store_true")

    revoke = commands.add_parser("revoke-device", help="refuse a desk from now on")
    revoke.add_argument("tenant")
    revoke.add_argument("device_id")
    return parser


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _open(url: str, *, need_schema: bool = True) -> Database:
    try:
        driver_url(url)
    except DatabaseURLError as exc:
        raise Usage(str(exc)) from None
    db = Database.open(url)
    if need_schema:
        try:
            revision = current_revision(db)
        except sa.exc.DBAPIError as exc:
            db.dispose()
            raise Unavailable(f"cannot use the database: {exc.orig}") from None
        if revision != head_revision():
            db.dispose()
            raise Unavailable("the database schema is not up to date: run "
                              "`frontdesk-cloud migrate` first")
    return db


def _print(document: Any, as_json: bool, text: str) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2) if as_json else text)


def run(args: argparse.Namespace) -> int:
    url = args.database_url or default_database_url()
    now = datetime.now(UTC)
    if args.command == "migrate":
        db = _open(url, need_schema=False)
        try:
            migrate(db, app_role=args.app_role)
        except sa.exc.OperationalError as exc:
            raise Unavailable(f"cannot reach the database: {exc.orig}") from None
        except ValueError as exc:
            raise Usage(str(exc)) from None
        finally:
            db.dispose()
        print(f"schema at revision {head_revision()}", file=sys.stderr)
        return 0
    if args.command == "serve":
        return _serve(url, args.host, args.port, args.workers)
    db = _open(url)
    try:
        _admin(args, db, now)
    finally:
        db.dispose()
    return 0


def _admin(args: argparse.Namespace, db: Database, now: datetime) -> None:
    if args.command == "seed-demo":
        from .seed import seed_demo

        document = seed_demo(db, day=args.date, members=args.members, reset=args.reset, now=now,
                             progress=_to_stderr)
        _print(document, args.json, _seed_summary(document))
    elif args.command == "configure":
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Usage(f"cannot read {args.file}: {exc}") from None
        counts = configure(db, args.tenant, text, str(args.file))
        print(f"{args.tenant}: {counts['changed']} settings rows changed", file=sys.stderr)
    elif args.command == "export-config":
        sys.stdout.write(export_config(db, args.tenant))
    elif args.command == "create-tenant":
        tenant_id = create_tenant(db, args.slug, args.name, now)
        _print({"tenant": args.slug, "id": tenant_id}, args.json, tenant_id)
    elif args.command == "create-staff":
        password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                    else getpass.getpass("Password: "))
        member = create_staff(db, args.tenant, NewStaff(
            args.username, args.name or args.username, Role(args.role), tuple(args.locations),
            password, args.pin))
        _print({"id": member.id, "username": args.username, "role": member.role.value,
                "locations": list(member.location_ids)}, args.json, member.id)
    elif args.command == "revoke-device":
        revoke_device(db, args.tenant, args.device_id, now)
        print(f"device {args.device_id} revoked", file=sys.stderr)


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _seed_summary(document: dict[str, Any]) -> str:
    lines = [f"Seeded tenant {document['tenant']!r} around {document['date']}.", "Staff:"]
    lines += [f"  {s['role']:<10} {s['username']:<14} password {s['password']}  PIN {s['pin']}"
              for s in document["staff"]]
    for session in document["checkin_open_sessions"]:
        lines.append(f"Check-in open now: session {session['id']} with "
                     f"{len(session['booked_members'])} booked members.")
    return "\n".join(lines)


def _serve(url: str, host: str, port: int, workers: int) -> int:
    import uvicorn

    if workers < 1:
        raise Usage("--workers must be at least 1")
    _open(url).dispose()  # refuse to serve an unmigrated or unreachable database
    os.environ[ENV_URL] = url
    # Open long-polls would hold a stopping worker for up to 30 s; desks simply poll again.
    uvicorn.run("frontdesk_cloud.cli:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="info", proxy_headers=True,
                timeout_graceful_shutdown=5)
    return 0


def app_from_environment() -> Any:
    """The app for uvicorn's workers: the settings come from the environment."""
    from .api import create_app

    url = os.environ.get(ENV_URL) or default_database_url()
    return create_app(Settings(database_url=url, secret_key=os.environ.get(ENV_SECRET) or None))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (Usage, AdminError, ConfigError) as exc:
        print(f"frontdesk-cloud: {exc}", file=sys.stderr)
        return 2
    except Unavailable as exc:
        print(f"frontdesk-cloud: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
