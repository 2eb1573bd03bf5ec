"""Reading a member file: CSV in whatever encoding and delimiter Excel or an old system
used, or an XLSX workbook, as lines of text cells; and a manager's mapping file."""

from __future__ import annotations

import csv
import io
import tomllib
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from frontdesk.domain.imports.members import MappingChoice, MappingError
from frontdesk.domain.imports.values import DateOrder


class ImportFileError(Exception):
    """The file cannot be read at all: not a table, an unknown encoding, missing."""


@dataclass
class TableFile:
    lines: list[list[str]]
    notes: list[str] = field(default_factory=list)


_DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def read_table(path: Path) -> TableFile:
    """The lines of a CSV (any of our encodings and delimiters) or an XLSX's first sheet."""
    data = read_bytes(path)
    if not data.strip():
        raise ImportFileError(f"{path.name} is empty.")
    if data.startswith(b"PK\x03\x04"):
        return _workbook(data, path.name)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            f"{path.name} is an old Excel .xls workbook. Open it in Excel and save it as "
            "Excel Workbook (.xlsx) or CSV UTF-8, then import that file."
        )
    text, encoding = decode_text(data, path.name)
    delimiter = _delimiter(text)
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"{path.name} is not a readable CSV file: {exc}.") from exc
    return TableFile(
        lines, [f"Read as CSV: {encoding}, columns separated by {_DELIMITERS[delimiter]}."]
    )


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """The text of a file and how it was encoded: UTF-8 (with or without BOM), UTF-16 as
    Excel's "Unicode Text" saves, or GBK/GB18030 as Excel saves CSV on Chinese Windows."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = data.decode("utf-16"), "UTF-16"
    elif b"\x00" in data:
        raise _not_text(name)
    else:
        for codec, label in (
            ("utf-8-sig", "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"),
            ("gb18030", "GBK/GB18030 (Chinese Windows)"),
        ):
            try:
                text, encoding = data.decode(codec), label
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError(
                f"Cannot tell the text encoding of {name} (tried UTF-8 and GBK/GB18030). "
                "Save it from Excel as CSV UTF-8, then import that file."
            )
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    if controls > max(len(text) // 100, 2):
        raise _not_text(name)
    return text, encoding


def _not_text(name: str) -> ImportFileError:
    return ImportFileError(
        f"{name} is not a CSV or Excel file (it holds binary data). Export the members from "
        "the old system as CSV or XLSX, then import that file."
    )


def _delimiter(text: str) -> str:
    """The separator that splits the first lines into the most consistent columns."""
    sample = "\n".join(text.splitlines()[:50])
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            widths = [
                len(r)
                for r in csv.reader(io.StringIO(sample), delimiter=delimiter)
                if any(c.strip() for c in r)
            ]
        except csv.Error:
            continue
        if not widths:
            continue
        width, agreeing = Counter(widths).most_common(1)[0]
        score = (agreeing, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _workbook(data: bytes, name: str) -> TableFile:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they hold no data.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                title = sheet.title
                lines = [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
                sheets = len(book.worksheets)
            finally:
                book.close()
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        IndexError,
        ValueError,
        OSError,
        EOFError,
    ) as exc:
        raise ImportFileError(
            f"{name} is not a readable Excel workbook ({exc}). Open it in Excel and save it "
            "again as .xlsx or CSV UTF-8, then import that file."
        ) from exc
    notes = [f"Read as an Excel workbook: sheet {title!r}."]
    if sheets > 1:
        notes.append(f"The workbook has {sheets} sheets; only the first, {title!r}, is read.")
    while lines and not any(c.strip() for c in lines[-1]):
        lines.pop()
    return TableFile(lines, notes)


def _cell_text(value: object) -> str:
    """A cell as the text a person sees: whole numbers without .0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def load_mapping(path: Path) -> MappingChoice:
    """A manager's mapping file (TOML):

    [columns]            # column in the file = member field, or "ignore"
    "Mobile #" = "phone"
    [dates]              # day/month order of a date column
    "Expiry" = "month_first"
    """
    try:
        data = tomllib.loads(read_bytes(path).decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"The mapping file {path.name} is not valid TOML: {exc}.") from exc
    unknown = set(data) - {"columns", "dates"}
    if unknown:
        raise MappingError(
            f"The mapping file has unknown sections {sorted(unknown)}: use [columns] and [dates]."
        )
    columns = data.get("columns", {})
    dates = data.get("dates", {})
    if not isinstance(columns, dict) or not all(isinstance(x, str) for x in columns.values()):
        raise MappingError('[columns] maps column names to field names: "Mobile #" = "phone".')
    orders = {o.value for o in DateOrder}
    if not isinstance(dates, dict) or not all(x in orders for x in dates.values()):
        raise MappingError(f"[dates] maps column names to one of {sorted(orders)}.")
    return MappingChoice(
        columns={str(k): str(x) for k, x in columns.items()},
        date_orders={str(k): DateOrder(x) for k, x in dates.items()},
    )
