"""A form dialog that runs its action on OK and shows a refusal without closing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain import Outcome

from ..context import DeskContext
from ..i18n import tr
from ..widgets import Banner


class FormDialog(QDialog):
    """Subclasses fill `form` and implement `submit()`, returning True when done."""

    def __init__(self, ctx: DeskContext, heading: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(heading)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.banner = Banner()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.ok_button
        ok.setText(tr("OK"))
        ok.setProperty("primary", True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout(self)
        self.body.addLayout(self.form)
        self.body.addWidget(self.banner)
        self.body.addWidget(self.buttons)
        self.last_outcome: Outcome | None = None
        self.finished.connect(lambda _result: ctx.events.refocus.emit())

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _ok(self) -> None:
        if self.submit():
            self.accept()

    def submit(self) -> bool:
        raise NotImplementedError

    def refuse(self, outcome: Outcome) -> bool:
        self.last_outcome = outcome
        self.banner.show_outcome(outcome)
        return False

    def complain(self, text: str) -> bool:
        self.banner.show_message("bad", text)
        return False


def offer_override(dialog: FormDialog, outcome: Outcome, rerun: object) -> None:
    """After a refusal a manager may override: a button that asks why and runs again."""
    from ..widgets import OVERRIDABLE, button
    from .reason import ReasonDialog

    if outcome.code not in OVERRIDABLE:
        return
    ctx = dialog.ctx

    def ask() -> None:
        reason = ReasonDialog(
            ctx,
            tr("Override"),
            tr("Go ahead despite this rule. Your name and reason are recorded."),
            rerun,  # type: ignore[arg-type]
            dialog,
        )
        reason.accepted.connect(dialog.accept)
        reason.open()

    widget = button(tr("Override (manager)…"), ask, name="OverrideButton")
    widget.setEnabled(ctx.is_manager)
    if not ctx.is_manager:
        widget.setToolTip(tr("Only a manager or owner can override. Lock and let them unlock."))
    dialog.banner.show_outcome(outcome, actions=[widget])
