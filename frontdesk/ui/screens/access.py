"""Getting to the desk: first sign-in with a password, the PIN lock, and the kiosk."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.codec import decode
from frontdesk.domain.model import StaffMember
from frontdesk.local_db import ScanResult
from frontdesk.sync import CloudError, Unreachable

from ..context import DeskContext
from ..i18n import tr, tr_code, tr_status
from ..pins import PinAnswer
from ..widgets import Banner, button, local_time, title
from .checkin import ScanField


def _centered(inner: QWidget) -> QVBoxLayout:
    outer = QVBoxLayout()
    outer.addStretch(1)
    outer.addWidget(inner, 0, Qt.AlignmentFlag.AlignHCenter)
    outer.addStretch(2)
    return outer


class SignInScreen(QWidget):
    """First run: cloud address, studio, user and password; then the location if several."""

    signed_in = Signal(object)  # StaffMember

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        replica = ctx.replica
        self.server = QLineEdit(replica.meta("server_url") or "http://127.0.0.1:8000")
        self.server.setObjectName("ServerField")
        self.tenant = QLineEdit(replica.meta("tenant_slug") or "")
        self.tenant.setObjectName("TenantField")
        self.user = QLineEdit()
        self.user.setObjectName("UserField")
        self.password = QLineEdit()
        self.password.setObjectName("PasswordField")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.location = QComboBox()
        self.location.setObjectName("LocationBox")
        self.location_label = QLabel(tr("Location"))
        self.sign_in_button = button(tr("Sign in"), self.start, primary=True, name="SignInButton")
        self.continue_button = button(
            tr("Continue"), self.choose_location, primary=True, name="ContinueButton"
        )
        self.banner = Banner()
        box = QWidget()
        box.setMinimumWidth(440)
        form = QFormLayout()
        form.addRow(tr("Cloud address"), self.server)
        form.addRow(tr("Studio"), self.tenant)
        form.addRow(tr("User name"), self.user)
        form.addRow(tr("Password"), self.password)
        form.addRow(self.location_label, self.location)
        inner = QVBoxLayout(box)
        inner.addWidget(title(tr("Sign this desk in")))
        note = QLabel(tr("Once signed in, the desk keeps working without the internet."))
        note.setWordWrap(True)
        inner.addWidget(note)
        inner.addLayout(form)
        inner.addWidget(self.sign_in_button)
        inner.addWidget(self.continue_button)
        inner.addWidget(self.banner)
        self.setLayout(_centered(box))
        self.password.returnPressed.connect(self.start)
        self._show_locations(False)
        self.busy = False

    def _show_locations(self, show: bool) -> None:
        self.location.setVisible(show)
        self.location_label.setVisible(show)
        self.continue_button.setVisible(show)
        self.sign_in_button.setVisible(not show)

    def start(self) -> None:
        if self.busy:
            return
        missing = [
            label
            for label, field in (
                (tr("Cloud address"), self.server),
                (tr("Studio"), self.tenant),
                (tr("User name"), self.user),
                (tr("Password"), self.password),
            )
            if not field.text().strip()
        ]
        if missing:
            self.banner.show_message(
                "bad", tr("Please fill in: {fields}", fields=", ".join(missing))
            )
            return
        self.ctx.tasks.spawn(self._sign_in(None))

    async def _sign_in(self, location_id: str | None) -> None:
        self.busy = True
        self.sign_in_button.setEnabled(False)
        self.continue_button.setEnabled(False)
        self.banner.show_message("warn", tr("Signing in…"))
        try:
            await self.ctx.bridge.sign_in(
                self.server.text().strip(),
                self.tenant.text().strip(),
                self.user.text().strip(),
                self.password.text(),
                location_id,
            )
            self.banner.show_message("warn", tr("Downloading today's schedule and members…"))
            await self.ctx.bridge.sync_once()
        except Unreachable as exc:
            self._failed(
                tr(
                    "Cannot reach the cloud at {server}. Check the address and the network.",
                    server=self.server.text().strip(),
                ),
                exc,
            )
            return
        except CloudError as exc:
            self._failed(tr_code(exc.code, exc.message), exc)
            return
        finally:
            self.busy = False
            self.sign_in_button.setEnabled(True)
            self.continue_button.setEnabled(True)
        staff = self._staff()
        choices = self.ctx.catalogue.locations(staff.location_ids)
        if location_id is None and len(choices) > 1:
            self.location.clear()
            for place in choices:
                self.location.addItem(f"{place.name} ({place.timezone})", place.id)
            self.location.setCurrentIndex(
                max(self.location.findData(self.ctx.catalogue.location_id()), 0)
            )
            self._show_locations(True)
            self.banner.show_message("ok", tr("Choose this desk's location."))
            self.location.setFocus()
            return
        self._done(staff)

    def choose_location(self) -> None:
        chosen = self.location.currentData()
        if chosen is None or chosen == self.ctx.catalogue.location_id():
            self._done(self._staff())
        else:
            self.ctx.tasks.spawn(self._sign_in(chosen))

    def _staff(self) -> StaffMember:
        known = self.ctx.catalogue.signed_in_staff()
        if known is not None:
            return known
        raw = self.ctx.replica.meta("staff") or "{}"
        return decode(StaffMember, json.loads(raw))

    def _done(self, staff: StaffMember) -> None:
        self.password.clear()
        self._show_locations(False)
        self.banner.hide()
        self.signed_in.emit(staff)

    def _failed(self, text: str, exc: Exception) -> None:
        self.banner.show_message("bad", tr("Sign-in failed"), [text])
        self.password.setFocus()


class LockScreen(QWidget):
    """Quick switching: choose your name, type your PIN (checked on this PC, offline too)."""

    unlocked = Signal(object)  # StaffMember
    password_wanted = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.staff = QComboBox()
        self.staff.setObjectName("StaffBox")
        self.pin = QLineEdit()
        self.pin.setObjectName("PinField")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.pin.returnPressed.connect(self.try_unlock)
        self.unlock_button = button(
            tr("Unlock"), self.try_unlock, primary=True, name="UnlockButton"
        )
        self.message = QLabel()
        self.message.setObjectName("LockMessage")
        self.message.setWordWrap(True)
        box = QWidget()
        box.setMinimumWidth(400)
        form = QFormLayout()
        form.addRow(tr("Who are you?"), self.staff)
        form.addRow(tr("PIN"), self.pin)
        inner = QVBoxLayout(box)
        self.heading = title(tr("The desk is locked"))
        inner.addWidget(self.heading)
        inner.addLayout(form)
        inner.addWidget(self.unlock_button)
        inner.addWidget(self.message)
        inner.addWidget(button(tr("Sign in with a password instead"), self.password_wanted.emit))
        self.setLayout(_centered(box))
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)
        self.checking = False

    def reset(self) -> None:
        """Fill the staff list anew (the catalogue may have changed) and clear the PIN."""
        current = self.staff.currentData()
        self.staff.clear()
        for member in self.ctx.catalogue.staff_here():
            if member.pin_hash:
                role = tr_status(member.role.value)
                self.staff.addItem(f"{member.name} ({role})", member.id)
        if current is not None:
            self.staff.setCurrentIndex(max(self.staff.findData(current), 0))
        self.pin.clear()
        self.message.clear()
        self._tick()
        self.pin.setFocus()

    def try_unlock(self) -> None:
        if self.checking:
            return
        staff_id = self.staff.currentData()
        staff = self.ctx.catalogue.staff(staff_id) if staff_id else None
        if staff is None:
            self.message.setText(tr("Choose your name first."))
            return
        self.checking = True
        self.unlock_button.setEnabled(False)
        self.ctx.tasks.spawn(self._check(staff, self.pin.text()))

    async def _check(self, staff: StaffMember, pin: str) -> None:
        try:
            answer: PinAnswer = await self.ctx.bridge.run_blocking(self.ctx.pins.check, staff, pin)
        finally:
            self.checking = False
            self.unlock_button.setEnabled(True)
        self.pin.clear()
        if answer.ok:
            self.message.clear()
            self.unlocked.emit(staff)
            return
        if answer.code == "locked_out":
            self._tick()
        elif answer.code == "no_pin":
            self.message.setText(
                tr("{name} has no PIN: ask a manager to set one.", name=staff.name)
            )
        else:
            self.message.setText(
                tr(
                    "Wrong PIN. {left} tries left before the desk locks for a while.",
                    left=answer.failures_left,
                )
            )
        self.pin.setFocus()

    def _tick(self) -> None:
        wait = self.ctx.pins.wait_seconds()
        locked = wait > 0
        self.pin.setEnabled(not locked)
        self.unlock_button.setEnabled(not locked and not self.checking)
        if locked:
            self.message.setText(tr("Too many wrong PINs. Try again in {seconds} s.", seconds=wait))
            if not self.countdown.isActive():
                self.countdown.start()
        else:
            if self.countdown.isActive():
                self.countdown.stop()
                self.message.clear()
                self.pin.setFocus()


class KioskScreen(QWidget):
    """Self check-in: scan your card. Nothing else is reachable from here."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        prompt = QLabel(tr("Welcome! Scan your card to check in."))
        prompt.setObjectName("KioskPrompt")
        prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        prompt.setWordWrap(True)
        self.field = ScanField()
        self.field.setObjectName("KioskField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.field.returnPressed.connect(self.scan)
        self.banner = Banner()
        box = QWidget()
        box.setMinimumWidth(560)
        inner = QVBoxLayout(box)
        inner.addWidget(prompt)
        inner.addWidget(self.field)
        inner.addWidget(self.banner)
        self.setLayout(_centered(box))
        self.clear_timer = QTimer(self)
        self.clear_timer.setSingleShot(True)
        self.clear_timer.setInterval(8000)
        self.clear_timer.timeout.connect(self.banner.hide)
        ctx.events.refocus.connect(self.refocus)

    def refocus(self) -> None:
        self.field.setFocus()

    def scan(self) -> None:
        code = self.field.text().strip()
        self.field.clear()
        staff = self.ctx.staff
        if not code or staff is None:
            return
        result: ScanResult = self.ctx.desk.check_in(code, staff.id, self.ctx.now())
        first = result.member.name.split()[0] if result.member and result.member.name else ""
        if result.ok:
            session = result.session
            self.banner.show_message(
                "ok",
                tr("Welcome, {name}!", name=first),
                [
                    tr(
                        "You are checked in to {cls} at {time}.",
                        cls=session.class_name if session else "",
                        time=local_time(session.start, self.ctx.timezone) if session else "",
                    )
                ],
            )
            self.ctx.announce(None, (session.id,) if session else (), ())
        else:
            self.banner.show_message(
                "bad",
                tr("Please see the front desk."),
                [tr_code(result.outcome.code, result.outcome.message, name=first)],
            )
        self.clear_timer.start()
        self.field.setFocus()
