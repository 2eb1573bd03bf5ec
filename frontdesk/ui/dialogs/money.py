"""Selling: a pass or drop-in for a member, and marking an unpaid sale paid."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QWidget

from frontdesk.domain.model import Member, PaymentMethod, Plan, Sale

from ..context import DeskContext
from ..i18n import tr, tr_status
from ..widgets import money
from .base import FormDialog

METHODS = [m for m in PaymentMethod if m is not PaymentMethod.STORED_VALUE]


def method_box() -> QComboBox:
    box = QComboBox()
    for method in METHODS:
        box.addItem(tr_status(method.value), method.value)
    return box


def plan_text(plan: Plan, currency: str) -> str:
    kind = tr_status(plan.kind.value)
    return f"{plan.name} — {kind} — {money(plan.price_cents, currency)}"


class PaymentFields:
    """Plan, price, payment method and paid, shared by the sale and walk-in dialogs."""

    def __init__(self, dialog: FormDialog, plans: list[Plan], *, allow_none: str = "") -> None:
        self.currency = dialog.ctx.catalogue.policy().currency
        self.plans = plans
        self.plan = QComboBox()
        self.plan.setObjectName("PlanBox")
        if allow_none:
            self.plan.addItem(allow_none, None)
        for plan in plans:
            self.plan.addItem(plan_text(plan, self.currency), plan.id)
        self.price = QDoubleSpinBox()
        self.price.setRange(0, 1_000_000)
        self.price.setDecimals(2)
        self.method = method_box()
        self.paid = QCheckBox(tr("Paid now"))
        self.paid.setChecked(True)
        dialog.form.addRow(tr("Pass or drop-in"), self.plan)
        dialog.form.addRow(tr("Price"), self.price)
        dialog.form.addRow(tr("Payment method"), self.method)
        dialog.form.addRow("", self.paid)
        self.plan.currentIndexChanged.connect(self._plan_changed)
        self._plan_changed()

    def chosen(self) -> Plan | None:
        plan_id = self.plan.currentData()
        return next((p for p in self.plans if p.id == plan_id), None)

    def _plan_changed(self) -> None:
        plan = self.chosen()
        for widget in (self.price, self.method, self.paid):
            widget.setEnabled(plan is not None)
        if plan is not None:
            self.price.setValue(plan.price_cents / 100)

    def args(self) -> dict[str, Any]:
        plan = self.chosen()
        if plan is None:
            return {}
        args: dict[str, Any] = {
            "plan_id": plan.id,
            "method": self.method.currentData(),
            "paid": self.paid.isChecked(),
        }
        cents = round(self.price.value() * 100)
        if cents != plan.price_cents:
            args["price_cents"] = cents
        return args


class SellDialog(FormDialog):
    def __init__(self, ctx: DeskContext, member: Member, parent: QWidget | None = None) -> None:
        super().__init__(ctx, tr("Sell a pass to {name}", name=member.name), parent)
        self.member = member
        self.payment = PaymentFields(self, ctx.catalogue.plans())

    def submit(self) -> bool:
        args = self.payment.args()
        if not args:
            return self.complain(tr("Choose what to sell."))
        recorded = self.ctx.act("sell", members=(self.member.id,), member_id=self.member.id, **args)
        return True if recorded.outcome.ok else self.refuse(recorded.outcome)


class MarkPaidDialog(FormDialog):
    def __init__(
        self, ctx: DeskContext, member: Member, unpaid: list[Sale], parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, tr("Mark paid for {name}", name=member.name), parent)
        self.member = member
        currency = ctx.catalogue.policy().currency
        self.sale = QComboBox()
        for sale in unpaid:
            self.sale.addItem(f"{sale.description} — {money(sale.amount_cents, currency)}", sale.id)
        self.method = method_box()
        self.form.addRow(tr("Unpaid"), self.sale)
        self.form.addRow(tr("Payment method"), self.method)

    def submit(self) -> bool:
        if self.sale.currentData() is None:
            return self.complain(tr("Nothing is unpaid."))
        recorded = self.ctx.act(
            "mark_paid",
            members=(self.member.id,),
            sale_id=self.sale.currentData(),
            method=self.method.currentData(),
        )
        return True if recorded.outcome.ok else self.refuse(recorded.outcome)
