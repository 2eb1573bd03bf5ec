"""Planning a member import: headers to fields, rows to members, refusals with reasons.

The input is the file's lines as text cells (any reader: CSV, XLSX); the output is the
rows ready for `import_members`, the rows refused and why, the mapping used and notes.
Ids derive from the studio and each row's content, so running the same file again
names the same members and finds them already there.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from frontdesk.domain.import_commands import ImportedMember, ImportedPass
from frontdesk.domain.model import EntitlementKind, Member, MemberStatus, Plan

from . import REFUSE, ReportRow, counted
from . import values as v
from .values import CellProblem, DateOrder

_NAMESPACE = uuid.UUID("b4f7a0c2-3e51-4c8e-9a0d-6d2f1e8b7c35")

IGNORE = "ignore"

#: Member fields a column can map to, with what each holds (for messages and docs).
FIELDS: dict[str, str] = {
    "name": "full name",
    "first_name": "first (given) name",
    "last_name": "last (family) name",
    "phone": "phone number",
    "email": "email address",
    "birthday": "date of birth",
    "card_code": "membership card or barcode number",
    "pass_name": "name of the member's current pass",
    "expiry": "last day the pass is valid",
    "sessions_left": "classes left on the pass",
    "notes": "staff notes",
    "tier": "membership level",
    "member_id": "FrontDesk's member id (in our own export): a member the studio has is skipped",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "full name", "fullname", "member name", "member", "client", "client name",
        "customer", "customer name", "student", "student name", "display name",
        "姓名", "名字", "会员", "会员姓名", "会员名称", "会员名", "客户姓名", "客户名称",
        "学员", "学员姓名", "顾客姓名",
    ),
    "first_name": ("first name", "firstname", "given name", "forename", "first", "名"),
    "last_name": ("last name", "lastname", "surname", "family name", "last", "姓"),
    "phone": (
        "phone", "phone number", "mobile", "mobile phone", "mobile number", "cell",
        "cell phone", "telephone", "tel", "contact number", "手机", "手机号", "手机号码",
        "电话", "电话号码", "联系电话", "联系方式", "移动电话",
    ),
    "email": ("email", "e-mail", "email address", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件"),
    "birthday": (
        "birthday", "birth date", "birthdate", "date of birth", "dob", "生日", "出生日期",
    ),
    "card_code": (
        "card code", "card", "card number", "card no", "barcode", "bar code",
        "member card", "membership card", "membership number", "key tag", "会员卡号",
        "卡号", "会员卡", "条码", "条形码", "会员号",
    ),
    "pass_name": (
        "pass", "pass name", "membership", "membership type", "membership name", "plan",
        "plan name", "package", "product", "会员卡类型", "卡种", "卡类型", "卡名称",
        "会籍", "会籍类型", "套餐",
    ),
    "expiry": (
        "expiry", "expiry date", "expires", "expires on", "expiration", "expiration date",
        "valid until", "end date", "到期日", "到期日期", "到期时间", "有效期至", "有效期",
        "截止日期",
    ),
    "sessions_left": (
        "sessions left", "classes left", "visits left", "credits", "credits left",
        "remaining", "remaining sessions", "remaining classes", "remaining visits",
        "剩余次数", "剩余课时", "剩余课次", "剩余课程", "剩余节数",
    ),
    "notes": ("notes", "note", "comments", "comment", "remarks", "memo", "备注", "说明"),
    "tier": ("tier", "level", "member level", "membership level", "会员等级", "等级"),
    "member_id": ("member_id", "frontdesk id", "frontdesk member id"),
}

_HEADER_JUNK = re.compile(r"[\s_\-./#:：()（）*\[\]【】]+")


def normalise_header(text: str) -> str:
    return _HEADER_JUNK.sub("", text.strip().casefold())


_ALIAS_INDEX: dict[str, str] = {
    normalise_header(alias): name for name, aliases in _ALIASES.items() for alias in aliases
}


class MappingError(ValueError):
    """A mapping file names a field or a column that does not exist."""


@dataclass(frozen=True)
class MappingChoice:
    """A manager's overrides: column -> field (or "ignore"), and date orders by column."""

    columns: dict[str, str] = field(default_factory=dict)
    date_orders: dict[str, DateOrder] = field(default_factory=dict)


def find_header(lines: list[list[str]]) -> int:
    """The line holding the column names: the one among the first ten that names most
    known fields (exports often start with a title line), else the first non-empty one."""
    best, best_score = -1, 0
    for index, cells in enumerate(lines[:10]):
        score = len({_ALIAS_INDEX[k] for c in cells if (k := normalise_header(c)) in _ALIAS_INDEX})
        if score > best_score:
            best, best_score = index, score
    if best >= 0:
        return best
    for index, cells in enumerate(lines):
        if any(c.strip() for c in cells):
            return index
    return 0


def unique_headers(cells: list[str]) -> list[str]:
    """Column names, blank ones named by position and repeats numbered."""
    seen: Counter[str] = Counter()
    out = []
    for position, cell in enumerate(cells, start=1):
        name = cell.strip() or f"column {position}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """Column -> field for the columns whose names we recognise (first one wins)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        found = _ALIAS_INDEX.get(normalise_header(header))
        if found is not None and found not in taken:
            mapping[header] = found
            taken.add(found)
    return mapping


def resolve_mapping(headers: list[str], choice: MappingChoice) -> dict[str, str]:
    """The automatic mapping with a manager's overrides on top."""
    for column, target in choice.columns.items():
        if column not in headers:
            raise MappingError(
                f"The mapping file names column {column!r}, which the file does not have "
                f"(its columns: {', '.join(headers)})."
            )
        if target != IGNORE and target not in FIELDS:
            raise MappingError(
                f"The mapping file maps {column!r} to {target!r}, which is not a member field "
                f"(fields: {', '.join(FIELDS)}, or {IGNORE!r})."
            )
    for column in choice.date_orders:
        if column not in headers:
            raise MappingError(f"The mapping file sets a date order for unknown column {column!r}.")
    mapping = auto_mapping(headers)
    overridden = {f for c, f in choice.columns.items() if f != IGNORE}
    mapping = {c: f for c, f in mapping.items() if c not in choice.columns and f not in overridden}
    mapping.update({c: f for c, f in choice.columns.items() if f != IGNORE})
    doubled = [f for f, n in Counter(mapping.values()).items() if n > 1]
    if doubled:
        raise MappingError(f"The mapping file maps two columns to {doubled[0]!r}.")
    return {h: mapping[h] for h in headers if h in mapping}


@dataclass
class MemberPlan:
    """Rows ready to import (in file order), rows refused, the mapping used and notes."""

    mapping: dict[str, str]
    ready: list[ImportedMember] = field(default_factory=list)
    refused: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    cells: dict[str, str]  # field -> text
    name: str = ""
    member: ImportedMember | None = None
    problem: CellProblem | None = None
    phone_key: str = ""
    card_key: str = ""


def plan_members(
    lines: list[list[str]],
    choice: MappingChoice,
    existing: list[Member],
    plans: list[Plan],
    today: date,
    scope: str,
) -> MemberPlan:
    """Validate every row of a member file against the file itself and the studio."""
    header_at = find_header(lines)
    headers = unique_headers(lines[header_at] if lines else [])
    mapping = resolve_mapping(headers, choice)
    plan = MemberPlan(mapping)
    if header_at:
        plan.notes.append(f"The column names are on line {header_at + 1}; lines above are skipped.")
    unmapped = [h for h in headers if h not in mapping and not h.startswith("column ")]
    if unmapped:
        plan.notes.append(
            "Columns not imported: " + ", ".join(repr(h) for h in unmapped)
            + ". Map them in a mapping file (--mapping) if they hold member data."
        )
    fields = set(mapping.values())
    if "name" not in fields and not fields & {"first_name", "last_name"}:
        plan.notes.append(
            "No column holds the members' names, so no row can be imported. Name the column "
            "'Name' (or 姓名), or map it in a mapping file (--mapping)."
        )
    column_of = {f: c for c, f in mapping.items()}
    rows, empty = _rows(lines[header_at + 1 :], headers, mapping)
    if empty:
        plan.notes.append(f"Skipped {counted(empty, 'empty row')}.")
    orders = _date_orders(rows, column_of, choice, plan.notes)
    matcher = _PassMatcher(plans)
    seen_ids: Counter[str] = Counter()
    for row in rows:
        _read(row, column_of, orders, matcher, today, scope, seen_ids)
    _duplicates_in_file(rows)
    _duplicates_of_members(rows, existing)
    for row in rows:
        if row.problem is not None:
            plan.refused.append(
                ReportRow(row.number, REFUSE, row.name, row.problem.code, row.problem.reason)
            )
        elif row.member is not None:
            plan.ready.append(row.member)
    plan.notes.extend(matcher.notes())
    return plan


def _rows(
    lines: list[list[str]], headers: list[str], mapping: dict[str, str]
) -> tuple[list[_Row], int]:
    rows, empty = [], 0
    for number, cells in enumerate(lines, start=1):
        if not any(c.strip() for c in cells):
            empty += 1
            continue
        by_field = {
            mapping[h]: (cells[i] if i < len(cells) else "")
            for i, h in enumerate(headers)
            if h in mapping
        }
        rows.append(_Row(number, by_field))
    return rows, empty


def _date_orders(
    rows: list[_Row], column_of: dict[str, str], choice: MappingChoice, notes: list[str]
) -> dict[str, DateOrder]:
    """Day/month order per date column: from the mapping file, else from the data."""
    orders = {}
    for name in ("birthday", "expiry"):
        column = column_of.get(name)
        if column is None:
            continue
        if column in choice.date_orders:
            orders[name] = choice.date_orders[column]
            continue
        values = [r.cells.get(name, "") for r in rows]
        example = next((x.strip() for x in values if v.year_last_parts(x)), None)
        order, ambiguous = v.decide_order(values)
        orders[name] = order
        if example is None:
            continue
        if ambiguous:
            other = DateOrder.MONTH_FIRST.value
            notes.append(
                f"Column {column!r}: dates such as {example} could be day/month or month/day "
                "and no value tells which; they are read as day/month. If they are "
                f'month/day, put [dates] "{column}" = "{other}" in a mapping file (--mapping).'
            )
        else:
            reading = "day/month" if order is DateOrder.DAY_FIRST else "month/day"
            notes.append(f"Column {column!r}: dates are read as {reading}, as its values show.")
    return orders


def _join_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first  # 张 + 伟: family name first, no space
    return " ".join(p for p in (first, last) if p)


def _read(
    row: _Row,
    column_of: dict[str, str],
    orders: dict[str, DateOrder],
    matcher: _PassMatcher,
    today: date,
    scope: str,
    seen_ids: Counter[str],
) -> None:
    cells = row.cells

    def col(name: str) -> str:
        return column_of.get(name, name)

    name = " ".join(cells.get("name", "").split())
    if not name:
        name = _join_name(cells.get("first_name", ""), cells.get("last_name", ""))
    row.name = name
    try:
        phone = v.phone(cells.get("phone", ""), col("phone"))
        card = v.card_code(cells.get("card_code", ""), col("card_code"))
    except CellProblem as problem:
        row.problem = problem
        return
    row.phone_key = v.phone_key(phone) if phone else ""
    row.card_key = card.casefold()
    try:
        if not name:
            raise CellProblem(
                v.MISSING_REQUIRED,
                "This row has no name. Fill in the member's name, or delete the row if it is "
                "not a member, then import again.",
            )
        if len(name) > 200:
            raise CellProblem(
                v.INVALID_VALUE, "The name is longer than 200 characters. Shorten it."
            )
        email = v.email(cells.get("email", ""), col("email"))
        birthday = v.parse_date(
            cells.get("birthday", ""), col("birthday"), orders.get("birthday", DateOrder.DAY_FIRST),
            today, past=True,
        )
        expiry = v.parse_date(
            cells.get("expiry", ""), col("expiry"), orders.get("expiry", DateOrder.DAY_FIRST),
            today, past=False,
        )
        sessions_left = v.count(cells.get("sessions_left", ""), col("sessions_left"))
        content = "|".join(
            (scope, name.casefold(), row.phone_key, email.casefold(), row.card_key, str(birthday))
        )
        seen_ids[content] += 1
        member_id = str(uuid.uuid5(_NAMESPACE, f"member|{content}|{seen_ids[content]}"))
        current = matcher.current_pass(
            cells.get("pass_name", "").strip(), expiry, sessions_left, member_id, column_of
        )
    except CellProblem as problem:
        row.problem = problem
        return
    row.member = ImportedMember(
        row=row.number,
        member_id=member_id,
        name=name,
        phone=phone,
        email=email,
        card_code=card,
        birthday=birthday,
        notes=cells.get("notes", "").strip(),
        tier=cells.get("tier", "").strip(),
        current_pass=current,
    )


def _duplicates_in_file(rows: list[_Row]) -> None:
    """The first row with a phone or card owns it; later rows with it are refused."""
    phones: dict[str, int] = {}
    cards: dict[str, int] = {}
    for row in rows:
        first = None
        if row.phone_key and row.phone_key in phones:
            first, what = phones[row.phone_key], "phone number"
        elif row.card_key and row.card_key in cards:
            first, what = cards[row.card_key], "card code"
        if row.phone_key:
            phones.setdefault(row.phone_key, row.number)
        if row.card_key:
            cards.setdefault(row.card_key, row.number)
        if first is not None:
            row.member = None
            row.problem = CellProblem(
                v.DUPLICATE_IN_FILE,
                f"Row {first} has the same {what}. Keep one row per person (merge the two "
                "rows), then import again.",
            )


def _duplicates_of_members(rows: list[_Row], existing: list[Member]) -> None:
    """Rows for people the studio already has (imported before, or added at the desk)."""
    active = [m for m in existing if m.status is MemberStatus.ACTIVE]
    ids = {m.id for m in existing}
    phones = {v.phone_key(m.phone): m for m in active if m.phone}
    cards = {m.card_code.casefold(): m for m in active if m.card_code}
    for row in rows:
        if row.member is None:
            continue
        known, why = None, ""
        if row.member.member_id in ids or row.cells.get("member_id", "").strip() in ids:
            row.problem = CellProblem(
                v.DUPLICATE_MEMBER,
                "This member is already in the studio (imported before, or exported from "
                "it); nothing to do. Remove the row if you import the file again.",
            )
        elif row.phone_key and row.phone_key in phones:
            known, why = phones[row.phone_key], f"phone {row.member.phone}"
        elif row.card_key and row.card_key in cards:
            known, why = cards[row.card_key], f"card {row.member.card_code}"
        if known is not None:
            row.problem = CellProblem(
                v.DUPLICATE_MEMBER,
                f"{known.name} already has {why}. Remove this row (change that member at the "
                "desk instead), or correct the number, then import again.",
            )
        if row.problem is not None:
            row.member = None


class _PassMatcher:
    """Passes named in the file, matched to the studio's plans by name."""

    def __init__(self, plans: list[Plan]) -> None:
        self.by_name = {" ".join(p.name.split()).casefold(): p for p in plans}
        self.matched: Counter[str] = Counter()
        self.unmatched: Counter[str] = Counter()

    def current_pass(
        self,
        name: str,
        expiry: date | None,
        sessions_left: int | None,
        member_id: str,
        column_of: dict[str, str],
    ) -> ImportedPass | None:
        if not name and expiry is None and sessions_left is None:
            return None
        plan = self.by_name.get(" ".join(name.split()).casefold()) if name else None
        if plan is not None and plan.kind is EntitlementKind.STORED_VALUE:
            raise CellProblem(
                v.INVALID_VALUE,
                f"{plan.name!r} is a stored-value card; its balance is not imported from a "
                "file. Leave the pass columns empty for this row and top the card up at the "
                "desk after the import.",
            )
        if plan is not None:
            kind = plan.kind
        elif sessions_left is not None:
            kind = EntitlementKind.PACK
        elif expiry is not None:
            kind = EntitlementKind.MEMBERSHIP
        else:
            raise CellProblem(
                v.MISSING_REQUIRED,
                f"The pass {name!r} has neither an expiry date nor classes left. Fill in one "
                "of them (or clear the pass name), then import again.",
            )
        if kind is not EntitlementKind.MEMBERSHIP and sessions_left is None:
            column = column_of.get("sessions_left", "sessions left")
            raise CellProblem(
                v.MISSING_REQUIRED,
                f"The pass {name!r} is a class pack: fill in the classes left in column "
                f"{column!r}, then import again.",
            )
        if (
            kind is EntitlementKind.MEMBERSHIP
            and expiry is None
            and plan is not None
            and plan.validity_days
        ):
            column = column_of.get("expiry", "expiry")
            raise CellProblem(
                v.MISSING_REQUIRED,
                f"The pass {name!r} ends after {plan.validity_days} days: fill in its expiry "
                f"date in column {column!r}, then import again.",
            )
        if plan is not None:
            self.matched[plan.name] += 1
        else:
            self.unmatched[name or ""] += 1
        label = name or (plan.name if plan else _DEFAULT_PASS_NAMES[kind])
        return ImportedPass(
            entitlement_id=str(uuid.uuid5(_NAMESPACE, f"pass|{member_id}")),
            name=label,
            kind=kind,
            valid_until=expiry,
            sessions_left=0 if kind is EntitlementKind.MEMBERSHIP else sessions_left or 0,
            plan_id=plan.id if plan else None,
        )

    def notes(self) -> list[str]:
        out = [
            f"Pass {name!r} matches the studio's plan of that name "
            f"({counted(n, 'row')})."
            for name, n in sorted(self.matched.items())
        ]
        for name, n in sorted(self.unmatched.items()):
            if name:
                out.append(
                    f"Pass {name!r} matches no plan of the studio: a pass of that name is "
                    f"made for {counted(n, 'row')} (a pack when classes left are given, else "
                    "a membership)."
                )
            else:
                out.append(
                    f"{counted(n, 'row')} with classes left or an expiry but no pass name "
                    "get an 'Imported pack' or 'Imported membership'."
                )
        return out


_DEFAULT_PASS_NAMES = {
    EntitlementKind.PACK: "Imported pack",
    EntitlementKind.MEMBERSHIP: "Imported membership",
    EntitlementKind.DROP_IN: "Imported drop-in",
}
