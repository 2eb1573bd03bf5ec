"""The desk window (PySide6): screens, item models, dialogs, theme and translations."""

# The layers under the window are imported before PySide6 is: PySide6 inspects the
# source of every module imported after it (its __feature__ import hook), which made
# SQLAlchemy, httpx and the rest cost about half a second more at start-up.
import frontdesk.local_db
import frontdesk.sync  # noqa: F401
