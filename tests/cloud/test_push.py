"""Push: exactly once per (client, seq), refusals that apply nothing, outcomes explained."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from frontdesk.domain.model import Booking, BookingStatus, Entitlement, LedgerEntry, Role
from frontdesk.protocol import MAX_BATCH
from tests.cloud.studio import CloudStudio, Desk


def _bookings(studio: CloudStudio, session_id: str) -> list[Booking]:
    return studio.find(Booking, "session_id", session_id)


def test_a_batch_applies_in_order_and_reports_feed_positions(
    studio: CloudStudio, desk: Desk
) -> None:
    session = studio.session(capacity=1, waitlist=0)
    first, _ = studio.member()
    second, _ = studio.member()
    answer = desk.push(
        desk.command("book", member_id=first.id, session_id=session.id),
        desk.command("book", member_id=second.id, session_id=session.id),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [o["status"] for o in body["outcomes"]] == ["applied", "rejected"]
    assert body["outcomes"][1]["code"] == "class_full"
    assert body["last_seq"] == 2
    assert body["outcomes"][0]["feed_position"] > 0
    assert body["outcomes"][1]["feed_position"] >= body["outcomes"][0]["feed_position"]
    assert [b.member_id for b in _bookings(studio, session.id)] == [first.id]


def test_a_resent_batch_gets_the_stored_outcomes_and_changes_nothing(
    studio: CloudStudio, desk: Desk
) -> None:
    session = studio.session()
    member, ent = studio.member(credits=5)
    batch = [desk.command("book", member_id=member.id, session_id=session.id),
             desk.command("check_in", member_id=member.id, session_id=session.id,
                          at=datetime.now(UTC), reason="came early")]
    first = desk.push(*batch)
    again = desk.push(*batch)
    assert first.status_code == again.status_code == 200
    assert first.json()["outcomes"] == again.json()["outcomes"]
    assert len(_bookings(studio, session.id)) == 1
    assert studio.get(Entitlement, ent.id).balance == 4  # type: ignore[union-attr]
    assert len(studio.find(LedgerEntry, "entitlement_id", ent.id)) == 1
    # A resend mixed with new work: the old part answers from storage, the new part runs.
    other, _ = studio.member()
    mixed = desk.push(batch[1], desk.command("book", member_id=other.id, session_id=session.id))
    assert mixed.status_code == 200
    assert mixed.json()["outcomes"][0] == first.json()["outcomes"][1]
    assert mixed.json()["last_seq"] == 3
    assert len(_bookings(studio, session.id)) == 2


def test_a_reused_sequence_with_other_content_is_refused_and_applies_nothing(
    studio: CloudStudio, desk: Desk
) -> None:
    session = studio.session()
    member, _ = studio.member()
    original = desk.command("book", member_id=member.id, session_id=session.id)
    assert desk.push(original).status_code == 200
    fresh = desk.command("book", member_id=studio.member()[0].id, session_id=session.id)
    copied = dict(original, command_id="another-command")
    answer = desk.push(fresh, copied)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "sequence_conflict"
    tampered = dict(original, args={**original["args"], "reason": "changed"})
    assert desk.push(tampered).json()["error"]["code"] == "sequence_conflict"
    assert len(_bookings(studio, session.id)) == 1  # `fresh` was not applied either


def test_a_gap_is_refused_and_applies_nothing(studio: CloudStudio, desk: Desk) -> None:
    session = studio.session()
    member, _ = studio.member()
    desk.seq = 1  # the desk lost seq 1
    answer = desk.push(desk.command("book", member_id=member.id, session_id=session.id))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "sequence_gap"
    desk.seq = 0
    first = desk.command("book", member_id=member.id, session_id=session.id)
    desk.seq = 2
    gapped = desk.command("cancel_booking", booking_id="x")
    assert desk.push(first, gapped).json()["error"]["code"] == "sequence_gap"
    assert _bookings(studio, session.id) == []


def test_unknown_command_and_version_use_up_their_sequence(studio: CloudStudio, desk: Desk
                                                          ) -> None:
    session = studio.session()
    member, _ = studio.member()
    answer = desk.push(
        desk.command("teleport", member_id=member.id),
        desk.command("book", version=99, member_id=member.id, session_id=session.id),
        desk.command("book", member_id=member.id, session_id=session.id, bogus=True),
        desk.command("book", member_id=member.id, session_id=session.id),
    )
    assert answer.status_code == 200
    outcomes = answer.json()["outcomes"]
    assert [o["code"] for o in outcomes[:3]] == [
        "unknown_command", "unsupported_version", "invalid_arguments"]
    assert outcomes[3]["status"] == "applied"
    assert answer.json()["last_seq"] == 4


def test_bad_batches_are_refused_whole(studio: CloudStudio, desk: Desk, client: TestClient
                                       ) -> None:
    member, _ = studio.member()
    session = studio.session()
    good = desk.command("book", member_id=member.id, session_id=session.id)
    too_many = [dict(good, seq=n, command_id=f"c{n}") for n in range(1, MAX_BATCH + 2)]
    answer = desk.push(*too_many)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "batch_too_large"
    assert desk.push().status_code == 422
    bad_type = dict(good, seq="one")
    assert desk.push(good, bad_type).status_code == 422
    unknown_field = dict(good, extra=1)
    assert desk.push(unknown_field).status_code == 422
    naive = dict(good, happened_at="2026-01-01T10:00:00")
    assert desk.push(naive).status_code == 422
    for raw in (b"{", b"[]", b"null", b'{"client_id": 5}', b"\xff\xfe", b'{"a": NaN}'):
        answer = client.post("/v1/sync/push", content=raw, headers=desk.headers)
        assert 400 <= answer.status_code < 500, (raw, answer.text)
        assert answer.json()["error"]["code"]
    wrong_client = client.post("/v1/sync/push", json={"client_id": "someone-else",
                                                      "commands": [good]},
                               headers=desk.headers)
    assert wrong_client.status_code == 403
    assert _bookings(studio, session.id) == []
    assert desk.push(good).status_code == 200  # seq 1 is still free: nothing used it


def test_a_staff_only_token_cannot_push(client: TestClient, studio: CloudStudio, desk: Desk
                                        ) -> None:
    from tests.cloud.studio import bearer, login

    token = login(client, studio, Role.MANAGER)["access_token"]
    answer = client.post("/v1/sync/push", json={"client_id": desk.client_id,
                                                "commands": [desk.command("sign_waiver",
                                                                          member_id="x")]},
                         headers=bearer(token))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "device_required"


def test_acting_staff_and_location_are_checked_by_the_cloud(
    studio: CloudStudio, desk: Desk
) -> None:
    member, _ = studio.member(waiver_signed_at=None)
    wrong_place = desk.command("sign_waiver", member_id=member.id)
    wrong_place["location_id"] = studio.other.id
    stranger = desk.command("sign_waiver", member_id=member.id)
    stranger["staff_id"] = "not-a-staff-member"
    answer = desk.push(wrong_place, stranger)
    assert [o["code"] for o in answer.json()["outcomes"]] == ["wrong_location", "not_allowed"]
    # A staff member who works elsewhere may not act at this desk's location.
    from dataclasses import replace

    studio.write(replace(studio.staff[Role.MANAGER], location_ids=(studio.other.id,)))
    elsewhere = desk.run("sign_waiver", role=Role.MANAGER, member_id=member.id)
    assert elsewhere["code"] == "wrong_location"
    studio.write(replace(studio.staff[Role.MANAGER], active=False, location_ids=()))
    gone = desk.run("sign_waiver", role=Role.MANAGER, member_id=member.id)
    assert gone["code"] == "not_allowed"


def test_business_time_is_the_corrected_desk_time_within_tolerance(
    studio: CloudStudio, desk: Desk
) -> None:
    # The class started 2 minutes ago by real time; the desk's clock runs 10 minutes fast
    # and it knows (offset -600 s): judged at the corrected time, booking was still open.
    session = studio.session(start=datetime.now(UTC) - timedelta(minutes=2))
    member, _ = studio.member()
    acted = datetime.now(UTC) - timedelta(minutes=4)
    on_time = desk.run("book", member_id=member.id, session_id=session.id,
                       happened_at=acted + timedelta(minutes=10), offset=-600.0)
    assert on_time["status"] == "applied", on_time
    # A clock a day off, with no offset to correct it: judged at receive time, warned.
    other, _ = studio.member()
    skewed = desk.run("sign_waiver", member_id=other.id,
                      happened_at=datetime.now(UTC) - timedelta(days=1))
    assert skewed["status"] == "applied_with_warning"
    assert [w["code"] for w in skewed["warnings"]] == ["clock_skew"]
    late = desk.run("book", member_id=other.id, session_id=session.id,
                    happened_at=datetime.now(UTC) - timedelta(days=1))
    assert late["code"] == "booking_closed"  # judged at receive time: the class started


def test_an_offline_check_in_over_capacity_is_kept_with_a_warning(
    studio: CloudStudio, desk: Desk
) -> None:
    session = studio.session(start=datetime.now(UTC) + timedelta(minutes=10), capacity=1)
    first, _ = studio.member()
    second, _ = studio.member()
    outcomes = desk.push(
        desk.command("check_in", member_id=first.id, session_id=session.id),
        desk.command("check_in", member_id=second.id, session_id=session.id),
    ).json()["outcomes"]
    assert outcomes[0]["status"] == "applied"
    assert outcomes[1]["status"] == "applied_with_warning"
    assert "over_capacity" in [w["code"] for w in outcomes[1]["warnings"]]
    statuses = sorted(b.status for b in _bookings(studio, session.id))
    assert statuses == [BookingStatus.CHECKED_IN, BookingStatus.CHECKED_IN]


def test_a_command_that_fails_midway_leaves_nothing_and_does_not_block(
    studio: CloudStudio, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.domain.model import Member
    from frontdesk_cloud.store import TenantStore

    member, _ = studio.member(waiver_signed_at=None)
    other, _ = studio.member(waiver_signed_at=None)
    original = TenantStore.write

    def write_then_fail(store: TenantStore, changed: list[object]) -> int:
        position = original(store, changed)
        if any(getattr(e, "id", None) == member.id for e in changed):
            raise RuntimeError("a bug after the rows were written")
        return position

    monkeypatch.setattr(TenantStore, "write", write_then_fail)
    outcomes = desk.push(desk.command("sign_waiver", member_id=member.id),
                         desk.command("sign_waiver", member_id=other.id)).json()["outcomes"]
    assert [o["code"] for o in outcomes] == ["internal_error", "ok"]
    assert studio.get(Member, member.id).waiver_signed_at is None  # type: ignore[union-attr]
    assert studio.get(Member, other.id).waiver_signed_at is not None  # type: ignore[union-attr]


def test_later_commands_in_a_batch_see_what_earlier_ones_did(
    studio: CloudStudio, desk: Desk
) -> None:
    """Rows read ahead for the batch stay true as its own commands change them."""
    from tests.cloud.studio import new_id

    guest = new_id()
    session = studio.session(start=datetime.now(UTC) + timedelta(minutes=20), capacity=1,
                             waitlist=0)
    regular, _ = studio.member()
    outcomes = desk.push(
        desk.command("add_member", member_id=guest, name="Walk-in Guest"),
        desk.command("sell", member_id=guest, plan_id=studio.pack.id, method="cash"),
        desk.command("book", member_id=guest, session_id=session.id),
        desk.command("book", member_id=regular.id, session_id=session.id),
        desk.command("check_in", member_id=guest, session_id=session.id),
    ).json()["outcomes"]
    assert [(o["status"], o["code"]) for o in outcomes] == [
        ("applied", "ok"), ("applied", "ok"), ("applied", "ok"), ("rejected", "class_full"),
        ("applied", "ok")]
    (ent,) = studio.find(Entitlement, "member_id", guest)
    assert ent.balance == 9


def test_a_database_failure_mid_batch_applies_nothing(
    studio: CloudStudio, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.domain.model import Member
    from frontdesk_cloud.db import DRIVER_ERRORS
    from frontdesk_cloud.store import TenantStore

    first, _ = studio.member(waiver_signed_at=None)
    second, _ = studio.member(waiver_signed_at=None)
    original = TenantStore.write

    def failing_write(store: TenantStore, changed: list[object]) -> int:
        if any(getattr(e, "id", None) == second.id for e in changed):
            store._raw("SELECT no_such_column FROM entities", ())
        return original(store, changed)

    monkeypatch.setattr(TenantStore, "write", failing_write)
    batch = [desk.command("sign_waiver", member_id=first.id),
             desk.command("sign_waiver", member_id=second.id)]
    # SQLite calls any error "operational" (a 503 to retry); on PostgreSQL it is a bug (500).
    with contextlib.suppress(*DRIVER_ERRORS):
        assert desk.push(*batch).status_code == 503
    assert studio.get(Member, first.id).waiver_signed_at is None  # type: ignore[union-attr]
    monkeypatch.setattr(TenantStore, "write", original)
    retried = desk.push(*batch)  # the same seqs are still free: nothing was used up
    assert [o["code"] for o in retried.json()["outcomes"]] == ["ok", "ok"]
