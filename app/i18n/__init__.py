"""Words on the screens, in the floor's language.

Every word a screen shows is a key in the message catalogues: `catalogues/<lang>/*.json`, one
flat JSON object per file (key -> text with `{name}` placeholders), all files of a language
merged. `en` is complete by definition; other languages fall back to `en` per key (a test holds
them complete: `python -m app.i18n check`). Numbers, percentages, durations and times are
formatted by Babel for the locale (`app.i18n.formats`), never by hand; which language a request
gets is `app.i18n.negotiate`.

Counted words have plural forms: `count.agents.one`, `count.agents.other` in English;
`.one/.few/.many/.other` in Russian; `.other` alone in Chinese. `t(lang, "count.agents",
count=3)` picks the form by the language's CLDR plural rule and writes the count in the
locale's digits ("1,234" / "1 234").
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

# The languages, each with its Babel (CLDR) locale: a new language is a line here and its
# folder of catalogues/ (zh-TW is Traditional Chinese as written in Taiwan, not a script
# conversion of zh-CN).
LOCALES: dict[str, str] = {"en": "en", "zh-CN": "zh_Hans_CN", "zh-TW": "zh_Hant_TW", "ru": "ru"}
LANGS: tuple[str, ...] = tuple(LOCALES)
DEFAULT_LANG = "en"
CATALOGUES = Path(__file__).parent / "catalogues"
PLURAL_CATEGORIES: tuple[str, ...] = ("zero", "one", "two", "few", "many", "other")


@cache
def locale(lang: str) -> Locale:
    """The Babel locale of a supported language (English for anything else)."""
    return Locale.parse(LOCALES.get(lang, LOCALES[DEFAULT_LANG]))


def read_file(path: Path) -> dict[str, str]:
    """One catalogue file: a flat JSON object of text; a duplicated key or a value that is not
    text is an error naming the file (json.loads would silently keep the last duplicate)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ValueError(f"{path}: key {key!r} appears twice")
            out[key] = value
        return out

    data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a catalogue is one JSON object of key -> text")
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{path}: values must be text, not for {', '.join(bad)}")
    return data


@cache
def own(lang: str) -> dict[str, str]:
    """The keys `lang`'s own files define (no fallback): what the catalogue check compares."""
    merged: dict[str, str] = {}
    for path in sorted((CATALOGUES / lang).glob("*.json")):
        merged.update(read_file(path))
    return merged


@cache
def catalogue(lang: str) -> dict[str, str]:
    """key -> text for `lang`, falling back to English for keys it lacks."""
    merged: dict[str, str] = {}
    for code in dict.fromkeys((DEFAULT_LANG, lang)):
        merged.update(own(code))
    return merged


class _Visible(dict[str, Any]):
    """Format parameters that leave a missing `{name}` visible instead of failing the page."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a text (ValueError if its braces do not parse)."""
    return {
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(text)
        if field is not None
    }


def plural_category(lang: str, count: float) -> str:
    """The CLDR plural category of `count` in `lang`: 'one', 'few', 'many', 'other', ..."""
    return str(locale(lang).plural_form(abs(count)))


def t(lang: str, key: str, **params: Any) -> str:
    """The text of `key` in `lang` with its parameters filled in; the key itself if unknown
    (so a missing word shows as a visible key, and the catalogue test names it).

    A key with plural forms (`key.one`, `key.other`, ...) takes its form from `count`."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    words = catalogue(lang)
    text = words.get(key)
    count = params.get("count")
    if text is None and isinstance(count, int | float) and not isinstance(count, bool):
        text = words.get(f"{key}.{plural_category(lang, count)}") or words.get(f"{key}.other")
        if text is not None:
            params["count"] = format_decimal(count, locale=locale(lang))
    if text is None:
        return key
    if not params:
        return text
    try:
        return text.format_map(_Visible(params))
    except (ValueError, IndexError, AttributeError):  # a malformed text must not cost a page
        return text


def state_words(lang: str, state: str | None, reason: str | None = None) -> str:
    """An agent's state in words, with the away reason: "Away · Lunch", "示忙 · 午餐". A reason
    the catalogue does not know (ACDs send free text, e.g. a queue_log pause reason) is shown
    as sent; no state at all is "unknown" in the language's own words."""
    if not state:
        return t(lang, "status.none")
    words = t(lang, f"state.{state}") if f"state.{state}" in catalogue(lang) else state
    if state != "away":
        return words
    if not reason:
        return f"{words} · {t(lang, 'reason.unspecified')}"
    known = f"reason.{reason.strip().lower()}"
    return f"{words} · {t(lang, known) if known in catalogue(lang) else reason.strip()}"
