"""Reading one spreadsheet cell as a phone, a card code, a date or a count, with its problem.

Pure: the caller passes in today's date. Each reader returns a value or raises
`CellProblem` with a refusal code and a reason that tells a manager how to fix the file.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

DUPLICATE_IN_FILE = "duplicate_in_file"
DUPLICATE_MEMBER = "duplicate_member"
SPREADSHEET_NUMBER = "spreadsheet_number"
INVALID_VALUE = "invalid_value"
MISSING_REQUIRED = "missing_required"

#: Refusal codes of an import row (contracts.md, "Import reports").
ROW_CODES = frozenset(
    {DUPLICATE_IN_FILE, DUPLICATE_MEMBER, SPREADSHEET_NUMBER, INVALID_VALUE, MISSING_REQUIRED}
)


class CellProblem(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_PHONE_JUNK = re.compile(r"[\s\-().\u00a0/]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_scientific(text: str) -> bool:
    """A number a spreadsheet showed as 1.38E+10: its last digits are gone."""
    return bool(_SCIENTIFIC.match(text.strip()))


def _spreadsheet_number(what: str, column: str, text: str) -> CellProblem:
    return CellProblem(
        SPREADSHEET_NUMBER,
        f"The {what} {text!r} in column {column!r} was turned into a number by a spreadsheet "
        "and its last digits are lost. Format that column as Text in the spreadsheet, type "
        "or paste the numbers again (or export them again from the old system), save as "
        "CSV and import again.",
    )


def phone(text: str, column: str) -> str:
    """A phone number as digits with an optional leading +; '' when empty."""
    raw = text.strip()
    if not raw:
        return ""
    if is_scientific(raw):
        raise _spreadsheet_number("phone number", column, raw)
    if raw.endswith(".0") and raw[:-2].isdigit():
        raw = raw[:-2]  # a number cell saved as a float
    cleaned = _PHONE_JUNK.sub("", raw)
    body = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not body.isdigit() or not 5 <= len(body) <= 20:
        raise CellProblem(
            INVALID_VALUE,
            f"{raw!r} in column {column!r} is not a phone number (digits, with an optional + "
            "and spaces). Correct it or leave it empty, then import again.",
        )
    return cleaned


def phone_key(number: str) -> str:
    """The part of a phone number that says who it is: +86 138… and 138… are one person."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def card_code(text: str, column: str) -> str:
    raw = text.strip()
    if is_scientific(raw):
        raise _spreadsheet_number("card number", column, raw)
    if len(raw) > 64:
        raise CellProblem(
            INVALID_VALUE,
            f"The card code in column {column!r} is longer than 64 characters. "
            "Shorten it, then import again.",
        )
    return raw


def email(text: str, column: str) -> str:
    raw = text.strip()
    if raw and not _EMAIL.match(raw):
        raise CellProblem(
            INVALID_VALUE,
            f"{raw!r} in column {column!r} is not an email address. "
            "Correct it or leave it empty, then import again.",
        )
    return raw


_COUNT = re.compile(r"^(\d+)(?:\.0+)?\s*(?:次|节|课时|课|堂)?$")


def count(text: str, column: str) -> int | None:
    """A whole number of classes (10, 10.0, 10次); None when empty."""
    raw = text.strip()
    if not raw:
        return None
    match = _COUNT.match(raw)
    if match is None:
        raise CellProblem(
            INVALID_VALUE,
            f"{raw!r} in column {column!r} is not a number of classes (a whole number, 0 or "
            "more). Correct it, then import again.",
        )
    return int(match.group(1))


# --- dates -----------------------------------------------------------------------------


class DateOrder(StrEnum):
    """How a column writes dates whose year comes last: 03/04/2027."""

    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YEAR_LAST = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2}|\d{4})$")
_NAMED = re.compile(r"^(\d{1,2})[\s\-/.]*([A-Za-z]+)\.?[\s\-/.,]*(\d{2}|\d{4})$")
_NAMED_US = re.compile(r"^([A-Za-z]+)\.?[\s\-/.]*(\d{1,2})(?:st|nd|rd|th)?,?[\s\-/.]*(\d{4})$")


def _strip_time(raw: str) -> str:
    """'2027-03-01 00:00:00' (a date cell saved with its time) is the date alone."""
    return _TIME_TAIL.sub("", raw).strip()


def year_last_parts(text: str) -> tuple[int, int] | None:
    """The two leading numbers of a date written like 03/04/2027, else None."""
    match = _YEAR_LAST.match(_strip_time(text.strip()))
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def decide_order(values: list[str]) -> tuple[DateOrder, bool]:
    """The order a column's dates follow, and whether the data left it open: a first
    number above 12 means day first, a second one above 12 month first; most votes win."""
    day_first = month_first = 0
    for value in values:
        parts = year_last_parts(value)
        if parts is None:
            continue
        first, second = parts
        if first > 12 >= second:
            day_first += 1
        elif second > 12 >= first:
            month_first += 1
    if month_first > day_first:
        return DateOrder.MONTH_FIRST, False
    if day_first:
        return DateOrder.DAY_FIRST, False
    return DateOrder.DAY_FIRST, True


def _full_year(year: int, two_digits: bool, today: date, past: bool) -> int:
    if not two_digits:
        return year
    century = 2000 + year
    if past and century > today.year:
        return 1900 + year
    return century


def parse_date(text: str, column: str, order: DateOrder, today: date, past: bool) -> date | None:
    """A date in the forms old systems and Excel write; None when empty.

    `past` says the date cannot be in the future (a birthday), which also decides the
    century of a two-digit year.
    """
    raw = text.strip()
    if not raw:
        return None
    cleaned = _strip_time(raw)
    try:
        found = _read_date(cleaned, order, today, past)
    except ValueError:
        found = None
    if found is None:
        raise CellProblem(
            INVALID_VALUE,
            f"{raw!r} in column {column!r} is not a date. Write dates like 2027-03-31 "
            "(or 31/03/2027), then import again.",
        )
    if past and (found > today or found.year < 1900):
        raise CellProblem(
            INVALID_VALUE,
            f"The date {raw!r} in column {column!r} cannot be right (in the future or before "
            "1900). Correct it or leave it empty, then import again.",
        )
    return found


def _read_date(text: str, order: DateOrder, today: date, past: bool) -> date | None:
    if match := _YEAR_FIRST.match(text) or _COMPACT.match(text):
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _YEAR_LAST.match(text):
        first, second, year_text = int(match.group(1)), int(match.group(2)), match.group(3)
        day, month = (first, second) if order is DateOrder.DAY_FIRST else (second, first)
        year = _full_year(int(year_text), len(year_text) == 2, today, past)
        return date(year, month, day)
    if match := _NAMED.match(text):
        named = _MONTHS.get(match.group(2).lower())
        year_text = match.group(3)
        if named is None:
            return None
        year = _full_year(int(year_text), len(year_text) == 2, today, past)
        return date(year, named, int(match.group(1)))
    if match := _NAMED_US.match(text):
        named = _MONTHS.get(match.group(1).lower())
        if named is None:
            return None
        return date(int(match.group(3)), named, int(match.group(2)))
    return None
