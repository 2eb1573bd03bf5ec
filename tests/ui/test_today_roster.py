"""Today and the roster: time order, now marker, days, and every attendance action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pytestqt.qtbot import QtBot

from frontdesk.domain.model import BookingStatus, Role
from frontdesk.ui.context import DeskContext
from frontdesk.ui.dialogs.cancel import CancelDialog
from frontdesk.ui.dialogs.people import AddToClassDialog
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.models.desk import NowMarker
from frontdesk.ui.screens.today import RosterPanel

from .conftest import DeskWorld

Make = Callable[..., tuple[MainWindow, DeskContext]]


def _select(roster: RosterPanel, member_name: str) -> None:
    for i, line in enumerate(roster.model.rows):
        if line.member_name == member_name:
            roster.table.selectRow(i)
            return
    raise AssertionError(f"{member_name} is not on the roster")


def _status(roster: RosterPanel, name: str) -> BookingStatus:
    return next(line.booking.status for line in roster.model.rows if line.member_name == name)


def test_sessions_in_time_order_with_now_marker_and_days(
    make_window: Make, world: DeskWorld
) -> None:
    window, _ctx = make_window()
    assert window.desk is not None
    today = window.desk.today
    rows = today.model.rows
    names = [r.session.class_name if not isinstance(r, NowMarker) else "NOW" for r in rows]
    assert names == [
        "Morning Flow 晨间流瑜伽",
        "NOW",
        "Vinyasa 流瑜伽",
        "Pilates Reformer 普拉提",
        "Hatha 哈他瑜伽",
        "Yin Yoga 阴瑜伽",
    ]
    marker = rows[1]
    assert isinstance(marker, NowMarker) and marker.at.strftime("%H:%M") == "09:00"
    # Times are the location's (Shanghai), not UTC.
    assert today.model.data(today.model.index(2, 0)) == "09:20–10:20"
    assert today.model.data(today.model.index(2, 5)) == "6"  # booked
    assert today.model.data(today.model.index(3, 7)) == "1"  # waitlisted in Pilates
    # The desk opens on the class about to start.
    assert today.roster.session is not None
    assert today.roster.session.id == world.sessions["now"].id
    assert "(today)" in today.day_label.text()
    today.go(1)
    assert not any(isinstance(r, NowMarker) for r in today.model.rows)
    assert [r.session.id for r in today.model.rows if not isinstance(r, NowMarker)] == [
        world.sessions["tomorrow"].id
    ]
    today.go_today()
    assert any(isinstance(r, NowMarker) for r in today.model.rows)


def test_check_in_undo_no_show_and_check_in_all(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    world.clock.advance(minutes=25)  # the class started five minutes ago
    window, ctx = make_window()
    assert window.desk is not None
    roster = window.desk.today.roster
    assert roster.session is not None and roster.session.id == world.sessions["now"].id
    _select(roster, "张伟")
    roster.buttons["check_in"].click()
    assert _status(roster, "张伟") is BookingStatus.CHECKED_IN
    assert roster.buttons["undo"].isEnabled()
    roster.buttons["undo"].click()
    assert _status(roster, "张伟") is BookingStatus.BOOKED
    _select(roster, "刘洋")
    roster.buttons["no_show"].click()
    assert _status(roster, "刘洋") is BookingStatus.NO_SHOW
    roster.buttons["all"].click()
    assert "4 checked in, 1 refused" in roster.banner.heading.text()
    assert "周杰" in roster.banner.detail.text()  # no waiver: refused, with the reason
    statuses = {line.member_name: line.booking.status for line in roster.model.rows}
    assert statuses["张伟"] is BookingStatus.CHECKED_IN
    assert statuses["周杰"] is BookingStatus.BOOKED
    assert statuses["刘洋"] is BookingStatus.NO_SHOW
    # The session list counts follow without a reload.
    today = window.desk.today
    line = next(
        r
        for r in today.model.rows
        if not isinstance(r, NowMarker) and r.session.id == world.sessions["now"].id
    )
    assert line.checked_in == 4
    assert ctx.desk.views.counts()[0] == 7


def test_late_cancel_says_what_it_costs(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, _ctx = make_window()
    assert window.desk is not None
    roster = window.desk.today.roster
    _select(roster, "Anna Schmidt")
    roster.buttons["cancel"].click()
    dialog = window.findChild(CancelDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    # 20 minutes before the class, inside the 12-hour window: late, the class is forfeit.
    assert dialog.terms_label.text() == (
        "Late cancellation: the class is not returned to their pass."
    )
    assert dialog.waive.isVisible() and not dialog.waive.isEnabled()  # managers only
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert _status(roster, "Anna Schmidt") is BookingStatus.LATE_CANCELLED
    assert "Booking cancelled" in roster.banner.heading.text()


def test_early_cancel_and_manager_waiver(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window(Role.MANAGER)
    assert window.desk is not None
    today = window.desk.today
    today.select_session(world.sessions["tomorrow"].id)  # another day: one click away
    assert "(today)" not in today.day_label.text()
    roster = today.roster
    _select(roster, "李娜娜")
    roster.buttons["cancel"].click()
    dialog = window.findChild(CancelDialog)
    assert dialog is not None
    assert dialog.terms_label.text().startswith("Early cancellation")
    assert not dialog.waive.isVisible()
    dialog.ok_button.click()
    assert _status(roster, "李娜娜") is BookingStatus.CANCELLED
    # A late cancel waived by a manager, with a reason.
    today.select_session(world.sessions["now"].id)
    _select(roster, "张伟")
    roster.buttons["cancel"].click()
    dialog = next(d for d in window.findChildren(CancelDialog) if d.isVisible())
    dialog.waive.setChecked(True)
    dialog.ok_button.click()
    assert dialog.isVisible() and "reason" in dialog.banner.heading.text()
    dialog.reason.setText("Family emergency")
    dialog.ok_button.click()
    assert not dialog.isVisible()
    last = ctx.replica.pending(10)[-1]
    assert last.args == {
        "booking_id": last.args["booking_id"],
        "waive_penalty": True,
        "reason": "Family emergency",
    }


def test_move_from_waitlist_and_add_someone(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, _ctx = make_window(Role.MANAGER)
    assert window.desk is not None
    today = window.desk.today
    today.select_session(world.sessions["small"].id)
    roster = today.roster
    _select(roster, "Anna Schmidt")
    assert _status(roster, "Anna Schmidt") is BookingStatus.WAITLISTED
    roster.buttons["promote"].click()
    assert "full" in roster.banner.heading.text().lower()  # two places, both taken
    override = next(b for b in roster.banner.buttons if b.objectName() == "OverrideButton")
    assert override.isEnabled()  # a manager may override capacity
    _select(roster, "李娜娜")
    roster.buttons["cancel"].click()
    dialog = next(d for d in window.findChildren(CancelDialog) if d.isVisible())
    dialog.ok_button.click()
    # Past the waitlist cutoff nobody moves up by themselves: the desk moves Anna.
    assert _status(roster, "Anna Schmidt") is BookingStatus.WAITLISTED
    _select(roster, "Anna Schmidt")
    roster.buttons["promote"].click()
    assert _status(roster, "Anna Schmidt") is BookingStatus.BOOKED
    today.select_session(world.sessions["noon"].id)
    roster.buttons["add"].click()
    add = window.findChild(AddToClassDialog)
    assert add is not None
    add.picker.query.setText("Maria")
    add.picker.search()
    assert add.picker.selected() is not None
    add.ok_button.click()
    qtbot.waitUntil(lambda: not add.isVisible())
    assert _status(roster, "Maria Lopez") is BookingStatus.BOOKED


def test_roster_updates_when_another_desk_checks_in(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    """A check-in pulled from the cloud shows on the open roster (no reload)."""
    window, ctx = make_window(sync=True)
    assert window.desk is not None
    roster = window.desk.today.roster
    qtbot.waitUntil(lambda: ctx.bridge.state.last_sync is not None, timeout=10000)
    other = world.studio.run(
        "check_in",
        member_id=world.members["li"].id,
        session_id=world.sessions["now"].id,
        now=world.clock.now + timedelta(minutes=1),
    )
    assert other.outcome.ok
    world.cloud.publish(other.changes)
    qtbot.waitUntil(lambda: _status(roster, "李娜娜") is BookingStatus.CHECKED_IN, timeout=10000)
