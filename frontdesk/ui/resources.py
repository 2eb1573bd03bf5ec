"""Where the desk's resources (translations, icons) are: the source tree, or a frozen bundle.

A PyInstaller build unpacks `resources/` beside its modules, under `sys._MEIPASS`
(installers/frontdesk.spec); from a checkout it is the repository's `resources/`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def icon_path() -> Path:
    return resources_dir() / "icons" / "frontdesk.png"
