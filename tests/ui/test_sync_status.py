"""Sign-in, sync status, offline work and the attention list, against a fake cloud."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from frontdesk.domain.model import BookingStatus, Location, Role, evolve
from frontdesk.ui.context import DeskContext
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.screens.attention import AttentionScreen
from tests.studio import new_id

from .conftest import PASSWORD, DeskWorld

Make = Callable[..., tuple[MainWindow, DeskContext]]


def _scan(window: MainWindow, code: str) -> None:
    assert window.desk is not None and window.desk.bar is not None
    window.desk.bar.field.setText(code)
    window.desk.bar.enter()


def test_first_sign_in_downloads_the_desk(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, ctx = make_window(signed_in=False, sync=True)
    screen = window.sign_in
    assert window.stack.currentWidget() is screen
    screen.server.setText("http://cloud.test")
    screen.tenant.setText("lotus")
    screen.user.setText("frontdesk")
    screen.password.setText("wrong")
    screen.sign_in_button.click()
    qtbot.waitUntil(lambda: "wrong" in screen.banner.detail.text(), timeout=5000)
    assert screen.banner.heading.text() == "Sign-in failed"
    screen.password.setText(PASSWORD)
    screen.sign_in_button.click()
    qtbot.waitUntil(lambda: window.desk is not None, timeout=10000)
    assert ctx.staff is not None and ctx.staff.name == "Wang Fang 王芳"
    assert window.header.name.text() == "Lotus Yoga 莲花瑜伽"
    assert window.desk is not None
    names = [line.session.class_name for line in window.desk.today.lines()]
    assert "Vinyasa 流瑜伽" in names
    assert screen.password.text() == ""  # the password is not kept


def test_sign_in_chooses_among_several_locations(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    riverside = Location(new_id(), "Riverside 河畔店", "Asia/Shanghai")
    manager = evolve(
        world.studio.staff[Role.MANAGER], location_ids=(world.studio.location.id, riverside.id)
    )
    world.studio.staff[Role.MANAGER] = manager
    world.studio.state.apply([riverside, manager])
    window, ctx = make_window(signed_in=False, sync=True)
    screen = window.sign_in
    screen.server.setText("http://cloud.test")
    screen.tenant.setText("lotus")
    screen.user.setText("manager")
    screen.password.setText(PASSWORD)
    screen.sign_in_button.click()
    qtbot.waitUntil(screen.location.isVisible, timeout=10000)
    choices = [screen.location.itemText(i) for i in range(screen.location.count())]
    assert sorted(choices) == ["Main (Asia/Shanghai)", "Riverside 河畔店 (Asia/Shanghai)"]
    screen.location.setCurrentIndex(screen.location.findData(riverside.id))
    screen.continue_button.click()
    qtbot.waitUntil(lambda: window.desk is not None, timeout=10000)
    assert ctx.catalogue.location_id() == riverside.id
    assert window.header.place.text() == "· Riverside 河畔店"


def test_offline_desk_keeps_working_and_catches_up(
    qtbot: QtBot, make_window: Make, world: DeskWorld
) -> None:
    window, _ctx = make_window(sync=True)
    status = window.header.status
    qtbot.waitUntil(lambda: status.dot.text() == "● Online", timeout=10000)
    world.cloud.online = False  # the cloud (or the internet) goes away
    _scan(window, world.members["zhang"].card_code)
    _scan(window, world.members["li"].card_code)
    qtbot.waitUntil(lambda: status.dot.text() == "● Offline", timeout=10000)
    assert status.pending.text() == "2 waiting to sync"
    roster = window.desk.today.roster if window.desk else None
    assert roster is not None
    inside = {
        line.member_name
        for line in roster.model.rows
        if line.booking.status is BookingStatus.CHECKED_IN
    }
    assert inside == {"张伟", "李娜娜"}  # the people in the room stay checked in
    world.cloud.online = True
    qtbot.waitUntil(lambda: status.pending.text() == "0 waiting to sync", timeout=15000)
    qtbot.waitUntil(lambda: status.dot.text() == "● Online", timeout=10000)
    assert world.cloud.pushed == ["check_in", "check_in"]
    assert status.last.text().startswith("Last sync")


def test_work_offline_switch(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, ctx = make_window(sync=True, offline_switch=True)
    status = window.header.status
    switch = window.header.offline
    assert switch.isVisible()
    qtbot.waitUntil(lambda: ctx.bridge.state.last_sync is not None, timeout=10000)
    qtbot.mouseClick(switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not ctx.bridge.running, timeout=10000)
    assert status.dot.text() == "● Working offline"
    _scan(window, world.members["anna"].card_code)
    assert status.pending.text() == "1 waiting to sync"
    assert world.cloud.pushed == []
    qtbot.mouseClick(switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: world.cloud.pushed == ["check_in"], timeout=10000)
    qtbot.waitUntil(lambda: status.pending.text() == "0 waiting to sync", timeout=10000)


def test_wrong_pc_clock_is_shown(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    world.cloud.skew_s = 3600  # the cloud's time is an hour off this PC's
    window, _ctx = make_window(sync=True)
    clock = window.header.status.clock
    qtbot.waitUntil(clock.isVisible, timeout=10000)
    assert clock.text() == "This PC's clock is wrong"


def test_attention_list_offers_the_fix(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    """A walk-in made offline reaches a cloud whose class is full: staff decide."""
    world.cloud.online = False
    window, ctx = make_window(sync=True)
    # Meanwhile the cloud cut the class to the six already booked (the desk cannot know).
    world.cloud.publish([evolve(world.sessions["now"], capacity=6)])
    assert window.desk is not None
    from frontdesk.ui.dialogs.people import WalkInDialog

    dialog = WalkInDialog(ctx, window, session_id=world.sessions["now"].id)
    dialog.open()
    dialog.picker.query.setText("孙丽")
    dialog.picker.search()
    dialog.payment.plan.setCurrentIndex(dialog.payment.plan.findData(world.studio.drop_in.id))
    dialog.ok_button.click()
    assert not dialog.isVisible(), dialog.banner.heading.text()
    status = window.header.status
    assert status.pending.text() == "1 waiting to sync"
    world.cloud.online = True
    qtbot.waitUntil(lambda: status.attention.isVisible(), timeout=15000)
    assert status.attention.text() == "1 need attention"
    status.attention.click()
    screen = window.desk.attention
    assert isinstance(screen, AttentionScreen)
    assert window.desk.tabs.currentWidget() is screen
    notice = screen.findChild(type(status.pending), "Notice_over_capacity")
    assert notice is not None and "over capacity" in notice.text()
    buttons = {b.text(): b for b in screen.findChildren(type(status.attention)) if b.text()}
    assert not buttons["Keep as over capacity (manager)"].isEnabled()  # front desk
    assert buttons["Undo the check-in"].isEnabled()
    buttons["Mark as handled"].click()
    assert status.attention.isHidden()
    assert ctx.desk.views.attention() == []
    assert len(ctx.desk.views.attention(include_resolved=True)) == 1
