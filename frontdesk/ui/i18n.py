"""Translations: English source strings, Chinese from resources/i18n/zh_CN.json.

`tr("Check in")` returns the text in the current language; `{name}` fields are filled
from keyword arguments after the look-up, so translators can move them. Domain outcome
codes (refusals, warnings, alerts) are translated by code with `tr_code`, because the
domain's own messages are English sentences.
"""

from __future__ import annotations

import json
import locale
import os
from functools import cache

from .resources import resources_dir

LANGUAGES = ("en", "zh_CN")
RESOURCES = resources_dir() / "i18n"

_current = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    path = RESOURCES / f"{language}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def system_language() -> str:
    """zh_CN when the system locale is Chinese, else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(variable, "")
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    found = locale.getlocale()[0] or ""
    return "zh_CN" if found.lower().startswith("zh") else "en"


def set_language(language: str) -> None:
    """ "system", "en" or "zh_CN"."""
    global _current
    _current = system_language() if language in ("", "system") else language
    if _current not in LANGUAGES:
        _current = "en"


def language() -> str:
    return _current


def tr(text: str, **fields: object) -> str:
    translated = catalogue(_current).get(text, text) if _current != "en" else text
    return translated.format(**fields) if fields else translated


def tr_code(code: str, english: str = "", **fields: object) -> str:
    """A domain code's text: the Chinese by code, or the domain's English message.

    In English the domain's own message is best (it names the member and class); in
    Chinese the code's translation is used, and an unknown code falls back to English.
    """
    if _current == "en":
        return english or code.replace("_", " ").capitalize()
    text = catalogue(_current).get(f"code.{code}")
    if text is None:
        return english or code
    return text.format_map(_Blank(fields)).rstrip("：: ")


class _Blank(dict[str, object]):
    """Fields a caller did not pass read as empty (a code's text may name more)."""

    def __missing__(self, key: str) -> str:
        return ""


def tr_fix(code: str, english: str = "") -> str:
    """What to do about a refusal, by code (empty when the domain gave no fix)."""
    if not english:
        return ""
    if _current == "en":
        return english
    # Fixes are a few fixed sentences shared by many codes: translated by their text.
    return catalogue(_current).get(f"fix.{english}", english)


def tr_status(status: str) -> str:
    """Booking statuses and other enum values shown in tables."""
    return tr_code(status, status.replace("_", " ").capitalize())
