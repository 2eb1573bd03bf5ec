"""The desk's own settings (typed, versioned, upgraded when read), in settings.json."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

VERSION = 2


@dataclass(frozen=True)
class DeskSettings:
    version: int = VERSION
    language: str = "system"  # "system", "en" or "zh_CN"
    idle_lock_seconds: int = 300  # 0: never lock by itself
    pin_max_failures: int = 5
    pin_lockout_seconds: int = 60

    def with_changes(self, **changes: Any) -> DeskSettings:
        return replace(self, **changes)


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Old files keep working: version 1 stored the idle lock in minutes."""
    version = int(data.get("version", 1))
    if version < 2 and "idle_lock_minutes" in data:
        data["idle_lock_seconds"] = int(data.pop("idle_lock_minutes")) * 60
    data["version"] = VERSION
    return data


def load(path: Path) -> DeskSettings:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return DeskSettings()
    if not isinstance(data, dict):
        return DeskSettings()
    data = _upgrade(data)
    known = {f.name for f in fields(DeskSettings)}
    return DeskSettings(**{k: v for k, v in data.items() if k in known})


def save(path: Path, settings: DeskSettings) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=1), encoding="utf-8")
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)
