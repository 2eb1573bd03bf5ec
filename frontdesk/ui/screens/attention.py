"""The attention list: what the cloud rejected or warned about, each with its action."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.model import Booking, BookingStatus, Member

from ..context import Changed, DeskContext
from ..dialogs.money import SellDialog
from ..dialogs.reason import ReasonDialog
from ..i18n import tr, tr_code, tr_fix, tr_status
from ..widgets import Banner, button, repolish, title


def command_label(name: str) -> str:
    """A command's name for staff (by its code's translation)."""
    return tr_status(name)


class AttentionScreen(QWidget):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.heading = title(tr("Needs attention"))
        self.note = QLabel(
            tr("The cloud re-checked these actions and did not simply agree. Resolve each one.")
        )
        self.note.setWordWrap(True)
        self.banner = Banner()
        self.items = QVBoxLayout()
        self.items.addStretch(1)
        inner = QWidget()
        inner.setLayout(self.items)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.banner)
        layout.addWidget(scroll, 1)
        self.rows: list[QWidget] = []
        ctx.bridge.pushed.connect(self.refresh)
        ctx.events.changed.connect(self._changed)
        self.refresh()

    def _changed(self, changed: Changed) -> None:
        if changed.everything or changed.partitions:
            self.refresh()

    def refresh(self, *_args: object) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        entries = self.ctx.desk.views.attention()
        if not entries:
            empty = QLabel(tr("Nothing needs attention."))
            empty.setObjectName("AttentionEmpty")
            self.rows.append(empty)
            self.items.insertWidget(0, empty)
            return
        for n, entry in enumerate(entries):
            row = self._row(entry)
            self.rows.append(row)
            self.items.insertWidget(n, row)

    def _row(self, entry: dict[str, Any]) -> QWidget:
        frame = QFrame()
        frame.setObjectName("Banner")
        frame.setProperty("tone", "bad" if entry["status"] == "rejected" else "warn")
        repolish(frame)
        layout = QVBoxLayout(frame)
        booking = self.ctx.desk.views.booking(entry["subject_id"]) if entry["subject_id"] else None
        member = self._member(booking)
        who = f" — {member.name}" if member else ""
        heading = QLabel(f"#{entry['seq']} {command_label(entry['command'])}{who}")
        heading.setStyleSheet("font-weight: bold;")
        layout.addWidget(heading)
        notices = (
            [(entry["code"], entry["message"], entry["fix"])]
            if entry["status"] == "rejected"
            else []
        )
        warnings = entry["warnings"]
        if isinstance(warnings, str):
            warnings = json.loads(warnings)
        notices += [(w.get("code", ""), w.get("message", ""), w.get("fix", "")) for w in warnings]
        for code, message, fix in notices:
            text = QLabel(tr_code(code, message))
            text.setWordWrap(True)
            text.setObjectName(f"Notice_{code}")
            layout.addWidget(text)
            fix_text = tr_fix(code, fix)
            if fix_text:
                layout.addWidget(QLabel(tr("What to do: {fix}", fix=fix_text)))
        actions = QHBoxLayout()
        for label, handler, manager_only in self._actions(entry, booking, member):
            widget = button(label, handler)
            if manager_only and not self.ctx.is_manager:
                widget.setEnabled(False)
                widget.setToolTip(tr("Only a manager or owner can do this."))
            actions.addWidget(widget)
        actions.addStretch(1)
        layout.addLayout(actions)
        return frame

    def _member(self, booking: Booking | None) -> Member | None:
        if booking is None:
            return None
        return self.ctx.desk.views.member_by_code(booking.member_id)

    def _actions(
        self, entry: dict[str, Any], booking: Booking | None, member: Member | None
    ) -> list[tuple[str, Callable[[], None], bool]]:
        codes = {entry["code"]} | {w.get("code") for w in entry["warnings"] if isinstance(w, dict)}
        command_id = entry["command_id"]
        actions: list[tuple[str, Callable[[], None], bool]] = []
        if "over_capacity" in codes and booking is not None:
            actions.append(
                (
                    tr("Keep as over capacity (manager)"),
                    self._resolve_with_reason(command_id, "kept_over_capacity"),
                    True,
                )
            )
            if booking.status is BookingStatus.CHECKED_IN and self.ctx.may("undo_check_in"):
                actions.append((tr("Undo the check-in"), self._undo(command_id, booking), False))
        if "unpaid_attendance" in codes and member is not None:
            if self.ctx.may("sell"):
                actions.append(
                    (tr("Sell a drop-in or pass…"), self._sell(command_id, member), False)
                )
            actions.append(
                (tr("Waive it (manager)"), self._resolve_with_reason(command_id, "waived"), True)
            )
        if member is not None:
            actions.append(
                (tr("Show member"), lambda: self.ctx.events.show_member.emit(member.id), False)
            )
        actions.append((tr("Mark as handled"), self._resolve(command_id, "handled"), False))
        return actions

    # -- resolutions ---------------------------------------------------------------------------
    def _resolve(self, command_id: str, resolution: str) -> Callable[[], None]:
        def run() -> None:
            staff = self.ctx.staff
            if staff is None:
                return
            self.ctx.replica.resolve_attention(command_id, resolution, staff.id, self.ctx.now())
            self.banner.show_message("ok", tr("Marked as handled"))
            self.refresh()
            self.ctx.events.changed.emit(Changed())

        return run

    def _resolve_with_reason(self, command_id: str, resolution: str) -> Callable[[], None]:
        def ask() -> None:
            staff = self.ctx.staff
            if staff is None:
                return

            def done(reason: str) -> Any:
                from frontdesk.domain import Outcome, Status

                self.ctx.replica.resolve_attention(
                    command_id, f"{resolution}: {reason}", staff.id, self.ctx.now()
                )
                self.refresh()
                self.ctx.events.changed.emit(Changed())
                return Outcome(Status.APPLIED)

            ReasonDialog(
                self.ctx,
                tr("Resolve"),
                tr("Your name and reason are recorded."),
                done,
                self.window(),
            ).open()

        return ask

    def _undo(self, command_id: str, booking: Booking) -> Callable[[], None]:
        def run() -> None:
            recorded = self.ctx.act(
                "undo_check_in",
                sessions=(booking.session_id,),
                members=(booking.member_id,),
                booking_id=booking.id,
            )
            if recorded.outcome.ok:
                self._resolve(command_id, "check_in_undone")()
            else:
                self.banner.show_outcome(recorded.outcome)

        return run

    def _sell(self, command_id: str, member: Member) -> Callable[[], None]:
        def run() -> None:
            dialog = SellDialog(self.ctx, member, self.window())
            dialog.accepted.connect(self._resolve(command_id, "sold"))
            dialog.open()

        return run
