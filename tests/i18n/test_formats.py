"""Numbers, percentages, durations and times as each language writes them (figures are CLDR's,
through Babel; these pin what a viewer sees so a Babel upgrade that changes them is noticed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.i18n import formats as f
from app.metrics.registry import METRICS

NBSP = "\xa0"


def test_numbers_group_and_mark_decimals_per_locale() -> None:
    assert f.number("en", 1234567.891, 1) == "1,234,567.9"
    assert f.number("ru", 1234567.891, 1) == f"1{NBSP}234{NBSP}567,9"
    assert f.number("zh-CN", 1234.5) == "1,234"  # half to even, as CLDR rounds
    assert f.number("zh-TW", 12) == "12"
    assert f.signed("en", 12) == "+12" and f.signed("ru", -3.4) == "-3"


def test_percentages_follow_the_locale_pattern() -> None:
    assert f.percent("en", 0.853) == "85%"
    assert f.percent("zh-CN", 0.8537, 1) == "85.4%"
    assert f.percent("ru", 0.8537, 1) == f"85,4{NBSP}%"
    assert f.percent("ru", 1.0) == f"100{NBSP}%"


def test_missing_values_are_a_dash_never_zero() -> None:
    for lang in ("en", "zh-CN", "zh-TW", "ru"):
        assert f.number(lang, None) == f.NO_DATA
        assert f.percent(lang, None) == f.NO_DATA
        assert f.percent(lang, float("nan")) == f.NO_DATA
        assert f.clock(lang, None) == f.NO_DATA
        assert f.duration(lang, None) == f.NO_DATA
        assert f.time_of_day(lang, None) == f.NO_DATA
        assert f.metric(lang, "service_level", None) == f.NO_DATA


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0:00"), (5, "0:05"), (185, "3:05"), (599.6, "10:00"), (3725, "1:02:05"), (-5, "-0:05")],
)
def test_clock(seconds: float, shown: str) -> None:
    assert f.clock("ru", seconds) == shown


@pytest.mark.parametrize(
    ("lang", "seconds", "width", "shown"),
    [
        ("en", 3725, "short", "1 hr 02 min"),
        ("en", 185, "short", "3 min 05 sec"),
        ("en", 45, "narrow", "45s"),
        ("en", 7200, "long", "2 hours"),
        ("ru", 3725, "short", "1 ч 02 мин"),
        ("ru", 185, "short", "3 мин 05 с"),
        ("ru", 3725, "long", "1 час 2 минуты"),
        ("ru", 300, "long", "5 минут"),
        ("zh-CN", 3725, "short", "1小时02分钟"),
        ("zh-CN", 185, "short", "3分钟05秒"),
        ("zh-TW", 3725, "short", "1 小時 02 分鐘"),
        ("zh-TW", 45, "short", "45 秒"),
    ],
)
def test_durations_in_words(lang: str, seconds: float, width: f.Width, shown: str) -> None:
    assert f.duration(lang, seconds, width).replace(NBSP, " ") == shown


def test_babel_timedelta_for_ages() -> None:
    assert f.timedelta_words("en", 12, direction=True) == "12 seconds ago"
    assert f.timedelta_words("ru", 12, direction=True) == "12 секунд назад"
    assert f.timedelta_words("zh-CN", 185) == "3分钟"
    assert f.timedelta_words("zh-TW", 130, width="short") == "2 分鐘"


def test_times_are_shown_in_the_centers_zone() -> None:
    utc = datetime(2026, 12, 1, 14, 5, 7, tzinfo=UTC)
    assert f.time_of_day("ru", utc, "Europe/Moscow") == "17:05"
    assert f.time_of_day("ru", utc, ZoneInfo("Europe/Moscow"), seconds=True) == "17:05:07"
    assert f.time_of_day("zh-CN", utc, "Asia/Shanghai") == "22:05"
    assert f.time_of_day("en", utc, "America/New_York").replace("\u202f", " ") == "9:05 AM"
    assert f.time_of_day("ru", utc.replace(tzinfo=None), "Europe/Moscow") == "17:05"  # naive=UTC
    # a moment after local midnight belongs to the next local day
    late = datetime(2026, 12, 1, 20, 5, tzinfo=UTC)
    assert f.day("zh-CN", late, "Asia/Shanghai") == "2026年12月2日"
    assert f.day("ru", date(2026, 12, 1)) == "1 дек. 2026\u202fг."
    assert f.moment("ru", utc, "Europe/Moscow") == "01.12.2026, 17:05"
    assert f.moment("zh-CN", utc, "Asia/Shanghai") == "2026/12/1 22:05"


def test_every_metric_value_formats_by_its_unit() -> None:
    assert f.metric("en", "service_level", 0.8) == "80%"
    assert f.metric("ru", "aht_s", 305.4) == "5:05"
    assert f.metric("ru", "handled", 1200) == f"1{NBSP}200"
    assert f.metric("zh-CN", "nps", 12.4) == "+12"
    assert f.metric("en", "calls_per_hour", 7.25) == "7.2"
    for m in METRICS:
        if m.unit != "state":
            assert f.metric("ru", m.name, 1) != f.NO_DATA
    with pytest.raises(ValueError, match="agents_by_state"):
        f.metric("en", "agents_by_state", 1)
