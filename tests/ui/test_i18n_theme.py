"""Every user-visible string and domain code is translated; the language follows settings."""

from __future__ import annotations

import json
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from frontdesk.ui import i18n
from frontdesk.ui.context import DeskContext
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.theme import Theme

from .conftest import DeskWorld
from .i18n_scan import domain_codes, domain_fixes, non_literal_tr_calls, ui_strings

Make = Callable[..., tuple[MainWindow, DeskContext]]
CATALOGUE = json.loads((i18n.RESOURCES / "zh_CN.json").read_text(encoding="utf-8"))


def test_every_ui_string_has_a_chinese_translation() -> None:
    strings = ui_strings()
    assert len(strings) > 200  # the scanner finds the ui's strings at all
    missing = {text: where for text, where in strings.items() if not CATALOGUE.get(text)}
    assert missing == {}


def test_translations_keep_their_fields() -> None:
    import string

    for text in ui_strings():
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        translated = {f for _, f, _, _ in string.Formatter().parse(CATALOGUE[text]) if f}
        assert fields == translated, text


def test_no_tr_call_hides_its_text_from_the_scanner() -> None:
    assert non_literal_tr_calls() == []


def test_every_domain_code_and_fix_is_translated() -> None:
    codes = domain_codes()
    assert {"class_full", "waiver_missing", "over_capacity", "no_show", "alipay"} <= codes
    assert sorted(c for c in codes if f"code.{c}" not in CATALOGUE) == []
    fixes = domain_fixes()
    assert "Sell a drop-in or a pass." in fixes
    assert sorted(f for f in fixes if f"fix.{f}" not in CATALOGUE) == []


def test_codes_translate_by_code() -> None:
    i18n.set_language("zh_CN")
    assert i18n.tr_code("class_full", "Yoga is full.") == "课程已满。"
    assert i18n.tr_code("staff_note", "Staff note: x", note="膝伤") == "员工备注：膝伤"
    assert i18n.tr_code("staff_note", "Staff note: x") == "员工备注"
    assert i18n.tr_fix("any", "Sell a drop-in or a pass.") == "请出售单次课或会员卡。"
    assert i18n.tr_code("never_heard_of", "English fallback") == "English fallback"
    i18n.set_language("en")
    assert i18n.tr_code("class_full", "Yoga is full.") == "Yoga is full."


def test_language_follows_the_system_and_the_settings(
    qtbot: QtBot, make_window: Make, world: DeskWorld, monkeypatch: object
) -> None:
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")  # type: ignore[attr-defined]
    assert i18n.system_language() == "zh_CN"
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")  # type: ignore[attr-defined]
    assert i18n.system_language() == "en"
    window, ctx = make_window()
    assert window.desk is not None
    assert window.desk.tabs.tabText(0) == "Desk"
    settings = window.desk.settings
    settings.language.setCurrentIndex(settings.language.findData("zh_CN"))
    settings.save()
    assert i18n.language() == "zh_CN"
    assert window.desk is not None
    assert window.desk.tabs.tabText(0) == "前台"
    assert window.desk.tabs.currentWidget() is window.desk.settings
    assert window.header.lock.text() == "锁屏"
    assert window.desk.bar is not None
    assert window.desk.bar.field.placeholderText().startswith("扫描会员卡")
    assert ctx.staff is not None  # the same person stays at the desk
    saved = json.loads((ctx.data_dir / "settings.json").read_text())
    assert saved["language"] == "zh_CN"
    window.desk.bar.field.setText(world.members["nowaiver"].card_code)
    window.desk.bar.enter()
    assert "没有签署免责声明" in window.desk.bar.banner.heading.text()
    assert "经理可以越权放行" in window.desk.bar.banner.detail.text()


def test_tenant_branding_is_applied(make_window: Make, world: DeskWorld) -> None:
    window, _ctx = make_window()
    assert window.header.name.text() == "Lotus Yoga 莲花瑜伽"
    assert "#6B3F8C" in window.styleSheet()
    theme = Theme.of(world.tenant)
    assert theme.on_primary() == "#ffffff"  # white text on the dark purple


def test_bad_branding_falls_back_safely() -> None:
    from frontdesk.domain.model import Branding, Tenant

    odd = Tenant(
        "t", "odd", "Odd Gym", branding=Branding(primary_color="purple;}", logo_png_base64="%%%")
    )
    theme = Theme.of(odd)
    assert theme.name == "Odd Gym" and theme.primary == "#2F6F5E" and theme.logo == b""
    assert theme.logo_pixmap(20) is None
