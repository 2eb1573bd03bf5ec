"""Draws the app icon and writes it as PNG, ICO (Windows) and ICNS (macOS) into resources/icons.

Run it again after changing the drawing:
`QT_QPA_PLATFORM=offscreen python installers/make_icons.py`.
Needs only PySide6: ICO and ICNS both hold PNG images, so they are assembled here by hand.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QImageWriter,
    QPainter,
    QPainterPath,
    QPen,
)

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
PRIMARY = QColor("#2F6F5E")  # the default branding's colours (frontdesk.domain.model.Branding)
ACCENT = QColor("#F2A541")

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS element types holding PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09",
              1024: b"ic10"}


def draw(size: int) -> QImage:
    """A rounded green tile with an amber check mark: checking people in."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    tile = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(PRIMARY)
    painter.drawRoundedRect(tile, size * 0.2, size * 0.2)
    tick = QPainterPath(QPointF(size * 0.28, size * 0.52))
    tick.lineTo(QPointF(size * 0.44, size * 0.68))
    tick.lineTo(QPointF(size * 0.74, size * 0.34))
    pen = QPen(ACCENT, max(2.0, size * 0.11))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(tick)
    painter.end()
    return image


def png(size: int) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    QImageWriter(buffer, QByteArray(b"PNG")).write(draw(size))
    return bytes(buffer.data().data())


def ico(images: dict[int, bytes]) -> bytes:
    """An ICO file whose entries are PNG images (Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, bodies = b"", b""
    for size, data in images.items():
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        bodies += data
        offset += len(data)
    return header + entries + bodies


def icns(images: dict[int, bytes]) -> bytes:
    """An ICNS file whose elements are PNG images (macOS 10.7 and later)."""
    body = b"".join(
        ICNS_TYPES[size] + struct.pack(">I", 8 + len(data)) + data for size, data in images.items()
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    ICONS.mkdir(parents=True, exist_ok=True)
    (ICONS / "frontdesk.png").write_bytes(png(256))
    (ICONS / "frontdesk.ico").write_bytes(ico({size: png(size) for size in ICO_SIZES}))
    (ICONS / "frontdesk.icns").write_bytes(icns({size: png(size) for size in ICNS_TYPES}))
    print(f"icons written to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
