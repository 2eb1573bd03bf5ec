"""The desk window: header with branding and sync status, and the screen for the role."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.model import Role, StaffMember

from . import i18n
from .context import Changed, DeskContext
from .i18n import tr, tr_status
from .screens.access import KioskScreen, LockScreen, SignInScreen
from .screens.attention import AttentionScreen
from .screens.checkin import CheckInBar
from .screens.member import MemberPanel
from .screens.reports import ReportsScreen
from .screens.settings import SettingsScreen
from .screens.status import SyncStatus
from .screens.today import TodayScreen
from .theme import Theme
from .widgets import button

ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class IdleWatcher(QObject):
    """Locks the desk after a quiet spell; any key, click or touch restarts the count."""

    idle = Signal()

    def __init__(self, seconds: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle.emit)
        self.activity = 0  # key presses and clicks seen while armed
        self.set_seconds(seconds)

    def set_seconds(self, seconds: int) -> None:
        self.seconds = seconds
        self.timer.setInterval(max(seconds, 1) * 1000)

    def arm(self) -> None:
        if self.seconds > 0:
            self.timer.start()

    def disarm(self) -> None:
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY and self.timer.isActive():
            self.activity += 1
            self.timer.start()
        return False


class DeskScreen(QWidget):
    """What front desk, managers and coaches work in; built for the unlocked role."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        role = ctx.role
        coach = role is Role.COACH
        self.bar: CheckInBar | None = None if coach else CheckInBar(ctx)
        self.today = TodayScreen(ctx)
        self.member: MemberPanel | None = None if coach else MemberPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("MainTabs")
        work = QSplitter(Qt.Orientation.Horizontal)
        work.addWidget(self.today)
        if self.member is not None:
            work.addWidget(self.member)
            work.setStretchFactor(0, 3)
            work.setStretchFactor(1, 2)
        self.tabs.addTab(work, tr("Desk"))
        self.attention: AttentionScreen | None = None
        self.reports: ReportsScreen | None = None
        if not coach:
            self.attention = AttentionScreen(ctx)
            self.tabs.addTab(self.attention, tr("Attention"))
            self.reports = ReportsScreen(ctx)
            self.tabs.addTab(self.reports, tr("Reports"))
        self.settings = SettingsScreen(ctx)
        self.tabs.addTab(self.settings, tr("Settings"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        if self.bar is not None:
            layout.addWidget(self.bar)
        layout.addWidget(self.tabs, 1)
        ctx.events.open_attention.connect(self.open_attention)
        # Bound methods, not lambdas: Qt drops them when this screen is deleted on lock.
        ctx.events.show_member.connect(self.show_desk_tab)
        self.tabs.currentChanged.connect(lambda _i: ctx.events.refocus.emit())

    def show_desk_tab(self, _member_id: str = "") -> None:
        self.tabs.setCurrentIndex(0)

    def open_attention(self) -> None:
        if self.attention is not None:
            self.attention.refresh()
            self.tabs.setCurrentWidget(self.attention)


class Header(QWidget):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.ctx = ctx
        self.logo = QLabel()
        self.name = QLabel()
        self.name.setObjectName("TenantName")
        self.place = QLabel()
        self.place.setObjectName("LocationName")
        self.who = QLabel()
        self.who.setObjectName("StaffName")
        self.status = SyncStatus(ctx)
        self.lock = button(tr("Lock"), lambda: None, name="LockButton")
        self.offline = QToolButton()
        self.offline.setObjectName("OfflineSwitch")
        self.offline.setText(tr("Work offline"))
        self.offline.setCheckable(True)
        self.offline.setVisible(ctx.offline_switch)
        # Two lines: the studio and who is at the desk; under it, the sync status, which
        # must stay whole however long the studio's name is.
        top = QHBoxLayout()
        for widget in (self.logo, self.name, self.place):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.who)
        top.addWidget(self.lock)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status)
        bottom.addStretch(1)
        bottom.addWidget(self.offline)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(bottom)

    def show_brand(self, theme: Theme) -> None:
        self.name.setText(theme.name)
        pixmap = theme.logo_pixmap(28)
        self.logo.setVisible(pixmap is not None)
        if pixmap is not None:
            self.logo.setPixmap(pixmap)
        location = self.ctx.catalogue.location()
        self.place.setText(f"· {location.name}" if location else "")

    def show_staff(self, staff: StaffMember | None) -> None:
        if staff is None:
            self.who.setText(tr("Locked"))
        else:
            self.who.setText(f"{staff.name} · {tr_status(staff.role.value)}")
        self.lock.setVisible(staff is not None)


class MainWindow(QMainWindow):
    """Sign-in, lock, desk or kiosk, under one header."""

    def __init__(self, ctx: DeskContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("FrontDesk")
        self.resize(1280, 800)
        self.idle = IdleWatcher(ctx.settings.idle_lock_seconds, self)
        self.idle.idle.connect(self.lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)
        self.offline_chosen = False
        self.desk: DeskScreen | None = None
        self.kiosk: KioskScreen | None = None
        self._build()
        ctx.bridge.data_changed.connect(self._pulled)
        ctx.bridge.synced.connect(self._synced)
        QShortcut(QKeySequence("Ctrl+L"), self, self.lock)
        QShortcut(QKeySequence("F2"), self, ctx.events.refocus.emit)
        for n in range(1, 5):
            QShortcut(QKeySequence(f"Ctrl+{n}"), self, lambda n=n: self._tab(n - 1))

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        """(Re)build every widget: on start, on a language switch, for each unlocked role."""
        ctx = self.ctx
        self.theme = Theme.of(ctx.catalogue.tenant())
        self.setStyleSheet(self.theme.stylesheet())
        self.header = Header(ctx)
        self.header.lock.clicked.connect(self.lock)
        self.header.offline.setChecked(self.offline_chosen)
        self.header.offline.toggled.connect(self._offline)
        self.stack = QStackedWidget()
        self.sign_in = SignInScreen(ctx)
        self.sign_in.signed_in.connect(self.unlock)
        self.locked = LockScreen(ctx)
        self.locked.unlocked.connect(self.unlock)
        self.locked.password_wanted.connect(self.show_sign_in)
        self.stack.addWidget(self.sign_in)
        self.stack.addWidget(self.locked)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.stack, 1)
        old = self.centralWidget()
        self.setCentralWidget(central)
        if old is not None:
            old.deleteLater()
        self.header.show_brand(self.theme)
        self.header.show_staff(ctx.staff)
        self.desk = None
        self.kiosk = None

    def _tab(self, index: int) -> None:
        if self.desk is not None and index < self.desk.tabs.count():
            self.desk.tabs.setCurrentIndex(index)

    # -- who is at the desk -------------------------------------------------------------------
    def show_sign_in(self) -> None:
        self.idle.disarm()
        self.ctx.unlock(None)
        self.header.show_staff(None)
        self.stack.setCurrentWidget(self.sign_in)
        self.sign_in.user.setFocus()

    def lock(self) -> None:
        if self.ctx.catalogue.location_id() is None:
            return  # a desk never signed in has nothing to lock
        self.idle.disarm()
        self.ctx.unlock(None)
        self._drop_work()
        self.header.show_staff(None)
        self.locked.reset()
        self.stack.setCurrentWidget(self.locked)
        self.locked.pin.setFocus()
        self._keep_syncing()  # a locked desk (at 7 a.m., before anyone's PIN) still syncs

    def unlock(self, staff: StaffMember) -> None:
        """Show the screen this staff member's role allows, and nothing more."""
        self.ctx.unlock(staff)
        self._drop_work()
        self._rebrand()
        self.header.show_staff(staff)
        if staff.role is Role.KIOSK:
            self.kiosk = KioskScreen(self.ctx)
            self.stack.addWidget(self.kiosk)
            self.stack.setCurrentWidget(self.kiosk)
            self.kiosk.field.setFocus()
        else:
            self.desk = DeskScreen(self.ctx)
            self.desk.settings.language_changed.connect(self.switch_language)
            self.stack.addWidget(self.desk)
            self.stack.setCurrentWidget(self.desk)
            self.ctx.events.refocus.emit()
        self.idle.set_seconds(self.ctx.settings.idle_lock_seconds)
        self.idle.arm()
        self._keep_syncing()

    def _keep_syncing(self) -> None:
        if not self.ctx.bridge.running and not self.offline_chosen:
            self.ctx.bridge.start()

    def _drop_work(self) -> None:
        for screen in (self.desk, self.kiosk):
            if screen is not None:
                self.stack.removeWidget(screen)
                screen.deleteLater()
        self.desk = None
        self.kiosk = None

    def switch_language(self, language: str) -> None:
        i18n.set_language(language)
        staff = self.ctx.staff
        self._build()
        if staff is not None:
            self.unlock(staff)
            if self.desk is not None:
                self.desk.tabs.setCurrentWidget(self.desk.settings)

    # -- sync -----------------------------------------------------------------------------------
    def _offline(self, offline: bool) -> None:
        self.offline_chosen = offline
        if offline:
            self.ctx.bridge.stop()
        else:
            self.ctx.bridge.start()

    def _rebrand(self) -> None:
        """The tenant's name, colours and logo (they arrive with the catalogue)."""
        theme = Theme.of(self.ctx.catalogue.tenant())
        if theme != self.theme:
            self.theme = theme
            self.setStyleSheet(theme.stylesheet())
        self.header.show_brand(theme)

    def _pulled(self, partitions: frozenset[str]) -> None:
        if "catalogue" in partitions:
            self._rebrand()
        self.ctx.events.changed.emit(Changed(partitions=frozenset(partitions)))

    def _synced(self) -> None:
        """A whole round finished: everything on screen is redrawn from the replica."""
        self._rebrand()
        self.ctx.events.changed.emit(Changed(everything=True))

    def showEvent(self, event: QShowEvent) -> None:
        """The check-in bar has the cursor as soon as the window is on screen."""
        super().showEvent(event)
        QTimer.singleShot(0, self.ctx.events.refocus.emit)

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.idle)
        self.idle.disarm()
        super().closeEvent(event)
