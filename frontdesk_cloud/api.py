"""The HTTP API (docs/sync-api.md): thin routes over accounts and sync.

Routes declare no body parameters: the authentication dependency runs first, then the
handler reads and checks the body itself, so an unauthenticated request's body is never
read. Bad input answers 4xx with `{"error": {"code", "message"}}`, never 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import frontdesk
from frontdesk.protocol import (
    DeviceRegistration,
    DeviceRequest,
    LiveAnswer,
    LoginRequest,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    TokenPair,
    to_json,
)

from . import sync
from .accounts import Accounts, ApiError, Principal
from .db import UNAVAILABLE, Database
from .live import FeedWatcher
from .openapi import answer, body
from .settings import Settings
from .store import TenantStore

log = logging.getLogger(__name__)

MAX_LIVE_WAIT = 30.0
_RECHECK_SECONDS = 5.0  # a long-poll re-reads the counter this often, whatever it heard
#: A revoked desk's long-poll is refused within this many seconds (its pushes at once).
LIVE_DEVICE_REUSE_S = 10.0


@dataclass
class Cloud:
    """What the routes work with; built once per app by `create_app`."""

    settings: Settings
    db: Database
    accounts: Accounts
    watcher: FeedWatcher

    def position(self, tenant_id: str) -> int:
        with self.db.transaction(tenant_id) as conn:
            return TenantStore(conn, tenant_id).feed_state()[0]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing oversized, non-UTF-8 or malformed bodies."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", f"The request body is over {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"The request body is over {limit} bytes.")
        chunks.append(chunk)
    try:
        value = json.loads(b"".join(chunks).decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "The body is nested too deeply.") from None
    try:
        # A JSON escape can smuggle in a lone surrogate, which is not text: refuse it here
        # rather than fail later when it is hashed or stored.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "malformed_json", "The body holds invalid text (a lone surrogate)."
        ) from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "The body is nested too deeply.") from None
    return value


async def caller(request: Request) -> Principal:
    """The one authentication dependency: it runs before any body is read."""
    cloud: Cloud = request.app.state.cloud
    return await run_in_threadpool(
        cloud.accounts.authenticate, request.headers.get("authorization")
    )


Caller = Annotated[Principal, Depends(caller)]


async def live_caller(request: Request) -> Principal:
    """The caller of the live signal: a desk's record may be up to LIVE_DEVICE_REUSE_S old."""
    cloud: Cloud = request.app.state.cloud
    authorization = request.headers.get("authorization")
    known = cloud.accounts.recent(authorization, LIVE_DEVICE_REUSE_S)
    if known is not None:
        return known
    return await run_in_threadpool(
        partial(cloud.accounts.authenticate, authorization, reuse_s=LIVE_DEVICE_REUSE_S)
    )


LiveCaller = Annotated[Principal, Depends(live_caller)]


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """The service. It does not migrate: run `frontdesk-cloud migrate` first."""
    database = db or Database.open(settings.database_url, pool_size=settings.pool_size)
    cloud = Cloud(settings, database, Accounts(database, settings),
                  FeedWatcher(database, settings.live_poll_seconds))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        cloud.watcher.close()
        if db is None:
            database.dispose()

    app = FastAPI(title="FrontDesk cloud", version=frontdesk.__version__, lifespan=lifespan)
    app.state.cloud = cloud

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return _error(422, "invalid_request", problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    async def _unavailable(_request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", exc)
        return _error(503, "unavailable", "The database is not answering; try again shortly.",
                      {"Retry-After": "1"})

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)

    limit = settings.max_body_bytes

    @app.get("/health")
    async def health() -> Response:
        try:
            await run_in_threadpool(database.ping)
        except sa.exc.DBAPIError:
            return _error(503, "unavailable", "The database is not answering.")
        return JSONResponse({"status": "ok", "server_time": to_json(settings.clock())})

    @app.post("/v1/auth/login", openapi_extra=body(LoginRequest), responses=answer(TokenPair))
    async def login(request: Request) -> Response:
        req = sync.decode_message(LoginRequest, await read_json(request, limit))
        address = request.client.host if request.client else "unknown"
        pair = await run_in_threadpool(cloud.accounts.login, req, address)
        return JSONResponse(to_json(pair))

    @app.post("/v1/auth/refresh", openapi_extra=body(RefreshRequest), responses=answer(TokenPair))
    async def refresh(request: Request) -> Response:
        req = sync.decode_message(RefreshRequest, await read_json(request, limit))
        return JSONResponse(to_json(await run_in_threadpool(cloud.accounts.refresh,
                                                            req.refresh_token)))

    @app.post("/v1/devices", openapi_extra=body(DeviceRequest),
              responses=answer(DeviceRegistration))
    async def register_device(request: Request, who: Caller) -> Response:
        req = sync.decode_message(DeviceRequest, await read_json(request, limit))
        return JSONResponse(to_json(await run_in_threadpool(cloud.accounts.register_device,
                                                            who, req)))

    @app.post("/v1/sync/push", openapi_extra=body(PushRequest), responses=answer(PushResponse))
    async def push(request: Request, who: Caller) -> Response:
        data = await read_json(request, limit)
        result = await run_in_threadpool(sync.push, database, who, data, settings.clock(),
                                         cloud.watcher.announce)
        return JSONResponse(to_json(result))

    @app.post("/v1/sync/pull", openapi_extra=body(PullRequest), responses=answer(PullResponse))
    async def pull(request: Request, who: Caller) -> Response:
        data = await read_json(request, limit)
        content = await run_in_threadpool(sync.pull, database, who, data, settings.clock())
        return Response(content, media_type="application/json")

    @app.get("/v1/sync/live", responses=answer(LiveAnswer))
    async def live(
        who: LiveCaller,
        position: Annotated[int, Query(ge=0, le=2**62)],
        timeout: Annotated[float, Query(ge=0, le=3600)] = 25.0,
    ) -> Response:
        who.require_device()
        tenant_id = who.tenant_id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, MAX_LIVE_WAIT)

        async def current_position() -> int:
            # The watcher only learns positions that committed (a NOTIFY is delivered on
            # commit; pushes in this process announce after theirs): when it already knows
            # one past the desk's, that answers without a database round trip.
            # While it listens without a break it has heard every commit since it learned
            # the tenant's figure, so that figure is the latest one (see FeedWatcher.sure).
            known = cloud.watcher.latest(tenant_id)
            if known > position or cloud.watcher.sure(tenant_id):
                return known
            return await run_in_threadpool(cloud.position, tenant_id)

        current = await current_position()
        rechecked = loop.time()
        while current <= position:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await cloud.watcher.wait(tenant_id, position, min(remaining, _RECHECK_SECONDS))
            if loop.time() - rechecked >= _RECHECK_SECONDS:  # whatever it heard or not
                current = await run_in_threadpool(cloud.position, tenant_id)
                rechecked = loop.time()
            else:
                current = await current_position()
        reply = LiveAnswer(position=current, changed=current > position,
                           server_time=settings.clock())
        return JSONResponse(to_json(reply))

    return app
