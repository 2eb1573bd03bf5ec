"""Finding people: a member picker, the walk-in flow, adding someone to a class, editing."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain import Outcome
from frontdesk.domain.model import Entitlement, Member, Session
from frontdesk.local_db import MemberHit, SessionLine

from ..context import DeskContext
from ..i18n import tr
from ..models.desk import hits_model
from .base import FormDialog, offer_override
from .money import PaymentFields


class MemberPicker(QWidget):
    """Search by name (any script), phone, card or pinyin; choose one row."""

    picked = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.query = QLineEdit()
        self.query.setObjectName("PickerQuery")
        self.query.setPlaceholderText(tr("Name, phone, card or pinyin"))
        self.model = hits_model()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(140)
        self.table.doubleClicked.connect(lambda _i: self.picked.emit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.query)
        layout.addWidget(self.table)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(120)
        self.timer.timeout.connect(self.search)
        self.query.textEdited.connect(lambda _t: self.timer.start())
        self.query.returnPressed.connect(self.search)

    def search(self) -> None:
        self.timer.stop()
        hits = self.ctx.desk.views.search(self.query.text(), self.ctx.today(), limit=20)
        self.model.set_rows(hits)
        if hits:
            self.table.selectRow(0)

    def selected(self) -> MemberHit | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None


def session_text(line: SessionLine) -> str:
    return tr(
        "{time} {name} — {free} free",
        time=line.start_local.strftime("%H:%M"),
        name=line.session.class_name,
        free=line.free,
    )


class WalkInDialog(FormDialog):
    """Find or quick-add a guest, choose a class with space, pay, and check in: one step."""

    def __init__(
        self,
        ctx: DeskContext,
        parent: QWidget | None = None,
        *,
        member: Member | None = None,
        session_id: str | None = None,
        guest_code: str = "",
    ) -> None:
        super().__init__(ctx, tr("Walk-in"), parent)
        self.resize(640, 560)
        self.known = QRadioButton(tr("A member"))
        self.new = QRadioButton(tr("A new guest"))
        group = QButtonGroup(self)
        group.addButton(self.known)
        group.addButton(self.new)
        who = QHBoxLayout()
        who.addWidget(self.known)
        who.addWidget(self.new)
        who.addStretch(1)
        self.form.addRow(tr("Who"), who)
        self.picker = MemberPicker(ctx)
        self.form.addRow(self.picker)
        self.guest_name = QLineEdit()
        self.guest_name.setObjectName("GuestName")
        self.guest_phone = QLineEdit()
        self.guest_card = QLineEdit(guest_code)
        self.form.addRow(tr("Name"), self.guest_name)
        self.form.addRow(tr("Phone"), self.guest_phone)
        self.form.addRow(tr("Card code"), self.guest_card)
        self.session = QComboBox()
        self.session.setObjectName("SessionBox")
        self.options = ctx.desk.walk_in_options(ctx.now())
        for line in self.options:
            self.session.addItem(session_text(line), line.session.id)
        if session_id is not None:
            index = self.session.findData(session_id)
            if index < 0:
                picked = ctx.desk.views.session(session_id)
                if picked is not None:
                    self.session.addItem(picked.class_name, picked.id)
                    index = self.session.count() - 1
            self.session.setCurrentIndex(max(index, 0))
        self.form.addRow(tr("Class"), self.session)
        self.payment = PaymentFields(self, ctx.catalogue.plans(), allow_none=tr("Use their pass"))
        self.waiver = QCheckBox(tr("Waiver signed now"))
        self.waiver.setObjectName("WaiverSigned")
        self.form.addRow("", self.waiver)
        self.added_member_id: str | None = None
        self.member = member
        if member is not None:
            self.picker.query.setText(member.name)
            self.picker.search()
        self.known.toggled.connect(self._mode)
        (self.known if member is not None or not guest_code else self.new).setChecked(True)
        self._mode()

    def _mode(self) -> None:
        known = self.known.isChecked()
        self.picker.setVisible(known)
        for widget in (self.guest_name, self.guest_phone, self.guest_card):
            widget.setEnabled(not known)
        (self.picker.query if known else self.guest_name).setFocus()

    def command(self) -> dict[str, object] | None:
        session_id = self.session.currentData()
        if session_id is None:
            self.complain(tr("No class is open for a walk-in now."))
            return None
        args: dict[str, object] = {"session_id": session_id, **self.payment.args()}
        if self.added_member_id is not None:
            args["member_id"] = self.added_member_id
        elif self.known.isChecked():
            hit = self.picker.selected()
            if hit is None:
                self.complain(tr("Find the member first, or choose a new guest."))
                return None
            args["member_id"] = hit.member_id
        else:
            name = self.guest_name.text().strip()
            if not name:
                self.complain(tr("A new guest needs a name."))
                return None
            args["guest"] = {
                "name": name,
                "phone": self.guest_phone.text().strip(),
                "email": "",
                "card_code": self.guest_card.text().strip(),
            }
            if not self.payment.args():
                self.complain(tr("A new guest has no pass yet: sell a drop-in or a pass."))
                return None
        return args

    def run(self, args: dict[str, object]) -> Outcome:
        recorded = self.ctx.act(
            "walk_in",
            sessions=(str(args["session_id"]),),
            members=tuple(str(m) for m in [args.get("member_id")] if m),
            **args,
        )
        self.last_outcome = recorded.outcome
        if recorded.outcome.ok:
            member_id = recorded.outcome.data.get("member_id") or args.get("member_id")
            if member_id:
                self.ctx.events.show_member.emit(str(member_id))
        return recorded.outcome

    def _sign_waiver_first(self, args: dict[str, object]) -> Outcome | None:
        """A guest who signs the waiver at the desk: add them, record it, then the walk-in."""
        guest = args.pop("guest", None)
        if isinstance(guest, dict):
            added = self.ctx.act("add_member", **guest)
            if not added.outcome.ok:
                return added.outcome
            # Added once: a second try after a refusal must not add the guest again.
            self.added_member_id = added.outcome.data["member_id"]
            args["member_id"] = self.added_member_id
        member_id = str(args["member_id"])
        signed = self.ctx.act("sign_waiver", members=(member_id,), member_id=member_id)
        return None if signed.outcome.ok else signed.outcome

    def submit(self) -> bool:
        args = self.command()
        if args is None:
            return False
        if self.waiver.isChecked():
            refused = self._sign_waiver_first(args)
            if refused is not None:
                return self.refuse(refused)
            self.waiver.setChecked(False)
        outcome = self.run(args)
        if outcome.ok:
            return True
        self.refuse(outcome)
        offer_override(
            self, outcome, lambda reason: self.run({**args, "override": True, "reason": reason})
        )
        return False


class AddToClassDialog(FormDialog):
    """Add someone to a session: a booking before it starts, a check-in once it has."""

    def __init__(self, ctx: DeskContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tr("Add someone to {name}", name=session.class_name), parent)
        self.session = session
        self.picker = MemberPicker(ctx)
        self.form.addRow(self.picker)
        self.picker.picked.connect(self._ok)

    def submit(self) -> bool:
        hit = self.picker.selected()
        if hit is None:
            return self.complain(tr("Find the member first."))
        started = self.ctx.desk.business_now(self.ctx.now()) >= self.session.start
        name = "check_in" if started else "book"
        recorded = self.ctx.act(
            name,
            sessions=(self.session.id,),
            members=(hit.member_id,),
            member_id=hit.member_id,
            session_id=self.session.id,
        )
        if recorded.outcome.ok:
            return True
        self.refuse(recorded.outcome)
        flag = "override" if started else "override_capacity"

        def again(reason: str) -> Outcome:
            return self.ctx.act(
                name,
                sessions=(self.session.id,),
                members=(hit.member_id,),
                member_id=hit.member_id,
                session_id=self.session.id,
                reason=reason,
                **{flag: True},
            ).outcome

        offer_override(self, recorded.outcome, again)
        return False


class EditMemberDialog(FormDialog):
    def __init__(self, ctx: DeskContext, member: Member, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tr("Edit {name}", name=member.name), parent)
        self.member = member
        self.name = QLineEdit(member.name)
        self.name.setObjectName("EditName")
        self.phone = QLineEdit(member.phone)
        self.email = QLineEdit(member.email)
        self.card = QLineEdit(member.card_code)
        self.notes = QPlainTextEdit(member.notes)
        self.notes.setObjectName("EditNotes")
        self.notes.setMaximumHeight(90)
        for label, widget in (
            (tr("Name"), self.name),
            (tr("Phone"), self.phone),
            (tr("Email"), self.email),
            (tr("Card code"), self.card),
            (tr("Notes"), self.notes),
        ):
            self.form.addRow(label, widget)

    def submit(self) -> bool:
        recorded = self.ctx.act(
            "edit_member",
            members=(self.member.id,),
            member_id=self.member.id,
            name=self.name.text(),
            phone=self.phone.text(),
            email=self.email.text(),
            card_code=self.card.text(),
            notes=self.notes.toPlainText(),
        )
        return True if recorded.outcome.ok else self.refuse(recorded.outcome)


class FeedbackDialog(FormDialog):
    """The voice of the customer, captured while they are at the desk."""

    def __init__(self, ctx: DeskContext, member: Member, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tr("Feedback from {name}", name=member.name), parent)
        self.member = member
        self.rating = QSpinBox()
        self.rating.setRange(1, 5)
        self.rating.setValue(5)
        self.comment = QLineEdit()
        self.form.addRow(tr("Rating (1–5)"), self.rating)
        self.form.addRow(tr("Comment"), self.comment)

    def submit(self) -> bool:
        recorded = self.ctx.act(
            "record_feedback",
            members=(self.member.id,),
            member_id=self.member.id,
            rating=self.rating.value(),
            comment=self.comment.text(),
        )
        return True if recorded.outcome.ok else self.refuse(recorded.outcome)


class FreezeDialog(FormDialog):
    """A manager holds a pass for some days; its expiry moves out as many days."""

    def __init__(
        self,
        ctx: DeskContext,
        member: Member,
        passes: list[Entitlement],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, tr("Freeze a pass of {name}", name=member.name), parent)
        self.member = member
        self.entitlement = QComboBox()
        for ent in passes:
            self.entitlement.addItem(ent.name, ent.id)
        today = ctx.today()
        last = date.fromordinal(today.toordinal() + 13)
        self.start = QDateEdit(QDate(today.year, today.month, today.day))
        self.end = QDateEdit(QDate(last.year, last.month, last.day))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.reason = QLineEdit()
        self.form.addRow(tr("Pass"), self.entitlement)
        self.form.addRow(tr("First day"), self.start)
        self.form.addRow(tr("Last day"), self.end)
        self.form.addRow(tr("Reason"), self.reason)

    def submit(self) -> bool:
        if self.entitlement.currentData() is None:
            return self.complain(tr("This member has no pass to freeze."))
        recorded = self.ctx.act(
            "freeze",
            members=(self.member.id,),
            entitlement_id=self.entitlement.currentData(),
            start=self.start.date().toString("yyyy-MM-dd"),
            end=self.end.date().toString("yyyy-MM-dd"),
            reason=self.reason.text(),
        )
        return True if recorded.outcome.ok else self.refuse(recorded.outcome)
