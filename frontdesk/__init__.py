"""FrontDesk: the offline-first front-desk app for studios."""

__version__ = "0.1.0"
