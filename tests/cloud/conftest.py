"""Cloud test set-up: one contract suite over SQLite and a throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from frontdesk_cloud.db import Database
from frontdesk_cloud.migrate import migrate
from tests.cloud.studio import Backend, Clock, CloudStudio, Desk, app_for
from tests.pg import APP, PgServer, find_pg_bin, start_postgres

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in "
                    "/usr/lib/postgresql/*/bin: install the Debian package postgresql")
    with start_postgres(bin_dir) as server:
        yield server


def _fresh(kind: str, tmp: Path, pg: PgServer | None) -> Backend:
    number = next(_databases)
    if kind == "sqlite":
        url = f"sqlite:///{tmp / f'cloud-{number}.sqlite'}"
        owner = url
    else:
        assert pg is not None
        owner, url = pg.create_database(f"cloud_{os.getpid()}_{number}")
    owner_db = Database.open(owner)
    migrate(owner_db, app_role=APP if kind == "postgres" else None)
    owner_db.dispose()
    return Backend(kind, owner, url, Database.open(url))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Backend]:
    """A migrated database shared by the session; tests keep apart by using own tenants."""
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    made = _fresh(request.param, tmp_path_factory.mktemp("cloud"), pg)
    yield made
    made.db.dispose()


@pytest.fixture
def fresh_backend(backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
                  ) -> Iterator[Backend]:
    """A database of its own, for tests that look at every tenant's rows."""
    pg = request.getfixturevalue("pg_server") if backend.is_postgres else None
    made = _fresh(backend.name, tmp_path, pg)
    yield made
    made.db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def studio(backend: Backend) -> CloudStudio:
    return CloudStudio.build(backend)


@pytest.fixture
def client(backend: Backend, clock: Clock) -> Iterator[TestClient]:
    with TestClient(app_for(backend, clock)) as test_client:
        yield test_client


@pytest.fixture
def desk(client: TestClient, studio: CloudStudio) -> Desk:
    return Desk.register(client, studio)
