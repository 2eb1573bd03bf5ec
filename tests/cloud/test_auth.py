"""Sign-in, tokens, refresh rotation with a grace period, devices, login rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from frontdesk.domain.model import Role, StaffMember
from frontdesk.protocol import MEMBERS
from frontdesk_cloud import api
from frontdesk_cloud.admin import revoke_device
from tests.cloud.studio import (
    PASSWORD,
    SIGNING_KEY,
    Backend,
    Clock,
    CloudStudio,
    Desk,
    app_for,
    bearer,
    login,
)


def test_login_gives_tokens_for_the_staff_member(client: TestClient, studio: CloudStudio
                                                 ) -> None:
    pair = login(client, studio, Role.FRONT_DESK)
    assert pair["role"] == "front_desk"
    assert pair["staff_id"] == studio.staff[Role.FRONT_DESK].id
    assert pair["location_ids"] == [studio.main.id]
    assert pair["expires_in"] == 900
    claims = jwt.decode(pair["access_token"], SIGNING_KEY, algorithms=["HS256"])
    assert claims["typ"] == "access" and claims["dev"] is None
    assert claims["tid"] == studio.tenant_id and claims["exp"] - claims["iat"] == 900


@pytest.mark.parametrize("field,value", [("password", "wrong-password"),
                                         ("username", "nobody"), ("tenant", "no-such-studio")])
def test_bad_credentials_are_refused_alike(client: TestClient, studio: CloudStudio, field: str,
                                           value: str) -> None:
    body = {"tenant": studio.slug, "username": studio.usernames[Role.OWNER],
            "password": PASSWORD, field: value}
    answer = client.post("/v1/auth/login", json=body)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_credentials"


def test_an_inactive_staff_member_cannot_sign_in(client: TestClient, studio: CloudStudio
                                                 ) -> None:
    from dataclasses import replace

    studio.write(replace(studio.staff[Role.COACH], active=False))
    answer = client.post("/v1/auth/login", json={"tenant": studio.slug, "password": PASSWORD,
                                                 "username": studio.usernames[Role.COACH]})
    assert answer.status_code == 401


def test_login_attempts_are_limited_in_the_database(backend: Backend, studio: CloudStudio,
                                                    clock: Clock) -> None:
    """Limits hold across workers: two apps on one database share the count."""
    body = {"tenant": studio.slug, "username": studio.usernames[Role.OWNER], "password": "nope"}
    with TestClient(app_for(backend, clock)) as one, TestClient(app_for(backend, clock)) as two:
        for attempt in range(5):
            answer = (one if attempt % 2 else two).post("/v1/auth/login", json=body)
            assert answer.status_code == 401
        limited = one.post("/v1/auth/login", json=dict(body, password=PASSWORD))
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 15 * 60 + 1
        assert two.post("/v1/auth/login", json=body).status_code == 429
        # Another user of the same studio is not locked out by it.
        other = {"tenant": studio.slug, "username": studio.usernames[Role.MANAGER],
                 "password": PASSWORD}
        assert one.post("/v1/auth/login", json=other).status_code == 200
        clock.advance(minutes=16)
        assert one.post("/v1/auth/login", json=dict(body, password=PASSWORD)).status_code == 200


def test_expired_forged_and_malformed_tokens_get_401(client: TestClient, desk: Desk,
                                                     clock: Clock) -> None:
    now = datetime.now(UTC)
    claims = {"sub": desk.staff_id, "tid": desk.studio.tenant_id, "role": "owner",
              "dev": desk.device_id, "typ": "access", "iat": int(now.timestamp()),
              "exp": int((now + timedelta(minutes=15)).timestamp())}
    forged = jwt.encode(claims, "another-key-that-is-long-enough-for-hs256", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    refresh_typed = jwt.encode(dict(claims, typ="refresh"), SIGNING_KEY, algorithm="HS256")
    endpoints = [("post", "/v1/sync/push", {"client_id": desk.client_id, "commands": []}),
                 ("post", "/v1/sync/pull", {"partitions": [{"name": MEMBERS}]}),
                 ("post", "/v1/devices", {"name": "x", "location_id": desk.location_id}),
                 ("get", "/v1/sync/live?position=0&timeout=0", None)]
    for header in ({}, bearer(forged), bearer(unsigned), bearer(refresh_typed),
                   {"Authorization": "Basic abc"}, bearer(""), bearer("a.b.c")):
        for method, path, body in endpoints:
            answer = client.request(method, path, json=body, headers=header)
            assert answer.status_code == 401, (header, path, answer.text)
            assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert client.post("/v1/sync/pull", json={"partitions": [{"name": MEMBERS}]},
                       headers=desk.headers).status_code == 200
    clock.advance(minutes=16)
    expired = client.post("/v1/sync/pull", json={"partitions": [{"name": MEMBERS}]},
                          headers=desk.headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "token_expired"


def test_a_body_is_not_read_before_authentication(client: TestClient) -> None:
    """A malformed body without a token gets 401, not a parse error."""
    answer = client.post("/v1/sync/push", content=b"{not json", headers={})
    assert answer.status_code == 401


def test_refresh_rotates_and_the_previous_token_has_a_grace_period(
    client: TestClient, desk: Desk, clock: Clock
) -> None:
    first = client.post("/v1/auth/refresh", json={"refresh_token": desk.refresh_token})
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != desk.refresh_token
    claims = jwt.decode(first.json()["access_token"], SIGNING_KEY, algorithms=["HS256"])
    assert claims["dev"] == desk.device_id  # the device binding survives rotation
    # The answer was lost: the desk retries with the old token within the grace period.
    retry = client.post("/v1/auth/refresh", json={"refresh_token": desk.refresh_token})
    assert retry.status_code == 200
    clock.advance(hours=25)
    late = client.post("/v1/auth/refresh", json={"refresh_token": desk.refresh_token})
    assert late.status_code == 401
    assert late.json()["error"]["code"] == "invalid_token"
    assert client.post("/v1/auth/refresh", json={"refresh_token": rotated}).status_code == 200
    clock.advance(days=31)
    newest = retry.json()["refresh_token"]
    assert client.post("/v1/auth/refresh", json={"refresh_token": newest}).status_code == 401
    for junk in ("", "x", f"{desk.studio.tenant_id}.nope", "a" * 36 + ".b"):
        assert client.post("/v1/auth/refresh", json={"refresh_token": junk}).status_code == 401


def test_a_revoked_desk_is_refused_everywhere(client: TestClient, desk: Desk,
                                              backend: Backend) -> None:
    revoke_device(backend.db, desk.studio.slug, desk.device_id, datetime.now(UTC))
    calls = [
        client.post("/v1/sync/pull", json={"partitions": [{"name": MEMBERS}]},
                    headers=desk.headers),
        desk.push(desk.command("record_scan", code="1", reason="x")),
        client.get("/v1/sync/live?position=0&timeout=0", headers=desk.headers),
        client.post("/v1/auth/refresh", json={"refresh_token": desk.refresh_token}),
    ]
    for answer in calls:
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] in ("device_revoked", "invalid_token")
    assert calls[0].json()["error"]["code"] == "device_revoked"


def test_a_revoked_desk_holding_the_live_signal_is_refused_within_the_reuse_window(
        client: TestClient, desk: Desk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = "/v1/sync/live?position=0&timeout=0"
    assert client.get(live, headers=desk.headers).status_code == 200  # its record is read
    revoke_device(backend.db, desk.studio.slug, desk.device_id, datetime.now(UTC))
    # The long-poll hands out only a counter; it may trust the record for a few seconds.
    assert client.get(live, headers=desk.headers).status_code == 200
    monkeypatch.setattr(api, "LIVE_DEVICE_REUSE_S", 0.0)  # ... and no longer than that
    refused = client.get(live, headers=desk.headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "device_revoked"
    pushed = desk.push(desk.command("record_scan", code="1", reason="x"))
    assert pushed.json()["error"]["code"] == "device_revoked"  # data moves: checked at once


def test_device_registration_checks_the_location(client: TestClient, studio: CloudStudio
                                                 ) -> None:
    token = login(client, studio, Role.FRONT_DESK)["access_token"]
    elsewhere = client.post("/v1/devices", json={"name": "Desk", "location_id": studio.other.id},
                            headers=bearer(token))
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "wrong_location"
    nowhere = client.post("/v1/devices", json={"name": "Desk", "location_id": "nope"},
                          headers=bearer(token))
    assert nowhere.status_code == 404
    blank = client.post("/v1/devices", json={"name": " ", "location_id": studio.main.id},
                        headers=bearer(token))
    assert blank.status_code == 422
    # Staff with no location list may work anywhere.
    from dataclasses import replace

    studio.write(replace(studio.staff[Role.OWNER], location_ids=()))
    owner = login(client, studio, Role.OWNER)["access_token"]
    anywhere = client.post("/v1/devices", json={"name": "Desk", "location_id": studio.other.id},
                           headers=bearer(owner))
    assert anywhere.status_code == 200
    assert anywhere.json()["location_id"] == studio.other.id
    assert studio.get(StaffMember, studio.staff[Role.OWNER].id) is not None


def test_a_desk_registering_again_keeps_its_client_id(client: TestClient, studio: CloudStudio,
                                                      backend: Backend) -> None:
    from dataclasses import replace

    studio.write(replace(studio.staff[Role.MANAGER], location_ids=()))
    token = login(client, studio, Role.MANAGER)["access_token"]

    def register(location_id: str, desk_id: str | None) -> dict[str, str]:
        answer = client.post("/v1/devices", json={"name": "Front", "location_id": location_id,
                                                  "desk_id": desk_id}, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        body: dict[str, str] = answer.json()
        return body

    first = register(studio.main.id, "desk-42")
    again = register(studio.other.id, "desk-42")
    assert (again["device_id"], again["client_id"]) == (first["device_id"], first["client_id"])
    assert again["location_id"] == studio.other.id
    assert register(studio.main.id, "desk-43")["client_id"] != first["client_id"]
    assert register(studio.main.id, None)["client_id"] != first["client_id"]
    revoke_device(backend.db, studio.slug, first["device_id"], datetime.now(UTC))
    refused = client.post("/v1/devices", json={"name": "Front", "location_id": studio.main.id,
                                               "desk_id": "desk-42"}, headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "device_revoked"
    too_long = client.post("/v1/devices", json={"name": "Front", "location_id": studio.main.id,
                                                "desk_id": "x" * 65}, headers=bearer(token))
    assert too_long.status_code == 422


def test_staff_without_a_location_list_get_every_location(client: TestClient,
                                                          studio: CloudStudio) -> None:
    from dataclasses import replace

    studio.write(replace(studio.staff[Role.OWNER], location_ids=()))
    assert login(client, studio, Role.OWNER)["location_ids"] == [studio.main.id, studio.other.id]
    assert login(client, studio, Role.COACH)["location_ids"] == [studio.main.id]
