"""Words on the screens, in the floor's language.

Every word a screen shows is a key in the message catalogues: `catalogues/<lang>/*.json`, one
flat JSON object per file (key -> text with `{name}` placeholders), all files of a language
merged. `en` is complete by definition; other languages fall back to `en` per key (a test holds
them complete). Numbers, percentages, durations and times are formatted by Babel for the locale,
never by hand."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LANGS: tuple[str, ...] = ("en", "zh-CN", "zh-TW", "ru")
DEFAULT_LANG = "en"
CATALOGUES = Path(__file__).parent / "catalogues"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """key -> text for `lang`, falling back to English for keys it lacks."""
    merged: dict[str, str] = {}
    for code in dict.fromkeys((DEFAULT_LANG, lang)):
        for path in sorted((CATALOGUES / code).glob("*.json")):
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def t(lang: str, key: str, **params: Any) -> str:
    """The text of `key` in `lang` with its parameters filled in; the key itself if unknown
    (so a missing word shows as a visible key, and the catalogue test names it)."""
    text = catalogue(lang if lang in LANGS else DEFAULT_LANG).get(key, key)
    return text.format(**params) if params else text
