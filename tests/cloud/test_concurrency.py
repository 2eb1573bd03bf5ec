"""Real concurrency against a real server: the last spot, late commits, the live signal."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from frontdesk.domain.model import Booking, BookingStatus, Member
from frontdesk.protocol import MEMBERS
from frontdesk_cloud.api import create_app
from frontdesk_cloud.sync import pull
from tests.cloud.studio import (
    Backend,
    Clock,
    CloudStudio,
    Desk,
    app_for,
    serve,
    settings_for,
)
from tests.cloud.test_pull import pull_all


def _together(*jobs: Callable[[], Any]) -> list[Any]:
    """Run jobs in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(jobs))

    def start(job: Callable[[], Any]) -> Any:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(start, jobs))


def test_two_desks_pushing_for_the_last_spot_get_one_booking(
    backend: Backend, studio: CloudStudio, clock: Clock
) -> None:
    with serve(app_for(backend, clock)) as url, httpx.Client(base_url=url) as one, \
            httpx.Client(base_url=url) as two:
        desks = [Desk.register(one, studio), Desk.register(two, studio)]
        for _ in range(6):
            session = studio.session(capacity=1, waitlist=0)
            members = [studio.member()[0], studio.member()[0]]
            commands = [desk.command("book", member_id=m.id, session_id=session.id)
                        for desk, m in zip(desks, members, strict=True)]
            answers = _together(*(lambda d=d, c=c: d.push(c)
                                  for d, c in zip(desks, commands, strict=True)))
            statuses = sorted(a.json()["outcomes"][0]["status"] for a in answers)
            assert statuses == ["applied", "rejected"], [a.text for a in answers]
            held = [b for b in studio.find(Booking, "session_id", session.id)
                    if b.status is BookingStatus.BOOKED]
            assert len(held) == 1


def test_no_change_is_skipped_while_writers_and_pullers_race(
    backend: Backend, studio: CloudStudio, clock: Clock
) -> None:
    """Writers hold their transactions open after taking feed positions, so commits land
    out of start order; pullers moving their cursors meanwhile must still see every row."""
    writers, rows_each, pullers = 4, 12, 3
    done = threading.Event()
    with serve(app_for(backend, clock)) as url, httpx.Client(base_url=url) as http:
        desk = Desk.register(http, studio)

        def write(n: int) -> None:
            for i in range(rows_each):
                with studio.store() as store:
                    store.write([Member(str(uuid.uuid4()), f"writer {n} row {i}")])
                    time.sleep(0.002 * (n + 1))  # widen the window before commit

        replicas: list[dict[tuple[str, str], Any]] = [{} for _ in range(pullers)]

        def read(k: int) -> None:
            cursor = None
            while True:
                finished = done.is_set()
                _, cursor, _ = pull_all(desk, MEMBERS, cursor, replicas[k], limit=5)
                if finished:
                    return

        with ThreadPoolExecutor(writers + pullers) as pool:
            readers = [pool.submit(read, k) for k in range(pullers)]
            for job in [pool.submit(write, n) for n in range(writers)]:
                job.result()
            done.set()
            for job in readers:
                job.result()
        full, _, _ = pull_all(desk, MEMBERS)
        assert len([k for k in full if k[0] == "member"]) == writers * rows_each
        for replica in replicas:
            assert replica == full


def test_a_complete_page_moves_the_cursor_to_the_answers_position(
    backend: Backend, studio: CloudStudio
) -> None:
    from frontdesk_cloud.accounts import Principal
    from frontdesk_cloud.auth import Claims
    from frontdesk_cloud.store import Device

    device = Device("d", "c", "desk", studio.main.id, studio.staff[next(iter(studio.staff))].id,
                    None)
    who = Principal(Claims("s", studio.tenant_id, "owner", "d"), device)
    for _ in range(5):
        studio.member()
    import json

    answer = json.loads(pull(backend.db, who, {"partitions": [{"name": MEMBERS}]},
                             datetime.now(UTC)))
    positions = [c["position"] for c in answer["pages"][0]["changes"]]
    assert max(positions) <= answer["position"]
    assert answer["pages"][0]["cursor"].endswith(f":{answer['position']}")


def test_the_live_signal_crosses_workers(backend: Backend, studio: CloudStudio,
                                         clock: Clock) -> None:
    """A push through one worker wakes a long-poll held by another (its own engine)."""
    other_worker = create_app(settings_for(backend, clock))
    with serve(app_for(backend, clock)) as first, serve(other_worker) as second, \
            httpx.Client(base_url=first) as a, httpx.Client(base_url=second, timeout=30) as b:
        pusher = Desk.register(a, studio)
        watcher = Desk.register(b, studio)
        member, _ = studio.member(waiver_signed_at=None)
        now = b.get("/v1/sync/live", params={"position": 0, "timeout": 0},
                    headers=watcher.headers).json()
        assert now["changed"] is True
        position = now["position"]
        idle = b.get("/v1/sync/live", params={"position": position, "timeout": 0.2},
                     headers=watcher.headers).json()
        assert idle == {**idle, "changed": False, "position": position}

        def wait() -> dict[str, Any]:
            # Shorter than the long-poll's own re-check: only the signal can answer in time.
            answer: dict[str, Any] = b.get(
                "/v1/sync/live", params={"position": position, "timeout": 4},
                headers=watcher.headers).json()
            return answer

        def push_soon() -> dict[str, Any]:
            time.sleep(0.3)  # let the long-poll start waiting first
            return pusher.run("sign_waiver", member_id=member.id)

        woke, pushed = _together(wait, push_soon)
        assert pushed["status"] == "applied"
        assert woke["changed"] is True
        assert woke["position"] >= pushed["feed_position"] > position
        # Having heard the tenant on its LISTEN connection, the other worker answers
        # long-polls from what it heard, without a database round trip.
        assert other_worker.state.cloud.watcher.sure(studio.tenant_id) is backend.is_postgres
        assert other_worker.state.cloud.watcher.latest(studio.tenant_id) == woke["position"]


def test_a_late_commit_is_not_skipped_by_a_puller(backend: Backend, studio: CloudStudio,
                                                  clock: Clock) -> None:
    """Writer A takes feed positions and stays open; writer B queues behind it; a puller
    meanwhile gets a cursor. After A and then B commit, that cursor finds both rows."""
    if not backend.is_postgres:
        import pytest

        pytest.skip("watching a transaction wait for a lock needs pg_stat_activity")
    import sqlalchemy as sa

    with serve(app_for(backend, clock)) as url, httpx.Client(base_url=url) as http:
        desk = Desk.register(http, studio)
        _, cursor, _ = pull_all(desk, MEMBERS)
        first, second = Member(str(uuid.uuid4()), "A"), Member(str(uuid.uuid4()), "B")
        a_wrote, a_may_commit = threading.Event(), threading.Event()

        def writer_a() -> None:
            with studio.store() as store:
                store.write([first])
                a_wrote.set()
                assert a_may_commit.wait(30)

        def writer_b() -> None:
            with studio.store() as store:
                store.write([second])

        with ThreadPoolExecutor(2) as pool:
            a = pool.submit(writer_a)
            assert a_wrote.wait(30)
            b = pool.submit(writer_b)
            with backend.db.engine.connect() as conn:  # readiness poll: B waits on A's lock
                deadline = time.monotonic() + 30
                while not conn.execute(sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()")).scalar():
                    assert time.monotonic() < deadline, "writer B never waited for A"
                    time.sleep(0.01)
            mid, mid_cursor, _ = pull_all(desk, MEMBERS, cursor, {})
            assert mid == {}  # neither is visible, and the cursor did not move past them
            assert mid_cursor == cursor
            a_may_commit.set()
            a.result()
            b.result()
        after, _, _ = pull_all(desk, MEMBERS, mid_cursor, {})
        assert set(after) == {("member", first.id), ("member", second.id)}


def test_the_same_batch_sent_twice_at_once_applies_once(backend: Backend, studio: CloudStudio,
                                                        clock: Clock) -> None:
    """A desk that retries while its first request is still running (a timeout)."""
    with serve(app_for(backend, clock)) as url, httpx.Client(base_url=url) as one, \
            httpx.Client(base_url=url) as two:
        desk = Desk.register(one, studio)
        session = studio.session(capacity=50)
        members = [studio.member()[0] for _ in range(20)]
        batch = [desk.command("book", member_id=m.id, session_id=session.id) for m in members]
        body = {"client_id": desk.client_id, "commands": batch}
        answers = _together(
            lambda: one.post("/v1/sync/push", json=body, headers=desk.headers),
            lambda: two.post("/v1/sync/push", json=body, headers=desk.headers),
        )
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json()["outcomes"] == answers[1].json()["outcomes"]
        assert len(studio.find(Booking, "session_id", session.id)) == 20
