"""Tenant isolation: every endpoint tried across tenants; on PostgreSQL also RLS itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from frontdesk.domain.model import Member, Role
from frontdesk.protocol import CATALOGUE, MEMBERS
from frontdesk_cloud.db import Database
from frontdesk_cloud.store import TenantStore
from tests.cloud.studio import PASSWORD, Backend, CloudStudio, Desk, bearer, login
from tests.cloud.test_pull import pull_all


@pytest.fixture
def rival(backend: Backend) -> CloudStudio:
    return CloudStudio.build(backend)


def test_sign_in_is_per_tenant(client: TestClient, studio: CloudStudio, rival: CloudStudio
                               ) -> None:
    answer = client.post("/v1/auth/login", json={"tenant": rival.slug, "password": PASSWORD,
                                                 "username": studio.usernames[Role.OWNER]})
    assert answer.status_code == 401


def test_a_desk_cannot_register_at_another_tenants_location(
    client: TestClient, studio: CloudStudio, rival: CloudStudio
) -> None:
    token = login(client, studio, Role.OWNER)["access_token"]
    answer = client.post("/v1/devices", json={"name": "x", "location_id": rival.main.id},
                         headers=bearer(token))
    assert answer.status_code == 404


def test_push_cannot_reach_another_tenants_rows(client: TestClient, desk: Desk,
                                                rival: CloudStudio) -> None:
    theirs, _ = rival.member(waiver_signed_at=None)
    session = rival.session()
    outcomes = desk.push(
        desk.command("sign_waiver", member_id=theirs.id),
        desk.command("book", member_id=desk.studio.member()[0].id, session_id=session.id),
        dict(desk.command("record_scan", code="1", reason="x"),
             staff_id=rival.staff[Role.OWNER].id),
    ).json()["outcomes"]
    assert [o["code"] for o in outcomes] == ["unknown_member", "unknown_session", "not_allowed"]
    assert rival.get(Member, theirs.id).waiver_signed_at is None  # type: ignore[union-attr]
    rival_desk = Desk.register(client, rival)
    stolen = client.post("/v1/sync/push", json={"client_id": rival_desk.client_id,
                                                "commands": [rival_desk.command(
                                                    "record_scan", code="1", reason="x")]},
                         headers=desk.headers)
    assert stolen.status_code == 403


def test_pull_and_live_see_only_the_own_tenant(client: TestClient, desk: Desk,
                                               rival: CloudStudio) -> None:
    mine, _ = desk.studio.member()
    rival.member()
    rival.session()
    members, _, _ = pull_all(desk, MEMBERS)
    assert {k[1] for k in members if k[0] == "member"} == {mine.id}
    catalogue, _, _ = pull_all(desk, CATALOGUE)
    assert ("tenant", desk.studio.tenant_id) in catalogue
    assert not {rival.tenant_id, rival.main.id} & {k[1] for k in catalogue}
    theirs = client.post("/v1/sync/pull", json={"partitions": [
        {"name": f"schedule:{rival.main.id}:2026-01-01"}]}, headers=desk.headers)
    assert theirs.status_code == 403
    position = client.get("/v1/sync/live", params={"position": 0, "timeout": 0},
                          headers=desk.headers).json()["position"]
    rival.member()
    after = client.get("/v1/sync/live", params={"position": position, "timeout": 0.2},
                       headers=desk.headers).json()
    assert after["changed"] is False and after["position"] == position


def test_the_store_is_scoped_to_its_tenant(backend: Backend, studio: CloudStudio,
                                           rival: CloudStudio) -> None:
    theirs, _ = rival.member(card_code="CARD-1")
    with studio.store() as store:
        assert store.get(Member, theirs.id) is None
        assert store.find(Member, "card_code", "CARD-1") == []
        assert store.all(Member) == []


def test_row_level_security_confines_the_app_role(backend: Backend, studio: CloudStudio,
                                                  rival: CloudStudio) -> None:
    if not backend.is_postgres:
        pytest.skip("row-level security is a PostgreSQL feature")
    rival.member()
    db = Database.open(backend.url)  # the non-owner app role
    try:
        with db.engine.connect() as conn:
            owner = conn.execute(sa.text(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'entities'")).scalar()
            assert owner != conn.execute(sa.text("SELECT current_user")).scalar()
            unscoped = conn.execute(sa.text("SELECT count(*) FROM entities")).scalar()
            assert unscoped == 0  # no tenant set: nothing visible
        with db.transaction(studio.tenant_id) as conn:
            seen = conn.execute(sa.text("SELECT DISTINCT tenant_id FROM entities")).scalars()
            assert set(seen) == {studio.tenant_id}
            peek = conn.execute(sa.text("SELECT count(*) FROM entities WHERE tenant_id = :t"),
                                {"t": rival.tenant_id}).scalar()
            assert peek == 0
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), \
                db.transaction(studio.tenant_id) as conn:
            TenantStore(conn, rival.tenant_id).create_feed()
        with db.transaction(studio.tenant_id) as conn:
            # The tenant setting is per transaction: a pooled connection forgets it.
            assert conn.execute(sa.text(
                "SELECT current_setting('app.tenant_id', true)")).scalar() == studio.tenant_id
        with db.engine.connect() as conn:
            assert conn.execute(sa.text(
                "SELECT current_setting('app.tenant_id', true)")).scalar() in ("", None)
    finally:
        db.dispose()


def test_a_refresh_token_works_only_in_its_own_tenant(client: TestClient, desk: Desk,
                                                      rival: CloudStudio) -> None:
    _, _, secret = desk.refresh_token.partition(".")
    moved = f"{rival.tenant_id}.{secret}"
    answer = client.post("/v1/auth/refresh", json={"refresh_token": moved})
    assert answer.status_code == 401
    assert client.post("/v1/auth/refresh",
                       json={"refresh_token": desk.refresh_token}).status_code == 200
