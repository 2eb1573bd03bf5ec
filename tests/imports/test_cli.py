"""`frontdesk import` and `frontdesk export` as a person or a script runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from frontdesk.cli import main
from frontdesk.domain.model import Role
from frontdesk.local_db import Replica
from tests.imports.conftest import MEMBERS, SCHEDULES, ImportStudio, outbox
from tests.replica_fixture import load_replica


@pytest.fixture
def desk_dir(tmp_path: Path, studio: ImportStudio, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[Path]:
    """A manager's desk whose clock reads the studio's day."""
    monkeypatch.setenv("FRONTDESK_CLOCK_SKEW_S",
                       str((studio.now - datetime.now(UTC)).total_seconds()))
    folder = tmp_path / "desk"
    folder.mkdir()
    load_replica(folder / "replica.db", studio, role=Role.MANAGER).close()
    yield folder


def cli(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, Any]:
    code = main(["--data-dir", str(folder), *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def queued(folder: Path) -> list[tuple[int, str]]:
    replica = Replica(folder / "replica.db")
    try:
        return outbox(replica)
    finally:
        replica.close()


def test_dry_run_json(desk_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = cli(capsys, desk_dir, "import", "members", str(MEMBERS / "duplicates.csv"),
                    "--dry-run")
    assert code == 0
    assert list(doc) == ["created", "changed", "refused", "mapping", "rows", "notes"]
    assert (doc["created"], doc["refused"]) == (3, 3)
    assert {r["code"] for r in doc["rows"]} == {None, "duplicate_in_file"}
    assert queued(desk_dir) == []


def test_applying_needs_yes(desk_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = cli(capsys, desk_dir, "import", "members", str(MEMBERS / "utf8.csv"))
    assert code == 2
    assert "--yes" in doc["error"]
    assert queued(desk_dir) == []
    code, doc = cli(capsys, desk_dir, "import", "members", str(MEMBERS / "utf8.csv"), "--yes")
    assert (code, doc["created"]) == (0, 5)
    assert queued(desk_dir) == [(1, "import_members")]


def test_refused_rows_still_exit_zero(desk_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = cli(capsys, desk_dir, "import", "members", str(MEMBERS / "bad_dates.csv"),
                    "--yes")
    assert (code, doc["created"], doc["refused"]) == (0, 0, 5)


@pytest.mark.parametrize(
    "args",
    [
        ["members", str(MEMBERS / "unreadable.csv")],
        ["members", "no-such-file.csv"],
        ["members", str(MEMBERS / "custom_headers.csv"), "--mapping",
         str(MEMBERS / "utf8.csv")],
        ["schedule", str(SCHEDULES / "broken.ics")],
        ["schedule", str(SCHEDULES / "weekly_exdate_rdate.ics"), "--location", "nowhere"],
    ],
)
def test_a_file_that_cannot_be_read_exits_2(desk_dir: Path, capsys: pytest.CaptureFixture[str],
                                           args: list[str]) -> None:
    code, doc = cli(capsys, desk_dir, "import", *args, "--dry-run")
    assert code == 2
    assert doc["error"]


def test_front_desk_staff_are_refused_with_1(tmp_path: Path, studio: ImportStudio,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    load_replica(tmp_path / "replica.db", studio).close()
    code, doc = cli(capsys, tmp_path, "import", "members", str(MEMBERS / "utf8.csv"), "--yes")
    assert (code, doc["code"]) == (1, "not_allowed")


def test_not_signed_in_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = cli(capsys, tmp_path, "import", "schedule", str(SCHEDULES / "all_day.ics"),
                  "--dry-run")
    assert code == 4


def test_schedule_json_rows_carry_start(desk_dir: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    code, doc = cli(capsys, desk_dir, "import", "schedule",
                    str(SCHEDULES / "until_utc.ics"), "--yes")
    assert (code, doc["created"], doc["mapping"]) == (0, 5, {})
    assert [r["start"] for r in doc["rows"]][-1] == "2026-12-11T07:00:00+08:00"
    code, sessions = cli(capsys, desk_dir, "sessions", "--date", "2026-12-11")
    assert [s["class_name"] for s in sessions] == ["Sunrise Yoga"]


def test_text_report_for_a_person(desk_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(desk_dir), "import", "members",
                 str(MEMBERS / "scientific.csv"), "--dry-run"])
    text = capsys.readouterr().out
    assert code == 0
    assert text.startswith("Dry run: nothing was imported.\n1 would be created, 2 would be")
    assert "Phone -> phone" in text
    assert "spreadsheet_number: The phone number '1.38E+10'" in text


def test_export_writes_documented_files(desk_dir: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, desk_dir, "import", "members", str(MEMBERS / "utf8_bom.csv"), "--yes")
    code, doc = cli(capsys, desk_dir, "export", str(tmp_path / "out"))
    assert code == 0
    assert [f["name"] for f in doc["files"]] == [
        "members.csv", "entitlements.csv", "attendance.csv", "bookings.csv", "sales.csv",
        "README.txt"]
    assert (tmp_path / "out" / "members.csv").read_bytes().startswith(b"\xef\xbb\xbfmember_id,")
