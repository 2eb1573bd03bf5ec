"""The desk's screens: sign-in, lock, check-in, today, roster, member, attention, reports."""
