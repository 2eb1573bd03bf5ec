"""Reports for a day or a range: attendance, absences, refused scans, sales, overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from frontdesk.local_db.reports import (
    AbsenceLine,
    AttendanceLine,
    OverrideLine,
    RefusedScanLine,
    Report,
    SalesLine,
    build_report,
    export_csv,
)

from ..context import DeskContext
from ..i18n import tr, tr_status
from ..models.table import Column, RowsModel
from ..widgets import Banner, button, money


def _view(model: QAbstractItemModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class ReportsScreen(QWidget):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: Report | None = None
        today = ctx.today()
        self.first = QDateEdit(QDate(today.year, today.month, today.day))
        self.last = QDateEdit(QDate(today.year, today.month, today.day))
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("From")))
        bar.addWidget(self.first)
        bar.addWidget(QLabel(tr("to")))
        bar.addWidget(self.last)
        bar.addWidget(button(tr("Today"), self.today))
        bar.addWidget(button(tr("Show"), self.show_report, primary=True, name="ShowReport"))
        bar.addWidget(button(tr("Export CSV…"), self.choose_folder, name="ExportCsv"))
        bar.addStretch(1)
        self.summary = QLabel()
        self.summary.setObjectName("ReportSummary")
        self.summary.setWordWrap(True)
        self.banner = Banner()
        currency = ctx.catalogue.policy().currency
        self.attendance: RowsModel[AttendanceLine] = RowsModel(
            [
                Column(lambda: tr("Start"), lambda a: a.start_local.strftime("%m-%d %H:%M")),
                Column(
                    lambda: tr("Class"),
                    lambda a: a.class_name + (tr(" (cancelled)") if a.cancelled else ""),
                ),
                Column(lambda: tr("Coach"), lambda a: a.coach),
                Column(lambda: tr("Capacity"), lambda a: str(a.capacity), True),
                Column(lambda: tr("Booked"), lambda a: str(a.booked), True),
                Column(lambda: tr("Checked in"), lambda a: str(a.checked_in), True),
                Column(lambda: tr("No-shows"), lambda a: str(a.no_shows), True),
                Column(lambda: tr("Late cancels"), lambda a: str(a.late_cancels), True),
                Column(lambda: tr("Walk-ins"), lambda a: str(a.walk_ins), True),
            ]
        )
        self.absences: RowsModel[AbsenceLine] = RowsModel(
            [
                Column(lambda: tr("Start"), lambda a: a.start_local.strftime("%m-%d %H:%M")),
                Column(lambda: tr("Class"), lambda a: a.class_name),
                Column(lambda: tr("Member"), lambda a: a.member_name),
                Column(lambda: tr("Status"), lambda a: tr_status(a.status.value)),
                Column(
                    lambda: tr("Penalty waived"), lambda a: tr("yes") if a.penalty_waived else ""
                ),
            ]
        )
        self.refused: RowsModel[RefusedScanLine] = RowsModel(
            [
                Column(lambda: tr("When"), lambda r: r.at_local.strftime("%m-%d %H:%M")),
                Column(lambda: tr("Code scanned"), lambda r: r.code),
                Column(lambda: tr("Member"), lambda r: r.member_name),
                Column(lambda: tr("Reason"), lambda r: tr_status(r.reason)),
                Column(lambda: tr("Staff"), lambda r: r.staff_name),
            ]
        )
        self.sales: RowsModel[SalesLine] = RowsModel(
            [
                Column(lambda: tr("Payment method"), lambda s: tr_status(s.method)),
                Column(lambda: tr("Sales"), lambda s: str(s.count), True),
                Column(lambda: tr("Amount"), lambda s: money(s.amount_cents, currency), True),
            ]
        )
        self.overrides: RowsModel[OverrideLine] = RowsModel(
            [
                Column(lambda: tr("When"), lambda o: o.at_local.strftime("%m-%d %H:%M")),
                Column(lambda: tr("Staff"), lambda o: o.staff_name),
                Column(lambda: tr("Action"), lambda o: tr_status(o.action)),
                Column(lambda: tr("Reason"), lambda o: o.reason),
            ]
        )
        self.tabs = QTabWidget()
        self.tabs.setObjectName("ReportTabs")
        for model, label in (
            (self.attendance, tr("Attendance")),
            (self.absences, tr("No-shows and late cancels")),
            (self.refused, tr("Refused scans")),
            (self.sales, tr("Sales by payment method")),
            (self.overrides, tr("Overrides")),
        ):
            self.tabs.addTab(_view(model), label)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.currency = currency

    def today(self) -> None:
        today = self.ctx.today()
        for edit in (self.first, self.last):
            edit.setDate(QDate(today.year, today.month, today.day))
        self.show_report()

    def range(self) -> tuple[date, date]:
        return self.first.date().toPython(), self.last.date().toPython()  # type: ignore[return-value]

    def show_report(self) -> None:
        first, last = self.range()
        self.ctx.tasks.spawn(self._load(first, last))

    async def _load(self, first: date, last: date) -> None:
        """Weeks of data are read off the UI thread."""
        self.summary.setText(tr("Working…"))
        report = await self.ctx.bridge.run_blocking(build_report, self.ctx.replica, first, last)
        self.set_report(report)

    def set_report(self, report: Report) -> None:
        self.report = report
        self.attendance.set_rows(report.attendance)
        self.absences.set_rows(report.absences)
        self.refused.set_rows(report.refused_scans)
        self.sales.set_rows(report.sales)
        self.overrides.set_rows(report.overrides)
        self.summary.setText(
            tr(
                "{first} to {last}: {classes} classes, {inside} check-ins, {absent} no-shows and "
                "late cancels, {refused} refused scans, {sales} taken, {overrides} overrides "
                "at this desk.",
                first=report.first.isoformat(),
                last=report.last.isoformat(),
                classes=len(report.attendance),
                inside=report.total_checked_in,
                absent=len(report.absences),
                refused=len(report.refused_scans),
                sales=money(report.total_sales_cents, self.currency),
                overrides=len(report.overrides),
            )
        )

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, tr("Export the report to a folder"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda folder: self.export(Path(folder)))
        dialog.open()

    def export(self, folder: Path) -> list[Path]:
        if self.report is None:
            first, last = self.range()
            self.set_report(build_report(self.ctx.replica, first, last))
        assert self.report is not None
        try:
            written = export_csv(self.report, folder)
        except OSError as exc:
            self.banner.show_message(
                "bad", tr("Could not write the files: {error}", error=exc.strerror or str(exc))
            )
            return []
        self.banner.show_message(
            "ok",
            tr("Exported {count} CSV files to {folder}", count=len(written), folder=str(folder)),
        )
        return written
