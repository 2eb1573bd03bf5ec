"""Push (commands up, exactly once) and pull (rows down, by server position).

See docs/sync-api.md. A push batch is one transaction holding the tenant's feed lock,
with a savepoint per command; each command re-runs through `frontdesk.domain.execute`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from frontdesk.domain import Context, execute
from frontdesk.domain.model import Booking, Sale, StaffMember
from frontdesk.domain.outcome import Notice, Outcome, Status
from frontdesk.protocol import (
    MAX_BATCH,
    MAX_PAGE,
    CommandEnvelope,
    CommandOutcome,
    DecodeError,
    PullRequest,
    PushRequest,
    PushResponse,
    from_json,
    parse_partition,
    to_json,
)

from .accounts import ApiError, Principal
from .db import DRIVER_ERRORS, Database
from .store import AppliedRecord, FeedRow, TenantStore, dumps

log = logging.getLogger(__name__)

MAX_PARTITIONS = 100  # in one pull request
#: Command arguments naming rows whose values decide capacity, credits or money.
_ID_ARGS = {"session_id": "session", "booking_id": "booking", "member_id": "member",
            "entitlement_id": "entitlement", "sale_id": "sale", "keep_id": "member",
            "merge_id": "member"}
_MEMBER_ARGS = ("member_id", "keep_id", "merge_id")

#: Called after a commit that moved a tenant's feed: (tenant id, new position).
FeedListener = Callable[[str, int], None]


def decode_message(cls: type[Any], body: Any) -> Any:
    try:
        return from_json(cls, body)
    except DecodeError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None


# --- push --------------------------------------------------------------------------------


def push(
    db: Database, principal: Principal, body: Any, received: datetime,
    on_commit: FeedListener | None = None,
) -> PushResponse:
    device = principal.require_device()
    commands = body.get("commands") if isinstance(body, dict) else None
    if isinstance(commands, list) and len(commands) > MAX_BATCH:
        raise ApiError(413, "batch_too_large",
                       f"At most {MAX_BATCH} commands in one push; send the rest next.")
    if isinstance(commands, list) and not commands:
        raise ApiError(422, "empty_batch", "A push needs at least one command.")
    request: PushRequest = decode_message(PushRequest, body)
    if request.client_id != device.client_id:
        raise ApiError(403, "wrong_client", "This client id belongs to another desk.")
    for env in request.commands:
        if env.seq < 1 or not 0 < len(env.command_id) <= 64:
            raise ApiError(422, "invalid_request",
                           "Each command needs a seq from 1 and a command id of 1-64 characters.")
    tenant_id = principal.tenant_id
    with db.transaction(tenant_id, write=True) as conn:
        store = TenantStore(conn, tenant_id)
        start_position = store.lock_feed()
        store.defer_positions()
        last = store.last_seq(request.client_id)
        resent = [e.seq for e in request.commands if e.seq <= last]
        stored = store.applied(request.client_id, resent)
        fresh = _check_sequence(request.commands, last, stored)
        policy = store.tenant().policy
        _read_ahead(store, [env.args for env in fresh])
        outcomes: dict[int, CommandOutcome] = {
            seq: from_json(CommandOutcome, stored[seq].outcome) for seq in stored
        }
        records = []
        with store.pipelined():
            for env in fresh:
                outcome = _run(store, principal, env, policy, received)
                records.append(AppliedRecord(env.seq, env.command_id, env.content_hash(),
                                             to_json(outcome), outcome.feed_position))
                outcomes[env.seq] = outcome
                last = env.seq
        store.record_applied(request.client_id, records, received)
        store.set_last_seq(request.client_id, last)
        store.flush_positions()
        end_position = store.feed_state()[0]
        if end_position != start_position and db.is_postgres:
            conn.execute(sa.text("SELECT pg_notify('frontdesk_feed', :payload)"),
                         {"payload": f"{tenant_id}:{end_position}"})
    if on_commit is not None and end_position != start_position:
        on_commit(tenant_id, end_position)
    return PushResponse(
        outcomes=tuple(outcomes[e.seq] for e in request.commands),
        last_seq=last,
        server_time=received,
    )


def _check_sequence(
    commands: tuple[CommandEnvelope, ...], last: int, stored: dict[int, Any]
) -> list[CommandEnvelope]:
    """The commands to run; refuses the whole batch on a conflict or a gap."""
    expected = last + 1
    fresh: list[CommandEnvelope] = []
    seen: dict[int, CommandEnvelope] = {}
    for env in commands:
        if env.seq <= last:
            known = stored.get(env.seq)
            if known is None or (known.command_id, known.content_hash) != (
                env.command_id, env.content_hash()
            ):
                raise ApiError(409, "sequence_conflict",
                               f"Sequence {env.seq} was already used by another command: this "
                               "desk's outbox does not match the cloud (a restored or copied "
                               "desk?). Nothing in this batch was applied.")
            continue
        if env.seq in seen:
            if (seen[env.seq].command_id, seen[env.seq].content_hash()) != (
                env.command_id, env.content_hash()
            ):
                raise ApiError(409, "sequence_conflict",
                               f"Sequence {env.seq} appears twice in this batch with different "
                               "commands. Nothing in this batch was applied.")
            continue
        if env.seq != expected:
            raise ApiError(409, "sequence_gap",
                           f"Expected sequence {expected} next, got {env.seq}. Nothing in this "
                           "batch was applied.")
        seen[env.seq] = env
        fresh.append(env)
        expected += 1
    return fresh


def _rejected(env: CommandEnvelope, code: str, message: str, position: int) -> CommandOutcome:
    return CommandOutcome.of(env, Outcome(Status.REJECTED, code=code, message=message), position)


def _judged_time(env: CommandEnvelope, received: datetime, tolerance: int) -> tuple[datetime, bool]:
    """The business time a command is judged at, and whether the desk clock was off."""
    try:
        corrected = env.corrected_time()
    except (OverflowError, ValueError):
        return received, True
    if abs(corrected - received) > timedelta(seconds=tolerance):
        return received, True
    return corrected, False


def _run(
    store: TenantStore, principal: Principal, env: CommandEnvelope, policy: Any,
    received: datetime,
) -> CommandOutcome:
    device = principal.require_device()
    position = store.feed_state()[0]
    if env.location_id != device.location_id:
        return _rejected(env, "wrong_location",
                         "This desk is registered at another location.", position)
    actor = store.get(StaffMember, env.staff_id)
    if actor is None or not actor.active:
        return _rejected(env, "not_allowed",
                         "The staff member who did this is not an active member of staff here.",
                         position)
    if actor.location_ids and device.location_id not in actor.location_ids:
        return _rejected(env, "wrong_location",
                         f"{actor.name} does not work at this location.", position)
    now, skewed = _judged_time(env, received, policy.clock_tolerance_seconds)
    _lock_contested(store, env.args)
    ctx = Context(now=now, actor=actor, location_id=device.location_id, policy=policy,
                  replay=True)
    try:
        result = execute(env.name, env.version, env.args, env.command_id, ctx, store)
        if result.changes:
            with store.savepoint():
                position = store.write(result.changes)
    except DRIVER_ERRORS:
        raise
    except Exception:
        # A bug must not wedge the desk's queue: the command is refused and logged, and
        # the savepoint has undone whatever it had written.
        log.exception("command %s (%s) failed", env.command_id, env.name)
        return _rejected(env, "internal_error",
                         "The cloud could not run this command; support has the details.",
                         position)
    outcome = result.outcome
    if skewed and outcome.ok:
        outcome = Outcome(
            Status.APPLIED_WITH_WARNING, outcome.code, outcome.message, outcome.fix,
            (*outcome.warnings, Notice(
                "clock_skew",
                "This PC's clock was wrong when this happened; the cloud judged it at the "
                "time it arrived.",
                "Set this PC's clock to the right time.",
            )),
            outcome.subject_id, outcome.data,
        )
    return CommandOutcome.of(env, outcome, position)


def _read_ahead(store: TenantStore, batch: list[Any]) -> None:
    """Lock and read every row the batch names in a few queries, not a few per command.

    The feed lock is held, so what is read stays true for the whole batch.
    """
    args = [a for a in batch if isinstance(a, dict)]
    keys = [(kind, v) for a in args for name, kind in _ID_ARGS.items()
            if isinstance(v := a.get(name), str)]
    members = {v for a in args for k in _MEMBER_ARGS if isinstance(v := a.get(k), str)}
    store.lock_rows(keys, members)
    bookings = [b for kind, i in keys if kind == "booking" and (b := store.get(Booking, i))]
    store.lock_rows([("session", b.session_id) for b in bookings],
                    [b.member_id for b in bookings])
    members |= {b.member_id for b in bookings}
    sessions = {i for kind, i in keys if kind == "session"} | {b.session_id for b in bookings}
    store.read_ahead(Booking, "session_id", sessions)
    store.read_ahead(Booking, "member_id", members)
    store.read_ahead(Sale, "member_id", members)


def _lock_contested(store: TenantStore, args: Any) -> None:
    """Lock the rows where capacity and credits are decided before the rules read them."""
    if not isinstance(args, dict):
        return
    keys = [(kind, v) for name, kind in _ID_ARGS.items() if isinstance(v := args.get(name), str)]
    members = [v for k in _MEMBER_ARGS if isinstance(v := args.get(k), str)]
    store.lock_rows(keys, members)
    booking_id = args.get("booking_id")
    if isinstance(booking_id, str):
        booking = store.get(Booking, booking_id)
        if booking is not None:
            store.lock_rows([("session", booking.session_id)], [booking.member_id])


# --- pull --------------------------------------------------------------------------------


def cursor_text(epoch: int, position: int) -> str:
    return f"v1:{epoch}:{position}"


def read_cursor(cursor: str | None, epoch: int, latest: int) -> int | None:
    """The position a cursor stands for; None when it is not one we can continue."""
    if cursor is None:
        return 0
    parts = cursor.split(":")
    if len(parts) != 3 or parts[0] != "v1" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    if int(parts[1]) != epoch or int(parts[2]) > latest:
        return None
    return int(parts[2])


def pull(db: Database, principal: Principal, body: Any, server_time: datetime) -> bytes:
    """A PullResponse as JSON bytes; rows go out as stored, without re-encoding."""
    device = principal.require_device()
    request: PullRequest = decode_message(PullRequest, body)
    if request.limit < 1:
        raise ApiError(422, "invalid_request", "limit must be at least 1.")
    limit = min(request.limit, MAX_PAGE)
    if not request.partitions:
        raise ApiError(422, "invalid_request", "Name at least one partition.")
    if len(request.partitions) > MAX_PARTITIONS:
        raise ApiError(422, "invalid_request", f"At most {MAX_PARTITIONS} partitions at once.")
    for wanted in request.partitions:
        try:
            kind, location_id, _ = parse_partition(wanted.name)
        except ValueError as exc:
            raise ApiError(422, "invalid_partition", str(exc)) from None
        if kind == "schedule" and location_id != device.location_id.lower():
            raise ApiError(403, "wrong_location",
                           "This desk pulls the schedule of its own location only.")
    pages: list[str] = []
    with db.transaction(principal.tenant_id, snapshot=True) as conn:
        store = TenantStore(conn, principal.tenant_id)
        latest, epoch = store.feed_state()
        for wanted in request.partitions:
            after = read_cursor(wanted.cursor, epoch, latest)
            reset = after is None
            start = after or 0
            rows = store.feed(wanted.name, start, limit + 1,
                              tombstones_too=wanted.cursor is not None and not reset)
            more = len(rows) > limit
            rows = rows[:limit]
            end = rows[-1].position if more else max(start, latest)
            changes = ",".join(_change_json(r) for r in rows)
            pages.append(
                f'{{"partition":{json.dumps(wanted.name)},"changes":[{changes}],'
                f'"cursor":"{cursor_text(epoch, end)}",'
                f'"more":{_flag(more)},"reset":{_flag(reset)}}}'
            )
    answer = (
        f'{{"pages":[{",".join(pages)}],"position":{latest},'
        f'"server_time":{dumps(to_json(server_time))}}}'
    )
    return answer.encode()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _change_json(row: FeedRow) -> str:
    """A Change as JSON, with the row's stored JSON text spliced in as it is."""
    data = row.data if row.data is not None else "null"
    return (
        f'{{"kind":"{row.kind}","id":{json.dumps(row.id)},'
        f'"data":{data},"position":{row.position}}}'
    )
