"""The desk's ranked alert banner: which alerts, blocking or not, in which order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from frontdesk.domain.model import (
    AlertCode,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    Member,
    PaymentMethod,
    Policy,
    Sale,
)
from frontdesk.domain.rules import Alert, member_alerts

TODAY = date(2026, 12, 3)
POLICY = Policy()
SIGNED = datetime(2026, 1, 1, tzinfo=UTC)


def _member(**fields: Any) -> Member:
    base = Member(id="m", name="Wei", waiver_signed_at=SIGNED)
    return replace(base, **fields)


def _pass(kind: EntitlementKind = EntitlementKind.PACK, balance: int = 10,
          until: date | None = date(2027, 6, 1), **fields: Any) -> Entitlement:
    return Entitlement(id=f"e-{kind}-{balance}-{until}", member_id="m", kind=kind, name="p",
                       valid_from=date(2026, 1, 1), valid_until=until, balance=balance,
                       **fields)


def _unpaid_fee() -> Sale:
    return Sale(id="s", member_id="m", location_id="l", description="fee", amount_cents=100,
                method=PaymentMethod.OTHER, paid=False, at=SIGNED, staff_id="x", kind="fee")


def _codes(alerts: list[Alert]) -> list[AlertCode]:
    return [a.code for a in alerts]


def test_a_member_in_good_standing_has_no_alerts() -> None:
    assert member_alerts(_member(), [_pass()], [], TODAY, POLICY) == []


def test_no_pass_at_all_is_a_blocking_alert_with_a_sell_action() -> None:
    (alert,) = member_alerts(_member(), [], [], TODAY, POLICY)
    assert (alert.code, alert.blocking, alert.action) == (
        AlertCode.NO_VALID_ENTITLEMENT, True, "sell_pass")


def test_an_expired_pass_says_expired_and_offers_renewal() -> None:
    (alert,) = member_alerts(_member(), [_pass(until=date(2026, 12, 2))], [], TODAY, POLICY)
    assert (alert.code, alert.blocking, alert.action) == (AlertCode.EXPIRED, True, "renew")


def test_a_pass_ending_today_is_still_valid_and_expiring_soon() -> None:
    (alert,) = member_alerts(_member(), [_pass(until=TODAY)], [], TODAY, POLICY)
    assert alert.code is AlertCode.EXPIRING_SOON
    assert alert.message == "Pass expires on 2026-12-03."
    assert not alert.blocking


def test_an_empty_pack_is_no_valid_pass() -> None:
    assert _codes(member_alerts(_member(), [_pass(balance=0)], [], TODAY, POLICY)) == [
        AlertCode.NO_VALID_ENTITLEMENT]


def test_a_refunded_pass_does_not_count() -> None:
    refunded = _pass(status=EntitlementStatus.REFUNDED)
    assert _codes(member_alerts(_member(), [refunded], [], TODAY, POLICY)) == [
        AlertCode.NO_VALID_ENTITLEMENT]


def test_a_frozen_pass_is_not_valid_today() -> None:
    frozen = _pass(frozen_from=TODAY, frozen_until=date(2026, 12, 5))
    codes = _codes(member_alerts(_member(), [frozen], [], TODAY, POLICY))
    assert codes == [AlertCode.NO_VALID_ENTITLEMENT, AlertCode.FREEZE_ENDING]


def test_usable_today_overrides_the_general_judgement() -> None:
    # The class at hand is not covered, though another pass is valid today.
    codes = _codes(member_alerts(_member(), [_pass()], [], TODAY, POLICY, usable_today=False))
    assert codes == [AlertCode.NO_VALID_ENTITLEMENT]
    assert member_alerts(_member(), [], [], TODAY, POLICY, usable_today=True) == []


def test_low_credits_counts_every_valid_pack() -> None:
    policy = replace(POLICY, low_credits_threshold=2)
    one_left = _pass(balance=1)
    (alert,) = member_alerts(_member(), [one_left], [], TODAY, policy)
    assert (alert.code, alert.message) == (AlertCode.LOW_CREDITS, "Only 1 class(es) left.")
    assert member_alerts(_member(), [one_left, _pass(balance=2)], [], TODAY, policy) == []


def test_a_membership_never_has_low_credits() -> None:
    membership = _pass(EntitlementKind.MEMBERSHIP, balance=0)
    assert member_alerts(_member(), [membership, _pass(balance=1)], [], TODAY, POLICY) == []


def test_unpaid_fees_and_unpaid_passes_raise_unpaid() -> None:
    assert _codes(member_alerts(_member(), [_pass()], [_unpaid_fee()], TODAY, POLICY)) == [
        AlertCode.UNPAID]
    assert _codes(member_alerts(_member(), [_pass(paid=False)], [], TODAY, POLICY)) == [
        AlertCode.UNPAID]


def test_waiver_note_and_birthday() -> None:
    member = _member(waiver_signed_at=None, notes="  bad knee ", birthday=date(1990, 12, 3))
    alerts = member_alerts(member, [_pass()], [], TODAY, POLICY)
    assert _codes(alerts) == [AlertCode.WAIVER_MISSING, AlertCode.STAFF_NOTE,
                              AlertCode.BIRTHDAY]
    assert alerts[1].message == "Staff note: bad knee"


def test_freeze_ending_within_a_week() -> None:
    ending = _pass(frozen_from=date(2026, 11, 1), frozen_until=date(2026, 12, 10))
    later = _pass(balance=9, frozen_from=date(2026, 11, 1), frozen_until=date(2026, 12, 11))
    assert _codes(member_alerts(_member(), [ending], [], TODAY, POLICY)) == [
        AlertCode.NO_VALID_ENTITLEMENT, AlertCode.FREEZE_ENDING]
    assert AlertCode.FREEZE_ENDING not in _codes(
        member_alerts(_member(), [later], [], TODAY, POLICY))


def test_blocking_alerts_come_first_then_by_rank() -> None:
    policy = replace(POLICY, blocking_alerts=frozenset({AlertCode.BIRTHDAY}))
    member = _member(waiver_signed_at=None, notes="note", birthday=date(2000, 12, 3))
    alerts = member_alerts(member, [_pass(until=TODAY, balance=1)], [_unpaid_fee()], TODAY,
                           policy)
    assert _codes(alerts) == [
        AlertCode.BIRTHDAY,
        AlertCode.UNPAID,
        AlertCode.WAIVER_MISSING,
        AlertCode.STAFF_NOTE,
        AlertCode.EXPIRING_SOON,
        AlertCode.LOW_CREDITS,
    ]
    assert [a.blocking for a in alerts] == [True] + [False] * 5


@pytest.mark.parametrize("code", list(AlertCode))
def test_every_alert_can_be_made_blocking_by_policy(code: AlertCode) -> None:
    policy = replace(POLICY, blocking_alerts=frozenset({code}))
    member = _member(waiver_signed_at=None, notes="n", birthday=date(2000, 12, 3))
    scenarios = [
        [],
        [_pass(until=date(2026, 12, 1))],
        [_pass(until=TODAY, balance=1, paid=False),
         _pass(balance=5, frozen_from=date(2026, 11, 1), frozen_until=date(2026, 12, 5))],
    ]
    found = [a for ents in scenarios for a in member_alerts(member, ents, [], TODAY, policy)
             if a.code is code]
    assert found and all(a.blocking for a in found)
