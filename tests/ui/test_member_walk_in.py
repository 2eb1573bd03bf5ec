"""The member panel's passes, alerts and one-click actions; the walk-in in one dialog."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from frontdesk.domain.model import BookingStatus, Role
from frontdesk.ui.context import DeskContext
from frontdesk.ui.dialogs.money import MarkPaidDialog, SellDialog
from frontdesk.ui.dialogs.people import EditMemberDialog, WalkInDialog
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.screens.member import MemberPanel

from .conftest import DeskWorld

Make = Callable[..., tuple[MainWindow, DeskContext]]


def _panel(window: MainWindow) -> MemberPanel:
    assert window.desk is not None and window.desk.member is not None
    return window.desk.member


def _alerts(panel: MemberPanel) -> list[str]:
    return [w.objectName().removeprefix("AlertAction_") for w in panel.alert_buttons]


def test_passes_alerts_and_visits(make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window()
    panel = _panel(window)
    ctx.events.show_member.emit(world.members["low"].id)
    assert panel.name.text() == "刘洋"
    assert panel.passes.data(panel.passes.index(0, 2)) == "0 of 1"  # booked: the credit is used
    assert panel.card is not None
    codes = [a.code.value for a in panel.card.alerts]
    assert codes[0] == "no_valid_entitlement"  # blocking first, then by rank
    assert "no_valid_entitlement" in _alerts(panel)  # with its one-click action: sell a pass
    assert [v.session.class_name for v in panel.card.visits if v.session][:1] == ["Vinyasa 流瑜伽"]
    ctx.events.show_member.emit(world.members["monthly"].id)
    assert panel.passes.data(panel.passes.index(0, 2)) == "unlimited"


def test_waiver_alert_is_one_click(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window()
    panel = _panel(window)
    ctx.events.show_member.emit(world.members["nowaiver"].id)
    assert "waiver_missing" in _alerts(panel)
    action = next(w for w in panel.alert_buttons if w.objectName().endswith("waiver_missing"))
    action.click()
    assert "waiver_missing" not in _alerts(panel)
    assert ctx.replica.pending(5)[-1].name == "sign_waiver"


def test_sell_unpaid_then_mark_paid(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window()
    panel = _panel(window)
    ctx.events.show_member.emit(world.members["guest"].id)
    panel.buttons["sell"].click()
    sell = window.findChild(SellDialog)
    assert sell is not None
    sell.payment.plan.setCurrentIndex(sell.payment.plan.findData(world.studio.pack.id))
    assert sell.payment.price.value() == 800.0
    sell.payment.paid.setChecked(False)
    sell.ok_button.click()
    assert not sell.isVisible()
    assert "unpaid" in _alerts(panel)
    assert panel.passes.data(panel.passes.index(0, 2)) == "10 of 10"
    next(w for w in panel.alert_buttons if w.objectName().endswith("unpaid")).click()
    pay = window.findChild(MarkPaidDialog)
    assert pay is not None and pay.sale.count() == 1
    pay.method.setCurrentIndex(pay.method.findData("wechat_pay"))
    pay.ok_button.click()
    assert "unpaid" not in _alerts(panel)
    assert [c.name for c in ctx.replica.pending(10)] == ["sell", "mark_paid"]
    assert ctx.replica.pending(10)[1].args["method"] == "wechat_pay"


def test_edit_member(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window()
    panel = _panel(window)
    ctx.events.show_member.emit(world.members["anna"].id)
    panel.buttons["edit"].click()
    edit = window.findChild(EditMemberDialog)
    assert edit is not None
    edit.phone.setText("13912345678")
    edit.notes.setPlainText("Knee injury: no deep squats")
    edit.ok_button.click()
    assert "13912345678" in panel.contact.text()
    assert panel.notes.text() == "Knee injury: no deep squats"
    assert "staff_note" in [a.code.value for a in panel.card.alerts]  # type: ignore[union-attr]
    # The duplicate card is refused with the reason, and the dialog stays open.
    panel.buttons["edit"].click()
    edit = next(d for d in window.findChildren(EditMemberDialog) if d.isVisible())
    edit.card.setText(world.members["zhang"].card_code)
    edit.ok_button.click()
    assert edit.isVisible() and "张伟" in edit.banner.heading.text()


def test_walk_in_new_guest_with_a_drop_in(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    window.desk.bar.field.setText("NEW-CARD-77")
    window.desk.bar.enter()
    walk = next(b for b in window.desk.bar.banner.buttons if b.text().startswith("New guest"))
    walk.click()
    dialog = window.findChild(WalkInDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    # Classes with space, starting soonest first.
    options = [dialog.session.itemText(i) for i in range(dialog.session.count())]
    assert options[0].startswith("09:20 Vinyasa")
    assert not any("Pilates" in o for o in options)  # full
    assert dialog.new.isChecked() and dialog.guest_card.text() == "NEW-CARD-77"
    dialog.guest_name.setText("王小明")
    dialog.guest_phone.setText("13700000000")
    dialog.ok_button.click()  # no sale chosen: a new guest has no pass
    assert dialog.isVisible() and "drop-in" in dialog.banner.heading.text()
    dialog.payment.plan.setCurrentIndex(dialog.payment.plan.findData(world.studio.drop_in.id))
    dialog.payment.method.setCurrentIndex(dialog.payment.method.findData("alipay"))
    dialog.waiver.setChecked(True)  # this studio blocks check-in without a waiver
    dialog.ok_button.click()
    assert not dialog.isVisible(), dialog.banner.heading.text()
    roster = window.desk.today.roster
    guest = next(line for line in roster.model.rows if line.member_name == "王小明")
    assert guest.booking.status is BookingStatus.CHECKED_IN and guest.booking.walk_in
    assert [c.name for c in ctx.replica.pending(10)][-3:] == [
        "add_member",
        "sign_waiver",
        "walk_in",
    ]
    (walk_in,) = [c for c in ctx.replica.pending(10) if c.name == "walk_in"]
    assert walk_in.args["method"] == "alipay" and walk_in.args["plan_id"] == world.studio.drop_in.id
    assert _panel(window).name.text() == "王小明"
    # The new guest is found by pinyin at once.
    hits = ctx.desk.views.search("wxm", ctx.today())
    assert [h.name for h in hits] == ["王小明"]


def test_walk_in_member_using_their_pass(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window()
    panel = _panel(window)
    ctx.events.show_member.emit(world.members["zhang"].id)
    panel.buttons["walk_in"].click()
    dialog = window.findChild(WalkInDialog)
    assert dialog is not None and dialog.known.isChecked()
    dialog.session.setCurrentIndex(dialog.session.findData(world.sessions["noon"].id))
    # Noon is hours away: check-in is not open yet, so the desk refuses and says when.
    dialog.ok_button.click()
    assert dialog.isVisible() and "open from" in dialog.banner.heading.text()


def test_manager_walk_in_over_capacity(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window(Role.MANAGER)
    assert window.desk is not None
    dialog = WalkInDialog(ctx, window, member=None, session_id=world.sessions["small"].id)
    dialog.open()
    dialog.picker.query.setText("Maria")
    dialog.picker.search()
    dialog.ok_button.click()
    assert "full" in dialog.banner.heading.text()
    override = next(b for b in dialog.banner.buttons if b.objectName() == "OverrideButton")
    assert override.isEnabled()
    override.click()
    from frontdesk.ui.dialogs.reason import ReasonDialog

    reason = next(d for d in window.findChildren(ReasonDialog) if d.isVisible())
    reason.reason.setText("Regular, brings own mat")
    reason.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    last = ctx.replica.pending(5)[-1]
    assert last.name == "walk_in" and last.args["override"] is True
