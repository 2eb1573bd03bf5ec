"""The desk command line on a replica: JSON shapes, exit codes, plans by name, pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.cli import main
from frontdesk.domain.model import EntitlementKind, Plan, Role
from tests.replica_fixture import load_replica
from tests.studio import Studio, new_id


@pytest.fixture
def desk_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    studio = Studio()
    # The studio lives on 3 December 2026 at 09:00 in Shanghai: set the desk's clock there.
    skew = (studio.now - datetime.now(UTC)).total_seconds()
    monkeypatch.setenv("FRONTDESK_CLOCK_SKEW_S", str(skew))
    studio.session(start=studio.now + timedelta(minutes=20))
    studio.state.apply([Plan(new_id(), "Drop-in 单次", EntitlementKind.DROP_IN, 15000, 1, 1)])
    load_replica(tmp_path / "replica.db", studio, Role.FRONT_DESK).close()
    return tmp_path


def run(desk_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main([*args, "--json", "--data-dir", str(desk_dir)])
    return code, json.loads(capsys.readouterr().out)


def test_plans_are_listed_and_found_by_name(
    desk_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, plans = run(desk_dir, capsys, "plans")
    assert code == 0 and "Drop-in 单次" in [p["name"] for p in plans]  # type: ignore[union-attr]
    code, sessions = run(desk_dir, capsys, "sessions")
    session_id = sessions[0]["id"]  # type: ignore[index]
    code, done = run(
        desk_dir, capsys, "walk-in", session_id, "--name", "Guest", "--plan", "drop-in"
    )
    assert code == 0 and done["status"] == "applied", done  # type: ignore[index]
    code, error = run(
        desk_dir, capsys, "walk-in", session_id, "--name", "Guest", "--plan", "no such plan"
    )
    assert code == 2 and "Drop-in 单次" in error["error"]  # type: ignore[index]


def test_unknown_ids_are_bad_input_not_a_studio_rule(
    desk_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body = run(desk_dir, capsys, "cancel", "no-such-booking")
    assert code == 2 and body["code"] == "unknown_booking"  # type: ignore[index]


def test_a_closed_pipe_is_not_a_crash(desk_dir: Path) -> None:
    done = subprocess.run(
        f"{sys.executable} -m frontdesk.cli plans --data-dir {desk_dir} | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
