"""A manager's reason for an override or an exception (every override is audited)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from frontdesk.domain import Outcome

from ..context import DeskContext
from ..i18n import tr
from .base import FormDialog


class ReasonDialog(FormDialog):
    """Asks why, then runs `action(reason)`; a refusal stays on screen."""

    def __init__(
        self,
        ctx: DeskContext,
        heading: str,
        explanation: str,
        action: Callable[[str], Outcome],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, heading, parent)
        label = QLabel(explanation)
        label.setWordWrap(True)
        self.form.addRow(label)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(tr("Why? (kept in the audit log)"))
        self.form.addRow(tr("Reason"), self.reason)
        self.action = action

    def submit(self) -> bool:
        if not self.reason.text().strip():
            return self.complain(tr("An override needs a reason."))
        outcome = self.action(self.reason.text().strip())
        return True if outcome.ok else self.refuse(outcome)
