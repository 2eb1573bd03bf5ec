"""The short fault campaign of `make test`: fixed seeds on SQLite, and one on PostgreSQL.

The long one is `make faults RUNS=N` (python -m tests.faults).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.faults import checker
from tests.faults.campaign import Environments, replay
from tests.faults.schedule import CLOUD_FAULTS, FAULTS, fault_kinds, generate

#: Chosen so that together they inject every kind of fault (see the test below).
SQLITE_SEEDS = (206, 248, 114, 101, 103)
POSTGRES_SEEDS = (200,)
TIMING_CHECKS = frozenset({"drain_5s"})


def _run(envs: Environments, seed: int, backend: str, tmp_path: Path) -> None:
    schedule = generate(seed, backend=backend)
    result = replay(envs, schedule, tmp_path)
    # The 5-second drain bar is a speed figure: on a shared CI machine it is reported
    # here and enforced by the long campaign (`make faults`), never flaky in `make test`.
    correctness = set(result.report.failed) - TIMING_CHECKS
    assert not correctness, (
        f"seed {seed} on {backend} failed:\n{result.report.summary()}\n"
        f"replay it with: python -m tests.faults --replay FILE, FILE holding:\n"
        f"{json.dumps(schedule)}"
    )
    if not result.ok:
        print(f"seed {seed} on {backend}, timing only: {result.report.summary()}")
    assert result.commands >= 40, "the run recorded too few commands to mean anything"
    assert set(result.report.passed) | TIMING_CHECKS >= set(checker.ALL_CHECKS)


@pytest.mark.parametrize("seed", SQLITE_SEEDS)
def test_sqlite_run(envs: Environments, seed: int, tmp_path: Path) -> None:
    _run(envs, seed, "sqlite", tmp_path)


@pytest.mark.postgres
@pytest.mark.parametrize("seed", POSTGRES_SEEDS)
def test_postgres_run(pg_envs: Environments, seed: int, tmp_path: Path) -> None:
    _run(pg_envs, seed, "postgres", tmp_path)


def test_the_short_campaign_injects_every_kind_of_fault() -> None:
    schedules = [generate(s) for s in SQLITE_SEEDS] + [
        generate(s, backend="postgres") for s in POSTGRES_SEEDS]
    seen = {kind for schedule in schedules for kind in fault_kinds(schedule)}
    cloud_runs = sum(1 for s in schedules if CLOUD_FAULTS & set(fault_kinds(s)))
    assert cloud_runs >= 2, "the cloud should be killed or restarted in some runs"
    assert set(FAULTS) | {"clock_skew"} <= seen, sorted(set(FAULTS) - seen)


def test_schedules_are_reproducible() -> None:
    assert generate(7) == generate(7)
    assert generate(7) != generate(8)


def _files_of_a_run(envs: Environments, tmp_path: Path) -> tuple[Path, list[Path]]:
    schedule = generate(301, backend="sqlite", commands=40)
    # Every PC clock jumps two hours ahead after sign-in: until a desk next reaches the
    # cloud and measures its offset again, its commands are judged late and warned about.
    jumps = [{"op": "clock", "desk": d, "skew_s": 7200.0} for d in range(len(schedule["desks"]))]
    schedule["steps"] = jumps + [s for s in schedule["steps"] if s["op"] in ("cmd", "sync")]
    result = replay(envs, schedule, tmp_path)
    # Its files are what this is for; a slow drain on a busy machine does not spoil them.
    assert not set(result.report.failed) - TIMING_CHECKS, result.report.summary()
    env = envs.get("sqlite")
    assert env.source.sqlite_path is not None
    copy = tmp_path / "copy"
    copy.mkdir()
    cloud_db = copy / "cloud.db"
    with sqlite3.connect(env.source.sqlite_path) as src, sqlite3.connect(cloud_db) as dst:
        src.backup(dst)
    desks = []
    for desk in sorted((tmp_path / "run").glob("desk*/replica.db")):
        target = copy / f"{desk.parent.name}.db"
        with sqlite3.connect(desk) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        desks.append(target)
    shutil.rmtree(tmp_path / "run")
    return cloud_db, desks


def _check(cloud_db: Path, desks: list[Path], drain: float = 0.1) -> checker.Report:
    cloud = checker.read_cloud(checker.CloudSource(cloud_db), "demo")
    data = [checker.read_desk(p.stem, p) for p in desks]
    return checker.check(cloud, data, {d.name: drain for d in data})


def test_the_checker_sees_each_kind_of_damage(envs: Environments, tmp_path: Path) -> None:
    """The checker passes a sound run and fails each thing it is there to catch."""
    cloud_db, desks = _files_of_a_run(envs, tmp_path)
    assert _check(cloud_db, desks).ok
    assert set(_check(cloud_db, desks, drain=6.0).failed) == {"drain_5s"}

    def damaged(sql_on_cloud: str = "", sql_on_desk: str = "", every_desk: bool = False
                ) -> set[str]:
        """The checks that fail once `sql_on_desk` ran on desk 0 (or every desk)."""
        cloud_copy = tmp_path / "c.db"
        shutil.copy(cloud_db, cloud_copy)
        copies = []
        for desk in desks:
            copies.append(tmp_path / f"{desk.stem}-copy.db")
            shutil.copy(desk, copies[-1])
        damage = [(cloud_copy, sql_on_cloud)]
        damage += [(c, sql_on_desk) for c in (copies if every_desk else copies[:1])]
        changed = 0
        for path, sql in damage:
            if sql:
                with sqlite3.connect(path) as conn:
                    changed += conn.execute(sql).rowcount
        assert changed > 0, (sql_on_cloud, sql_on_desk)
        return set(_check(cloud_copy, copies).failed)

    last = "(SELECT MAX(seq) FROM outbox)"
    assert "outbox_gapless" in damaged(sql_on_desk=f"DELETE FROM outbox WHERE seq = {last} - 1")
    assert "exactly_once" in damaged(
        sql_on_cloud="DELETE FROM applied_commands WHERE rowid = (SELECT MAX(rowid) FROM "
                     "applied_commands)")
    assert "exactly_once" in damaged(
        sql_on_desk=f"UPDATE outbox SET args = '{{}}' WHERE seq = {last}")
    assert "outbox_settled" in damaged(
        sql_on_desk=f"UPDATE outbox SET state = 'pending' WHERE seq = {last}")
    assert "replica_converged" in damaged(
        sql_on_desk="DELETE FROM rows WHERE rowid = (SELECT MAX(rowid) FROM rows "
                    "WHERE kind = 'booking')")
    assert "ledger_balances" in damaged(
        sql_on_cloud="UPDATE entities SET data = json_set(data, '$.delta', "
                     "json_extract(data, '$.delta') + 1) WHERE rowid = (SELECT MAX(rowid) "
                     "FROM entities WHERE kind = 'ledger' AND json_extract(data, "
                     "'$.booking_id') IS NULL)")
    assert "no_double_spend" in damaged(
        sql_on_cloud="UPDATE entities SET data = json_set(data, '$.charged', 7) "
                     "WHERE rowid = (SELECT MAX(rowid) FROM entities WHERE kind = 'booking')")
    assert "capacity" in damaged(
        sql_on_cloud="UPDATE entities SET data = json_set(data, '$.capacity', 0) "
                     "WHERE kind = 'session' AND id IN (SELECT json_extract(data, "
                     "'$.session_id') FROM entities WHERE kind = 'booking' AND "
                     "json_extract(data, '$.status') = 'booked')")
    assert _warned(cloud_db), "desks whose clocks are two hours off get warnings"
    assert "attention" in damaged(sql_on_desk="DELETE FROM attention", every_desk=True)


def _warned(cloud_db: Path) -> bool:
    with sqlite3.connect(cloud_db) as conn:
        return bool(conn.execute(
            "SELECT COUNT(*) FROM applied_commands WHERE json_extract(outcome, '$.status') "
            "IN ('rejected', 'applied_with_warning')").fetchone()[0])
