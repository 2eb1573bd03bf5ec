"""The cloud's API fuzzed from its own OpenAPI document (schemathesis), signed in for real.

Every generated request goes to the app with a desk's real access token, so the fuzzer
gets past authentication into push, pull and live. Required: no 5xx, answers that fit
the document where it describes them, and nothing half-applied: a refused request
changes nothing, and afterwards every client's applied commands run 1..last_seq with
every ledger balanced (the campaign's independent checker on the cloud's file).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import schemathesis.checks as st_checks
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from frontdesk_cloud.api import create_app
from frontdesk_cloud.db import Database
from frontdesk_cloud.migrate import migrate
from frontdesk_cloud.settings import Settings
from tests.faults import checker
from tests.faults.harness import seeding  # its argon2 hashes are memoised


class Cloud:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "cloud.db"
        url = f"sqlite:///{self.path}"
        db = Database.open(url)
        migrate(db)
        self.seed = seeding.seed_demo(db, members=10, now=datetime.now(UTC))
        db.dispose()
        self.app: FastAPI = create_app(Settings(database_url=url))
        self.token = ""

    def sign_in(self, client: TestClient) -> None:
        person = next(s for s in self.seed["staff"] if s["role"] == "front_desk")
        tokens = client.post("/v1/auth/login", json={
            "tenant": self.seed["tenant"], "username": person["username"],
            "password": person["password"]}).json()
        device = client.post(
            "/v1/devices", headers={"Authorization": f"Bearer {tokens['access_token']}"},
            json={"name": "fuzz desk", "location_id": person["locations"][0]}).json()
        self.token = device["access_token"]

    def fingerprint(self) -> tuple[Any, ...]:
        """What any applied request changes: commands, feed positions, entities."""
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as conn:
            return tuple(conn.execute(
                "SELECT (SELECT COUNT(*) FROM applied_commands), "
                "(SELECT COALESCE(SUM(last_seq), 0) FROM client_states), "
                "(SELECT COALESCE(SUM(position), 0) FROM feed_counters), "
                "(SELECT COUNT(*) FROM entities), (SELECT COUNT(*) FROM tombstones)"
            ).fetchone())


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    made = Cloud(tmp_path_factory.mktemp("fuzz"))
    with TestClient(made.app) as client:
        made.sign_in(client)
        yield made


#: No 5xx, and answers as documented. Not "schema-valid data is accepted": the document
#: gives the shapes of bodies, not every studio rule (a desk name's length, a seq from 1).
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]

FUZZ_SETTINGS = settings(
    max_examples=40, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _short_waits(case: schemathesis.Case) -> schemathesis.Case:
    """A long-poll waits up to 30 s when nothing changes: the fuzzer needs no such waits."""
    if case.path == "/v1/sync/live":
        case.query = {**(case.query if isinstance(case.query, dict) else {}), "timeout": 0.05}
    return case


def test_api(cloud: Cloud) -> None:
    api = schemathesis.openapi.from_asgi("/openapi.json", cloud.app)
    headers = {"Authorization": f"Bearer {cloud.token}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 7, [op.label for op in operations]
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy().map(_short_waits))
        def fuzz(case: schemathesis.Case) -> None:
            before = cloud.fingerprint()
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert cloud.fingerprint() == before, f"a refused request changed the cloud: {case}"

        fuzz()


def test_nothing_half_applied(cloud: Cloud) -> None:
    """Run after the fuzzing: the cloud's data is whole."""
    data = checker.read_cloud(checker.CloudSource(cloud.path), cloud.seed["tenant"])
    for client, rows in data.applied.items():
        assert [r["seq"] for r in rows] == list(range(1, data.last_seq[client] + 1))
    report = checker.check(data, [], {})
    assert report.ok, report.summary()
