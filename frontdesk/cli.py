"""The `frontdesk` command line: every desk job, scriptable, working offline.

Exit codes (contracts.md): 0 done (offline work is done once queued), 1 refused by a
studio rule, 2 bad input or usage, 3 the cloud could not be reached, 4 not signed in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from frontdesk import __version__

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_SIGNED_OUT = 0, 1, 2, 3, 4

log = logging.getLogger("frontdesk")


class Fail(Exception):
    """Stop with an exit code and a message (and, with --json, a JSON document)."""

    def __init__(self, code: int, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.exit_code = code
        self.message = message
        self.payload = payload or {}


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("frontdesk", appauthor=False))


def desk_now() -> datetime:
    """This PC's clock. FRONTDESK_CLOCK_SKEW_S shifts it, to rehearse a wrong PC clock."""
    skew = float(os.environ.get("FRONTDESK_CLOCK_SKEW_S", "0") or 0)
    return datetime.now(UTC) + timedelta(seconds=skew)


# --- output -----------------------------------------------------------------------------


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, document: Any, text: str | Callable[[], str]) -> None:
        if self.as_json:
            json.dump(document, sys.stdout, ensure_ascii=False, indent=1)
            sys.stdout.write("\n")
        else:
            print(text() if callable(text) else text)


def outcome_document(outcome: Any, seq: int | None = None) -> dict[str, Any]:
    from frontdesk.domain.codec import encode

    doc: dict[str, Any] = encode(outcome)
    doc["queued"] = seq is not None
    doc["seq"] = seq
    return doc


def outcome_text(outcome: Any, doc: dict[str, Any] | None = None) -> str:
    what = outcome.message or ("done" if outcome.code == "ok" else outcome.code.replace("_", " "))
    lines = [f"{outcome.status.value}: {what}"]
    for key in ("booking_id", "member_id", "sale_id", "entitlement_id"):
        value = (doc or {}).get(key) or outcome.data.get(key)
        if value:
            lines.append(f"  {key.replace('_', ' ')}: {value}")
    if outcome.fix:
        lines.append(f"  what to do: {outcome.fix}")
    lines += [f"  warning: {w.message}" for w in outcome.warnings]
    return "\n".join(lines)


# --- opening a desk -------------------------------------------------------------------------


def open_replica(args: argparse.Namespace) -> Any:
    from frontdesk.local_db import Replica, ReplicaError

    path = Path(args.data_dir) / "replica.db"
    try:
        return Replica(path)
    except ReplicaError as exc:
        raise Fail(EXIT_USAGE, str(exc)) from exc


def signed_in_desk(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """(replica, desk, staff id) of a desk that has signed in at least once."""
    from frontdesk.local_db import Desk

    replica = open_replica(args)
    staff_id = replica.meta("staff_id")
    if not staff_id or not replica.meta("location_id"):
        raise Fail(EXIT_SIGNED_OUT, "This desk is not signed in: run `frontdesk login` first.")
    return replica, Desk(replica), staff_id


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


# --- commands --------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.sync import CloudClient, CloudError, Unreachable, sign_in

    if not args.password_stdin:
        raise Fail(EXIT_USAGE, "Give the password on standard input with --password-stdin.")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise Fail(EXIT_USAGE, "No password on standard input.")
    replica = open_replica(args)

    async def go() -> Any:
        client = CloudClient(args.server, now=desk_now)
        try:
            return await sign_in(
                replica,
                client,
                Path(args.data_dir),
                tenant=args.tenant,
                username=args.user,
                password=password,
                location_id=args.location,
                insecure_storage=args.insecure_storage,
            )
        finally:
            await client.aclose()

    try:
        result, _store = run_async(go())
    except Unreachable as exc:
        raise Fail(EXIT_UNREACHABLE, exc.message) from exc
    except CloudError as exc:
        code = EXIT_SIGNED_OUT if exc.status in (401, 429) else EXIT_REFUSED
        raise Fail(code, f"Sign-in refused: {exc.message}", {"code": exc.code}) from exc
    notes = []
    if result.credential_storage == "memory":
        notes.append(
            "No working keyring on this PC: the sign-in is kept in memory only, so the next "
            "command must sign in again. Use --insecure-storage to keep it in a private file."
        )
    for note in notes:
        print(note, file=sys.stderr)
    out.emit(
        {
            "location": result.location_id,
            "staff_id": result.staff_id,
            "role": result.role,
            "credential_storage": result.credential_storage,
            "notes": notes,
        },
        f"Signed in; this desk is at location {result.location_id} "
        f"(credentials: {result.credential_storage}).",
    )
    return EXIT_OK


def _engine(args: argparse.Namespace, replica: Any) -> Any:
    from frontdesk.sync import NotSignedIn, SyncEngine

    try:
        timeout = float(os.environ.get("FRONTDESK_HTTP_TIMEOUT_S", "15"))
        return SyncEngine.for_replica(replica, Path(args.data_dir), timeout=timeout, now=desk_now)
    except NotSignedIn as exc:
        raise Fail(EXIT_SIGNED_OUT, f"{exc} Run `frontdesk login`.") from exc


def cmd_sync(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.sync import DeviceRevoked, NotSignedIn, Unreachable

    replica, _desk, _staff = signed_in_desk(args)
    engine = _engine(args, replica)

    async def once() -> Any:
        try:
            return await engine.sync_once()
        finally:
            await engine.client.aclose()

    async def forever() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        engine.subscribe(lambda event, payload: log.info("sync %s: %s", event, payload))
        try:
            await engine.run(stop)
        finally:
            await engine.client.aclose()

    try:
        if not args.once:
            run_async(forever())
            pending, attention = _desk_counts(replica)
            out.emit(
                {"stopped": True, "pending": pending, "attention": attention},
                f"Sync stopped: {pending} pending, {attention} need attention.",
            )
            return EXIT_OK
        report = run_async(once())
    except Unreachable as exc:
        raise Fail(EXIT_UNREACHABLE, f"{exc.message} Nothing is lost: the outbox is kept.") from exc
    except (NotSignedIn, DeviceRevoked) as exc:
        raise Fail(EXIT_SIGNED_OUT, str(exc)) from exc
    pending, attention = _desk_counts(replica)
    out.emit(
        {
            "pushed": report.pushed,
            "pulled": report.pulled,
            "pending": pending,
            "attention": attention,
        },
        f"Synced: {report.pushed} pushed, {report.pulled} changes pulled, "
        f"{pending} pending, {attention} need attention.",
    )
    return EXIT_OK


def _desk_counts(replica: Any) -> tuple[int, int]:
    from frontdesk.local_db import Views

    counts: tuple[int, int] = Views(replica).counts()
    return counts


def _reachable(server: str | None) -> bool:
    """Whether the cloud answers right now (a quick health probe)."""
    if not server:
        return False
    from frontdesk.sync import CloudClient

    async def probe() -> bool:
        client = CloudClient(server, timeout=2.0)
        try:
            return await client.health()
        finally:
            await client.aclose()

    return bool(run_async(probe()))


def cmd_status(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.local_db import Views

    replica = open_replica(args)
    views = Views(replica)
    pending, attention = views.counts()
    online = _reachable(replica.meta("server_url"))
    offset = replica.meta("clock_offset_s")
    doc = {
        "online": online,
        "pending": pending,
        "attention": attention,
        "last_sync": replica.meta("last_sync"),
        "location": replica.meta("location_id"),
        "clock_offset_s": float(offset) if offset else None,
        "credential_storage": replica.meta("credential_storage") or "memory",
        "partitions": views.partitions(),
    }
    if doc["credential_storage"] == "file":
        doc["credential_file"] = str(Path(args.data_dir) / "credentials")
    out.emit(
        doc,
        lambda: (
            "\n".join(f"{k}: {v}" for k, v in doc.items() if k != "partitions")
            + f"\npartitions: {len(views.partitions())}"
        ),
    )
    return EXIT_OK


def _parse_day(text: str | None, replica: Any) -> date:
    from frontdesk.local_db import Views

    if text is None:
        return Views(replica).today(desk_now())
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Fail(EXIT_USAGE, f"--date must be YYYY-MM-DD, not {text!r}.") from exc


def cmd_sessions(args: argparse.Namespace, out: Output) -> int:
    replica, desk, _ = signed_in_desk(args)
    day = _parse_day(args.date, replica)
    lines = desk.views.sessions_on(day)
    doc = [
        {
            "id": line.session.id,
            "start": line.start_local.isoformat(),
            "end": line.end_local.isoformat(),
            "class_name": line.session.class_name,
            "coach": line.session.coach_name,
            "room": line.session.room_name,
            "capacity": line.session.capacity,
            "booked": line.booked,
            "checked_in": line.checked_in,
            "waitlisted": line.waitlisted,
            "status": line.session.status.value,
        }
        for line in lines
    ]
    out.emit(
        doc,
        lambda: (
            "\n".join(
                f"{d['start'][11:16]}-{d['end'][11:16]}  {d['class_name']:<20} {d['coach']:<14} "
                f"{d['booked']}/{d['capacity']} booked, {d['checked_in']} in, "
                f"{d['waitlisted']} waiting  {d['id']}"
                for d in doc
            )
            or f"No classes on {day}."
        ),
    )
    return EXIT_OK


def cmd_roster(args: argparse.Namespace, out: Output) -> int:
    _, desk, _ = signed_in_desk(args)
    if desk.views.session(args.session_id) is None:
        raise Fail(EXIT_USAGE, f"No session {args.session_id} on this desk.")
    doc = [
        {
            "booking_id": line.booking.id,
            "member_id": line.booking.member_id,
            "member_name": line.member_name,
            "status": line.booking.status.value,
            "waitlist_position": line.booking.waitlist_position,
        }
        for line in desk.views.roster(args.session_id)
    ]
    out.emit(
        doc,
        lambda: (
            "\n".join(f"{d['status']:<15} {d['member_name']}  {d['booking_id']}" for d in doc)
            or "Nobody is booked."
        ),
    )
    return EXIT_OK


def cmd_search(args: argparse.Namespace, out: Output) -> int:
    _, desk, _ = signed_in_desk(args)
    hits = desk.views.search(args.query, desk.views.today(desk_now()), limit=args.limit)
    doc = [
        {
            "member_id": h.member_id,
            "name": h.name,
            "phone": h.phone,
            "card_code": h.card_code,
            "alerts": [
                {
                    "code": a.code.value,
                    "blocking": a.blocking,
                    "message": a.message,
                    "action": a.action,
                }
                for a in h.alerts
            ],
        }
        for h in hits
    ]
    out.emit(
        doc,
        lambda: (
            "\n".join(
                f"{d['name']:<20} {d['phone']:<16} {d['card_code']:<10} "
                + ", ".join(a["code"] for a in d["alerts"])
                for d in doc
            )
            or "No member matches."
        ),
    )
    return EXIT_OK


#: Refusals that mean the input named nothing that exists: bad input, not a studio rule.
BAD_INPUT_CODES = frozenset({"invalid_arguments", "invalid_value", "missing_required"})


def _finish(out: Output, outcome: Any, seq: int | None, extra: dict[str, Any] | None = None) -> int:
    doc = outcome_document(outcome, seq)
    doc.update(extra or {})
    out.emit(doc, lambda: outcome_text(outcome, doc))
    if outcome.ok:
        return EXIT_OK
    if outcome.code.startswith("unknown_") or outcome.code in BAD_INPUT_CODES:
        return EXIT_USAGE
    return EXIT_REFUSED


def cmd_checkin(args: argparse.Namespace, out: Output) -> int:
    _, desk, staff_id = signed_in_desk(args)
    result = desk.check_in(args.member, staff_id, desk_now(), args.session)
    extra: dict[str, Any] = {
        "member_id": result.member.id if result.member else None,
        "session_id": result.session.id if result.session else None,
    }
    if not result.ok:
        extra["walk_in_sessions"] = [
            {
                "id": line.session.id,
                "class_name": line.session.class_name,
                "start": line.start_local.isoformat(),
                "free": line.free,
            }
            for line in result.walk_in_options
        ]
    return _finish(out, result.outcome, result.seq, extra)


def _member_id(desk: Any, code: str) -> str:
    member = desk.views.member_by_code(code)
    if member is None:
        raise Fail(EXIT_USAGE, f"No member with id or card code {code!r}.")
    return str(member.id)


def cmd_book(args: argparse.Namespace, out: Output) -> int:
    _, desk, staff_id = signed_in_desk(args)
    recorded = desk.act(
        "book",
        staff_id,
        desk_now(),
        member_id=_member_id(desk, args.member),
        session_id=args.session_id,
    )
    return _finish(out, recorded.outcome, recorded.seq)


def cmd_cancel(args: argparse.Namespace, out: Output) -> int:
    _, desk, staff_id = signed_in_desk(args)
    waive = {"waive_penalty": True, "reason": args.reason or ""} if args.waive else {}
    recorded = desk.act("cancel_booking", staff_id, desk_now(), booking_id=args.booking_id, **waive)
    return _finish(out, recorded.outcome, recorded.seq, {"booking_id": args.booking_id})


def _plan_id(desk: Any, wanted: str) -> str:
    """A plan by id or by name (any case), as `frontdesk plans` lists them."""
    from frontdesk.local_db.catalogue import Catalogue

    plans = Catalogue(desk.replica).plans()
    key = wanted.casefold().strip()
    for match in (
        lambda p: key in (p.id, p.name.casefold()),
        lambda p: p.name.casefold().startswith(key),
        lambda p: p.kind.value == key.replace("-", "_"),
    ):
        found = [p for p in plans if match(p)]
        if len(found) == 1:
            return str(found[0].id)
    names = ", ".join(repr(p.name) for p in plans) or "none on this desk yet (sync first)"
    raise Fail(EXIT_USAGE, f"No plan {wanted!r}. Plans: {names}.")


def cmd_plans(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.local_db.catalogue import Catalogue

    _, desk, _ = signed_in_desk(args)
    doc: list[dict[str, Any]] = [
        {
            "id": p.id,
            "name": p.name,
            "kind": p.kind.value,
            "price_cents": p.price_cents,
            "credits": p.credits,
            "validity_days": p.validity_days,
        }
        for p in Catalogue(desk.replica).plans()
    ]
    out.emit(
        doc,
        lambda: (
            "\n".join(
                f"{d['name']:<24} {d['kind']:<13} {d['price_cents'] / 100:>9.2f}  {d['id']}"
                for d in doc
            )
            or "No plans on this desk yet: sync first."
        ),
    )
    return EXIT_OK


def cmd_walk_in(args: argparse.Namespace, out: Output) -> int:
    _, desk, staff_id = signed_in_desk(args)
    command: dict[str, Any] = {
        "session_id": args.session_id,
        "method": args.method,
        "paid": not args.unpaid,
    }
    if args.member:
        command["member_id"] = _member_id(desk, args.member)
    elif args.name:
        command["guest"] = {
            "name": args.name,
            "phone": args.phone or "",
            "email": args.email or "",
            "card_code": args.card or "",
        }
    else:
        raise Fail(EXIT_USAGE, "Give --member for a known member or --name for a new guest.")
    if args.plan:
        command["plan_id"] = _plan_id(desk, args.plan)
    if args.price is not None:
        command["price_cents"] = round(args.price * 100)
    recorded = desk.act("walk_in", staff_id, desk_now(), **command)
    return _finish(out, recorded.outcome, recorded.seq)


def cmd_attention(args: argparse.Namespace, out: Output) -> int:
    replica = open_replica(args)
    from frontdesk.local_db import Views

    doc = Views(replica).attention(include_resolved=args.all)
    out.emit(
        doc,
        lambda: (
            "\n".join(
                f"#{d['seq']} {d['command']}: {d['status']} {d['code']} — "
                + "; ".join(
                    [str(d["message"])] * bool(d["message"])
                    + [str(w.get("message", "")) for w in d["warnings"]]  # type: ignore[attr-defined]
                )
                + (f" (what to do: {d['fix']})" if d["fix"] else "")
                for d in doc
            )
            or "Nothing needs attention."
        ),
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    if getattr(sys, "frozen", False):
        # The demo's cloud runs from the source tree; an installed desk has none to start.
        raise Fail(
            EXIT_USAGE,
            "The demo runs from a FrontDesk source checkout (`make demo`). An installed desk "
            "signs in to your studio's cloud: run `frontdesk` and sign in.",
        )
    from frontdesk.demo import DemoError, run

    # The demo's own studio must never mix with a real desk's data folder.
    folder = Path(args.data_dir) if args.data_dir_given else Path(args.data_dir) / "demo"
    try:
        return run(
            folder,
            screenshot=Path(args.screenshot) if args.screenshot else None,
            quit_after=args.quit_after,
            members=args.members,
        )
    except DemoError as exc:
        raise Fail(EXIT_USAGE, str(exc)) from exc


def cmd_window(args: argparse.Namespace, out: Output) -> int:
    from frontdesk.ui.app import main as window_main

    return int(window_main(Path(args.data_dir)))


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print exactly one JSON document on stdout",
    )
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="this desk's data folder (default: the per-user data folder)",
    )
    parser = argparse.ArgumentParser(
        prog="frontdesk",
        description="FrontDesk: the studio front desk that works offline.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"frontdesk {__version__}")
    sub = parser.add_subparsers(dest="command")

    def add(name: str, handler: Callable[[argparse.Namespace, Output], int], help_: str) -> Any:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    p = add("login", cmd_login, "register this desk with the cloud and sign in")
    p.add_argument("--server", required=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--location")
    p.add_argument(
        "--insecure-storage",
        action="store_true",
        help="keep the sign-in in a private file when no keyring works",
    )
    p = add("sync", cmd_sync, "push the outbox and pull changes (live unless --once)")
    p.add_argument("--once", action="store_true")
    add("status", cmd_status, "sync status of this desk")
    p = add("sessions", cmd_sessions, "the location's classes for a day")
    p.add_argument("--date")
    p = add("roster", cmd_roster, "who is booked in a class")
    p.add_argument("session_id")
    p = add("search", cmd_search, "find members by name, phone, card or pinyin")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p = add("checkin", cmd_checkin, "check a member in (id or card code)")
    p.add_argument("member")
    p.add_argument("--session")
    p = add("book", cmd_book, "book a member into a class")
    p.add_argument("member")
    p.add_argument("session_id")
    p = add("cancel", cmd_cancel, "cancel a booking (early or late, by the studio's policy)")
    p.add_argument("booking_id")
    p.add_argument("--waive", action="store_true", help="waive a late-cancel penalty (manager)")
    p.add_argument("--reason")
    p = add("walk-in", cmd_walk_in, "a walk-in: known member or new guest, sale, check-in")
    p.add_argument("session_id")
    p.add_argument("--member")
    p.add_argument("--name")
    p.add_argument("--phone")
    p.add_argument("--email")
    p.add_argument("--card")
    p.add_argument("--plan", help="sell this plan first (its name or id; see `plans`)")
    p.add_argument("--price", type=float, help="price, when not the plan's")
    p.add_argument(
        "--method", default="cash", choices=["cash", "card", "wechat_pay", "alipay", "other"]
    )
    p.add_argument("--unpaid", action="store_true")
    add("plans", cmd_plans, "the passes and drop-ins this studio sells")
    p = add("attention", cmd_attention, "commands the cloud rejected or warned about")
    p.add_argument("--all", action="store_true", help="include resolved items")
    p = add("demo", cmd_demo, "an embedded cloud, a seeded studio and a signed-in window")
    p.add_argument("--screenshot", help="save a PNG of the window after the first sync")
    p.add_argument("--quit-after", type=float, help="close the window after this many seconds")
    p.add_argument("--members", type=int, default=500)
    from frontdesk import cli_data  # import members|schedule, export

    cli_data.register(add, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.json = getattr(args, "json", False)
    args.data_dir_given = getattr(args, "data_dir", None) is not None
    args.data_dir = getattr(args, "data_dir", None) or str(default_data_dir())
    logging.basicConfig(
        level=os.environ.get("FRONTDESK_LOG", "WARNING"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    out = Output(args.json)
    handler = getattr(args, "handler", None) or cmd_window
    try:
        return int(handler(args, out))
    except Fail as exc:
        if args.json:
            json.dump({"error": exc.message, **exc.payload}, sys.stdout, ensure_ascii=False)
            sys.stdout.write("\n")
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `frontdesk ... | head`: the reader went away; that is not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
