"""Focus flows that need a real window system (run under Xvfb by test_screens_focus.py).

The check-in bar has focus when the desk opens and gets it back after every action, so a
scanner's keystrokes always land there; a real keyboard path (keys sent to whatever has
focus) checks members in at scanner speed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import keyring
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from frontdesk.domain.model import BookingStatus
from frontdesk.ui.app import build_context, open_window
from frontdesk.ui.dialogs.people import WalkInDialog
from tests.conftest import MemoryKeyring

from .conftest import client_factory, make_world, signed_in_replica


def focused(app: QApplication) -> QWidget | None:
    QTest.qWait(0)
    return app.focusWidget()


def type_into_focus(app: QApplication, text: str) -> None:
    """Keys go to whatever has focus, as a USB keyboard-wedge scanner's do."""
    widget = app.focusWidget()
    assert widget is not None, "nothing has focus"
    QTest.keyClicks(widget, text, Qt.KeyboardModifier.NoModifier, 3)
    QTest.keyClick(app.focusWidget(), Qt.Key.Key_Return)


def main() -> int:
    keyring.set_keyring(MemoryKeyring())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    world = make_world()
    folder = Path(tempfile.mkdtemp())
    replica = signed_in_replica(folder / "replica.db", world)
    ctx = build_context(
        folder, client_factory=client_factory(world), now=world.clock, replica=replica
    )
    ctx.bridge.start = lambda: False  # type: ignore[method-assign]
    window = open_window(ctx, unlocked=True)
    window.show()
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window), "the window never became active"
    assert window.desk is not None and window.desk.bar is not None
    field = window.desk.bar.field
    assert focused(app) is field, f"focus at start: {focused(app)}"
    assert not field.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
    type_into_focus(app, world.members["zhang"].card_code)
    assert "张伟" in window.desk.bar.banner.heading.text()
    assert focused(app) is field, "focus after a scan"
    # A click on the roster's button, then the next scan still lands in the bar.
    roster = window.desk.today.roster
    roster.table.selectRow(2)
    QTest.mouseClick(roster.buttons["check_in"], Qt.MouseButton.LeftButton)
    assert focused(app) is field, f"focus after a roster action: {focused(app)}"
    type_into_focus(app, world.members["li"].card_code)
    # A dialog takes focus while open and gives it back when closed.
    dialog = WalkInDialog(ctx, window)
    dialog.open()
    assert QTest.qWaitForWindowActive(dialog)
    assert focused(app) is not field
    dialog.reject()
    QTest.qWait(50)
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window)
    assert focused(app) is field, f"focus after a dialog: {focused(app)}"
    type_into_focus(app, world.members["anna"].card_code)
    statuses = {line.member_name: line.booking.status for line in roster.model.rows}
    for name in ("张伟", "李娜娜", "Anna Schmidt"):
        assert statuses[name] is BookingStatus.CHECKED_IN, (name, statuses[name])
    window.close()
    ctx.bridge.shutdown()
    print("focus ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
