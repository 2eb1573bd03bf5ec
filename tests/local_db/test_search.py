"""Member search: names in any script and position, phones, cards, pinyin, readings."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdesk.local_db import Desk
from frontdesk.local_db.search import match_expression, member_terms
from tests.replica_fixture import load_replica
from tests.studio import Studio


@pytest.fixture
def people(tmp_path: Path) -> Desk:
    studio = Studio()
    for name, phone, card in [
        ("张伟", "138 0013 8000", "A100"),
        ("曾小明", "+86 139-1234-5678", "B200"),
        ("单丽", "13700000001", "C300"),
        ("Anna Lee", "(555) 010-4242", "D400"),
        ("José Álvarez", "5550109999", "E500"),
        ("王芳", "", "F600"),
    ]:
        studio.member(name, phone=phone, card_code=card)
    return Desk(load_replica(tmp_path / "r.db", studio))


def names(desk: Desk, query: str) -> list[str]:
    return [hit.name for hit in desk.views.search(query, Studio.now.date(), alerts=False)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张伟", "张伟"),  # a two-character Chinese name, whole
        ("伟", "张伟"),  # the given name alone
        ("zhangwei", "张伟"),  # full pinyin
        ("zw", "张伟"),  # initials
        ("wei", "张伟"),  # the given name's pinyin
        ("zengxiaoming", "曾小明"),  # surname reading zeng
        ("cengxiaoming", "曾小明"),  # the common reading of 曾
        ("shanli", "单丽"),  # surname reading shan
        ("danli", "单丽"),
        ("sl", "单丽"),
        ("8000", "张伟"),  # last four digits
        ("138 0013 8000", "张伟"),  # phone as typed, with spaces
        ("139-1234-5678", "曾小明"),  # phone with dashes, without country code
        ("4242", "Anna Lee"),
        ("lee", "Anna Lee"),  # a later word of a Latin name
        ("anna l", "Anna Lee"),
        ("jose", "José Álvarez"),  # accents folded
        ("alvarez", "José Álvarez"),
        ("d400", "Anna Lee"),  # card code, any case
        ("王芳", "王芳"),
        ("ＡＮＮＡ", "Anna Lee"),  # full-width letters from a Chinese keyboard
    ],
)
def test_finds(people: Desk, query: str, expected: str) -> None:
    assert names(people, query)[:1] == [expected]


def test_no_match_and_empty(people: Desk) -> None:
    assert names(people, "zzzz") == []
    assert names(people, "   ") == []
    assert names(people, '"*()') == []


def test_exact_card_ranks_first(tmp_path: Path) -> None:
    studio = Studio()
    studio.member("Card Holder", card_code="7777")
    studio.member("Phone Person", phone="1390000777")
    desk = Desk(load_replica(tmp_path / "r.db", studio))
    assert names(desk, "7777")[0] == "Card Holder"


def test_search_sees_pending_new_member(people: Desk) -> None:
    staff = people.replica.meta("staff_id") or ""
    recorded = people.act("add_member", staff, Studio.now, name="李雷", phone="13911112222")
    assert recorded.seq is not None
    assert names(people, "lilei") == ["李雷"]
    assert names(people, "2222") == ["李雷"]


def test_terms_are_plain_tokens() -> None:
    terms = member_terms("曾伟", "138", "x-1", "a@b.cn").split()
    assert "zengwei" in terms and "cengwei" in terms and "zw" in terms and "cw" in terms
    assert all(t.isalnum() for t in terms)
    assert match_expression("a b") == '"a"* "b"*'
