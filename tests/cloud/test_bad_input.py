"""Bad input on every endpoint: a clear 4xx with an error code, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontdesk_cloud.api import create_app
from frontdesk_cloud.settings import Settings
from tests.cloud.studio import CloudStudio, Desk

ENDPOINTS = ["/v1/auth/login", "/v1/auth/refresh", "/v1/devices", "/v1/sync/push",
             "/v1/sync/pull"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)


FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _error_shape(answer: Any) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]


def test_the_openapi_document_describes_every_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in ENDPOINTS:
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert schema["schema"]["type"] == "object"
    assert "/v1/sync/live" in document["paths"] and "/health" in document["paths"]


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), body=json_values)
def test_random_json_bodies_get_4xx(client: TestClient, desk: Desk, path: str, body: Any
                                    ) -> None:
    answer = client.post(path, content=json.dumps(body), headers=desk.headers)
    if answer.status_code != 200:
        _error_shape(answer)


@FUZZ
@given(field=st.sampled_from(["command_id", "seq", "name", "version", "args", "staff_id",
                              "location_id", "happened_at", "clock_offset_s"]),
       value=json_values)
def test_random_envelope_fields_never_break_the_cloud(client: TestClient, desk: Desk,
                                                      field: str, value: Any) -> None:
    envelope = desk.command("record_scan", code="1", reason="fuzz")
    envelope[field] = value
    answer = desk.push(envelope)
    if answer.status_code == 200:
        outcome = answer.json()["outcomes"][0]
        assert outcome["code"] != "internal_error", outcome
    else:
        desk.seq -= 1  # nothing was applied: the next command takes this seq again
        assert answer.status_code in (409, 413, 422), answer.text
        _error_shape(answer)


@FUZZ
@given(args=st.dictionaries(st.sampled_from(["member_id", "session_id", "booking_id", "at",
                                             "entitlement_id", "override", "reason", "name",
                                             "capacity", "amount_cents", "guest", "plan_id"]),
                            json_values, max_size=5),
       name=st.sampled_from(["book", "check_in", "cancel_booking", "walk_in", "top_up",
                             "add_member", "change_capacity", "freeze", "refund"]))
def test_random_arguments_are_rejected_not_crashed(studio: CloudStudio, desk: Desk, name: str,
                                                   args: dict[str, Any]) -> None:
    envelope = desk.command(name, role=None)
    envelope["args"] = args
    answer = desk.push(envelope)
    assert answer.status_code == 200, answer.text
    outcome = answer.json()["outcomes"][0]
    assert outcome["code"] != "internal_error", outcome


def test_live_query_problems(client: TestClient, desk: Desk) -> None:
    for query in ("", "?position=-1", "?position=x", "?position=1&timeout=-2",
                  "?position=1&timeout=soon", f"?position={2**70}"):
        _error_shape(client.get(f"/v1/sync/live{query}", headers=desk.headers))
    capped = client.get("/v1/sync/live?position=0&timeout=3000", headers=desk.headers)
    assert capped.status_code == 200  # waits at most 30 s; the feed is already past 0


def test_unknown_routes_and_methods(client: TestClient) -> None:
    _error_shape(client.get("/v1/nothing"))
    _error_shape(client.get("/v1/sync/push"))


def test_oversized_bodies_are_refused_before_reading_them_all(client: TestClient, desk: Desk
                                                              ) -> None:
    huge = b'{"client_id": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    answer = client.post("/v1/sync/push", content=huge, headers=desk.headers)
    assert answer.status_code == 413
    _error_shape(answer)


def test_health_answers_503_when_the_database_is_down() -> None:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none",
                              secret_key="k" * 32))
    with TestClient(app) as client:
        answer = client.get("/health")
        assert answer.status_code == 503
        login = client.post("/v1/auth/login", json={"tenant": "t", "username": "u",
                                                    "password": "p"})
        assert login.status_code == 503 and login.json()["error"]["code"] == "unavailable"


def test_deep_nesting_and_lone_surrogates_get_400(client: TestClient) -> None:
    """Found by a new user with curl: both used to answer 500."""
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/v1/auth/login", content=deep,
                         headers={"content-type": "application/json"})
    _error_shape(answer)
    surrogate = '{"tenant": "demo", "username": "\\ud800", "password": "x\\udfff"}'
    answer = client.post("/v1/auth/login", content=surrogate,
                         headers={"content-type": "application/json"})
    _error_shape(answer)
    assert answer.json()["error"]["code"] == "malformed_json"
