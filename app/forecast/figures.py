"""The supervisor's intraday chart as a Plotly figure (data and layout), a pure function of a
queue's day: contacts forecast, offered so far and reforecast per quarter hour (lines, left
axis), agents required and scheduled (bars, right axis). The browser only draws it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from app.forecast.intraday import QueueDay

COLOURS = {
    "forecast": "#60a5fa",
    "actual": "#f9fafb",
    "reforecast": "#fbbf24",
    "required": "#f87171",
    "scheduled": "#34d399",
}


def intraday_figure(day: QueueDay, *, tz: ZoneInfo, w: Callable[[str], str]) -> dict[str, Any]:
    """`w` gives the page language's words for a catalogue key."""
    x = [iv.start.astimezone(tz).strftime("%Y-%m-%d %H:%M") for iv in day.intervals]

    def line(key: str, ys: list[Any], dash: str = "solid") -> dict[str, Any]:
        return {
            "type": "scatter",
            "mode": "lines",
            "name": w(f"sup.forecast.{key}"),
            "x": x,
            "y": ys,
            "line": {"color": COLOURS[key], "width": 2, "dash": dash, "shape": "hv"},
            "connectgaps": False,
        }

    def bars(key: str, ys: list[Any]) -> dict[str, Any]:
        return {
            "type": "bar",
            "name": w(f"sup.forecast.{key}"),
            "x": x,
            "y": ys,
            "yaxis": "y2",
            "marker": {"color": COLOURS[key]},
            "opacity": 0.45,
        }

    ivs = day.intervals
    busy = [
        i
        for i, iv in enumerate(ivs)
        if (iv.forecast or 0) >= 0.05 or iv.actual or iv.scheduled or iv.required
    ]
    # the open hours, an hour either side: 96 quarter hours of a whole night are unreadable
    first, last = (max(0, busy[0] - 4), min(len(ivs) - 1, busy[-1] + 4)) if busy else (0, 95)
    return {
        "data": [
            bars("required", [iv.required for iv in ivs]),
            bars("scheduled", [iv.scheduled for iv in ivs]),
            line("forecast", [iv.forecast for iv in ivs], "dot"),
            line("actual", [iv.actual for iv in ivs]),
            line("reforecast", [iv.reforecast for iv in ivs], "dash"),
        ],
        "layout": {
            "uirevision": day.queue,  # the reader's zoom survives a refresh
            "barmode": "group",
            "bargap": 0.1,
            "margin": {"l": 44, "r": 44, "t": 8, "b": 36},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"color": "#e5e7eb", "size": 12},
            "legend": {"orientation": "h", "y": -0.18},
            "xaxis": {
                "type": "date",
                "tickformat": "%H:%M",
                "gridcolor": "#374151",
                "range": [x[first], x[last]],
            },
            "yaxis": {
                "title": {"text": w("sup.forecast.contacts")},
                "gridcolor": "#374151",
                "rangemode": "tozero",
            },
            "yaxis2": {
                "title": {"text": w("sup.forecast.agents")},
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "showgrid": False,
            },
        },
    }
