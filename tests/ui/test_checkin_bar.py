"""The check-in bar: scanner-speed codes, refusals with their fix, search as you type."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from frontdesk.domain.model import BookingStatus, Role
from frontdesk.ui.context import DeskContext
from frontdesk.ui.main_window import MainWindow

from .conftest import DeskWorld

Make = Callable[..., tuple[MainWindow, DeskContext]]


def _status(ctx: DeskContext, session_id: str, member_id: str) -> BookingStatus:
    for line in ctx.desk.views.roster(session_id):
        if line.booking.member_id == member_id:
            return line.booking.status
    raise AssertionError("not on the roster")


def test_scanner_speed_codes_check_in_a_queue(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    field = bar.field
    assert not field.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    queue = ["zhang", "li", "anna", "monthly"]
    for key in queue:
        code = world.members[key].card_code
        with qtbot.waitSignal(bar.checked, timeout=3000) as signal:
            # A keyboard-wedge scanner: keystrokes 3 ms apart, then Enter.
            QTest.keyClicks(field, code, Qt.KeyboardModifier.NoModifier, 3)
            QTest.keyClick(field, Qt.Key.Key_Return)
        result = signal.args[0]
        assert result.ok, result.outcome
        assert result.session.id == world.sessions["now"].id
        assert field.text() == ""
        # Input methods stay off on the scan field, whatever happened in between.
        assert not field.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    for key in queue:
        assert _status(ctx, world.sessions["now"].id, world.members[key].id) is (
            BookingStatus.CHECKED_IN
        )
    assert "✓" in bar.banner.heading.text() and "Maria Lopez" in bar.banner.heading.text()
    assert ctx.desk.views.counts()[0] == len(queue)  # queued for the cloud, nothing lost
    # The roster on screen shows them without a manual refresh.
    roster = window.desk.today.roster
    assert roster.session is not None and roster.session.id == world.sessions["now"].id
    inside = [line for line in roster.model.rows if line.booking.status is BookingStatus.CHECKED_IN]
    assert len(inside) == len(queue)


def test_input_method_stays_off_through_focus_and_enable_changes(make_window: Make) -> None:
    window, _ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    field = window.desk.bar.field
    field.setEnabled(False)
    field.setEnabled(True)
    field.setFocus()
    field.setReadOnly(False)
    assert not field.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)


def test_refused_scan_shows_reason_and_fix_and_is_recorded(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    with qtbot.waitSignal(bar.checked) as signal:
        QTest.keyClicks(bar.field, world.members["nowaiver"].card_code, delay=2)
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    assert not signal.args[0].ok
    assert signal.args[0].outcome.code == "waiver_missing"
    assert "周杰" in bar.banner.heading.text()
    assert "waiver" in bar.banner.heading.text().lower()
    assert "manager can override" in bar.banner.detail.text()
    override = next(b for b in bar.banner.buttons if b.objectName() == "OverrideButton")
    assert not override.isEnabled()  # front desk staff cannot override
    pending = ctx.replica.pending(10)
    assert [(c.name, c.args["reason"]) for c in pending] == [("record_scan", "waiver_missing")]
    # The one-click fix: the waiver is signed now, and the check-in goes through.
    fix = next(b for b in bar.banner.buttons if b.objectName() == "SignWaiverFix")
    with qtbot.waitSignal(bar.checked) as signal:
        fix.click()
    assert signal.args[0].ok
    assert _status(ctx, world.sessions["now"].id, world.members["nowaiver"].id) is (
        BookingStatus.CHECKED_IN
    )

    with qtbot.waitSignal(bar.checked) as signal:
        QTest.keyClicks(bar.field, "NO-SUCH-CARD", delay=2)
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    assert signal.args[0].outcome.code == "unknown_member"
    assert [b.text() for b in bar.banner.buttons] == ["New guest (walk-in)…"]
    scans = [c.args["reason"] for c in ctx.replica.pending(10) if c.name == "record_scan"]
    assert scans == ["waiver_missing", "unknown_member"]


def test_member_without_booking_gets_walk_in_choices(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, _ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    with qtbot.waitSignal(bar.checked) as signal:
        QTest.keyClicks(bar.field, world.members["expired"].card_code, delay=2)
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    assert signal.args[0].outcome.code == "no_booking_now"
    walk_ins = [b.text() for b in bar.banner.buttons if b.text().startswith("Walk-in:")]
    assert walk_ins and "Vinyasa" in walk_ins[0]  # the class starting soonest comes first


def test_typing_pinyin_shows_matches_and_enter_checks_in(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    QTest.keyClicks(bar.field, "zhangw")
    qtbot.waitUntil(lambda: bar.matches.isVisible(), timeout=2000)
    assert [hit.name for hit in bar.model.rows] == ["张伟"]
    with qtbot.waitSignal(bar.checked) as signal:
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    assert signal.args[0].ok
    assert _status(ctx, world.sessions["now"].id, world.members["zhang"].id) is (
        BookingStatus.CHECKED_IN
    )
    panel = window.desk.member
    assert panel is not None and panel.name.text().startswith("张伟")


def test_several_matches_are_chosen_with_arrows(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, _ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    QTest.keyClicks(bar.field, "1380000100")  # a phone prefix: several members
    qtbot.waitUntil(lambda: len(bar.model.rows) > 2, timeout=2000)
    QTest.keyClick(bar.field, Qt.Key.Key_Down)
    second = bar.model.rows[1]
    with qtbot.waitSignal(bar.checked) as signal:
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    assert signal.args[0].member.id == second.member_id


def test_undo_from_the_banner(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window()
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    with qtbot.waitSignal(bar.checked):
        QTest.keyClicks(bar.field, world.members["anna"].card_code, delay=2)
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    undo = next(b for b in bar.banner.buttons if b.text() == "Undo")
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert _status(ctx, world.sessions["now"].id, world.members["anna"].id) is BookingStatus.BOOKED
    assert bar.banner.heading.text() == "Check-in undone"


def test_manager_overrides_a_refusal_with_a_reason(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, ctx = make_window(Role.MANAGER)
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    with qtbot.waitSignal(bar.checked):
        QTest.keyClicks(bar.field, world.members["nowaiver"].card_code, delay=2)
        QTest.keyClick(bar.field, Qt.Key.Key_Return)
    override = next(b for b in bar.banner.buttons if b.objectName() == "OverrideButton")
    assert override.isEnabled()
    override.click()
    from frontdesk.ui.dialogs.reason import ReasonDialog

    dialog = window.findChild(ReasonDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    dialog.ok_button.click()  # no reason: refused, the dialog stays
    assert dialog.isVisible() and "reason" in dialog.banner.heading.text()
    dialog.reason.setText("Signs the paper waiver after class")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert _status(ctx, world.sessions["now"].id, world.members["nowaiver"].id) is (
        BookingStatus.CHECKED_IN
    )
    last = ctx.replica.pending(10)[-1]
    assert last.name == "check_in" and last.args["override"] is True
    assert last.args["reason"] == "Signs the paper waiver after class"
