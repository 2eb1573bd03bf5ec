"""The desk window (PySide6): screens, item models, dialogs, theme and translations."""
