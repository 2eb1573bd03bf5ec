"""Member search terms for rush hour: names in any script, phones, cards, pinyin.

Each member gets one FTS5 document of terms, matched by token prefix, so a query costs
an index look-up whatever the number of members. Chinese names are indexed by every
suffix (so two-character names and the given name alone match), by full pinyin and by
initials, with the common alternative readings of polyphonic surnames.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d")

#: Polyphonic characters whose surname reading differs from the common one.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "曾": ("zeng", "ceng"),
    "单": ("shan", "dan"),
    "解": ("xie", "jie"),
    "仇": ("qiu", "chou"),
    "查": ("zha", "cha"),
    "区": ("ou", "qu"),
    "朴": ("piao", "pu"),
    "乐": ("yue", "le"),
    "尉": ("yu", "wei"),
    "覃": ("qin", "tan"),
    "盖": ("ge", "gai"),
    "缪": ("miao", "mou"),
    "翟": ("zhai", "di"),
    "召": ("shao", "zhao"),
    "种": ("chong", "zhong"),
    "秘": ("bi", "mi"),
    "长": ("chang", "zhang"),
    "重": ("chong", "zhong"),
    "沈": ("shen", "chen"),
    "石": ("shi", "dan"),
    "黑": ("he", "hei"),
    "句": ("gou", "ju"),
}


def fold(text: str) -> str:
    """Case-folded NFKC: full-width letters and digits become plain ones."""
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=65536)
def _char_pinyin(char: str) -> str:
    # Imported on the first Chinese name, without the phrase dictionary: readings are
    # looked up one character at a time, which only uses the character dictionary (the
    # same readings for all 27,000 CJK characters, checked), and parsing the phrases
    # (one json.loads holding the GIL) was most of an import of 0.25-2.4 s.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    from pypinyin import lazy_pinyin

    return str(lazy_pinyin(char)[0])


def _readings(run: str) -> list[list[str]]:
    """Syllable lists for a CJK run; the first character may have surname readings."""
    syllables = [_char_pinyin(c) for c in run]
    variants = [syllables]
    for alt in SURNAME_READINGS.get(run[0], ()):
        if alt != syllables[0]:
            variants.append([alt, *syllables[1:]])
    return variants


def digits(text: str) -> str:
    return "".join(_DIGITS.findall(unicodedata.normalize("NFKC", text)))


def member_terms(name: str, phone: str, card_code: str, email: str) -> str:
    """The FTS document for one member (space-separated, each term alphanumeric)."""
    terms: set[str] = set()
    folded = fold(name)
    words = _WORD.findall(folded)
    terms.update(words)
    if len(words) > 1:
        terms.add("".join(words))
    for run in _CJK.findall(folded):
        terms.update(run[i:] for i in range(len(run)))
        for syllables in _readings(run):
            for i in range(len(syllables)):
                terms.add("".join(syllables[i:]))
                terms.add("".join(s[0] for s in syllables[i:]))
    number = digits(phone)
    if number:
        terms.update(number[i:] for i in range(max(len(number) - 3, 1)))
    card = fold(card_code)
    if card:
        terms.update(_WORD.findall(card))
        terms.add("".join(_WORD.findall(card)))
    terms.update(_WORD.findall(fold(email)))
    return " ".join(sorted(t for t in terms if t))


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH string for what staff typed, or None when nothing is searchable."""
    folded = fold(query).strip()
    if not folded:
        return None
    raw_digits = digits(folded)
    if raw_digits and not re.search(r"[^\d\s\-+().]", folded):
        tokens = [raw_digits]  # a phone typed with spaces or dashes is one number
    else:
        tokens = _WORD.findall(folded)
    if not tokens:
        return None
    return " ".join(f'"{t}"*' for t in tokens)


def rowid_of(member_id: str) -> int:
    """A stable 63-bit rowid for a member's search document."""
    return int.from_bytes(hashlib.blake2b(member_id.encode(), digest_size=8).digest()) >> 1


@dataclass(frozen=True)
class Hit:
    member_id: str
    name: str
    phone: str
    card_code: str
    score: int


def rank(query: str, hits: list[Hit]) -> list[Hit]:
    """Best match first: card or id, then phone, then exact name, name start, the rest."""
    q = fold(query).strip()
    q_digits = digits(q)
    compact = "".join(_WORD.findall(q))

    def score(hit: Hit) -> tuple[int, str]:
        name = fold(hit.name)
        if q in (fold(hit.card_code), hit.member_id):
            s = 0
        elif q_digits and len(q_digits) >= 4 and digits(hit.phone).endswith(q_digits):
            s = 1
        elif name == q or "".join(_WORD.findall(name)) == compact:
            s = 2
        elif name.startswith(q):
            s = 3
        else:
            s = 4
        return s, name

    return sorted(hits, key=score)
