"""`callboard metrics` for people: the screens' names and units, 80 columns, plain text that
reads the same in a terminal and in a pipe (`--json` is for programs). While `callboard demo`
runs, the figures are taken at the demo's simulated time, as the screens show them."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from app.cli.root import app, connect, current_clock, database, err, print_json, refused, timestamp
from app.settings import get_settings

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
    from app.i18n import t
    from app.screens.views import unit_of
    from app.screens.words import fmt

    value = row.get(metric)
    if metric == "state":
        return t(lang, f"common.state.{value}") if value else t(lang, "common.none")
    return fmt(value, unit_of(metric), lang)


def render(result: Mapping[str, Any], *, by: str, lang: str = "en", tz: str = "UTC") -> str:
    """The rows as an aligned table of at most 80 columns, with a title and a legend."""
    from app.i18n import t

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
    # the screens' "SL today" is today's; over another window the column is the window's SL
    today = result.get("window") == "today"
    heads = [t(lang, "cli.col.sl" if key == "sup.col.sl" and not today else key) for _, key in cols]
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


@app.command()
def metrics(
    window: Annotated[str | None, typer.Option(help="15m, 30m, 60m, today, interval")] = None,
    start: Annotated[str | None, typer.Option("--from", help="RFC 3339, inclusive")] = None,
    end: Annotated[str | None, typer.Option("--to", help="RFC 3339, exclusive")] = None,
    by: Annotated[str, typer.Option(help="center, queue, team or agent")] = "center",
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
) -> None:
    """The metrics of docs/METRICS.md over a window: a table for people (80 columns, the
    screens' names and units), JSON for scripts. While a demo runs, at the demo's time."""
    from app.config import current_config, load_config
    from app.metrics.registry import LEVELS
    from app.metrics.service import compute
    from app.metrics.windows import WindowError

    if by not in LEVELS:
        err.print(f"[red]--by must be one of {', '.join(LEVELS)}[/]")
        raise typer.Exit(2)
    settings = get_settings()
    clock, simulated = current_clock(settings)
    with database(settings, schema=False) as url, connect(url) as conn:
        stored = current_config(conn)
        version, config = stored if stored else (None, load_config(settings.config))
        with refused(WindowError, ValueError):
            result = compute(
                conn,
                config,
                by=by,
                now=clock.now(),
                window=window,
                start=timestamp(start),
                end=timestamp(end),
                config_version=version,
            )
    if as_json:
        print_json(result)
        return
    if simulated:
        err.print(f"the demo's simulated clock: {clock.now().isoformat(timespec='seconds')}")
    sys.stdout.write(render(result, by=by, tz=config.defaults.timezone))
