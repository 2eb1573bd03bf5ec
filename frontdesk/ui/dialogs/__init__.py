"""Dialogs for one staff job each; opened with open(), never exec() (see pitfalls)."""
