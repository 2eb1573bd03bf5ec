"""The cloud's HTTP API as async calls; measures the clock offset at every contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from frontdesk.domain.codec import DecodeError, parse_datetime
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
    from_json,
    to_json,
)

T = TypeVar("T")


class CloudError(Exception):
    """The cloud answered no; `code` is its reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Unreachable(CloudError):
    """No answer (network down, timeout) or a server failure (5xx): try again later."""


class Unauthorized(CloudError):
    """401: the token is missing, expired, forged or revoked."""


class CloudClient:
    """One cloud address. Access tokens come from the caller (see `sync.session`)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        #: This PC's clock: the clock offset is measured against it.
        self.now = now
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)
        self.clock_offset_s: float | None = None
        self.last_contact: datetime | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        answer: type[T],
        body: object | None = None,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> T:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = self.now().timestamp()
        try:
            response = await self.http.request(
                method,
                path,
                json=None if body is None else to_json(body),
                headers=headers,
                params=params,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise Unreachable(0, "unreachable", f"Cannot reach {self.base_url}: {exc}") from exc
        ended = self.now().timestamp()
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 500 or data is None:
            raise Unreachable(
                response.status_code, "server_error", f"The cloud answered {response.status_code}."
            )
        if response.status_code >= 400:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            cls = Unauthorized if response.status_code == 401 else CloudError
            raise cls(
                response.status_code,
                str(error.get("code", "error")),
                str(error.get("message", response.text[:200])),
            )
        self._measure(started, ended, data)
        try:
            return from_json(answer, data)
        except DecodeError as exc:
            raise Unreachable(
                response.status_code, "bad_answer", f"Unreadable answer: {exc}"
            ) from exc

    def _measure(self, started: float, ended: float, data: object) -> None:
        """Offset = cloud time minus this PC's time at the middle of the round trip."""
        self.last_contact = self.now()
        server_time = data.get("server_time") if isinstance(data, dict) else None
        if not isinstance(server_time, str):
            return
        try:
            cloud = parse_datetime(server_time)
        except DecodeError:
            return
        middle = datetime.fromtimestamp((started + ended) / 2, UTC)
        self.clock_offset_s = (cloud - middle) / timedelta(seconds=1)

    async def health(self) -> bool:
        try:
            response = await self.http.get("/health", timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def login(self, tenant: str, username: str, password: str) -> TokenPair:
        return await self._call(
            "POST", "/v1/auth/login", TokenPair, LoginRequest(tenant, username, password)
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        return await self._call(
            "POST", "/v1/auth/refresh", TokenPair, RefreshRequest(refresh_token)
        )

    async def register(self, token: str, request: DeviceRequest) -> DeviceRegistration:
        return await self._call("POST", "/v1/devices", DeviceRegistration, request, token)

    async def push(self, token: str, request: PushRequest) -> PushResponse:
        return await self._call("POST", "/v1/sync/push", PushResponse, request, token)

    async def pull(self, token: str, request: PullRequest) -> PullResponse:
        return await self._call("POST", "/v1/sync/pull", PullResponse, request, token)

    async def live(self, token: str, position: int, wait_s: float) -> LiveAnswer:
        return await self._call(
            "GET",
            "/v1/sync/live",
            LiveAnswer,
            token=token,
            params={"position": position, "timeout": wait_s},
            timeout=wait_s + 10,
        )
