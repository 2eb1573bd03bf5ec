"""Reading single cells: phones, cards, counts and dates in the forms exports use."""

from __future__ import annotations

from datetime import date

import pytest

from frontdesk.domain.imports import values as v
from frontdesk.domain.imports.values import CellProblem, DateOrder

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("(555) 010-0199", "5550100199"),
        ("13800138000.0", "13800138000"),
        ("", ""),
    ],
)
def test_phone_numbers_are_cleaned(text: str, expected: str) -> None:
    assert v.phone(text, "Phone") == expected


@pytest.mark.parametrize("text", ["1.38E+10", "1.38e10", "1,38E+10", "-1.2E+3"])
def test_phone_in_scientific_notation_is_a_spreadsheet_number(text: str) -> None:
    with pytest.raises(CellProblem) as caught:
        v.phone(text, "Mobile")
    assert caught.value.code == v.SPREADSHEET_NUMBER
    assert "Mobile" in caught.value.reason and "Text" in caught.value.reason


def test_card_in_scientific_notation_is_a_spreadsheet_number() -> None:
    with pytest.raises(CellProblem) as caught:
        v.card_code("1.23457E+11", "Card")
    assert caught.value.code == v.SPREADSHEET_NUMBER


@pytest.mark.parametrize("text", ["call me", "12", "138-abc-0000"])
def test_a_phone_that_is_not_one_is_an_invalid_value(text: str) -> None:
    with pytest.raises(CellProblem) as caught:
        v.phone(text, "Phone")
    assert caught.value.code == v.INVALID_VALUE


def test_phone_key_makes_the_country_code_optional() -> None:
    assert v.phone_key("+8613800138000") == v.phone_key("13800138000") == "13800138000"
    assert v.phone_key("008613800138000") == "13800138000"
    assert v.phone_key("+4915120000031") == "4915120000031"


@pytest.mark.parametrize(("text", "expected"), [("7", 7), ("7.0", 7), ("12次", 12), ("", None)])
def test_counts(text: str, expected: int | None) -> None:
    assert v.count(text, "Left") == expected


@pytest.mark.parametrize("text", ["-1", "ten", "2.5"])
def test_bad_counts(text: str) -> None:
    with pytest.raises(CellProblem, match="not a number of classes"):
        v.count(text, "Left")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-31", date(2027, 3, 31)),
        ("2027/3/1", date(2027, 3, 1)),
        ("2027年3月1日", date(2027, 3, 1)),
        ("20270301", date(2027, 3, 1)),
        ("2027-03-31 00:00:00", date(2027, 3, 31)),
        ("31.03.2027", date(2027, 3, 31)),
        ("1 Mar 2027", date(2027, 3, 1)),
        ("Mar 1, 2027", date(2027, 3, 1)),
        ("01-Mar-27", date(2027, 3, 1)),
    ],
)
def test_date_forms(text: str, expected: date) -> None:
    assert v.parse_date(text, "Expiry", DateOrder.DAY_FIRST, TODAY, past=False) == expected


def test_day_month_order_follows_the_column() -> None:
    assert v.parse_date("03/04/2027", "E", DateOrder.DAY_FIRST, TODAY, False) == date(2027, 4, 3)
    assert v.parse_date("03/04/2027", "E", DateOrder.MONTH_FIRST, TODAY, False) == date(2027, 3, 4)


def test_two_digit_years_of_birthdays_are_in_the_past() -> None:
    assert v.parse_date("5/6/85", "B", DateOrder.DAY_FIRST, TODAY, past=True) == date(1985, 6, 5)
    assert v.parse_date("5/6/12", "B", DateOrder.DAY_FIRST, TODAY, past=True) == date(2012, 6, 5)
    assert v.parse_date("5/6/30", "E", DateOrder.DAY_FIRST, TODAY, past=False) == date(2030, 6, 5)


@pytest.mark.parametrize("text", ["2027-02-30", "31/31/2027", "soon", "2027-13-01"])
def test_impossible_dates_are_invalid(text: str) -> None:
    with pytest.raises(CellProblem, match="is not a date") as caught:
        v.parse_date(text, "Expiry", DateOrder.DAY_FIRST, TODAY, past=False)
    assert caught.value.code == v.INVALID_VALUE


def test_a_birthday_in_the_future_is_invalid() -> None:
    with pytest.raises(CellProblem, match="cannot be right"):
        v.parse_date("2030-01-01", "Birthday", DateOrder.DAY_FIRST, TODAY, past=True)


@pytest.mark.parametrize(
    ("values", "order", "ambiguous"),
    [
        (["25/12/1990", "01/02/1999"], DateOrder.DAY_FIRST, False),
        (["12/25/1990", "01/02/1999"], DateOrder.MONTH_FIRST, False),
        (["03/04/2027", "05/06/2027"], DateOrder.DAY_FIRST, True),
        (["2027-03-04", ""], DateOrder.DAY_FIRST, True),
        (["12/25/1990", "07/30/1990", "25/12/1990"], DateOrder.MONTH_FIRST, False),
    ],
)
def test_the_data_decides_the_order(values: list[str], order: DateOrder, ambiguous: bool) -> None:
    assert v.decide_order(values) == (order, ambiguous)
