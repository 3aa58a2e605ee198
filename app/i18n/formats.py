"""Numbers, percentages, durations, dates and times as each language writes them (Babel/CLDR).

Every function takes the language code first (`en`, `zh-CN`, `zh-TW`, `ru`) and returns text;
a missing value (None: "no data") is written `NO_DATA`, never 0. Times are shown in the center's
time zone: pass it as `tz` (an IANA name or a tzinfo); a naive datetime is taken as UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from app.i18n import locale
from app.metrics.registry import BY_NAME

NO_DATA = "—"
Width = Literal["long", "short", "narrow"]
Style = Literal["short", "medium", "long", "full"]


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def number(lang: str, value: float | None, digits: int = 0) -> str:
    """1,234.5 (en), 1 234,5 (ru), with exactly `digits` decimals."""
    if value is None or _missing(value):
        return NO_DATA
    return format_decimal(value, format=_pattern(digits), locale=locale(lang))


def percent(lang: str, ratio: float | None, digits: int = 0) -> str:
    """A ratio (0.853) as a percentage in the locale's pattern: 85% (en, zh), 85 % (ru)."""
    if ratio is None or _missing(ratio):
        return NO_DATA
    loc = locale(lang)
    pattern = loc.percent_formats[None].pattern.replace("#,##0", _pattern(digits), 1)
    return format_percent(ratio, format=pattern, locale=loc)


def signed(lang: str, value: float | None, digits: int = 0) -> str:
    """A number with its sign always shown (NPS +12, a change of -3)."""
    if value is None or _missing(value):
        return NO_DATA
    p = _pattern(digits)
    return format_decimal(value, format=f"+{p};-{p}", locale=locale(lang))


def _split(seconds: float) -> tuple[str, int, int, int]:
    total = round(abs(seconds))
    sign = "-" if seconds < 0 and total else ""
    return sign, total // 3600, total % 3600 // 60, total % 60


def clock(lang: str, seconds: float | None) -> str:
    """A duration as a stopwatch shows it: 0:42, 3:05, 1:02:05 (the same digits in our
    languages; the language is taken for the day a locale writes them differently)."""
    del lang
    if seconds is None or _missing(seconds):
        return NO_DATA
    sign, h, m, s = _split(seconds)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def duration(lang: str, seconds: float | None, width: Width = "short") -> str:
    """A duration in words, to the minute from an hour and to the second below: 45 sec,
    3 min 05 sec, 1 hr 02 min (en); 1 ч 02 мин (ru); 1小时02分钟 (zh-CN); 1 小時 02 分鐘 (zh-TW).
    The unit words are CLDR's; the long width writes whole numbers so each unit agrees with
    its number (1 час 2 минуты) and leaves out a zero second part. Parts are joined by a space,
    or solid where CLDR joins units solid and writes them without spaces (zh-CN 1小时02分钟);
    never with a comma."""
    if seconds is None or _missing(seconds):
        return NO_DATA
    sign, h, m, s = _split(seconds)
    loc = locale(lang)

    def unit(value: int, name: str, pad: bool) -> str:
        shown: int | str = f"{value:02d}" if pad and width != "long" else value
        return format_unit(shown, f"duration-{name}", length=width, locale=loc)

    if h:
        parts = [unit(h, "hour", False), unit(m, "minute", True)]
    elif m:
        parts = [unit(m, "minute", False), unit(s, "second", True)]
    else:
        parts = [unit(s, "second", False)]
    if width == "long" and len(parts) == 2 and (m if h else s) == 0:
        parts = parts[:1]  # "2 hours", not "2 hours 0 minutes"
    solid = format_list(["1", "2"], style="unit-narrow", locale=loc) == "12"
    return sign + ("" if solid and not any(" " in p for p in parts) else " ").join(parts)


def timedelta_words(
    lang: str,
    seconds: float | None,
    *,
    width: Width = "long",
    direction: bool = False,
    granularity: Literal["second", "minute", "hour", "day"] = "second",
) -> str:
    """Babel's rounded duration: "3 minutes", "3 мин", "3分钟"; with `direction`, "3 minutes
    ago" (for the age of data: "updated 12 seconds ago")."""
    if seconds is None or _missing(seconds):
        return NO_DATA
    return format_timedelta(
        timedelta(seconds=-seconds if direction else seconds),
        granularity=granularity,
        add_direction=direction,
        format=width,
        locale=locale(lang),
    )


def _zone(tz: str | tzinfo | None) -> tzinfo:
    if tz is None:
        return UTC
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def time_of_day(
    lang: str,
    moment: datetime | None,
    tz: str | tzinfo | None = None,
    *,
    seconds: bool = False,
) -> str:
    """A moment's local time in `tz`: 9:05 AM (en), 09:05 (ru), 09:05 (zh)."""
    if moment is None:
        return NO_DATA
    return format_time(
        _aware(moment), "medium" if seconds else "short", tzinfo=_zone(tz), locale=locale(lang)
    )


def day(
    lang: str,
    value: date | datetime | None,
    tz: str | tzinfo | None = None,
    style: Style = "medium",
) -> str:
    """A date (a datetime is first moved into `tz`): Dec 1, 2026; 1 дек. 2026 г.; 2026年12月1日."""
    if value is None:
        return NO_DATA
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_zone(tz)).date()
    return format_date(value, style, locale=locale(lang))


def moment(
    lang: str, value: datetime | None, tz: str | tzinfo | None = None, style: Style = "short"
) -> str:
    """Date and time in `tz`: 12/1/26, 9:05 AM (en); 01.12.2026, 09:05 (ru)."""
    if value is None:
        return NO_DATA
    return format_datetime(_aware(value), style, tzinfo=_zone(tz), locale=locale(lang))


def metric(lang: str, name: str, value: float | None) -> str:
    """A metric's value by its unit in the registry: ratios as percentages, seconds on a
    stopwatch, counts whole, rates and scores with the digits they are kept to."""
    if value is None or _missing(value):
        return NO_DATA
    unit = BY_NAME[name].unit
    if unit == "ratio":
        return percent(lang, value, 0)
    if unit == "seconds":
        return clock(lang, value)
    if unit == "count":
        return number(lang, value, 0)
    if unit == "nps":
        return signed(lang, value, 0)
    if unit in ("per_hour", "score"):
        return number(lang, value, 1)
    raise ValueError(f"{name} ({unit}) has no single value to format")
