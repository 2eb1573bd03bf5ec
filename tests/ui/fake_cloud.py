"""A small in-process cloud over httpx.MockTransport, for the window's sync flows.

It runs pushed commands through the domain (as a replay, like the real cloud), keeps a
change feed, serves pulls by cursor and answers long-polls; `online = False` makes every
request fail as if the network were down, and `skew_s` shifts the time it reports.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from frontdesk.domain import Context, execute
from frontdesk.domain.codec import encode
from frontdesk.domain.model import KIND_OF, Location, Session, StaffMember
from frontdesk.protocol import (
    Change,
    CommandOutcome,
    DeviceRegistration,
    LiveAnswer,
    LoginRequest,
    PullPage,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    TokenPair,
    from_json,
    partition_for,
    to_json,
)
from tests.studio import Studio


class FakeCloud:
    def __init__(self, studio: Studio, tenant_slug: str, tenant_id: str) -> None:
        self.studio = studio
        self.slug = tenant_slug
        self.tenant_id = tenant_id
        self.passwords: dict[str, tuple[str, str]] = {}  # username -> (password, staff id)
        self.online = True
        self.skew_s = 0.0
        self.position = 1  # what the desk's fixture replica already holds
        self.feed: list[tuple[int, str, Change]] = []  # (position, partition, change)
        self.last_seq: dict[str, int] = {}
        self.pushed: list[str] = []  # command names in the order applied
        self.lock = threading.Lock()
        self.transport = httpx.MockTransport(self.handle)

    # -- helpers ---------------------------------------------------------------------
    def server_time(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skew_s)

    def _tz(self, location_id: str) -> str:
        location = self.studio.state.get(Location, location_id)
        assert location is not None
        return location.timezone

    def _partition(self, entity: object) -> str | None:
        return partition_for(entity, self._tz, lambda sid: self.studio.state.get(Session, sid))

    def _tokens(self, staff: StaffMember) -> TokenPair:
        return TokenPair(
            access_token="access-" + uuid.uuid4().hex,
            refresh_token="refresh-" + uuid.uuid4().hex,
            expires_in=600,
            staff_id=staff.id,
            role=staff.role.value,
            location_ids=staff.location_ids,
            tenant_id=self.tenant_id,
            server_time=self.server_time(),
        )

    def publish(self, entities: list[object]) -> None:
        """Put entities into the cloud's state and its change feed."""
        with self.lock:
            self.studio.state.apply(entities)
            for entity in entities:
                part = self._partition(entity)
                if part is None:
                    continue
                self.position += 1
                change = Change(KIND_OF[type(entity)], entity.id, encode(entity), self.position)  # type: ignore[attr-defined]
                self.feed.append((self.position, part, change))

    # -- the HTTP API --------------------------------------------------------------------
    async def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("the cloud is unreachable", request=request)
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        if path == "/v1/auth/login":
            login = from_json(LoginRequest, body)
            known = self.passwords.get(login.username)
            if login.tenant != self.slug or known is None or known[0] != login.password:
                return self._error(
                    401, "bad_credentials", "The studio, username or password is wrong."
                )
            staff = self.studio.state.get(StaffMember, known[1])
            assert staff is not None
            return self._ok(self._tokens(staff))
        if path == "/v1/auth/refresh":
            staff = next(iter(self.studio.staff.values()))
            return self._ok(self._tokens(staff))
        if path == "/v1/devices":
            return self._ok(
                DeviceRegistration(
                    device_id="device-1",
                    client_id="test-client",
                    location_id=body["location_id"],
                    refresh_token="refresh-" + uuid.uuid4().hex,
                    access_token="access-" + uuid.uuid4().hex,
                    expires_in=600,
                )
            )
        if path == "/v1/sync/push":
            return self._ok(self._push(from_json(PushRequest, body)))
        if path == "/v1/sync/pull":
            return self._ok(self._pull(from_json(PullRequest, body)))
        if path == "/v1/sync/live":
            since = int(request.url.params.get("position", "0"))
            wait = float(request.url.params.get("timeout", "1"))
            deadline = asyncio.get_running_loop().time() + min(wait, 2.0)
            while self.position <= since and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)  # the fake server's long-poll, not a test wait
            return self._ok(LiveAnswer(self.position, self.position > since, self.server_time()))
        return self._error(404, "not_found", path)

    def _push(self, request: PushRequest) -> PushResponse:
        outcomes = []
        for env in request.commands:
            if env.seq <= self.last_seq.get(request.client_id, 0):
                continue
            staff = self.studio.state.get(StaffMember, env.staff_id)
            assert staff is not None, "unknown staff"
            ctx = Context(
                env.corrected_time(), staff, env.location_id, self.studio.policy, replay=True
            )
            result = execute(
                env.name, env.version, env.args, env.command_id, ctx, self.studio.state
            )
            if result.outcome.ok:
                self.publish(result.changes)
                self.pushed.append(env.name)
            self.last_seq[request.client_id] = env.seq
            outcomes.append(CommandOutcome.of(env, result.outcome, self.position))
        return PushResponse(
            tuple(outcomes), self.last_seq.get(request.client_id, 0), self.server_time()
        )

    def _pull(self, request: PullRequest) -> PullResponse:
        pages = []
        with self.lock:
            for wanted in request.partitions:
                if wanted.cursor is None:
                    changes = self._whole(wanted.name)
                else:
                    since = int(wanted.cursor.rsplit(":", 1)[-1])
                    changes = [
                        c for pos, part, c in self.feed if part == wanted.name and pos > since
                    ]
                pages.append(PullPage(wanted.name, tuple(changes), f"v1:0:{self.position}", False))
            position = self.position
        return PullResponse(tuple(pages), position, self.server_time())

    def _whole(self, partition: str) -> list[Change]:
        out = []
        for cls in list(self.studio.state.rows):
            for entity in self.studio.state.all(cls):
                if self._partition(entity) == partition:
                    out.append(Change(KIND_OF[cls], entity.id, encode(entity), self.position))
        return out

    def _ok(self, message: Any) -> httpx.Response:
        return httpx.Response(200, json=to_json(message))

    @staticmethod
    def _error(status: int, code: str, message: str) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": code, "message": message}})
