"""The screens' dictionary (kiosk/assets/js/i18n.js): every text in Chinese has its English
fallback and the other way round, and no key is written twice (the later one would silently win)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

I18N_JS = Path(__file__).resolve().parent.parent / "kiosk" / "assets" / "js" / "i18n.js"
KEY = re.compile(r'^\s+"([^"]+)":', re.MULTILINE)


def _sections() -> tuple[list[str], list[str]]:
    text = I18N_JS.read_text(encoding="utf-8")
    zh_start, en_start = text.index('"zh-CN": {'), text.index("\n    en: {")
    en_end = text.index("\n  };", en_start)
    return KEY.findall(text[zh_start:en_start]), KEY.findall(text[en_start:en_end])


def test_both_languages_have_the_same_keys_once() -> None:
    zh, en = _sections()
    assert len(zh) > 400, "the dictionary was not found where expected"
    assert sorted(set(zh) - set(en)) == [], "Chinese texts without English"
    assert sorted(set(en) - set(zh)) == [], "English texts without Chinese"
    assert [k for k, n in Counter(zh).items() if n > 1] == []
    assert [k for k, n in Counter(en).items() if n > 1] == []


def test_every_static_text_on_the_pages_is_in_the_dictionary() -> None:
    zh, _ = _sections()
    pages = sorted((I18N_JS.parents[2]).glob("*.html"))
    used = {
        (page.name, key)
        for page in pages
        for key in re.findall(
            r'data-i18n(?:-placeholder|-title)?="([^"]+)"', page.read_text(encoding="utf-8")
        )
    }
    assert len(pages) >= 8
    assert sorted((page, key) for page, key in used if key not in set(zh)) == []
