"""The check-in bar: a scanner's code and Enter checks in; typing shows matches."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain import Outcome
from frontdesk.domain.model import Member, Session
from frontdesk.local_db import MemberHit, ScanResult

from ..context import DeskContext
from ..dialogs.base import FormDialog
from ..dialogs.money import SellDialog
from ..dialogs.people import WalkInDialog, session_text
from ..dialogs.reason import ReasonDialog
from ..i18n import tr
from ..models.desk import hits_model
from ..widgets import OVERRIDABLE, Banner, button, local_time, outcome_lines, outcome_title

NO_PASS = frozenset(
    {
        "no_valid_entitlement",
        "expired",
        "no_credits_left",
        "class_type_not_covered",
        "frozen",
        "daily_limit_reached",
    }
)


class ScanField(QLineEdit):
    """Input methods are off here: a Chinese IME would swallow a scanner's keystrokes.

    Pinyin still finds Chinese names (张伟 ← "zhangwei", "zw"), so nothing is lost.
    """

    navigate = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScanField")
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)

    def event(self, event: QEvent) -> bool:
        # QLineEdit turns input methods back on in some state changes: keep them off.
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.EnabledChange):
            self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self.navigate.emit(1 if key == Qt.Key.Key_Down else -1)
            return
        if key == Qt.Key.Key_Escape:
            self.clear()
            self.textEdited.emit("")
            return
        super().keyPressEvent(event)


class CheckInBar(QWidget):
    """Focused by default and after every action (see `refocus`)."""

    checked = Signal(object)  # the ScanResult of each check-in attempt

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.field = ScanField()
        self.field.setPlaceholderText(
            tr("Scan a card, or type a name, phone or pinyin, then Enter")
        )
        self.model = hits_model()
        self.matches = QTableView()
        self.matches.setObjectName("Matches")
        self.matches.setModel(self.model)
        self.matches.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.matches.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.matches.verticalHeader().hide()
        self.matches.horizontalHeader().setStretchLastSection(True)
        self.matches.setMaximumHeight(170)
        self.matches.hide()
        self.matches.clicked.connect(lambda index: self._pick_row(index.row()))
        self.hint = QLabel()
        self.hint.setObjectName("MatchHint")
        self.hint.hide()
        self.banner = Banner()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.hint)
        layout.addWidget(self.matches)
        layout.addWidget(self.banner)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(150)
        self.timer.timeout.connect(self.search)
        self.field.textEdited.connect(self._typed)
        self.field.returnPressed.connect(self.enter)
        self.field.navigate.connect(self._navigate)
        self._picked = False
        self._last_code = ""
        ctx.events.refocus.connect(self.refocus)

    # -- typing -----------------------------------------------------------------------
    def refocus(self) -> None:
        if self.isVisible() and not self._dialog_open():
            self.field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _dialog_open(self) -> bool:
        window = self.window()
        return any(
            isinstance(child, FormDialog) and child.isVisible()
            for child in window.findChildren(FormDialog)
        )

    def _typed(self, text: str) -> None:
        self._picked = False
        if text.strip():
            self.timer.start()
        else:
            self.timer.stop()
            self._show_hits([])

    def search(self) -> list[MemberHit]:
        self.timer.stop()
        text = self.field.text().strip()
        hits = self.ctx.desk.views.search(text, self.ctx.today(), limit=8) if text else []
        self._show_hits(hits)
        return hits

    def _show_hits(self, hits: list[MemberHit]) -> None:
        self.model.set_rows(hits)
        self.matches.setVisible(bool(hits))
        self.hint.setVisible(bool(hits))
        if hits:
            self.hint.setText(tr("↑ ↓ to choose, Enter to check in, Esc to clear"))
            self.matches.selectRow(0)

    def _navigate(self, step: int) -> None:
        if not self.model.rows:
            return
        rows = self.matches.selectionModel().selectedRows()
        current = rows[0].row() if rows else -1
        self.matches.selectRow(max(0, min(len(self.model.rows) - 1, current + step)))
        self._picked = True

    def _pick_row(self, row: int) -> None:
        hit = self.model.row(row)
        if hit is not None:
            self._check_in(hit.member_id)

    def enter(self) -> None:
        """Enter: a code checks in at once; a name picks the chosen or only match."""
        text = self.field.text().strip()
        self.timer.stop()
        if not text:
            return
        if self._picked and self.model.rows:
            rows = self.matches.selectionModel().selectedRows()
            if rows:
                self._pick_row(rows[0].row())
                return
        if self.ctx.desk.views.member_by_code(text) is not None:
            self._check_in(text)
            return
        hits = self.search()
        if len(hits) == 1:
            self._check_in(hits[0].member_id)
        elif hits:
            self._picked = True
            self.banner.show_message(
                "warn", tr("{count} people match: choose one", count=len(hits))
            )
        else:
            self._check_in(text)

    # -- checking in -------------------------------------------------------------------------
    def _check_in(self, code: str, session_id: str | None = None) -> None:
        staff = self.ctx.staff
        if staff is None:
            return
        result = self.ctx.desk.check_in(code, staff.id, self.ctx.now(), session_id)
        self._last_code = code
        self._clear()
        self.show_result(result)
        sessions = (result.session.id,) if result.session else ()
        members = (result.member.id,) if result.member else ()
        if result.seq is not None or not result.ok:
            self.ctx.announce(None, sessions, members)
        if result.member is not None:
            self.ctx.events.show_member.emit(result.member.id)
        self.checked.emit(result)
        self.refocus()

    def _clear(self) -> None:
        self.field.clear()
        self._picked = False
        self._show_hits([])

    def show_result(self, result: ScanResult) -> None:
        outcome = result.outcome
        name = result.member.name if result.member else ""
        session = result.session
        when = local_time(session.start, self.ctx.timezone) if session else ""
        if outcome.ok and outcome.code == "already_checked_in":
            heading = tr("{name} is already checked in", name=name)
            self.banner.show_message("warn", heading, outcome_lines(outcome))
            return
        if outcome.ok:
            heading = tr(
                "✓ {name} checked in — {cls} {time}",
                name=name,
                cls=session.class_name if session else "",
                time=when,
            )
            actions = [button(tr("Undo"), lambda: self._undo(outcome, result.member, session))]
            tone = "warn" if outcome.warnings else "ok"
            self.banner.show_message(tone, heading, outcome_lines(outcome), actions)
            return
        heading = outcome_title(outcome, name=name)
        if name:
            heading = f"✗ {name}: {heading}"
        self.banner.show_message("bad", heading, outcome_lines(outcome), self._fixes(result))

    def _fixes(self, result: ScanResult) -> list[QPushButton]:
        """One-click ways forward from a refusal."""
        outcome, member, session = result.outcome, result.member, result.session
        actions: list[QPushButton] = []
        if member is None:
            if self.ctx.may("walk_in"):
                actions.append(
                    button(
                        tr("New guest (walk-in)…"),
                        lambda: self._walk_in(None, None, self._last_code),
                    )
                )
            return actions
        if self.ctx.may("walk_in"):
            for line in result.walk_in_options[:3]:
                sid = line.session.id
                actions.append(
                    button(
                        tr("Walk-in: {session}", session=session_text(line)),
                        lambda sid=sid: self._walk_in(member, sid),  # type: ignore[misc]
                    )
                )
        if outcome.code == "waiver_missing" and self.ctx.may("sign_waiver") and session:
            actions.append(
                button(
                    tr("Waiver signed — check in"),
                    lambda: self._sign_waiver_then_check_in(member, session),
                    name="SignWaiverFix",
                )
            )
        if outcome.code in NO_PASS and self.ctx.may("sell"):
            actions.append(button(tr("Sell a pass…"), lambda: self._sell(member, session)))
        if outcome.code in OVERRIDABLE and session is not None:
            widget = button(
                tr("Override (manager)…"),
                lambda: self._override(member, session),
                name="OverrideButton",
            )
            widget.setEnabled(self.ctx.is_manager)
            if not self.ctx.is_manager:
                widget.setToolTip(
                    tr("Only a manager or owner can override. Lock and let them unlock.")
                )
            actions.append(widget)
        return actions

    def _sign_waiver_then_check_in(self, member: Member, session: Session) -> None:
        recorded = self.ctx.act("sign_waiver", members=(member.id,), member_id=member.id)
        if recorded.outcome.ok:
            self._check_in(member.id, session.id)
        else:
            self.banner.show_outcome(recorded.outcome)

    def _walk_in(self, member: Member | None, session_id: str | None, code: str = "") -> None:
        dialog = WalkInDialog(
            self.ctx, self.window(), member=member, session_id=session_id, guest_code=code
        )
        dialog.open()

    def _sell(self, member: Member, session: Session | None) -> None:
        dialog = SellDialog(self.ctx, member, self.window())
        if session is not None:
            dialog.accepted.connect(lambda: self._check_in(member.id, session.id))
        dialog.open()

    def _override(self, member: Member, session: Session) -> None:
        def run(reason: str) -> Outcome:
            recorded = self.ctx.act(
                "check_in",
                sessions=(session.id,),
                members=(member.id,),
                member_id=member.id,
                session_id=session.id,
                override=True,
                reason=reason,
            )
            if recorded.outcome.ok:
                self.show_result(ScanResult(recorded.outcome, member, session, recorded.seq))
            return recorded.outcome

        dialog = ReasonDialog(
            self.ctx,
            tr("Override"),
            tr(
                "Check {name} in despite this rule. Your name and reason are recorded.",
                name=member.name,
            ),
            run,
            self.window(),
        )
        dialog.open()

    def _undo(self, outcome: Outcome, member: Member | None, session: Session | None) -> None:
        booking_id = outcome.data.get("booking_id") or outcome.subject_id
        if not booking_id:
            return
        recorded = self.ctx.act(
            "undo_check_in",
            sessions=(session.id,) if session else (),
            members=(member.id,) if member else (),
            booking_id=booking_id,
        )
        if recorded.outcome.ok:
            self.banner.show_message("ok", tr("Check-in undone"))
        else:
            self.banner.show_outcome(recorded.outcome)
        self.refocus()
