"""Cancelling a booking: the window says early or late and what the penalty will be."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QWidget

from frontdesk.domain.model import Booking, Penalty, Session
from frontdesk.domain.rules import CancelTerms

from ..context import DeskContext
from ..i18n import tr
from ..widgets import money
from .base import FormDialog


def describe_terms(terms: CancelTerms, currency: str) -> str:
    if not terms.late:
        return tr("Early cancellation: the class is returned to their pass.")
    if terms.penalty is Penalty.FORFEIT_CREDIT:
        return tr("Late cancellation: the class is not returned to their pass.")
    if terms.penalty is Penalty.FEE:
        return tr(
            "Late cancellation: a fee of {fee} is charged.", fee=money(terms.fee_cents, currency)
        )
    return tr("Late cancellation: no penalty under this studio's policy.")


class CancelDialog(FormDialog):
    def __init__(
        self,
        ctx: DeskContext,
        booking: Booking,
        member_name: str,
        session: Session,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, tr("Cancel a booking"), parent)
        self.booking = booking
        self.session = session
        self.terms = ctx.catalogue.cancel_terms(session, ctx.now())
        currency = ctx.catalogue.policy().currency
        if booking.status.value == "waitlisted":
            text = tr("They leave the waitlist; nothing is charged.")
        else:
            text = describe_terms(self.terms, currency)
        self.terms_label = QLabel(text)
        self.terms_label.setObjectName("CancelTerms")
        self.terms_label.setWordWrap(True)
        self.form.addRow(tr("Member"), QLabel(member_name))
        self.form.addRow(tr("Class"), QLabel(session.class_name))
        self.form.addRow(self.terms_label)
        self.waive = QCheckBox(tr("Waive the penalty (manager)"))
        self.waive.setObjectName("WaivePenalty")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(tr("Why? (kept in the audit log)"))
        late = self.terms.late and booking.status.value != "waitlisted"
        self.waive.setVisible(late)
        self.reason.setVisible(late)
        self.waive.setEnabled(ctx.is_manager)
        self.reason.setEnabled(ctx.is_manager)
        self.form.addRow(self.waive)
        self.form.addRow(tr("Reason"), self.reason)
        self.ok_button.setText(tr("Cancel booking"))
        self.buttons.button(self.buttons.StandardButton.Cancel).setText(tr("Keep booking"))

    def submit(self) -> bool:
        args: dict[str, object] = {"booking_id": self.booking.id}
        if self.waive.isChecked():
            if not self.reason.text().strip():
                return self.complain(tr("An override needs a reason."))
            args.update(waive_penalty=True, reason=self.reason.text().strip())
        recorded = self.ctx.act(
            "cancel_booking",
            sessions=(self.session.id,),
            members=(self.booking.member_id,),
            **args,
        )
        return True if recorded.outcome.ok else self.refuse(recorded.outcome)
