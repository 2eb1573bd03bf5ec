"""Small shared pieces: outcome texts, the result banner, buttons, time and money."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain import Outcome, Status
from frontdesk.domain.clock import to_local
from frontdesk.domain.model import AlertCode

from .i18n import tr, tr_code, tr_fix

#: Refusals a manager may override on a check-in (with a reason, audited).
OVERRIDABLE = frozenset(
    {
        "class_full",
        "outside_checkin_window",
        "daily_limit_reached",
        "no_credits_left",
        "class_type_not_covered",
        "frozen",
        *(code.value for code in AlertCode),
    }
)


def outcome_title(outcome: Outcome, **fields: object) -> str:
    return tr_code(outcome.code, outcome.message, **fields)


def outcome_lines(outcome: Outcome) -> list[str]:
    """The fix and every warning of an outcome, translated by code."""
    lines = []
    fix = tr_fix(outcome.code, outcome.fix)
    if fix:
        lines.append(tr("What to do: {fix}", fix=fix))
    for warning in outcome.warnings:
        lines.append(tr_code(warning.code, warning.message))
        fix = tr_fix(warning.code, warning.fix)
        if fix:
            lines.append(tr("What to do: {fix}", fix=fix))
    return lines


def tone_of(outcome: Outcome) -> str:
    if outcome.status is Status.REJECTED:
        return "bad"
    if outcome.status is Status.APPLIED_WITH_WARNING or outcome.code not in ("ok", ""):
        return "warn"
    return "ok"


def button(
    text: str,
    slot: Callable[[], object] | None = None,
    *,
    primary: bool = False,
    danger: bool = False,
    name: str = "",
) -> QPushButton:
    widget = QPushButton(text)
    widget.setAutoDefault(False)
    if primary:
        widget.setProperty("primary", True)
    if danger:
        widget.setProperty("danger", True)
    if name:
        widget.setObjectName(name)
    if slot is not None:
        widget.clicked.connect(lambda _checked=False: slot())
    return widget


def title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("SectionTitle")
    return label


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


class Banner(QWidget):
    """The answer to the last action: a title, details, and buttons to act on it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.heading = QLabel()
        self.heading.setObjectName("BannerTitle")
        self.heading.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.action_row = QHBoxLayout()
        self.action_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.heading)
        layout.addWidget(self.detail)
        layout.addLayout(self.action_row)
        self.buttons: list[QPushButton] = []
        self.hide()

    def show_message(
        self,
        tone: str,
        heading: str,
        lines: list[str] | None = None,
        actions: list[QPushButton] | None = None,
    ) -> None:
        self.setProperty("tone", tone)
        repolish(self)
        self.heading.setText(heading)
        self.detail.setText("\n".join(lines or []))
        self.detail.setVisible(bool(lines))
        for old in self.buttons:
            old.setParent(None)
            old.deleteLater()
        self.buttons = list(actions or [])
        for widget in self.buttons:
            self.action_row.insertWidget(self.action_row.count() - 1, widget)
        self.show()

    def show_outcome(
        self,
        outcome: Outcome,
        heading: str | None = None,
        actions: list[QPushButton] | None = None,
    ) -> None:
        self.show_message(
            tone_of(outcome), heading or outcome_title(outcome), outcome_lines(outcome), actions
        )


def local_time(moment: datetime | None, tz: str, with_date: bool = False) -> str:
    if moment is None:
        return "—"
    local = to_local(moment, tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def day_text(day: date | None) -> str:
    if day is None:
        return tr("no end")
    return day.isoformat()


def money(cents: int, currency: str = "CNY") -> str:
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    return f"{symbol}{cents / 100:,.2f}"
