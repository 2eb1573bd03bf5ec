"""The wire codec: every entity and command survives JSON, and bad input is named."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

import pytest

from frontdesk.domain import REGISTRY
from frontdesk.domain.codec import DecodeError, decode, encode, parse_datetime
from frontdesk.domain.commands import NewGuest, WalkIn
from frontdesk.domain.model import KINDS, AlertCode, Policy, Role, Tenant, kind_of
from tests.domain.conftest import HOUR
from tests.domain.test_engine import SETUPS
from tests.studio import Studio

SHANGHAI = timezone(timedelta(hours=8))


def _busy_studio() -> Studio:
    """A studio where every kind of row exists, with optional fields filled in."""
    studio = Studio()
    member = studio.member("张伟", birthday=date(1990, 12, 3), card_code="C-1")
    session = studio.session(start=studio.now + HOUR / 2)
    studio.run("check_in", member_id=member.id, session_id=session.id)
    studio.run("sell", member_id=member.id, plan_id=studio.pack.id, method="alipay")
    studio.run("record_feedback", member_id=member.id, rating=5, session_id=session.id)
    studio.run("record_scan", code="X", reason="unknown_card")
    ent = studio.entitlements(member)[0]
    studio.run("freeze", Role.MANAGER, entitlement_id=ent.id, start=date(2026, 12, 10),
               end=date(2026, 12, 11), reason="trip")
    studio.state.apply([Tenant("t", "studio", "Studio")])
    return studio


def test_every_entity_kind_round_trips_through_json() -> None:
    studio = _busy_studio()
    seen: set[str] = set()
    for cls in KINDS.values():
        entity: object
        for entity in studio.state.all(cls):
            wire = json.loads(json.dumps(encode(entity)))
            assert decode(cls, wire) == entity
            seen.add(kind_of(entity))
    assert seen == set(KINDS) - {"room"}


def test_a_command_with_a_nested_guest_round_trips() -> None:
    cmd = WalkIn(session_id="s", guest=NewGuest(name="Guest", phone="1"), plan_id="p")
    wire = json.loads(json.dumps(encode(cmd)))
    assert wire["guest"] == {"name": "Guest", "phone": "1", "email": "", "card_code": ""}
    assert wire["method"] == "cash"
    assert decode(WalkIn, wire) == cmd


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_every_command_round_trips_through_json(name: str) -> None:
    args, _ = SETUPS[name](Studio())
    cls = REGISTRY[name].cls
    cmd: object = decode(cls, json.loads(json.dumps(encode(args))))
    assert decode(cls, json.loads(json.dumps(encode(cmd)))) == cmd


def test_times_go_out_as_utc_with_a_z() -> None:
    local = datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
    assert encode(local) == "2026-12-03T01:00:00Z"


def test_naive_times_are_refused_both_ways() -> None:
    with pytest.raises(ValueError, match="naive"):
        encode(datetime(2026, 12, 3, 9, 0))
    with pytest.raises(DecodeError, match="needs a UTC offset"):
        parse_datetime("2026-12-03T09:00:00")


@pytest.mark.parametrize(
    "text", ["2026-12-03T01:00:00Z", "2026-12-03T09:00:00+08:00", "2026-12-02T20:00:00-05:00"]
)
def test_times_with_any_offset_arrive_in_utc(text: str) -> None:
    moment = parse_datetime(text)
    assert moment.utcoffset() == timedelta(0)
    assert moment == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def test_policy_with_a_set_of_alerts_round_trips_sorted() -> None:
    policy = Policy(blocking_alerts=frozenset({AlertCode.UNPAID, AlertCode.BIRTHDAY}))
    wire = encode(policy)
    assert wire["blocking_alerts"] == ["birthday", "unpaid"]
    assert decode(Policy, wire) == policy


@dataclass(frozen=True)
class _Sample:
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    day: date | None = None
    mode: Literal["a", "b"] = "a"
    tags: tuple[str, ...] = ()
    extra: dict[str, int] | None = None
    anything: Any = None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"count": True}, "_Sample.count: expected a whole number"),
        ({"count": 1.5}, "expected a whole number"),
        ({"ratio": "1"}, "_Sample.ratio: expected a number"),
        ({"flag": 1}, "expected true or false"),
        ({"day": "3/12/2026"}, "expected a date YYYY-MM-DD"),
        ({"day": 20261203}, "expected a date YYYY-MM-DD"),
        ({"mode": "c"}, "must be one of ['a', 'b']"),
        ({"tags": "a,b"}, "expected a list"),
        ({"tags": ["a", 2]}, "_Sample.tags[1]: expected text"),
        ({"extra": []}, "_Sample.extra: expected an object"),
        ({"extra": {"k": "v"}}, "_Sample.extra.k: expected a whole number"),
    ],
)
def test_decode_names_the_field_that_is_wrong(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(_Sample, data)
    assert fragment in str(caught.value)


def test_decode_accepts_well_formed_values() -> None:
    sample = decode(_Sample, {"count": 2, "ratio": 1, "flag": True, "day": "2026-12-03",
                              "mode": "b", "tags": ["x"], "extra": {"k": 1},
                              "anything": [1, "two"]})
    assert sample == _Sample(2, 1.0, True, date(2026, 12, 3), "b", ("x",), {"k": 1},
                             [1, "two"])
    assert isinstance(sample.ratio, float)


def test_decode_refuses_a_non_object_and_a_bad_enum() -> None:
    with pytest.raises(DecodeError, match="expected an object"):
        decode(_Sample, [1])
    with pytest.raises(DecodeError, match="must be one of"):
        decode(Policy, {"late_cancel_penalty": "flogging"})
