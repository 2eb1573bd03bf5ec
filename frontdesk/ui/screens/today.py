"""Today: the location's sessions for a day with a "now" marker, and the chosen roster."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from PySide6.QtCore import QAbstractItemModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from frontdesk.domain import Outcome
from frontdesk.domain.clock import to_local
from frontdesk.domain.model import BookingStatus, Role, Session
from frontdesk.local_db import RosterLine, SessionLine
from frontdesk.protocol import schedule_partition

from ..context import Changed, DeskContext
from ..dialogs.cancel import CancelDialog
from ..dialogs.people import AddToClassDialog
from ..dialogs.reason import ReasonDialog
from ..i18n import tr
from ..models.desk import NowMarker, roster_model, sessions_model, with_now_marker
from ..widgets import OVERRIDABLE, Banner, button, outcome_title, title


def _table(model: QAbstractItemModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


class RosterPanel(QWidget):
    """Everyone in one session with their status, and the attendance actions."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session: Session | None = None
        self.heading = title(tr("Choose a class to see its roster"))
        self.heading.setObjectName("RosterTitle")
        self.model = roster_model()
        self.table = _table(self.model)
        self.table.setObjectName("RosterTable")
        self.table.doubleClicked.connect(lambda _i: self._open_member())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._enable())
        self.banner = Banner()
        b = self.buttons = {
            "check_in": button(tr("Check in"), self.check_in, primary=True),
            "undo": button(tr("Undo check-in"), self.undo),
            "all": button(tr("Check in all"), self.check_in_all),
            "no_show": button(tr("No-show"), self.no_show),
            "cancel": button(tr("Cancel…"), self.cancel),
            "promote": button(tr("Move from waitlist"), self.promote),
            "add": button(tr("Add someone…"), self.add),
        }
        row = QHBoxLayout()
        for widget in b.values():
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.banner)
        self._enable()

    # -- showing -------------------------------------------------------------------------
    def show_session(self, session: Session | None) -> None:
        self.session = session
        self.banner.hide()
        self.refresh()

    def refresh(self) -> None:
        session = self.session
        if session is not None:
            session = self.ctx.desk.views.session(session.id) or session
            self.session = session
        selected = self.current()
        lines = self.ctx.desk.views.roster(session.id) if session else []
        self.model.set_rows(lines)
        if session is None:
            self.heading.setText(tr("Choose a class to see its roster"))
        else:
            tz = self.ctx.timezone
            start, end = to_local(session.start, tz), to_local(session.end, tz)
            counts = {status: 0 for status in BookingStatus}
            for line in lines:
                counts[line.booking.status] += 1
            self.heading.setText(
                tr(
                    "{cls} {start}–{end} · {coach} · {inside} in / {booked} booked / "
                    "{capacity} places · {waiting} waiting",
                    cls=session.class_name,
                    start=start.strftime("%H:%M"),
                    end=end.strftime("%H:%M"),
                    coach=session.coach_name or "—",
                    inside=counts[BookingStatus.CHECKED_IN],
                    booked=counts[BookingStatus.CHECKED_IN] + counts[BookingStatus.BOOKED],
                    capacity=session.capacity,
                    waiting=counts[BookingStatus.WAITLISTED],
                )
            )
        if selected is not None:
            for i, line in enumerate(lines):
                if line.booking.id == selected.booking.id:
                    self.table.selectRow(i)
        self._enable()

    def current(self) -> RosterLine | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _enable(self) -> None:
        line = self.current()
        status = line.booking.status if line else None
        may = self.ctx.may
        staff_id = self.ctx.staff.id if self.ctx.staff else None
        own = self.session is not None and (
            self.ctx.role is not Role.COACH or self.session.coach_id == staff_id
        )
        b = self.buttons
        b["check_in"].setEnabled(
            own
            and status in (BookingStatus.BOOKED, BookingStatus.WAITLISTED, BookingStatus.NO_SHOW)
            and may("check_in")
        )
        b["undo"].setEnabled(own and status is BookingStatus.CHECKED_IN and may("undo_check_in"))
        b["no_show"].setEnabled(own and status is BookingStatus.BOOKED and may("mark_no_show"))
        b["cancel"].setEnabled(
            status in (BookingStatus.BOOKED, BookingStatus.WAITLISTED) and may("cancel_booking")
        )
        b["promote"].setEnabled(status is BookingStatus.WAITLISTED and may("promote_from_waitlist"))
        b["all"].setEnabled(own and self.session is not None and may("check_in"))
        b["add"].setEnabled(self.session is not None and may("book"))
        b["cancel"].setVisible(may("cancel_booking"))
        b["promote"].setVisible(may("promote_from_waitlist"))
        b["add"].setVisible(may("book"))

    def _open_member(self) -> None:
        line = self.current()
        if line is not None and self.ctx.role is not Role.COACH:
            self.ctx.events.show_member.emit(line.booking.member_id)

    # -- actions -------------------------------------------------------------------------
    def _act(self, name: str, line: RosterLine, **args: object) -> Outcome:
        assert self.session is not None
        recorded = self.ctx.act(
            name, sessions=(self.session.id,), members=(line.booking.member_id,), **args
        )
        return recorded.outcome

    def _report(
        self,
        outcome: Outcome,
        done: str,
        line: RosterLine,
        retry: Callable[[], None] | None = None,
    ) -> None:
        if outcome.ok and outcome.code in ("ok", ""):
            self.banner.show_message("ok", done)
        elif outcome.ok:
            self.banner.show_outcome(outcome)
        else:
            actions = []
            if retry is not None and outcome.code in OVERRIDABLE:
                widget = button(tr("Override (manager)…"), retry, name="OverrideButton")
                widget.setEnabled(self.ctx.is_manager)
                actions.append(widget)
            self.banner.show_outcome(
                outcome,
                f"✗ {line.member_name}: {outcome_title(outcome, name=line.member_name)}",
                actions,
            )
        self.ctx.events.refocus.emit()

    def _with_override(
        self, name: str, line: RosterLine, flag: str, done: str, **args: object
    ) -> None:
        """Run an action; if a rule refuses it, a manager may run it again with a reason."""
        outcome = self._act(name, line, **args)

        def override() -> None:
            def run(reason: str) -> Outcome:
                result = self._act(name, line, reason=reason, **{flag: True}, **args)
                self._report(result, done, line)
                return result

            ReasonDialog(
                self.ctx,
                tr("Override"),
                tr("Go ahead despite this rule. Your name and reason are recorded."),
                run,
                self.window(),
            ).open()

        self._report(outcome, done, line, override)

    def check_in(self) -> None:
        line = self.current()
        if line is None or self.session is None:
            return
        self._with_override(
            "check_in",
            line,
            "override",
            tr("{name} checked in", name=line.member_name),
            member_id=line.booking.member_id,
            session_id=self.session.id,
        )

    def undo(self) -> None:
        line = self.current()
        if line is not None:
            outcome = self._act("undo_check_in", line, booking_id=line.booking.id)
            self._report(outcome, tr("Check-in undone"), line)

    def no_show(self) -> None:
        line = self.current()
        if line is not None:
            outcome = self._act("mark_no_show", line, booking_id=line.booking.id)
            self._report(outcome, tr("{name} marked as a no-show", name=line.member_name), line)

    def promote(self) -> None:
        line = self.current()
        if line is not None:
            self._with_override(
                "promote_from_waitlist",
                line,
                "override_capacity",
                tr("{name} moved from the waitlist", name=line.member_name),
                booking_id=line.booking.id,
            )

    def check_in_all(self) -> None:
        if self.session is None:
            return
        done, refused = 0, []
        for line in list(self.model.rows):
            if line.booking.status is not BookingStatus.BOOKED:
                continue
            outcome = self._act(
                "check_in", line, member_id=line.booking.member_id, session_id=self.session.id
            )
            if outcome.ok:
                done += 1
            else:
                refused.append(
                    f"{line.member_name}: {outcome_title(outcome, name=line.member_name)}"
                )
        tone = "ok" if not refused else "warn"
        self.banner.show_message(
            tone,
            tr("{count} checked in, {refused} refused", count=done, refused=len(refused)),
            refused,
        )
        self.ctx.events.refocus.emit()

    def cancel(self) -> None:
        line = self.current()
        if line is None or self.session is None:
            return
        dialog = CancelDialog(self.ctx, line.booking, line.member_name, self.session, self.window())
        dialog.accepted.connect(
            lambda: self.banner.show_message(
                "ok",
                tr("Booking cancelled"),
                [dialog.terms_label.text()],
            )
        )
        dialog.open()

    def add(self) -> None:
        if self.session is not None:
            AddToClassDialog(self.ctx, self.session, self.window()).open()


class TodayScreen(QWidget):
    """A day's sessions in the location's time zone, in time order; nearby days one click away."""

    session_chosen = Signal(object)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.day: date = ctx.today()
        # Whether the screen shows today whatever today is: until staff browse to another
        # day it moves on at midnight, and to the location's date once the first sync
        # has told the desk its time zone (before that "today" is the PC's UTC date).
        self._following = True
        # The session the desk picked by itself (not staff): re-picked as data arrives, so
        # a desk whose first sync is still filling in opens on the class happening now.
        self._auto: str | None = None
        self.day_label = QLabel()
        self.day_label.setObjectName("DayLabel")
        self.day_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        nav = QHBoxLayout()
        nav.addWidget(button(tr("◀ Previous day"), lambda: self.go(-1), name="PrevDay"))
        nav.addWidget(self.day_label, 1)
        nav.addWidget(button(tr("Today"), self.go_today, name="TodayButton"))
        nav.addWidget(button(tr("Next day ▶"), lambda: self.go(1), name="NextDay"))
        self.model = sessions_model()
        self.table = _table(self.model)
        self.table.setObjectName("SessionsTable")
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._chosen())
        self.roster = RosterPanel(ctx)
        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(nav)
        top_layout.addWidget(self.table)
        split.addWidget(top)
        split.addWidget(self.roster)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        ctx.events.changed.connect(self._changed)
        ctx.events.show_session.connect(self.select_session)
        self.clock = QTimer(self)
        self.clock.setInterval(30_000)
        self.clock.timeout.connect(self._tick)
        self.clock.start()
        self.refresh()

    # -- days ----------------------------------------------------------------------------
    def go(self, step: int) -> None:
        self.day += timedelta(days=step)
        self._following = self.day == self.ctx.today()
        self.refresh(select_now=False)

    def go_today(self) -> None:
        self.day = self.ctx.today()
        self._following = True
        self.refresh()

    def _caught_up(self) -> bool:
        """Move a following screen to today's date; whether it moved."""
        today = self.ctx.today()
        if not self._following or self.day == today:
            return False
        self.day = today
        self.refresh()
        return True

    def partition(self) -> str:
        return schedule_partition(self.ctx.catalogue.location_id() or "", self.day)

    def lines(self) -> list[SessionLine]:
        lines = self.ctx.desk.views.sessions_on(self.day)
        if self.ctx.role is Role.COACH and self.ctx.staff is not None:
            lines = [line for line in lines if line.session.coach_id == self.ctx.staff.id]
        return lines

    def refresh(self, select_now: bool = True) -> None:
        chosen = self.roster.session
        today = self.ctx.today()
        now_local = None
        if self.day == today:
            now_local = to_local(self.ctx.desk.business_now(self.ctx.now()), self.ctx.timezone)
        self.model.now_local = now_local
        lines = self.lines()
        self.model.set_rows(with_now_marker(lines, now_local))
        weekday = (
            tr("Monday"),
            tr("Tuesday"),
            tr("Wednesday"),
            tr("Thursday"),
            tr("Friday"),
            tr("Saturday"),
            tr("Sunday"),
        )[self.day.weekday()]
        label = f"{self.day.isoformat()} {weekday}"
        if self.day == today:
            label = tr("{day} (today)", day=label)
        self.day_label.setText(label)
        if not lines:
            self.roster.show_session(None)
            self.roster.heading.setText(tr("No classes on this day"))
            return
        if chosen is None or chosen.id == self._auto:
            chosen, select_now = None, select_now or self._auto is not None or chosen is None
        target = (
            chosen.id if chosen and any(line.session.id == chosen.id for line in lines) else None
        )
        if target is None:
            soonest = self._soonest(lines, now_local) if select_now else None
            target = soonest or lines[0].session.id
            self._auto = target
        self.select_session(target)

    @staticmethod
    def _soonest(lines: list[SessionLine], now_local: datetime | None) -> str | None:
        """The class in progress or the next one, so the desk opens where the action is."""
        if now_local is None:
            return None
        for line in lines:
            if line.end_local > now_local:
                return line.session.id
        return lines[-1].session.id

    def select_session(self, session_id: str) -> None:
        for i, row in enumerate(self.model.rows):
            if not isinstance(row, NowMarker) and row.session.id == session_id:
                self.table.selectRow(i)
                self.table.scrollTo(self.model.index(i, 0))
                if self.roster.session is None or self.roster.session.id != session_id:
                    self.roster.show_session(row.session)
                else:
                    self.roster.refresh()
                return
        session = self.ctx.desk.views.session(session_id)
        if session is not None:
            day = self.ctx.catalogue.local_day(session.start)
            if day != self.day:
                self.day = day
                self._following = day == self.ctx.today()
                self.roster.session = session
                self.refresh(select_now=False)

    def _chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        row = self.model.row(rows[0].row()) if rows else None
        if row is None or isinstance(row, NowMarker):
            return
        if row.session.id != self._auto:
            self._auto = None  # staff chose this one: keep it through refreshes
        if self.roster.session is None or self.roster.session.id != row.session.id:
            self.roster.show_session(row.session)
            self.session_chosen.emit(row.session)

    def _changed(self, changed: Changed) -> None:
        if self._caught_up():
            return
        if changed.touches_day(self.partition()) or changed.everything:
            self.refresh(select_now=False)

    def _tick(self) -> None:
        if not self._caught_up() and self.day == self.ctx.today():
            self.refresh(select_now=False)
