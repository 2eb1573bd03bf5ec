"""The member panel: passes with what is left, ranked alerts with one-click actions, visits."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain.model import Entitlement, EntitlementKind, Member
from frontdesk.domain.rules import Alert
from frontdesk.local_db import MemberCard
from frontdesk.local_db.views import VisitLine

from ..context import Changed, DeskContext
from ..dialogs.money import MarkPaidDialog, SellDialog
from ..dialogs.people import EditMemberDialog, FeedbackDialog, FreezeDialog, WalkInDialog
from ..i18n import tr, tr_code, tr_status
from ..models.table import Column, RowsModel
from ..widgets import Banner, button, day_text, local_time, money, repolish, title

#: An alert's one-click action: its label (translated when shown) and the command it needs.
ALERT_ACTIONS: dict[str, tuple[Callable[[], str], str]] = {
    "sell_pass": (lambda: tr("Sell a pass…"), "sell"),
    "renew": (lambda: tr("Renew…"), "sell"),
    "mark_paid": (lambda: tr("Mark paid…"), "mark_paid"),
    "sign_waiver": (lambda: tr("Waiver signed"), "sign_waiver"),
    "view_note": (lambda: tr("Edit note…"), "edit_member"),
    "unfreeze": (lambda: tr("End freeze"), "unfreeze"),
}


class _FitWidth(QScrollArea):
    """Scrolls up and down only, and asks its splitter for the width its content needs
    (Chinese labels at 150% scaling must never be cut off)."""

    def minimumSizeHint(self) -> QSize:
        base = super().minimumSizeHint()
        inner = self.widget()
        if inner is None:
            return base
        width = (
            inner.minimumSizeHint().width()
            + self.verticalScrollBar().sizeHint().width()
            + 2 * self.frameWidth()
        )
        return QSize(max(width, base.width()), base.height())


def left_text(ent: Entitlement, currency: str) -> str:
    if ent.kind is EntitlementKind.MEMBERSHIP:
        return tr("unlimited")
    if ent.kind is EntitlementKind.STORED_VALUE:
        return money(ent.balance, currency)
    if ent.credits_total:
        return tr("{left} of {total}", left=ent.balance, total=ent.credits_total)
    return str(ent.balance)


class MemberPanel(QWidget):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.card: MemberCard | None = None
        self.currency = ctx.catalogue.policy().currency
        self.name = QLabel(tr("No member chosen"))
        self.name.setObjectName("MemberName")
        self.name.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.contact = QLabel()
        self.contact.setWordWrap(True)
        self.alerts_box = QVBoxLayout()
        self.alerts_box.setSpacing(4)
        self.passes: RowsModel[Entitlement] = RowsModel(
            [
                Column(lambda: tr("Pass"), lambda e: e.name),
                Column(lambda: tr("Kind"), lambda e: tr_status(e.kind.value)),
                Column(lambda: tr("Left"), lambda e: left_text(e, self.currency), True),
                Column(lambda: tr("Valid until"), lambda e: day_text(e.valid_until)),
                Column(lambda: tr("Paid"), lambda e: tr("yes") if e.paid else tr("no")),
                Column(
                    lambda: tr("Frozen"),
                    lambda e: f"{e.frozen_from}…{e.frozen_until}" if e.frozen_from else "",
                ),
            ]
        )
        self.passes_view = self._table(self.passes)
        self.passes_view.setObjectName("PassesTable")
        self.visits: RowsModel[VisitLine] = RowsModel(
            [
                Column(
                    lambda: tr("When"),
                    lambda v: local_time(
                        v.session.start if v.session else v.booking.created_at,
                        self.ctx.timezone,
                        with_date=True,
                    ),
                ),
                Column(lambda: tr("Class"), lambda v: v.session.class_name if v.session else ""),
                Column(lambda: tr("Status"), lambda v: tr_status(v.booking.status.value)),
            ]
        )
        self.visits_view = self._table(self.visits)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("MemberNotes")
        self.banner = Banner()
        b = self.buttons = {
            "edit": button(tr("Edit…"), self.edit),
            "sell": button(tr("Sell a pass…"), self.sell),
            "walk_in": button(tr("Walk-in…"), self.walk_in),
            "feedback": button(tr("Feedback…"), self.feedback),
            "freeze": button(tr("Freeze… (manager)"), self.freeze),
        }
        # A grid, not a row: the panel is narrow, and Chinese labels must not be cut.
        actions = QGridLayout()
        for n, widget in enumerate(b.values()):
            actions.addWidget(widget, n // 3, n % 3)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.name)
        layout.addWidget(self.contact)
        layout.addLayout(self.alerts_box)
        layout.addLayout(actions)
        layout.addWidget(self.banner)
        layout.addWidget(title(tr("Passes")))
        layout.addWidget(self.passes_view)
        layout.addWidget(title(tr("Recent visits")))
        layout.addWidget(self.visits_view)
        layout.addWidget(title(tr("Notes")))
        layout.addWidget(self.notes)
        layout.addStretch(1)
        scroll = self.scroller = _FitWidth()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        ctx.events.show_member.connect(self.show_member)
        ctx.events.changed.connect(self._changed)
        self.alert_buttons: list[QPushButton] = []
        self._render()

    @staticmethod
    def _table(model: QAbstractItemModel) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        view.verticalHeader().hide()
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setStretchLastSection(True)
        view.setMinimumHeight(110)
        view.setMaximumHeight(180)
        return view

    # -- showing -----------------------------------------------------------------------------
    def show_member(self, member_id: str) -> None:
        self.card = self.ctx.desk.views.member_card(member_id, self.ctx.today())
        self.banner.hide()
        self._render()

    def _changed(self, changed: Changed) -> None:
        if self.card is not None and changed.touches_member(self.card.member.id):
            self.show_member(self.card.member.id)

    def _render(self) -> None:
        card = self.card
        for widget in self.alert_buttons:
            widget.setParent(None)
            widget.deleteLater()
        self.alert_buttons = []
        while self.alerts_box.count():
            item = self.alerts_box.takeAt(0)
            row = item.widget() if item is not None else None
            if row is not None:
                row.setParent(None)
                row.deleteLater()
        for widget in self.buttons.values():
            widget.setEnabled(card is not None)
        self.buttons["sell"].setVisible(self.ctx.may("sell"))
        self.buttons["walk_in"].setVisible(self.ctx.may("walk_in"))
        self.buttons["edit"].setVisible(self.ctx.may("edit_member"))
        self.buttons["freeze"].setVisible(self.ctx.may("freeze"))
        if card is None:
            self.name.setText(tr("No member chosen"))
            self.contact.setText(tr("Scan a card or search to see a member here."))
            self.passes.set_rows([])
            self.visits.set_rows([])
            self.notes.setText("")
            return
        m = card.member
        self.name.setText(m.name + (f"  ({m.tier})" if m.tier else ""))
        parts = [
            p for p in (m.phone, m.card_code and tr("card {code}", code=m.card_code), m.email) if p
        ]
        self.contact.setText(" · ".join(parts))
        for alert in card.alerts:
            self.alerts_box.addWidget(self._alert_row(alert))
        self.passes.set_rows(card.entitlements)
        self.visits.set_rows(card.visits[:10])
        self.notes.setText(m.notes or tr("No notes."))
        self.scroller.updateGeometry()  # new alerts may need more width

    def _alert_row(self, alert: Alert) -> QWidget:
        row = QFrame()
        row.setObjectName("Banner")
        row.setProperty("tone", "bad" if alert.blocking else "warn")
        row.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        repolish(row)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(8, 3, 8, 3)
        params = {}
        if alert.code.value == "staff_note" and self.card is not None:
            params["note"] = self.card.member.notes.strip()
        label = QLabel(
            ("✗ " if alert.blocking else "⚠ ") + tr_code(alert.code.value, alert.message, **params)
        )
        label.setWordWrap(True)
        label.setObjectName(f"Alert_{alert.code.value}")
        layout.addWidget(label, 1)
        action = ALERT_ACTIONS.get(alert.action)
        if action is not None and self.ctx.may(action[1]):
            widget = button(action[0](), self._alert_action(alert.action))
            widget.setObjectName(f"AlertAction_{alert.code.value}")
            layout.addWidget(widget)
            self.alert_buttons.append(widget)
        return row

    def _alert_action(self, action: str) -> Callable[[], None]:
        handlers: dict[str, Callable[[], None]] = {
            "sell_pass": self.sell,
            "renew": self.sell,
            "mark_paid": self.mark_paid,
            "sign_waiver": self.sign_waiver,
            "view_note": self.edit,
            "unfreeze": self.unfreeze,
        }
        return handlers[action]

    # -- actions ---------------------------------------------------------------------------------
    def _member(self) -> Member:
        assert self.card is not None
        return self.card.member

    def edit(self) -> None:
        if self.card is not None:
            EditMemberDialog(self.ctx, self._member(), self.window()).open()

    def sell(self) -> None:
        if self.card is not None:
            SellDialog(self.ctx, self._member(), self.window()).open()

    def walk_in(self) -> None:
        if self.card is not None:
            WalkInDialog(self.ctx, self.window(), member=self._member()).open()

    def feedback(self) -> None:
        if self.card is not None:
            FeedbackDialog(self.ctx, self._member(), self.window()).open()

    def freeze(self) -> None:
        if self.card is not None:
            FreezeDialog(self.ctx, self._member(), self.card.entitlements, self.window()).open()

    def mark_paid(self) -> None:
        if self.card is None:
            return
        unpaid = [s for s in self.card.sales if not s.paid and not s.void]
        if not unpaid:
            self.banner.show_message(
                "warn", tr("An unpaid pass has no sale on this desk yet: sync, then try again.")
            )
            return
        MarkPaidDialog(self.ctx, self._member(), unpaid, self.window()).open()

    def sign_waiver(self) -> None:
        if self.card is None:
            return
        member = self._member()
        recorded = self.ctx.act("sign_waiver", members=(member.id,), member_id=member.id)
        if not recorded.outcome.ok:
            self.banner.show_outcome(recorded.outcome)
        self.ctx.events.refocus.emit()

    def unfreeze(self) -> None:
        if self.card is None:
            return
        frozen = [e for e in self.card.entitlements if e.frozen_until is not None]
        member = self._member()
        for ent in frozen:
            recorded = self.ctx.act(
                "unfreeze",
                members=(member.id,),
                entitlement_id=ent.id,
                on=self.ctx.today().isoformat(),
            )
            if not recorded.outcome.ok:
                self.banner.show_outcome(recorded.outcome)
        self.ctx.events.refocus.emit()
