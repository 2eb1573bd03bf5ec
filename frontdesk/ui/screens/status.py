"""Sync status, always visible: online or offline, pending, attention, last sync, clock."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from frontdesk.sync import SyncState

from ..context import Changed, DeskContext
from ..i18n import tr
from ..widgets import local_time, repolish


class SyncStatus(QWidget):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dot = QLabel()
        self.dot.setObjectName("SyncDot")
        self.pending = QLabel()
        self.pending.setObjectName("PendingCount")
        self.attention = QPushButton()
        self.attention.setObjectName("AttentionButton")
        self.attention.clicked.connect(ctx.events.open_attention.emit)
        self.last = QLabel()
        self.last.setObjectName("LastSync")
        self.clock = QLabel(tr("This PC's clock is wrong"))
        self.clock.setObjectName("ClockWrong")
        self.problem = QLabel()
        self.problem.setObjectName("SyncProblem")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.dot, self.pending, self.attention, self.last, self.clock, self.problem):
            layout.addWidget(widget)
        self.state = ctx.bridge.state
        self.paused = False
        self.counts = (0, 0)
        ctx.bridge.state_changed.connect(self.show_state)
        ctx.bridge.pushed.connect(self.refresh_counts)
        ctx.bridge.data_changed.connect(self.refresh_counts)
        ctx.bridge.running_changed.connect(self._running)
        ctx.events.changed.connect(self.refresh_counts)
        self.refresh_counts()
        self.show_state(self.state)

    def _running(self, running: bool) -> None:
        self.paused = not running
        self.show_state(self.state)

    def refresh_counts(self, *_args: object) -> None:
        self.counts = self.ctx.desk.views.counts()
        pending, attention = self.counts
        self.pending.setText(tr("{count} waiting to sync", count=pending))
        self.attention.setText(tr("{count} need attention", count=attention))
        self.attention.setVisible(attention > 0)

    def show_state(self, state: SyncState) -> None:
        self.state = state
        online = state.online and not self.paused
        if online:
            text = tr("● Syncing") if state.syncing else tr("● Online")
        elif self.paused and self.ctx.offline_switch:
            text = tr("● Working offline")
        else:
            text = tr("● Offline")
        self.dot.setText(text)
        self.dot.setProperty("online", online)
        repolish(self.dot)
        self.last.setText(
            tr("Last sync {time}", time=local_time(state.last_sync, self.ctx.timezone))
            if state.last_sync
            else tr("Not synced yet")
        )
        self.clock.setVisible(state.clock_wrong)
        problems = []
        if not state.signed_in:
            problems.append(tr("Signed out: sign in again to sync"))
        if state.stuck:
            problems.append(tr("Upload queue is stuck"))
        self.problem.setText(" · ".join(problems))
        self.problem.setVisible(bool(problems))
        self.refresh_counts()


def changed_from_partitions(partitions: frozenset[str]) -> Changed:
    return Changed(partitions=frozenset(partitions))
