"""`callboard metrics` for people: the screens' names and units, 80 columns, plain text that
reads the same in a terminal and in a pipe (`--json` is for programs). While `callboard demo`
runs, the figures are taken at the demo's simulated time, as the screens show them."""

from __future__ import annotations

import json
import os
import textwrap
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.clock import Clock
from app.i18n import t
from app.screens.views import unit_of
from app.screens.words import fmt
from app.settings import Settings

# per level: (metric, catalogue key of the column's name); the JSON has every metric
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "center": [
        ("arrived", "cli.col.arrived"),
        ("answered", "sup.col.answered"),
        ("service_level", "sup.col.sl"),
        ("asa_s", "sup.col.asa"),
        ("abandon_rate", "sup.col.abandoned"),
        ("waiting_now", "sup.col.waiting"),
        ("aht_s", "sup.col.aht"),
        ("fcr", "sup.col.fcr"),
        ("csat", "sup.col.csat"),
    ],
    "queue": [
        ("waiting_now", "sup.col.waiting"),
        ("longest_wait_now_s", "sup.col.longest"),
        ("service_level", "sup.col.sl"),
        ("asa_s", "sup.col.asa"),
        ("abandon_rate", "sup.col.abandoned"),
        ("arrived", "cli.col.arrived"),
        ("answered", "sup.col.answered"),
        ("aht_s", "sup.col.aht"),
    ],
    "team": [
        ("handled", "sup.col.handled"),
        ("aht_s", "sup.col.aht"),
        ("fcr", "sup.col.fcr"),
        ("csat", "sup.col.csat"),
        ("qa_score", "cli.col.qa"),
        ("occupancy", "sup.col.occupancy"),
        ("adherence", "sup.col.adherence"),
        ("calls_per_hour", "cli.col.per_hour"),
    ],
    "agent": [
        ("state", "sup.col.state"),
        ("handled", "sup.col.handled"),
        ("aht_s", "sup.col.aht"),
        ("fcr", "sup.col.fcr"),
        ("csat", "sup.col.csat"),
        ("qa_score", "cli.col.qa"),
        ("occupancy", "sup.col.occupancy"),
        ("adherence", "sup.col.adherence"),
    ],
}

KEY_WIDTH = 16


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _value(row: Mapping[str, Any], metric: str, lang: str) -> str:
    value = row.get(metric)
    if metric == "state":
        return t(lang, f"common.state.{value}") if value else t(lang, "common.none")
    return fmt(value, unit_of(metric), lang)


def render(result: Mapping[str, Any], *, by: str, lang: str = "en", tz: str = "UTC") -> str:
    """The rows as an aligned table of at most 80 columns, with a title and a legend."""
    cols: Sequence[tuple[str, str]] = COLUMNS[by]
    zone = ZoneInfo(tz)

    def local(iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    window = result.get("window") or "range"
    title = t(
        lang,
        "cli.title",
        by=t(lang, f"cli.by.{by}"),
        window=window,
        start=local(result["from"]),
        end=local(result["to"])[-5:],
        tz=tz,
    )
    lines = [title, ""]
    heads = [t(lang, key) for _, key in cols]
    cells = [[_value(row, metric, lang) for metric, _ in cols] for row in result["rows"]]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    # the key column takes what the figures leave of 80 characters (at least 8)
    key_width = max(8, min(KEY_WIDTH, 80 - sum(w + 1 for w in widths)))
    lines.append(
        (
            _fit(t(lang, f"cli.by.{by}"), key_width).ljust(key_width)
            + "".join(" " + h.rjust(w) for h, w in zip(heads, widths, strict=True))
        ).rstrip()
    )
    for row, values in zip(result["rows"], cells, strict=True):
        lines.append(
            (
                _fit(str(row["key"]), key_width).ljust(key_width)
                + "".join(" " + v.rjust(w) for v, w in zip(values, widths, strict=True))
            ).rstrip()
        )
    if not result["rows"]:
        lines.append(t(lang, "cli.no_rows"))
    lines += ["", textwrap.fill(t(lang, "cli.legend"), 80)]
    return "\n".join(lines) + "\n"


# --- the demo's clock -----------------------------------------------------------------------


def demo_clock_file(settings: Settings) -> Path:
    return settings.data_dir / "demo" / "clock.json"


def write_demo_clock(settings: Settings, clock: Clock) -> None:
    """Written by `callboard demo`, so other commands use its simulated time meanwhile."""
    path = demo_clock_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert clock.origin is not None
    body = {
        "origin": clock.origin.isoformat(),
        "wall0": clock.wall0,
        "speed": clock.speed,
        "pid": os.getpid(),
    }
    path.write_text(json.dumps(body), encoding="utf-8")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_clock(settings: Settings) -> tuple[Clock, bool]:
    """The clock the screens use: the settings' (a demo's server has it in its environment),
    else a running demo's (from its clock file), else real time. True when simulated."""
    clock = settings.clock()
    if clock.simulated:
        return clock, True
    path = demo_clock_file(settings)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if _alive(int(body["pid"])):
            origin = datetime.fromisoformat(body["origin"])
            return Clock(origin, float(body["wall0"]), float(body["speed"])), True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return Clock(None, time.time(), 1.0), False
