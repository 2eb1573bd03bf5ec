"""The tenant's branding on the desk: name, colours and logo, plus a visible focus ring."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from PySide6.QtGui import QColor, QPixmap

from frontdesk.domain.model import Branding, Tenant

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT = Branding()


@dataclass(frozen=True)
class Theme:
    name: str
    primary: str
    accent: str
    logo: bytes

    @classmethod
    def of(cls, tenant: Tenant | None) -> Theme:
        branding = tenant.branding if tenant else DEFAULT
        name = (branding.display_name or (tenant.name if tenant else "")).strip() or "FrontDesk"
        logo = b""
        if branding.logo_png_base64:
            try:
                logo = base64.b64decode(branding.logo_png_base64, validate=True)
            except (binascii.Error, ValueError):
                logo = b""
        return cls(
            name=name,
            primary=_colour(branding.primary_color, DEFAULT.primary_color),
            accent=_colour(branding.accent_color, DEFAULT.accent_color),
            logo=logo,
        )

    def logo_pixmap(self, height: int) -> QPixmap | None:
        if not self.logo:
            return None
        pixmap = QPixmap()
        if not pixmap.loadFromData(self.logo):
            return None
        return pixmap.scaledToHeight(height)

    def on_primary(self) -> str:
        """Black or white, whichever reads better on the primary colour."""
        return _readable_on(self.primary)

    def stylesheet(self) -> str:
        p, a, fg = self.primary, self.accent, self.on_primary()
        light = QColor(p).lighter(185).name()
        return f"""
QWidget {{ font-size: 10pt; }}
#Header {{ background: {p}; }}
#Header QLabel {{ color: {fg}; }}
#Header QToolButton, #Header QPushButton {{ color: {fg}; background: transparent;
    border: 1px solid {fg}; border-radius: 4px; padding: 3px 8px; }}
#Header QToolButton:checked {{ background: {a}; color: {_readable_on(a)}; }}
#TenantName {{ font-size: 13pt; font-weight: bold; }}
QPushButton {{ padding: 5px 12px; border-radius: 4px; border: 1px solid #9aa5a0;
    background: #f7f8f7; }}
QPushButton:hover {{ background: {light}; }}
QPushButton:disabled {{ color: #9a9a9a; background: #efefef; }}
QPushButton[primary="true"] {{ background: {p}; color: {fg}; border-color: {p};
    font-weight: bold; }}
QPushButton[danger="true"] {{ background: #b3261e; color: white; border-color: #b3261e; }}
QPushButton:focus, QToolButton:focus, QLineEdit:focus, QComboBox:focus,
QSpinBox:focus, QTableView:focus, QListView:focus, QTextEdit:focus,
QPlainTextEdit:focus, QDateEdit:focus, QCheckBox:focus {{ outline: none;
    border: 2px solid {a}; }}
QLineEdit, QComboBox, QSpinBox, QDateEdit, QPlainTextEdit {{ padding: 4px;
    border: 1px solid #9aa5a0; border-radius: 4px; background: white; }}
#ScanField {{ font-size: 15pt; padding: 8px; border: 2px solid {p}; }}
#ScanField:focus {{ border: 3px solid {a}; }}
QTableView {{ gridline-color: #e2e6e4; selection-background-color: {light};
    selection-color: black; alternate-background-color: #f6f8f7; }}
QHeaderView::section {{ background: #eef1ef; padding: 4px; border: none;
    border-bottom: 1px solid #c9d1cd; font-weight: bold; }}
QTabBar::tab {{ padding: 7px 16px; }}
QTabBar::tab:selected {{ border-bottom: 3px solid {p}; font-weight: bold; }}
QTabBar::tab:focus {{ background: {light}; }}
#Banner[tone="ok"] {{ background: #e3f4e8; border: 1px solid #2e7d4f; border-radius: 6px; }}
#Banner[tone="warn"] {{ background: #fff4db; border: 1px solid #b7791f; border-radius: 6px; }}
#Banner[tone="bad"] {{ background: #fde7e5; border: 1px solid #b3261e; border-radius: 6px; }}
#BannerTitle {{ font-size: 13pt; font-weight: bold; }}
#SyncDot[online="true"] {{ color: #c8f7d4; font-weight: bold; }}
#SyncDot[online="false"] {{ color: #ffd6d2; font-weight: bold; }}
#ClockWrong {{ background: #b3261e; color: white; padding: 2px 6px; border-radius: 4px; }}
#SectionTitle {{ font-size: 11pt; font-weight: bold; }}
#KioskPrompt {{ font-size: 22pt; font-weight: bold; }}
#KioskField {{ font-size: 20pt; padding: 12px; border: 3px solid {p}; }}
"""


def _colour(value: str, fallback: str) -> str:
    return value if _HEX.match(value or "") else fallback


def _readable_on(background: str) -> str:
    colour = QColor(background)
    luminance = 0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue()
    return "#000000" if luminance > 150 else "#ffffff"
