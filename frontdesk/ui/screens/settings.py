"""Settings: the language for everyone; idle lock and PIN limits for managers."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from ..context import DeskContext
from ..i18n import tr
from ..widgets import Banner, button, title


class SettingsScreen(QWidget):
    language_changed = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.language = QComboBox()
        self.language.setObjectName("LanguageBox")
        for label, value in (
            (tr("Follow the system"), "system"),
            ("English", "en"),
            ("中文", "zh_CN"),
        ):
            self.language.addItem(label, value)
        self.language.setCurrentIndex(max(self.language.findData(ctx.settings.language), 0))
        self.idle = QSpinBox()
        self.idle.setObjectName("IdleMinutes")
        self.idle.setRange(0, 240)
        self.idle.setSuffix(tr(" min"))
        self.idle.setValue(ctx.settings.idle_lock_seconds // 60)
        self.failures = QSpinBox()
        self.failures.setRange(3, 10)
        self.failures.setValue(ctx.settings.pin_max_failures)
        self.lockout = QSpinBox()
        self.lockout.setRange(30, 3600)
        self.lockout.setSuffix(tr(" s"))
        self.lockout.setValue(ctx.settings.pin_lockout_seconds)
        form = QFormLayout()
        form.addRow(tr("Language"), self.language)
        manager_note = QLabel(tr("Only a manager or owner can change these:"))
        form.addRow(manager_note)
        form.addRow(tr("Lock the desk when idle for (0: never)"), self.idle)
        form.addRow(tr("Wrong PINs before a lock-out"), self.failures)
        form.addRow(tr("Lock-out after wrong PINs"), self.lockout)
        for widget in (self.idle, self.failures, self.lockout):
            widget.setEnabled(ctx.is_manager)
        self.banner = Banner()
        location = ctx.catalogue.location()
        place = QLabel(
            tr(
                "This desk: {location} ({tz}); data in {folder}",
                location=location.name if location else "—",
                tz=ctx.timezone,
                folder=str(ctx.data_dir),
            )
        )
        place.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title(tr("Settings")))
        layout.addLayout(form)
        layout.addWidget(button(tr("Save"), self.save, primary=True, name="SaveSettings"))
        layout.addWidget(self.banner)
        layout.addWidget(place)
        layout.addStretch(1)

    def save(self) -> None:
        current = self.ctx.settings
        changes: dict[str, object] = {"language": self.language.currentData()}
        if self.ctx.is_manager:
            changes.update(
                idle_lock_seconds=self.idle.value() * 60,
                pin_max_failures=self.failures.value(),
                pin_lockout_seconds=self.lockout.value(),
            )
        new = current.with_changes(**changes)
        self.ctx.save_settings(new)
        self.banner.show_message("ok", tr("Saved"))
        if new.language != current.language:
            self.language_changed.emit(new.language)
