"""Selling passes, stored value (储值卡), marking paid and refunds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from frontdesk.domain.model import (
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    Member,
    PaymentMethod,
    Penalty,
    Role,
    Sale,
)
from tests.domain.conftest import HOUR, applied, rejected
from tests.studio import Studio


def _sell(studio: Studio, member: Member, plan_id: str, role: Role = Role.FRONT_DESK,
          **args: Any) -> tuple[Entitlement, Sale]:
    result = applied(studio.run("sell", role, member_id=member.id, plan_id=plan_id,
                                method=args.pop("method", "wechat_pay"), **args))
    ent = studio.get(Entitlement, result.outcome.data["entitlement_id"])
    sale = studio.get(Sale, result.outcome.data["sale_id"])
    assert sale.entitlement_id == ent.id and ent.sale_id == sale.id
    return ent, sale


# --- sell -----------------------------------------------------------------------------


def test_sell_a_pack_grants_its_credits_through_the_ledger(studio: Studio) -> None:
    member = studio.member(credits=0)

    ent, sale = _sell(studio, member, studio.pack.id)

    assert (ent.kind, ent.balance, ent.credits_total, ent.paid) == (
        EntitlementKind.PACK, 10, 10, True)
    assert (ent.valid_from, ent.valid_until) == (date(2026, 12, 3), date(2027, 3, 2))  # 90 days
    assert (sale.amount_cents, sale.method, sale.paid, sale.kind) == (
        80000, PaymentMethod.WECHAT_PAY, True, "pass")
    (grant,) = studio.ledger(ent)
    assert (grant.delta, grant.reason) == (10, "grant")
    assert studio.ledger_balance(ent) == ent.balance
    (audit,) = studio.audits("sale")
    assert audit.subject_id == sale.id
    assert studio.audits("price_override") == []


def test_sell_a_membership_is_unlimited_for_its_days(studio: Studio) -> None:
    member = studio.member(credits=0)

    ent, _ = _sell(studio, member, studio.monthly.id)

    assert (ent.kind, ent.balance, ent.valid_until) == (
        EntitlementKind.MEMBERSHIP, 0, date(2027, 1, 1))
    assert studio.ledger(ent) == []
    for hours in (2, 4):  # two classes the same day cost nothing
        result = applied(studio.run("book", member_id=member.id,
                                    session_id=studio.session(start=studio.now + hours * HOUR).id))
        assert studio.booking(result.outcome.subject_id).entitlement_id == ent.id


def test_sell_a_drop_in_is_one_class_today(studio: Studio) -> None:
    member = studio.member(credits=0)

    ent, sale = _sell(studio, member, studio.drop_in.id, method="cash")

    assert (ent.kind, ent.balance, ent.valid_from, ent.valid_until) == (
        EntitlementKind.DROP_IN, 1, date(2026, 12, 3), date(2026, 12, 3))
    assert sale.amount_cents == 10000
    applied(studio.run("book", member_id=member.id, session_id=studio.session().id))
    assert studio.get(Entitlement, ent.id).balance == 0
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "no_credits_left")


def test_sell_with_a_start_date(studio: Studio) -> None:
    ent, _ = _sell(studio, studio.member(credits=0), studio.monthly.id,
                   starts=date(2027, 1, 1))
    assert (ent.valid_from, ent.valid_until) == (date(2027, 1, 1), date(2027, 1, 30))


def test_sell_at_another_price_is_audited(studio: Studio) -> None:
    _, sale = _sell(studio, studio.member(credits=0), studio.pack.id, price_cents=70000)

    assert sale.amount_cents == 70000
    (audit,) = studio.audits("price_override")
    assert (audit.subject_id, audit.detail) == (sale.id, "80000->70000")
    assert audit.staff_id == studio.staff[Role.FRONT_DESK].id


def test_sell_unpaid_leaves_pass_and_sale_unpaid_until_marked_paid(studio: Studio) -> None:
    member = studio.member(credits=0)
    ent, sale = _sell(studio, member, studio.pack.id, paid=False)
    assert not ent.paid and not sale.paid

    applied(studio.run("mark_paid", sale_id=sale.id, method="alipay"))

    assert studio.get(Entitlement, ent.id).paid
    paid = studio.get(Sale, sale.id)
    assert (paid.paid, paid.method) == (True, PaymentMethod.ALIPAY)
    assert [a.detail for a in studio.audits("mark_paid")] == ["alipay"]


def test_mark_paid_twice_is_harmless(studio: Studio) -> None:
    _, sale = _sell(studio, studio.member(credits=0), studio.pack.id, paid=False)
    applied(studio.run("mark_paid", sale_id=sale.id, method="cash"))
    again = applied(studio.run("mark_paid", sale_id=sale.id, method="card"), "already_paid")
    assert again.changes == []
    assert studio.get(Sale, sale.id).method is PaymentMethod.CASH


def test_mark_paid_a_penalty_fee(studio: Studio) -> None:
    studio.policy = replace(studio.policy, late_cancel_penalty=Penalty.FEE,
                            penalty_fee_cents=2000)
    member = studio.member()
    booking = studio.run("book", member_id=member.id, session_id=studio.session().id)
    applied(studio.run("cancel_booking", booking_id=booking.outcome.subject_id))
    (fee,) = studio.sales(member)

    applied(studio.run("mark_paid", sale_id=fee.id, method="cash"))

    assert studio.get(Sale, fee.id).paid


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"price_cents": -1}, "invalid_value"),
        ({"method": "stored_value"}, "invalid_value"),
        ({"plan_id": "no-such-plan"}, "unknown_plan"),
        ({"method": "bitcoin"}, "invalid_arguments"),
    ],
)
def test_sell_refuses_bad_values(studio: Studio, args: dict[str, Any], code: str) -> None:
    call: dict[str, Any] = {"member_id": studio.member(credits=0).id,
                               "plan_id": studio.pack.id, "method": "cash"}
    call.update(args)
    rejected(studio.run("sell", **call), code)


def test_sell_refuses_a_plan_no_longer_sold(studio: Studio) -> None:
    studio.state.apply([replace(studio.pack, active=False)])
    rejected(studio.run("sell", member_id=studio.member().id, plan_id=studio.pack.id,
                        method="cash"), "plan_inactive")


# --- stored value (储值卡) --------------------------------------------------------------


def test_top_up_makes_a_card_then_adds_to_it(studio: Studio) -> None:
    member = studio.member(credits=0)

    first = applied(studio.run("top_up", member_id=member.id, amount_cents=50000,
                               method="wechat_pay"))
    second = applied(studio.run("top_up", member_id=member.id, amount_cents=20000,
                                method="cash"))

    assert first.outcome.subject_id == second.outcome.subject_id
    card = studio.get(Entitlement, first.outcome.subject_id)
    assert (card.kind, card.balance, card.valid_until) == (
        EntitlementKind.STORED_VALUE, 70000, None)
    assert sorted(e.delta for e in studio.ledger(card)) == [20000, 50000]
    assert sorted(s.amount_cents for s in studio.sales(member) if s.kind == "top_up") == [
        20000, 50000]
    assert all(s.entitlement_id == card.id for s in studio.sales(member))
    assert len(studio.audits("top_up")) == 2


def test_classes_are_paid_from_stored_value(studio: Studio) -> None:
    member = studio.member(credits=0)
    top = applied(studio.run("top_up", member_id=member.id, amount_cents=25000, method="cash"))
    card_id = top.outcome.subject_id
    assert card_id is not None

    for hours in (2, 3):
        applied(studio.run("book", member_id=member.id,
                           session_id=studio.session(start=studio.now + hours * HOUR).id))

    assert studio.balance(card_id) == 5000
    rejected(studio.run("book", member_id=member.id, session_id=studio.session().id),
             "no_credits_left")
    assert studio.ledger_balance(card_id) == 5000


def test_an_unpaid_top_up_marks_the_card_unpaid(studio: Studio) -> None:
    member = studio.member(credits=0)
    top = applied(studio.run("top_up", member_id=member.id, amount_cents=1000, method="cash",
                             paid=False))
    assert not studio.get(Entitlement, top.outcome.subject_id).paid
    applied(studio.run("mark_paid", sale_id=top.outcome.data["sale_id"], method="cash"))
    assert studio.get(Entitlement, top.outcome.subject_id).paid


def test_a_card_stays_unpaid_while_another_top_up_is_unpaid(studio: Studio) -> None:
    member = studio.member(credits=0)
    a = studio.run("top_up", member_id=member.id, amount_cents=1000, method="cash", paid=False)
    b = studio.run("top_up", member_id=member.id, amount_cents=1000, method="cash", paid=False)

    applied(studio.run("mark_paid", sale_id=a.outcome.data["sale_id"], method="cash"))
    assert not studio.get(Entitlement, a.outcome.subject_id).paid
    applied(studio.run("mark_paid", sale_id=b.outcome.data["sale_id"], method="cash"))
    assert studio.get(Entitlement, a.outcome.subject_id).paid


@pytest.mark.parametrize("amount", [0, -100])
def test_top_up_must_be_more_than_zero(studio: Studio, amount: int) -> None:
    rejected(studio.run("top_up", member_id=studio.member().id, amount_cents=amount,
                        method="cash"), "invalid_value")


# --- refund ---------------------------------------------------------------------------


def test_a_partial_refund_keeps_the_pass(studio: Studio) -> None:
    ent, sale = _sell(studio, studio.member(credits=0), studio.pack.id)

    applied(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=30000,
                       reason="price match"))

    assert studio.get(Sale, sale.id).refunded_cents == 30000
    after = studio.get(Entitlement, ent.id)
    assert (after.status, after.balance) == (EntitlementStatus.ACTIVE, 10)
    (audit,) = studio.audits("refund")
    assert (audit.reason, audit.detail) == ("price match", "30000")


def test_a_full_refund_ends_the_pass_through_the_ledger(studio: Studio) -> None:
    member = studio.member(credits=0)
    ent, sale = _sell(studio, member, studio.pack.id)
    applied(studio.run("book", member_id=member.id, session_id=studio.session().id))

    applied(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=80000,
                       reason="moving away"))

    after = studio.get(Entitlement, ent.id)
    assert (after.status, after.balance) == (EntitlementStatus.REFUNDED, 0)
    assert sorted((e.reason, e.delta) for e in studio.ledger(ent)) == [
        ("book", -1), ("grant", 10), ("refund", -9)]
    rejected(studio.run("book", member_id=member.id,
                        session_id=studio.session(start=studio.now + 3 * HOUR).id),
             "no_valid_entitlement")


def test_a_partial_then_the_rest_is_a_full_refund(studio: Studio) -> None:
    ent, sale = _sell(studio, studio.member(credits=0), studio.pack.id)
    applied(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=30000, reason="a"))
    applied(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=50000, reason="b"))

    assert studio.get(Entitlement, ent.id).status is EntitlementStatus.REFUNDED
    rejected(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=1, reason="c"),
             "invalid_value")


def test_a_stored_value_refund_takes_the_money_off_the_card(studio: Studio) -> None:
    member = studio.member(credits=0)
    top = studio.run("top_up", member_id=member.id, amount_cents=50000, method="cash")
    card_id = top.outcome.subject_id
    assert card_id is not None
    applied(studio.run("book", member_id=member.id, session_id=studio.session().id))  # 10000

    rejected(studio.run("refund", Role.MANAGER, sale_id=top.outcome.data["sale_id"],
                        amount_cents=45000, reason="x"), "invalid_value")
    applied(studio.run("refund", Role.MANAGER, sale_id=top.outcome.data["sale_id"],
                       amount_cents=40000, reason="closing account"))

    assert studio.balance(card_id) == 0
    assert studio.ledger_balance(card_id) == 0


@pytest.mark.parametrize("amount", [0, -5, 80001])
def test_a_refund_must_be_within_what_was_paid(studio: Studio, amount: int) -> None:
    _, sale = _sell(studio, studio.member(credits=0), studio.pack.id)
    rejected(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=amount,
                        reason="x"), "invalid_value")


def test_a_refund_needs_a_reason(studio: Studio) -> None:
    _, sale = _sell(studio, studio.member(credits=0), studio.pack.id)
    rejected(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=100, reason=" "),
             "reason_required")


def test_front_desk_may_not_refund(studio: Studio) -> None:
    _, sale = _sell(studio, studio.member(credits=0), studio.pack.id)
    rejected(studio.run("refund", sale_id=sale.id, amount_cents=100, reason="x"), "not_allowed")


def test_an_unpaid_sale_cannot_be_refunded(studio: Studio) -> None:
    """No money came in, so none can go out: cancel the pass another way."""
    ent, sale = _sell(studio, studio.member(credits=0), studio.pack.id, paid=False)
    rejected(studio.run("refund", Role.MANAGER, sale_id=sale.id, amount_cents=80000,
                        reason="changed mind"), "not_paid")
    assert studio.get(Entitlement, ent.id).balance == 10

