"""What the desk must translate: tr("...") literals in the ui, and every domain code."""

from __future__ import annotations

import ast
import enum
from pathlib import Path

from frontdesk.domain import model

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "frontdesk" / "ui"
CODE_SOURCES = [ROOT / "frontdesk" / p for p in ("domain", "local_db", "sync")]

#: Codes made at run time (f-strings, rule reasons) or answered by the cloud at sign-in.
DYNAMIC_CODES = {
    *(
        f"unknown_{what}"
        for what in (
            "booking",
            "class_type",
            "entitlement",
            "location",
            "member",
            "plan",
            "sale",
            "session",
            "command",
        )
    ),
    "daily_limit_reached",
    "no_credits_left",
    "class_type_not_covered",
    "frozen",
    "not_started",
    "refunded",
    "already_checked_in",
    "no_booking_now",
    "unknown_member",
    "unknown_session",
    "bad_credentials",
    "rate_limited",
    "invalid_token",
    "token_expired",
    "device_revoked",
    "unreachable",
    "server_error",
    "bad_answer",
    "unpaid",
}
#: Enum values shown in tables (statuses, roles, kinds, payment methods).
ENUMS: list[type[enum.Enum]] = [
    model.BookingStatus,
    model.Role,
    model.EntitlementKind,
    model.PaymentMethod,
    model.AlertCode,
]
#: Command names shown in the attention list and the overrides report.
COMMAND_NAMES = {
    "check_in",
    "walk_in",
    "book",
    "cancel_booking",
    "sell",
    "mark_no_show",
    "record_scan",
    "undo_check_in",
    "waive_penalty",
    "promote_from_waitlist",
    "refund",
    "freeze",
    "unfreeze",
    "cancel_session",
    "change_capacity",
    "mark_paid",
    "sign_waiver",
    "add_member",
    "edit_member",
    "top_up",
    "record_feedback",
}


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _constants(node: ast.AST | None) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def ui_strings() -> dict[str, str]:
    """Every tr("...") literal in the ui sources, with where it is."""
    found: dict[str, str] = {}
    for path in sorted(UI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree):
            if _name(call) == "tr" and call.args:
                for text in _constants(call.args[0]):
                    found.setdefault(text, f"{path.relative_to(ROOT)}:{call.lineno}")
    return found


def non_literal_tr_calls() -> list[str]:
    """tr(...) calls whose text the scanner cannot see (they would escape translation)."""
    bad = []
    for path in sorted(UI.rglob("*.py")):
        if path.name == "i18n.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree):
            if _name(call) == "tr" and call.args and not _constants(call.args[0]):
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    return bad


def domain_codes() -> set[str]:
    codes = set(DYNAMIC_CODES) | COMMAND_NAMES
    for enum_type in ENUMS:
        codes |= {str(member.value) for member in enum_type}
    for folder in CODE_SOURCES:
        for path in folder.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for call in _calls(tree):
                if (
                    _name(call) in ("Refused", "_refusal", "_rejected", "warn", "CloudError")
                    and call.args
                ):
                    index = 1 if _name(call) == "CloudError" else 0
                    if len(call.args) > index:
                        codes.update(_constants(call.args[index]))
                for keyword in call.keywords:
                    if keyword.arg == "code":
                        codes.update(_constants(keyword.value))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.targets[0], ast.Subscript)
                    and _constants(node.targets[0].slice) == ["code"]
                ):
                    codes.update(_constants(node.value))
    return {c for c in codes if c and c != "ok"}


def domain_fixes() -> set[str]:
    """The fixed sentences the domain gives as what to do about a refusal or warning."""
    fixes = set()
    for folder in CODE_SOURCES:
        for path in folder.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for call in _calls(tree):
                if (
                    _name(call) in ("Refused", "_refusal", "_rejected", "warn")
                    and len(call.args) >= 3
                ):
                    fixes.update(_constants(call.args[2]))
                for keyword in call.keywords:
                    if keyword.arg == "fix":
                        fixes.update(_constants(keyword.value))
    return {f for f in fixes if f}
