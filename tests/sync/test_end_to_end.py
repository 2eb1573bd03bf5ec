"""The desk and a real cloud process on loopback: offline work, races, crashes, faults."""

from __future__ import annotations

import signal
import sqlite3
import time
from datetime import date, timedelta
from typing import Any

from tests.cloudproc import Cloud, DeskProc
from tests.faultproxy import FaultProxy


def _status(desk: DeskProc) -> dict[str, Any]:
    code, body = desk.run("status")
    assert code == 0
    return dict(body)


def _roster(desk: DeskProc, session_id: str) -> dict[str, str]:
    code, body = desk.run("roster", session_id)
    assert code == 0, body
    return {line["member_id"]: line["status"] for line in body}


def test_offline_check_in_is_kept_and_synced(
    cloud: Cloud, make_desk: Any, open_session: dict[str, Any]
) -> None:
    desk = make_desk()
    member = open_session["booked_members"][0]
    cloud.stop()
    try:
        code, body = desk.run("checkin", member, "--session", open_session["id"])
        assert code == 0 and body["queued"], body
        assert _roster(desk, open_session["id"])[member] == "checked_in"
        status = _status(desk)
        assert status["pending"] == 1 and status["online"] is False
        code, body = desk.run("sync", "--once")
        assert code == 3
        assert _status(desk)["pending"] == 1  # nothing lost
    finally:
        cloud.start()
    code, _ = desk.run("sync", "--once")
    assert code == 0
    assert _status(desk)["pending"] == 0
    assert desk.run("attention")[1] == []
    other = make_desk()
    assert _roster(other, open_session["id"])[member] == "checked_in"


def test_two_offline_desks_book_the_last_spot(
    cloud: Cloud, make_desk: Any, open_session: dict[str, Any]
) -> None:
    desk_a, desk_b = make_desk(), make_desk()
    tomorrow = (date.fromisoformat(cloud.seed["date"]) + timedelta(days=1)).isoformat()
    code, sessions = desk_a.run("sessions", "--date", tomorrow)
    target = min(sessions, key=lambda s: s["capacity"] - s["booked"])
    booked = set(_roster(desk_a, target["id"]))
    free_members = [m for m in _member_ids(desk_a) if m not in booked]
    # Fill all but one place online, so both offline desks race for the last one.
    for member in free_members[: target["capacity"] - target["booked"] - 1]:
        code, body = desk_a.run("book", member, target["id"])
        assert code == 0, body
    assert desk_a.run("sync", "--once")[0] == 0
    assert desk_b.run("sync", "--once")[0] == 0
    first, second = free_members[-1], free_members[-2]
    cloud.stop()
    try:
        assert desk_a.run("book", first, target["id"])[1]["code"] == "ok"
        assert desk_b.run("book", second, target["id"])[1]["code"] == "ok"
    finally:
        cloud.start()
    assert desk_a.run("sync", "--once")[0] == 0
    assert desk_b.run("sync", "--once")[0] == 0
    assert desk_a.run("sync", "--once")[0] == 0
    final = _roster(desk_a, target["id"])
    assert final[first] == "booked"
    assert final[second] in ("waitlisted", None) or second not in final
    code, items = desk_b.run("attention")
    assert [i["command"] for i in items] == ["book"], items
    assert desk_a.server_rows() == desk_b.server_rows()
    assert _roster(desk_b, target["id"]) == final


def test_killed_after_the_cloud_committed(
    cloud: Cloud, proxy: FaultProxy, make_desk: Any, open_session: dict[str, Any]
) -> None:
    desk = make_desk(url=proxy.url)
    member = open_session["booked_members"][1]
    assert desk.run("checkin", member, "--session", open_session["id"])[0] == 0
    proxy.add("hold_answer", "/v1/sync/push", count=1)
    syncing = desk.spawn("sync", "--once")
    assert proxy.answered_upstream.wait(30)
    syncing.send_signal(signal.SIGKILL)
    syncing.communicate(timeout=10)
    assert _status(desk)["pending"] == 1
    code, _ = desk.run("sync", "--once")
    assert code == 0
    assert _status(desk)["pending"] == 0
    observer = make_desk()
    roster = _roster(observer, open_session["id"])
    assert roster[member] == "checked_in"
    code, body = observer.run("roster", open_session["id"])
    assert sum(1 for line in body if line["member_id"] == member) == 1


def test_dropped_answer_is_resent_without_duplicates(
    cloud: Cloud, proxy: FaultProxy, make_desk: Any, open_session: dict[str, Any]
) -> None:
    desk = make_desk(url=proxy.url)
    code, body = desk.run(
        "walk-in",
        open_session["id"],
        "--name",
        "Drop Answer Guest",
        "--plan",
        _drop_in_plan(desk),
        "--method",
        "cash",
    )
    assert code == 0, body
    proxy.add("drop_answer", "/v1/sync/push", count=1)
    assert desk.run("sync", "--once")[0] == 3
    assert desk.run("sync", "--once")[0] == 0
    observer = make_desk()
    code, hits = observer.run("search", "Drop Answer Guest")
    assert len(hits) == 1


def _member_ids(desk: DeskProc) -> list[str]:
    """Members with a usable pack, by the seed's own data."""
    conn = sqlite3.connect(desk.data_dir / "replica.db")
    try:
        rows = conn.execute(
            "SELECT DISTINCT member_id FROM rows WHERE kind = 'entitlement' "
            "AND json_extract(data, '$.paid') AND json_extract(data, '$.status') = 'active' "
            "AND (json_extract(data, '$.kind') = 'membership' "
            "OR json_extract(data, '$.balance') > 2) "
            "AND (json_extract(data, '$.valid_until') IS NULL "
            "OR json_extract(data, '$.valid_until') > date('now', '+30 days')) ORDER BY member_id"
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def _drop_in_plan(desk: DeskProc) -> str:
    conn = sqlite3.connect(desk.data_dir / "replica.db")
    try:
        rows = conn.execute("SELECT id, data FROM rows WHERE kind = 'plan'").fetchall()
    finally:
        conn.close()
    return next(pid for pid, data in rows if '"drop_in"' in data)


def test_commands_while_sync_runs_in_another_process(
    make_desk: Any, open_session: dict[str, Any]
) -> None:
    desk = make_desk()
    live = desk.spawn("sync")
    try:
        members = open_session["booked_members"][2:8]
        for member in members:
            code, body = desk.run("checkin", member, "--session", open_session["id"])
            assert code == 0, body
        deadline = time.monotonic() + 30
        while _status(desk)["pending"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _status(desk)["pending"] == 0
    finally:
        live.send_signal(signal.SIGTERM)
        _, errors = live.communicate(timeout=20)
        assert live.returncode == 0, errors
    assert all(_roster(desk, open_session["id"])[m] == "checked_in" for m in members)


def test_failure_mid_pull_leaves_a_sound_replica(proxy: FaultProxy, make_desk: Any) -> None:
    desk = make_desk(url=proxy.url, sync=False)
    proxy.add("error500", "/v1/sync/pull", count=1, skip=2)
    assert desk.run("sync", "--once")[0] == 3
    conn = sqlite3.connect(desk.data_dir / "replica.db")
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    proxy.add("hold", "/v1/sync/pull", count=1, skip=1)
    desk.env["FRONTDESK_HTTP_TIMEOUT_S"] = "3"
    assert desk.run("sync", "--once")[0] == 3
    desk.env.pop("FRONTDESK_HTTP_TIMEOUT_S")
    assert desk.run("sync", "--once")[0] == 0
    fresh = make_desk()
    assert desk.server_rows() == fresh.server_rows()


def test_unknown_cursor_refetches_that_partition_alone(make_desk: Any) -> None:
    desk = make_desk()
    conn = sqlite3.connect(desk.data_dir / "replica.db")
    with conn:
        conn.execute("UPDATE cursors SET cursor = 'v1:no-such-epoch:7' WHERE partition = 'members'")
        others = dict(
            conn.execute(
                "SELECT partition, cursor FROM cursors WHERE partition != 'members'"
            ).fetchall()
        )
    conn.close()
    assert desk.run("sync", "--once")[0] == 0
    partitions = {p["name"]: p["cursor"] for p in _status(desk)["partitions"]}
    assert partitions["members"] != "v1:no-such-epoch:7"
    assert {k: partitions[k] for k in others} == others
    fresh = make_desk()
    assert desk.server_rows() == fresh.server_rows()


def test_stale_replica_equals_fresh_full_pull(make_desk: Any, open_session: dict[str, Any]) -> None:
    stale, busy = make_desk(), make_desk()
    for member in open_session["booked_members"][8:10]:
        assert busy.run("checkin", member, "--session", open_session["id"])[0] == 0
    code, body = busy.run(
        "walk-in",
        open_session["id"],
        "--name",
        "王小二",
        "--plan",
        _drop_in_plan(busy),
        "--method",
        "wechat_pay",
    )
    assert code == 0, body
    assert busy.run("sync", "--once")[0] == 0
    assert stale.run("sync", "--once")[0] == 0
    fresh = make_desk()
    assert stale.server_rows() == fresh.server_rows()


def test_no_keyring_means_sign_in_again(
    cloud: Cloud, open_session: dict[str, Any], tmp_path: Any
) -> None:
    desk = DeskProc(tmp_path / "nokeyring")
    staff = next(
        s
        for s in cloud.seed["staff"]
        if s["role"] == "front_desk" and open_session["location"] in s["locations"]
    )
    code, body = desk.run(
        "login",
        "--server",
        cloud.url,
        "--tenant",
        cloud.seed["tenant"],
        "--user",
        staff["username"],
        "--password-stdin",
        "--location",
        open_session["location"],
        stdin=staff["password"] + "\n",
    )
    assert code == 0 and body["credential_storage"] == "memory"
    assert body["notes"] and "keyring" in body["notes"][0]
    assert desk.run("sync", "--once")[0] == 4
    assert not (desk.data_dir / "credentials").exists()
    assert _status(desk)["credential_storage"] == "memory"


def test_a_pc_clock_three_hours_fast_is_measured_and_corrected(make_desk: Any) -> None:
    """The offset to the cloud is measured against this PC's clock, wrong as it may be."""
    desk = make_desk(sync=False)
    desk.env["FRONTDESK_CLOCK_SKEW_S"] = str(3 * 3600)
    code, body = desk.run("sync", "--once")
    assert code == 0, body
    offset = _status(desk)["clock_offset_s"]
    assert offset is not None
    assert abs(offset + 3 * 3600) < 60, offset  # the cloud is three hours behind this PC
