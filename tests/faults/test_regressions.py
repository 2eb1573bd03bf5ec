"""Every bug the campaign found: its shrunk schedule, replayed; the checker must pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.campaign import Environments, replay

SCHEDULES = sorted((Path(__file__).parent / "regressions").glob("*.json"))


@pytest.mark.parametrize("path", SCHEDULES, ids=[p.stem for p in SCHEDULES])
def test_regression(envs: Environments, path: Path, tmp_path: Path) -> None:
    schedule = json.loads(path.read_text())
    if schedule["backend"] == "postgres":
        try:
            envs.get("postgres")
        except RuntimeError as exc:
            pytest.skip(str(exc))
    result = replay(envs, schedule, tmp_path)
    assert result.ok, f"{path.name} ({schedule.get('bug', '')}):\n{result.report.summary()}"
