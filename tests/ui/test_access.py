"""Who sees what: PIN switching with limited attempts, the idle lock, and role limits."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from frontdesk.domain.model import BookingStatus, Role
from frontdesk.ui.context import DeskContext
from frontdesk.ui.main_window import MainWindow

from .conftest import PINS, DeskWorld

Make = Callable[..., tuple[MainWindow, DeskContext]]


def _unlock(qtbot: QtBot, window: MainWindow, role: Role, pin: str, world: DeskWorld) -> None:
    lock = window.locked
    lock.staff.setCurrentIndex(lock.staff.findData(world.staff_id(role)))
    lock.pin.setText(pin)
    lock.unlock_button.click()
    qtbot.waitUntil(lambda: not lock.checking, timeout=5000)


def test_pin_switching_and_lock_out(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window(
        unlocked=False, settings={"pin_max_failures": 3, "pin_lockout_seconds": 120}
    )
    lock = window.locked
    assert window.stack.currentWidget() is lock and ctx.staff is None
    names = [lock.staff.itemText(i) for i in range(lock.staff.count())]
    assert "Chen Jing 陈静 (Manager)" in names and "Zhao Lei 赵磊 (Coach)" not in names  # no PIN
    _unlock(qtbot, window, Role.FRONT_DESK, PINS[Role.FRONT_DESK], world)
    assert ctx.staff is not None and ctx.staff.role is Role.FRONT_DESK
    assert window.desk is not None and window.header.who.text() == "Wang Fang 王芳 · Front desk"
    window.lock()
    assert ctx.staff is None and window.desk is None
    for attempt in (1, 2):
        _unlock(qtbot, window, Role.MANAGER, "0000", world)
        assert ctx.staff is None
        assert f"{3 - attempt} tries left" in lock.message.text()
    _unlock(qtbot, window, Role.MANAGER, "9999", world)
    assert "Too many wrong PINs" in lock.message.text()
    assert not lock.pin.isEnabled()
    # Even the right PIN is refused during the lock-out, and a restart does not reset it.
    assert (
        ctx.pins.check(ctx.catalogue.staff(world.staff_id(Role.MANAGER)), PINS[Role.MANAGER]).code
        == "locked_out"
    )  # type: ignore[arg-type]
    from frontdesk.ui.pins import PinGate

    again = PinGate(ctx.data_dir / "pin_state.json", now=world.clock)
    assert again.wait_seconds() == 120
    world.clock.advance(seconds=121)
    lock._tick()
    assert lock.pin.isEnabled()
    _unlock(qtbot, window, Role.MANAGER, PINS[Role.MANAGER], world)
    assert ctx.staff is not None and ctx.staff.role is Role.MANAGER
    # The acting staff member is whoever is unlocked now.
    assert window.desk is not None and window.desk.bar is not None
    window.desk.bar.field.setText(world.members["zhang"].card_code)
    window.desk.bar.enter()
    assert ctx.replica.pending(5)[-1].staff_id == world.staff_id(Role.MANAGER)


def test_idle_desk_locks_itself(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window(settings={"idle_lock_seconds": 1})
    assert ctx.staff is not None
    assert window.idle.timer.isActive()
    qtbot.waitUntil(lambda: ctx.staff is None, timeout=5000)
    assert window.stack.currentWidget() is window.locked
    assert window.desk is None  # nothing of the last person's work stays on screen


def test_activity_keeps_the_desk_open(qtbot: QtBot, make_window: Make) -> None:
    window, _ctx = make_window(settings={"idle_lock_seconds": 60})
    idle = window.idle
    assert idle.timer.isActive() and idle.timer.interval() == 60_000
    assert window.desk is not None and window.desk.bar is not None
    before = idle.activity
    QTest.keyClick(window.desk.bar.field, Qt.Key.Key_A)
    QTest.mouseClick(window.desk.today.table.viewport(), Qt.MouseButton.LeftButton)
    assert idle.activity == before + 2  # each restarted the quiet spell
    assert idle.timer.isActive()


def test_coach_sees_own_rosters_and_attendance_only(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    world.clock.advance(minutes=25)
    window, _ctx = make_window(Role.COACH)
    desk = window.desk
    assert desk is not None
    assert desk.bar is None and desk.member is None and desk.reports is None
    assert [desk.tabs.tabText(i) for i in range(desk.tabs.count())] == ["Desk", "Settings"]
    lines = desk.today.lines()
    assert {line.session.coach_name for line in lines} == {"Li Na 李娜"}
    assert world.sessions["small"].id not in {line.session.id for line in lines}
    roster = desk.today.roster
    assert roster.session is not None and roster.session.id == world.sessions["now"].id
    for key in ("cancel", "promote", "add"):
        assert roster.buttons[key].isHidden()
    roster.table.selectRow(0)
    roster.buttons["check_in"].click()
    assert roster.model.rows[0].booking.status is BookingStatus.CHECKED_IN
    # Settings: the language only; desk settings are for managers.
    assert not desk.settings.idle.isEnabled()


def test_kiosk_is_self_check_in_only(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window(Role.KIOSK)
    assert window.desk is None and window.kiosk is not None
    assert window.stack.currentWidget() is window.kiosk
    from PySide6.QtWidgets import QTableView, QTabWidget

    assert window.kiosk.findChildren(QTabWidget) == []
    assert window.kiosk.findChildren(QTableView) == []  # no member's data on display
    kiosk = window.kiosk
    QTest.keyClicks(kiosk.field, world.members["li"].card_code, delay=2)
    QTest.keyClick(kiosk.field, Qt.Key.Key_Return)
    assert kiosk.banner.heading.text() == "Welcome, 李娜娜!"
    assert "Vinyasa" in kiosk.banner.detail.text()
    QTest.keyClicks(kiosk.field, world.members["nowaiver"].card_code, delay=2)
    QTest.keyClick(kiosk.field, Qt.Key.Key_Return)
    assert kiosk.banner.heading.text() == "Please see the front desk."
    assert not kiosk.field.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    assert [c.staff_id for c in ctx.replica.pending(5)] == [world.staff_id(Role.KIOSK)] * 2


def test_manager_only_settings_and_overrides(qtbot: QtBot, make_window: Make) -> None:
    window, _ctx = make_window(Role.FRONT_DESK)
    assert window.desk is not None
    settings = window.desk.settings
    assert not settings.idle.isEnabled()
    window2, ctx2 = make_window(Role.MANAGER)
    assert window2.desk is not None
    settings2 = window2.desk.settings
    assert settings2.idle.isEnabled()
    settings2.idle.setValue(7)
    settings2.save()
    assert ctx2.settings.idle_lock_seconds == 420
    assert (ctx2.data_dir / "settings.json").exists()
    assert window2.desk.member is not None and not window2.desk.member.buttons["freeze"].isHidden()
    assert window.desk.member is not None and window.desk.member.buttons["freeze"].isHidden()


def test_a_locked_desk_keeps_syncing(qtbot: QtBot, make_window: Make) -> None:
    """At opening time nobody has entered a PIN yet: the desk must sync all the same."""
    window, _ctx = make_window(unlocked=False, sync=True)
    assert window.stack.currentWidget() is window.locked
    status = window.header.status
    qtbot.waitUntil(lambda: status.dot.text() == "● Online", timeout=10000)
