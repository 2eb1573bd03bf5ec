"""Planning a member file: the mapping, every refusal code, passes, duplicates, ids."""

from __future__ import annotations

from datetime import date

import pytest

from frontdesk.domain.imports.members import (
    MappingChoice,
    MappingError,
    auto_mapping,
    find_header,
    plan_members,
)
from frontdesk.domain.imports.values import DateOrder
from frontdesk.domain.model import EntitlementKind, Member, MemberStatus, Plan
from tests.studio import new_id

TODAY = date(2026, 12, 3)
PACK = Plan("plan-pack", "10 classes", EntitlementKind.PACK, 80000, 10, 90)
MONTHLY = Plan("plan-month", "Monthly", EntitlementKind.MEMBERSHIP, 50000, 0, 30)
FOREVER = Plan("plan-forever", "Lifetime", EntitlementKind.MEMBERSHIP, 900000, 0, 0)
WALLET = Plan("plan-wallet", "储值卡", EntitlementKind.STORED_VALUE, 100000, 100000, 0)
PLANS = [PACK, MONTHLY, FOREVER, WALLET]


def plan(lines: list[list[str]], existing: list[Member] | None = None,
         choice: MappingChoice | None = None, scope: str = "tenant-1"):  # type: ignore[no-untyped-def]
    return plan_members(lines, choice or MappingChoice(), existing or [], PLANS, TODAY, scope)


def refusals(result) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {r.row: r.code for r in result.refused}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("First Name", "first_name"), ("last_name", "last_name"), ("Full name", "name"),
        ("姓名", "name"), ("Phone", "phone"), ("手机", "phone"), ("Mobile", "phone"),
        ("电话", "phone"), ("E-mail", "email"), ("邮箱", "email"), ("Date of Birth", "birthday"),
        ("生日", "birthday"), ("Card Code", "card_code"), ("Barcode", "card_code"),
        ("会员卡号", "card_code"), ("Pass name", "pass_name"), ("会员卡类型", "pass_name"),
        ("卡种", "pass_name"), ("Expiry", "expiry"), ("到期日", "expiry"),
        ("有效期至", "expiry"), ("Sessions left", "sessions_left"),
        ("剩余次数", "sessions_left"), ("Notes", "notes"), ("备注", "notes"),
    ],
)
def test_common_headers_map_automatically(header: str, field: str) -> None:
    assert auto_mapping([header, "Unrelated"]) == {header: field}


def test_the_first_of_two_columns_for_one_field_wins() -> None:
    assert auto_mapping(["Mobile", "Phone"]) == {"Mobile": "phone"}


def test_a_title_line_above_the_header_is_skipped() -> None:
    lines = [["会员列表", "", ""], ["姓名", "手机", "备注"], ["李娜", "13700000021", ""]]
    assert find_header(lines) == 1
    result = plan(lines)
    assert [m.name for m in result.ready] == ["李娜"]
    assert any("line 2" in n for n in result.notes)


def test_mapping_overrides_and_ignores_columns() -> None:
    lines = [["Cliente", "Mobile", "Points"], ["Xavier Mora", "13000000101", "40"]]
    choice = MappingChoice(columns={"Cliente": "name", "Mobile": "ignore"})
    result = plan(lines, choice=choice)
    assert result.mapping == {"Cliente": "name"}
    assert result.ready[0].phone == ""
    assert any("'Mobile'" in n and "'Points'" in n for n in result.notes)


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (MappingChoice(columns={"Nope": "name"}), "does not have"),
        (MappingChoice(columns={"Name": "nickname"}), "not a member field"),
        (MappingChoice(columns={"Name": "phone", "Phone": "phone"}), "two columns"),
        (MappingChoice(date_orders={"Nope": DateOrder.DAY_FIRST}), "unknown column"),
    ],
)
def test_a_wrong_mapping_is_refused_with_the_reason(choice: MappingChoice, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        plan([["Name", "Phone"], ["A", "13900000000"]], choice=choice)


def test_every_refusal_code_with_a_reason() -> None:
    lines = [
        ["Name", "Phone", "Card", "Birthday"],
        ["Ann", "1.38E+10", "", ""],  # 1 spreadsheet_number
        ["", "13900000002", "", ""],  # 2 missing_required
        ["Bo", "13900000003", "", "1990-02-31"],  # 3 invalid_value
        ["Cy", "13900000004", "K-4", ""],  # 4 ok
        ["Cy again", "13900000004", "", ""],  # 5 duplicate_in_file
        ["Di", "13900000006", "", ""],  # 6 duplicate_member (phone)
        ["Ed", "", "k-7", ""],  # 7 duplicate_member (card, any case)
    ]
    existing = [Member(new_id(), "Di Existing", phone="+86 13900000006"),
                Member(new_id(), "Ed Existing", card_code="K-7")]
    result = plan(lines, existing)
    assert refusals(result) == {
        1: "spreadsheet_number", 2: "missing_required", 3: "invalid_value",
        5: "duplicate_in_file", 6: "duplicate_member", 7: "duplicate_member",
    }
    assert [m.row for m in result.ready] == [4]
    reasons = {r.row: r.reason for r in result.refused}
    assert "Row 4 has the same phone number" in (reasons[5] or "")
    assert "Di Existing already has phone" in (reasons[6] or "")
    assert all(r.reason and "again" in r.reason for r in result.refused)


def test_merged_and_anonymised_members_do_not_count_as_duplicates() -> None:
    old = Member(new_id(), "Old", phone="13900000001", status=MemberStatus.MERGED)
    result = plan([["Name", "Phone"], ["New", "13900000001"]], [old])
    assert [m.name for m in result.ready] == ["New"]


def test_first_and_last_names_join_as_people_write_them() -> None:
    result = plan([["First name", "Last name"], ["Olivia", "Harper"], ["伟", "张"]])
    assert [m.name for m in result.ready] == ["Olivia Harper", "张伟"]


def test_passes_match_plans_by_name_or_are_named_as_in_the_file() -> None:
    lines = [
        ["Name", "Pass", "Expiry", "Sessions left"],
        ["A", "10 Classes", "2027-03-31", "7"],
        ["B", "monthly", "2027-01-15", ""],
        ["C", "Summer Special", "2027-02-28", "4"],
        ["D", "年卡", "2027-12-31", ""],
        ["E", "", "2027-05-01", ""],
        ["F", "", "", ""],
    ]
    passes = {m.name: m.current_pass for m in plan(lines).ready}
    a, b, c, d, e = (passes[k] for k in "ABCDE")
    assert a is not None
    assert (a.plan_id, a.kind, a.sessions_left) == (PACK.id, EntitlementKind.PACK, 7)
    assert a.valid_until == date(2027, 3, 31)
    assert b is not None and (b.plan_id, b.kind, b.sessions_left) == (
        MONTHLY.id, EntitlementKind.MEMBERSHIP, 0)
    assert c is not None and (c.plan_id, c.kind, c.name) == (None, EntitlementKind.PACK,
                                                             "Summer Special")
    assert d is not None and (d.kind, d.name) == (EntitlementKind.MEMBERSHIP, "年卡")
    assert e is not None and e.name == "Imported membership"
    assert passes["F"] is None


@pytest.mark.parametrize(
    ("row", "code", "words"),
    [
        (["A", "10 classes", "2027-03-31", ""], "missing_required", "classes left"),
        (["B", "Monthly", "", ""], "missing_required", "expiry"),
        (["C", "Mystery", "", ""], "missing_required", "neither"),
        (["D", "储值卡", "", "3"], "invalid_value", "stored-value"),
    ],
)
def test_a_pass_that_cannot_be_made_is_refused(row: list[str], code: str, words: str) -> None:
    result = plan([["Name", "Pass", "Expiry", "Sessions left"], row])
    assert [(r.code, words in (r.reason or "")) for r in result.refused] == [(code, True)]


def test_a_membership_plan_without_an_end_needs_no_expiry() -> None:
    result = plan([["Name", "Pass"], ["A", "Lifetime"]])
    current = result.ready[0].current_pass
    assert current is not None and current.valid_until is None


def test_ids_follow_the_content_so_a_second_run_names_the_same_members() -> None:
    lines = [["Name", "Phone"], ["Twin", ""], ["Twin", ""], ["Other", "13900000009"]]
    first, second = plan(lines), plan(lines)
    ids = [m.member_id for m in first.ready]
    assert ids == [m.member_id for m in second.ready]
    assert len(set(ids)) == 3  # two identical rows are two people
    assert ids != [m.member_id for m in plan(lines, scope="tenant-2").ready]


def test_rows_imported_before_are_duplicates_even_without_phone_or_card() -> None:
    lines = [["Name"], ["Nameless Twin"]]
    member_id = plan(lines).ready[0].member_id
    again = plan(lines, [Member(member_id, "Nameless Twin")])
    assert refusals(again) == {1: "duplicate_member"}
    assert "imported before" in (again.refused[0].reason or "")


def test_a_file_without_a_name_column_says_how_to_fix_it() -> None:
    result = plan([["Phone"], ["13900000001"]])
    assert refusals(result) == {1: "missing_required"}
    assert any("No column holds the members' names" in n for n in result.notes)


def test_ambiguous_dates_are_stated_and_a_mapping_file_can_decide() -> None:
    lines = [["Name", "Expiry", "Sessions left"], ["A", "03/04/2027", "1"],
             ["B", "05/06/2027", "1"]]
    result = plan(lines)
    current = result.ready[0].current_pass
    assert current is not None and current.valid_until == date(2027, 4, 3)
    assert any("could be day/month or month/day" in n and "month_first" in n
               for n in result.notes)
    decided = plan(lines, choice=MappingChoice(date_orders={"Expiry": DateOrder.MONTH_FIRST}))
    current = decided.ready[0].current_pass
    assert current is not None and current.valid_until == date(2027, 3, 4)
    assert not any("could be" in n for n in decided.notes)


def test_empty_rows_are_skipped_but_keep_their_numbers() -> None:
    result = plan([["Name"], ["A"], ["", ""], ["B"]])
    assert [(m.row, m.name) for m in result.ready] == [(1, "A"), (3, "B")]
    assert "Skipped 1 empty row." in result.notes
