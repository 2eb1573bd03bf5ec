"""Pull: pages by server position per partition, tombstones, resets on unknown cursors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from frontdesk.domain.model import Booking, BookingStatus, Session
from frontdesk.protocol import CATALOGUE, MEMBERS, PullResponse, from_json
from tests.cloud.studio import CloudStudio, Desk, new_id

Replica = dict[tuple[str, str], dict[str, Any]]


def pull_all(desk: Desk, partition: str, cursor: str | None = None, replica: Replica | None = None,
             limit: int = 7) -> tuple[Replica, str, list[dict[str, Any]]]:
    """Pull a partition page by page into a replica; returns it, the cursor and the pages."""
    replica = {} if replica is None else replica
    pages = []
    while True:
        answer = desk.pull((partition, cursor), limit=limit)
        assert answer.status_code == 200, answer.text
        from_json(PullResponse, answer.json())  # the answer is a well-formed message
        page = answer.json()["pages"][0]
        pages.append(page)
        if page["reset"]:
            replica.clear()
        positions = [c["position"] for c in page["changes"]]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        assert len(page["changes"]) <= limit
        for change in page["changes"]:
            key = (change["kind"], change["id"])
            if change["data"] is None:
                replica.pop(key, None)
            else:
                replica[key] = change["data"]
        cursor = page["cursor"]
        if not page["more"]:
            return replica, cursor, pages


def test_pages_cover_the_partition_in_position_order(studio: CloudStudio, desk: Desk) -> None:
    members = [studio.member() for _ in range(12)]
    replica, cursor, pages = pull_all(desk, MEMBERS)
    assert len(pages) == 4  # 24 rows, 7 a page
    assert {k for k in replica if k[0] == "member"} == {("member", m.id) for m, _ in members}
    assert {k for k in replica if k[0] == "entitlement"} == {
        ("entitlement", e.id) for _, e in members}
    # Nothing new: an empty page with the same position, and no more.
    again = desk.pull((MEMBERS, cursor)).json()["pages"][0]
    assert again["changes"] == [] and again["more"] is False and again["cursor"] == cursor


def test_the_catalogue_carries_staff_without_passwords(studio: CloudStudio, desk: Desk) -> None:
    replica, _, _ = pull_all(desk, CATALOGUE)
    kinds = {kind for kind, _ in replica}
    assert kinds == {"tenant", "location", "class_type", "plan", "staff"}
    for (kind, _), data in replica.items():
        if kind == "staff":
            assert "password" not in str(data)


def test_unknown_cursors_reset_the_partition(studio: CloudStudio, desk: Desk) -> None:
    studio.member()
    _, cursor, _ = pull_all(desk, MEMBERS)
    _, epoch, position = cursor.split(":")
    for bad in ("garbage", f"v1:{int(epoch) + 1}:{position}", f"v1:{epoch}:{int(position) + 99}",
                "v2:1:1", "v1:-1:3"):
        page = desk.pull((MEMBERS, bad)).json()["pages"][0]
        assert page["reset"] is True, bad
        assert {c["kind"] for c in page["changes"]} == {"member", "entitlement"}
        assert all(c["data"] is not None for c in page["changes"])


def test_bad_pull_requests_are_refused(studio: CloudStudio, desk: Desk) -> None:
    for partitions, code in (
        ([{"name": "schedule:nope"}], 422),
        ([{"name": "everything"}], 422),
        ([], 422),
        ([{"name": MEMBERS}] * 101, 422),
        ([{"name": f"schedule:{studio.other.id}:2026-01-01"}], 403),
        ([{"name": MEMBERS, "cursor": 5}], 422),
    ):
        answer = desk.client.post("/v1/sync/pull", json={"partitions": partitions},
                                  headers=desk.headers)
        assert answer.status_code == code, (partitions, answer.text)
    for limit in (0, -1, "ten"):
        answer = desk.client.post("/v1/sync/pull", json={"partitions": [{"name": MEMBERS}],
                                                         "limit": limit}, headers=desk.headers)
        assert answer.status_code == 422


def test_a_session_moving_day_leaves_tombstones_and_takes_its_bookings(
    studio: CloudStudio, desk: Desk
) -> None:
    session = studio.session(start=datetime.now(UTC) + timedelta(hours=3))
    member, _ = studio.member()
    booked = desk.run("book", member_id=member.id, session_id=session.id)
    old = studio.partition(session)
    before, cursor, _ = pull_all(desk, old)
    assert set(before) == {("session", session.id), ("booking", booked["subject_id"])}
    moved = replace(session, start=session.start + timedelta(days=2),
                    end=session.end + timedelta(days=2))
    studio.write(moved)
    after, _, pages = pull_all(desk, old, cursor, dict(before))
    assert after == {}
    stones = [c for p in pages for c in p["changes"]]
    assert {(c["kind"], c["id"], c["data"]) for c in stones} == {
        ("session", session.id, None), ("booking", booked["subject_id"], None)}
    now_there, _, _ = pull_all(desk, studio.partition(moved))
    assert set(now_there) == set(before)
    # Moving back makes it reappear where it was, and the old tombstones go.
    studio.write(session)
    back, _, _ = pull_all(desk, old, cursor, {})
    assert set(back) == set(before)


def test_a_stale_replica_catching_up_equals_a_fresh_full_pull(
    studio: CloudStudio, desk: Desk
) -> None:
    session = studio.session(capacity=2, waitlist=3)
    people = [studio.member()[0] for _ in range(5)]
    partition = studio.partition(session)
    stale, cursor, _ = pull_all(desk, partition)
    stale_members, members_cursor, _ = pull_all(desk, MEMBERS)
    outcomes = [desk.run("book", member_id=p.id, session_id=session.id) for p in people]
    desk.run("cancel_booking", booking_id=outcomes[0]["subject_id"])
    studio.write(Booking(new_id(), session.id, people[0].id, BookingStatus.CANCELLED,
                         datetime.now(UTC)))
    studio.write(replace(studio.get(Session, session.id), capacity=3))  # type: ignore[type-var]
    caught_up, _, _ = pull_all(desk, partition, cursor, stale)
    fresh, _, _ = pull_all(desk, partition)
    assert caught_up == fresh
    members_caught_up, _, _ = pull_all(desk, MEMBERS, members_cursor, stale_members)
    assert members_caught_up == pull_all(desk, MEMBERS)[0]
