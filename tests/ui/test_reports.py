"""Reports for the day and a range: attendance, absences, refused scans, sales, overrides."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from frontdesk.domain.model import Role
from frontdesk.ui.context import DeskContext
from frontdesk.ui.main_window import MainWindow

from .conftest import DeskWorld

Make = Callable[..., tuple[MainWindow, DeskContext]]


def test_day_report_and_csv_export(
    qtbot: QtBot, make_window: Make, world: DeskWorld, tmp_path: Path
) -> None:
    window, ctx = make_window(Role.MANAGER)
    assert window.desk is not None and window.desk.bar is not None
    bar = window.desk.bar
    now = world.sessions["now"]
    for key in ("zhang", "li"):
        bar.field.setText(world.members[key].card_code)
        bar.enter()
    bar.field.setText("LOST-CARD")
    bar.enter()  # refused: unknown card
    # A drop-in sold to a guest, paid by WeChat Pay.
    ctx.act(
        "sell",
        member_id=world.members["guest"].id,
        plan_id=world.studio.drop_in.id,
        method="wechat_pay",
    )
    # A late cancel, waived by the manager with a reason (an override).
    anna = next(
        line for line in ctx.desk.views.roster(now.id) if line.member_name == "Anna Schmidt"
    )
    ctx.act("cancel_booking", booking_id=anna.booking.id, waive_penalty=True, reason="Sick note")
    low = next(line for line in ctx.desk.views.roster(now.id) if line.member_name == "刘洋")
    ctx.act("cancel_booking", booking_id=low.booking.id)  # late, not waived
    reports = window.desk.reports
    assert reports is not None
    window.desk.tabs.setCurrentWidget(reports)
    reports.show_report()
    qtbot.waitUntil(lambda: reports.report is not None, timeout=5000)
    report = reports.report
    assert report is not None and report.first == report.last == date(2026, 12, 3)
    line = next(a for a in report.attendance if a.session_id == now.id)
    assert (line.checked_in, line.late_cancels, line.capacity) == (2, 2, 12)
    early = next(a for a in report.attendance if a.session_id == world.sessions["early"].id)
    assert early.checked_in == 1  # pulled from the cloud: another desk's work counts too
    assert [
        (a.member_name, a.status.value, a.penalty_waived)
        for a in report.absences
        if a.class_name.startswith("Vinyasa")
    ] == [("Anna Schmidt", "late_cancelled", True), ("刘洋", "late_cancelled", False)]
    assert [(r.code, r.reason) for r in report.refused_scans] == [("LOST-CARD", "unknown_member")]
    assert [(s.method, s.count, s.amount_cents) for s in report.sales] == [("wechat_pay", 1, 10000)]
    assert [(o.action, o.reason, o.staff_name) for o in report.overrides] == [
        ("cancel_booking", "Sick note", "Chen Jing 陈静")
    ]
    assert "3 check-ins" in reports.summary.text()  # two here, one earlier by another desk
    assert "¥100.00 taken" in reports.summary.text()
    written = reports.export(tmp_path / "export")
    assert sorted(p.name for p in written) == sorted(
        f"{name}_2026-12-03_2026-12-03.csv"
        for name in ("attendance", "absences", "refused_scans", "sales", "overrides")
    )
    with (tmp_path / "export" / "sales_2026-12-03_2026-12-03.csv").open(encoding="utf-8-sig") as f:
        assert list(csv.reader(f)) == [["method", "count", "amount"], ["wechat_pay", "1", "100.00"]]
    with (tmp_path / "export" / "absences_2026-12-03_2026-12-03.csv").open(
        encoding="utf-8-sig"
    ) as f:
        rows = list(csv.DictReader(f))
    assert {r["member"] for r in rows} == {"Anna Schmidt", "刘洋"}


def test_range_report_spans_days(qtbot: QtBot, make_window: Make, world: DeskWorld) -> None:
    window, _ctx = make_window(Role.MANAGER)
    assert window.desk is not None and window.desk.reports is not None
    reports = window.desk.reports
    from PySide6.QtCore import QDate

    tomorrow = world.clock.now.date() + timedelta(days=1)
    reports.last.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    reports.show_report()
    qtbot.waitUntil(lambda: reports.report is not None, timeout=5000)
    assert reports.report is not None
    ids = [a.session_id for a in reports.report.attendance]
    assert world.sessions["tomorrow"].id in ids and world.sessions["early"].id in ids
    assert reports.tabs.count() == 5
