"""Values and flags in words, on the server (CSV exports, the CLI, the API's flag texts).
The browser writes the same values with the same rules (dashboard/assets/core.js, `fmt`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.i18n import t


def fmt(value: Any, unit: str, lang: str = "en") -> str:
    """One value as a screen writes it; "–" for no value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return t(lang, "common.none")
    if unit == "text" or isinstance(value, str):
        return str(value)
    v = float(value)
    if unit == "percent":
        return f"{v * 100:.0f}%"
    if unit == "seconds":
        return duration(v)
    if unit == "nps":
        return f"{v:+.0f}"
    if unit == "per_hour":
        return f"{v:.1f}{t(lang, 'common.unit.per_hour')}"
    if unit == "score":
        return f"{v:.0f}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.0f}"


def duration(seconds: float) -> str:
    s = max(0, int(seconds))
    h, m, sec = s // 3600, (s % 3600) // 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


PARAM_UNITS = {"edge": "percent", "mine": "percent", "theirs": "percent"}


def flag_text(flag: Mapping[str, Any], lang: str = "en") -> str:
    """A scorecard flag ({"code", "params"}) in words."""
    params: dict[str, str] = {}
    for name, value in (flag.get("params") or {}).items():
        if name in ("peer", "weak"):
            params[name] = t(lang, f"common.{name}.{value}")
        else:
            params[name] = fmt(value, PARAM_UNITS.get(name, "count"), lang)
    return t(lang, f"flag.{flag['code']}", **params)


# a CSV column's unit where its name does not say it (names ending in _s are seconds)
CSV_PERCENT = frozenset(
    {
        "service_level",
        "abandon_rate",
        "fcr",
        "fcr_mature",
        "csat",
        "occupancy",
        "adherence",
        "transfer_rate",
        "short_call_rate",
        "agent_hangup_rate",
    }
)
CSV_TIMES = frozenset({"queued_at", "left_at", "answered_at", "handled_at", "state_since"})


def csv_header(name: str, tz: str) -> str:
    """A column's header: times say the zone they are written in."""
    return f"{name} ({tz})" if name in CSV_TIMES else name


def csv_value(name: str, value: Any, tz: str) -> Any:
    """A CSV cell as the screen shows it: times in the screen's zone (to the second), shares
    to the whole per cent (0.54), seconds whole, other figures to two decimals at most;
    never a float's binary tail (216.40599999999998)."""
    if value is None or isinstance(value, bool):
        return value
    if name in CSV_TIMES:
        at = value if isinstance(value, datetime) else _instant(value)
        if at is not None:
            return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if name in CSV_PERCENT:
            return round(value, 2)
        if name.endswith("_s"):
            return round(value)
        v = round(value, 2)
        return int(v) if v.is_integer() else v
    return value


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
