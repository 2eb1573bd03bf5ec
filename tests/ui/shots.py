"""Screenshots of each main screen in English and Chinese, with a clipping check.

Run in its own process (the scale factor is read when Qt starts):
    QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=1.5 python -m tests.ui.shots OUT_DIR
Prints one line per PNG written; exits 1 and names the widgets whose text does not fit.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QScrollArea, QWidget

from frontdesk.domain import Status
from frontdesk.domain.model import Role
from frontdesk.domain.outcome import Notice
from frontdesk.local_db.reports import build_report
from frontdesk.protocol import CommandOutcome
from frontdesk.ui import i18n
from frontdesk.ui.app import build_context, open_window
from frontdesk.ui.context import Changed, DeskContext
from frontdesk.ui.dialogs.cancel import CancelDialog
from frontdesk.ui.dialogs.people import WalkInDialog
from tests.conftest import MemoryKeyring

from .conftest import client_factory, make_world, signed_in_replica


def clipped(root: QWidget) -> list[str]:
    """Visible buttons and one-line labels narrower than their text needs."""
    found = []
    for area in root.findChildren(QScrollArea):
        inner = area.widget()
        if (
            area.isVisible()
            and inner is not None
            and area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
            and inner.width() > area.viewport().width()
        ):
            found.append(
                f"{area.objectName() or 'scroll area'}: content {inner.width()} > "
                f"{area.viewport().width()}"
            )
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or not isinstance(widget, (QAbstractButton, QLabel)):
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or not widget.text()):
            continue
        if widget.width() + 1 < widget.minimumSizeHint().width():
            found.append(
                f"{type(widget).__name__} {widget.text()!r}: {widget.width()} < "
                f"{widget.minimumSizeHint().width()}"
            )
    return found


def main(out: Path) -> int:
    import keyring

    keyring.set_keyring(MemoryKeyring())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    scale = f"{app.devicePixelRatio():g}x"  # type: ignore[union-attr]
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    def save(widget: QWidget, name: str) -> None:
        app.processEvents()  # type: ignore[union-attr]
        problems.extend(f"{name}: {p}" for p in clipped(widget))
        path = out / f"{name}_{i18n.language()}_{scale}.png"
        widget.grab().save(str(path))
        print(path)

    for language in ("en", "zh_CN"):
        world = make_world()
        folder = Path(tempfile.mkdtemp())
        replica = signed_in_replica(folder / "replica.db", world, Role.MANAGER)
        ctx = build_context(
            folder, client_factory=client_factory(world), now=world.clock, replica=replica
        )
        ctx.bridge.start = lambda: False  # type: ignore[method-assign]
        i18n.set_language(language)
        window = open_window(ctx, unlocked=True)
        window.resize(1280, 800)
        window.show()
        assert window.desk is not None and window.desk.bar is not None
        bar = window.desk.bar
        for key in ("zhang", "li", "nowaiver"):
            bar.field.setText(world.members[key].card_code)
            bar.enter()
        _attention(ctx)
        save(window, "1_desk_checkin")
        bar.field.setText("zw")
        bar.search()
        save(window, "2_desk_search")
        bar.field.clear()
        bar.search()
        walk = WalkInDialog(ctx, window, session_id=world.sessions["now"].id)
        walk.new.setChecked(True)
        walk.guest_name.setText("王小明")
        walk.payment.plan.setCurrentIndex(walk.payment.plan.findData(world.studio.drop_in.id))
        walk.open()
        save(walk, "3_walk_in")
        walk.reject()
        roster = window.desk.today.roster
        roster.table.selectRow(2)
        line = roster.current()
        assert line is not None and roster.session is not None
        cancel = CancelDialog(ctx, line.booking, line.member_name, roster.session, window)
        cancel.open()
        save(cancel, "4_cancel_late")
        cancel.reject()
        assert window.desk.attention is not None and window.desk.reports is not None
        window.desk.open_attention()
        save(window, "5_attention")
        window.desk.reports.set_report(build_report(ctx.replica, ctx.today(), ctx.today()))
        window.desk.tabs.setCurrentWidget(window.desk.reports)
        save(window, "6_reports")
        window.desk.tabs.setCurrentWidget(window.desk.settings)
        save(window, "7_settings")
        window.lock()
        save(window, "8_pin_lock")
        window.show_sign_in()
        save(window, "9_sign_in")
        staff = ctx.catalogue.staff(world.staff_id(Role.KIOSK))
        assert staff is not None
        window.unlock(staff)
        assert window.kiosk is not None
        window.kiosk.field.setText(world.members["anna"].card_code)
        window.kiosk.scan()
        save(window, "10_kiosk")
        window.close()
        ctx.bridge.shutdown()
        replica.close()
    for problem in problems:
        print("CLIPPED", problem)
    return 1 if problems else 0


def _attention(ctx: DeskContext) -> None:
    """What the cloud would answer to an offline check-in into a class it found full."""
    check_in = next(c for c in ctx.replica.pending(10) if c.name == "check_in")
    booking_id = next(
        line.booking.id
        for line in ctx.desk.views.roster(check_in.args["session_id"])
        if line.booking.member_id == check_in.args["member_id"]
    )
    warning = Notice(
        "over_capacity",
        "张伟 was checked in while Vinyasa was full; they are kept over capacity.",
        "Keep them (manager) or move them to another class.",
    )
    outcome = CommandOutcome(
        seq=check_in.seq,
        command_id=check_in.command_id,
        status=Status.APPLIED_WITH_WARNING,
        warnings=(warning,),
        subject_id=booking_id,
        feed_position=2,
    )
    ctx.replica.acknowledge([outcome], datetime.now(UTC))
    ctx.events.changed.emit(Changed(everything=True))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
