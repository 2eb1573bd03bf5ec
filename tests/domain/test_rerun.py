"""A command re-run on top of its own effects changes nothing.

This happens for real: the cloud applies a command but its answer is lost, the desk
pulls the effects, and then re-runs the still-pending command on top of them (rebase).
Effects that add to a balance or a total must not be added twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from frontdesk.domain import Result, execute
from frontdesk.domain.codec import encode
from frontdesk.domain.model import Entitlement, Role, Sale, Session
from tests.domain.conftest import HOUR, applied
from tests.domain.test_engine import SETUPS
from tests.studio import Studio


def _rerun(studio: Studio, name: str, role: Role, command_id: str, args: dict[str, Any],
           now: Any = None) -> Result:
    """Run the same command again on the state that already holds its effects."""
    return execute(name, 1, encode(args), command_id, studio.ctx(role, now=now), studio.state)


def _effective(studio: Studio, result: Result) -> list[object]:
    """The changes that would alter a stored row."""
    return [c for c in result.changes if studio.state.get(type(c), c.id) != c]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_a_rerun_on_top_of_its_own_effects_changes_nothing(name: str) -> None:
    studio = Studio()
    args, now = SETUPS[name](studio)
    first = studio.run(name, Role.OWNER, now=now, command_id="cmd-1", **args)
    assert first.outcome.ok

    again = _rerun(studio, name, Role.OWNER, "cmd-1", args, now)

    assert _effective(studio, again) == []


def test_a_rerun_top_up_does_not_add_the_money_twice(studio: Studio) -> None:
    member = studio.member(credits=0)
    args: dict[str, Any] = {"member_id": member.id, "amount_cents": 50000, "method": "cash"}
    first = applied(studio.run("top_up", command_id="cmd-1", **args))

    again = _rerun(studio, "top_up", Role.FRONT_DESK, "cmd-1", args)
    studio.state.apply(again.changes)

    assert studio.balance(first.outcome.subject_id) == 50000
    assert studio.ledger_balance(first.outcome.subject_id) == 50000


def test_a_rerun_sale_does_not_refill_a_pass_already_used(studio: Studio) -> None:
    member = studio.member(credits=0)
    args: dict[str, Any] = {"member_id": member.id, "plan_id": studio.pack.id, "method": "cash"}
    sold = applied(studio.run("sell", command_id="cmd-1", **args))
    applied(studio.run("book", member_id=member.id, session_id=studio.session().id))

    again = _rerun(studio, "sell", Role.FRONT_DESK, "cmd-1", args)
    studio.state.apply(again.changes)

    ent = studio.get(Entitlement, sold.outcome.subject_id)
    assert ent.balance == studio.ledger_balance(ent) == 9
    assert again.outcome.data["entitlement_id"] == ent.id


def test_a_rerun_sale_keeps_a_later_payment(studio: Studio) -> None:
    member = studio.member(credits=0)
    args: dict[str, Any] = {"member_id": member.id, "plan_id": studio.pack.id,
                            "method": "cash", "paid": False}
    sold = applied(studio.run("sell", command_id="cmd-1", **args))
    applied(studio.run("mark_paid", sale_id=sold.outcome.data["sale_id"], method="card"))

    studio.state.apply(_rerun(studio, "sell", Role.FRONT_DESK, "cmd-1", args).changes)

    assert studio.get(Sale, sold.outcome.data["sale_id"]).paid
    assert studio.get(Entitlement, sold.outcome.subject_id).paid


def test_a_rerun_refund_does_not_refund_twice(studio: Studio) -> None:
    member = studio.member(credits=0)
    top = applied(studio.run("top_up", member_id=member.id, amount_cents=50000, method="cash"))
    args: dict[str, Any] = {"sale_id": top.outcome.data["sale_id"], "amount_cents": 20000,
                            "reason": "asked"}
    applied(studio.run("refund", Role.MANAGER, command_id="cmd-1", **args))

    studio.state.apply(_rerun(studio, "refund", Role.MANAGER, "cmd-1", args).changes)

    assert studio.get(Sale, args["sale_id"]).refunded_cents == 20000
    assert studio.balance(top.outcome.subject_id) == 30000


def test_a_rerun_freeze_does_not_push_the_expiry_twice(studio: Studio) -> None:
    member = studio.member(until=date(2027, 1, 31))
    (ent,) = studio.entitlements(member)
    args: dict[str, Any] = {"entitlement_id": ent.id, "start": date(2026, 11, 20),
                            "end": date(2026, 11, 24)}
    applied(studio.run("freeze", Role.MANAGER, command_id="cmd-1", **args))

    studio.state.apply(_rerun(studio, "freeze", Role.MANAGER, "cmd-1", args).changes)

    assert studio.get(Entitlement, ent.id).valid_until == date(2027, 2, 5)


def test_a_rerun_walk_in_sells_and_charges_once(studio: Studio) -> None:
    session = studio.session(start=studio.now + HOUR / 2)
    args: dict[str, Any] = {"session_id": session.id, "guest": {"name": "Guest"},
                            "plan_id": studio.pack.id}
    first = applied(studio.run("walk_in", command_id="cmd-1", **args))

    studio.state.apply(_rerun(studio, "walk_in", Role.FRONT_DESK, "cmd-1", args).changes)

    assert studio.balance(first.outcome.data["entitlement_id"]) == 9
    assert len(studio.sales()) == 1


def test_a_rerun_capacity_change_keeps_its_audit_entry(studio: Studio) -> None:
    session = studio.session(capacity=5)
    args: dict[str, Any] = {"session_id": session.id, "capacity": 8}
    applied(studio.run("change_capacity", Role.MANAGER, command_id="cmd-1", **args))

    studio.state.apply(_rerun(studio, "change_capacity", Role.MANAGER, "cmd-1", args).changes)

    assert [a.detail for a in studio.audits("change_capacity")] == ["5->8"]
    assert studio.get(Session, session.id).capacity == 8
