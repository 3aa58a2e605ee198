"""Values and flags in words, on the server (CSV exports, the CLI, the API's flag texts).
The browser writes the same values with the same rules (dashboard/assets/core.js, `fmt`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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
