"""Reading member files as Excel and old systems save them, and mapping files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from frontdesk.domain.imports.members import MappingError, find_header, unique_headers
from frontdesk.domain.imports.values import DateOrder
from frontdesk.local_db.imports import ImportFileError, load_mapping
from frontdesk.local_db.imports.tables import read_table
from tests.imports.conftest import MEMBERS


def header_and_first_row(path: Path) -> tuple[list[str], list[str], list[str]]:
    table = read_table(path)
    at = find_header(table.lines)
    return unique_headers(table.lines[at]), table.lines[at + 1], table.notes


@pytest.mark.parametrize(
    ("name", "encoding", "separator", "first"),
    [
        ("utf8.csv", "UTF-8,", "commas", "Olivia"),
        ("utf8_bom.csv", "UTF-8 with BOM", "commas", "王芳"),
        ("gbk_excel.csv", "GBK/GB18030", "commas", "李娜"),
        ("semicolon.csv", "UTF-8,", "semicolons", "Anna Berger"),
        ("tabs.txt", "UTF-8,", "tabs", "Priya Raman"),
    ],
)
def test_encodings_and_delimiters_are_detected_and_named(
    name: str, encoding: str, separator: str, first: str
) -> None:
    headers, row, notes = header_and_first_row(MEMBERS / name)
    assert row[0] == first
    assert len(row) == len(headers) > 2
    assert encoding in notes[0] and separator in notes[0]


def test_the_bom_does_not_stick_to_the_first_column_name() -> None:
    headers, _, _ = header_and_first_row(MEMBERS / "utf8_bom.csv")
    assert headers[0] == "姓名"


def test_quoted_commas_and_quotes_survive() -> None:
    lines = read_table(MEMBERS / "utf8.csv").lines
    assert lines[5][1] == "Nguyen, Jr."
    assert lines[5][-1] == 'Prefers the "early" classes'


def test_gbk_text_reads_as_chinese() -> None:
    lines = read_table(MEMBERS / "gbk_excel.csv").lines
    assert lines[0][0] == "会员列表（导出）"
    assert lines[2][-1] == "怕冷，请关空调"


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("姓名\t手机\r\n周杰\t13600000001\r\n".encode("utf-16"))
    table = read_table(path)
    assert table.lines == [["姓名", "手机"], ["周杰", "13600000001"]]
    assert "UTF-16" in table.notes[0] and "tabs" in table.notes[0]


def write_workbook(path: Path, rows: list[list[object]], sheets: int = 1) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "会员"
    for row in rows:
        sheet.append(row)
    for n in range(1, sheets):
        book.create_sheet(f"Other {n}")
    book.save(path)
    return path


def test_xlsx_cells_read_as_people_see_them(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "members.xlsx", [
        ["Member list", None, None, None, None],
        ["姓名", "手机", "生日", "剩余次数", "会员卡号"],
        ["周杰", 13600000001, datetime(1990, 5, 17), 5.0, "00123"],
        ["林青", "1.38E+10", None, 3, 456789],
    ], sheets=2)
    table = read_table(path)
    assert table.lines[2] == ["周杰", "13600000001", "1990-05-17", "5", "00123"]
    assert table.lines[3] == ["林青", "1.38E+10", "", "3", "456789"]
    assert "sheet '会员'" in table.notes[0]
    assert "only the first" in table.notes[1]


def test_an_xlsx_with_a_wrong_name_is_still_read(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "members.csv", [["Name"], ["A"]])
    assert read_table(path).lines == [["Name"], ["A"]]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "binary data"),  # the PNG-headed junk fixture
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        (b"PK\x03\x04 not really a zip", "not a readable Excel workbook"),
        (b"Name,Phone\n\x01\x02\x03\x04\x05\x06\x07\x08,\x0b\x0c\x0e\x0f", "binary data"),
    ],
)
def test_unreadable_files_say_what_to_do(tmp_path: Path, content: bytes | None,
                                         words: str) -> None:
    path = MEMBERS / "unreadable.csv"
    if content is not None:
        path = tmp_path / "file.csv"
        path.write_bytes(content)
    with pytest.raises(ImportFileError, match=words):
        read_table(path)


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="Cannot read"):
        read_table(tmp_path / "nowhere.csv")


def test_a_mapping_file(tmp_path: Path) -> None:
    choice = load_mapping(MEMBERS / "custom_mapping.toml")
    assert choice.columns["Celular"] == "phone"
    assert choice.date_orders == {"Vence": DateOrder.DAY_FIRST}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[columns\n", "not valid TOML"),
        ("[fields]\nA = 'name'\n", "unknown sections"),
        ("[columns]\nA = 3\n", "maps column names"),
        ("[dates]\nA = 'sideways'\n", "day_first"),
    ],
)
def test_a_bad_mapping_file_says_why(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=words):
        load_mapping(path)
