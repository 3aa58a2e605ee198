"""A report's chart as a Plotly figure (data and layout), a pure function of the report: one
line per group over the days or the intervals for `queues` and `agents` (with the target as
a dashed line where one is set), waits as bars per bucket, abandons per day. The browser only
draws it (/reports, with the plotly.js Dash ships)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from app.reports.formats import header, unit

MAX_LINES = 12  # more groups than this are unreadable as lines: the largest ones are drawn
PALETTE = (
    "#60a5fa",
    "#f59e0b",
    "#34d399",
    "#f87171",
    "#a78bfa",
    "#22d3ee",
    "#fb923c",
    "#a3e635",
    "#f472b6",
    "#94a3b8",
    "#facc15",
    "#2dd4bf",
)
AXIS = {"percent": ".0%", "seconds": ",.0f", "count": ",d", "score": ".0f", "per_hour": ".1f"}
HOVER = {"percent": "%{y:.1%}", "seconds": "%{y:.0f} s", "count": "%{y:,d}", "score": "%{y:.1f}"}


def default_metric(report: str) -> str:
    return {"queues": "service_level", "agents": "occupancy", "waits": "answered"}.get(
        report, "abandoned"
    )


def figure(
    report: Mapping[str, Any],
    *,
    metric: str,
    target: float | None,
    w: Callable[[str], str],
    lang: str,
) -> dict[str, Any]:
    """`w` gives the page language's words for a catalogue key."""
    name = report["report"]
    rows = report["rows"]
    layout: dict[str, Any] = {
        "margin": {"l": 64, "r": 16, "t": 24, "b": 48},
        "height": 340,
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": "#e5e7eb"},
        "xaxis": {"gridcolor": "#374151"},
        "yaxis": {"gridcolor": "#374151", "rangemode": "tozero"},
    }
    if name == "waits":
        buckets = list(dict.fromkeys(r["bucket"] for r in rows))
        data = []
        for i, (col, colour) in enumerate(
            (("answered", "#34d399"), ("abandoned", "#f87171"), ("short_abandoned", "#fbbf24"))
        ):
            ys = [sum(r[col] for r in rows if r["bucket"] == b) for b in buckets]
            data.append(
                {
                    "type": "bar",
                    "name": header(col, lang),
                    "x": buckets,
                    "y": ys,
                    "marker": {"color": colour},
                    "hovertemplate": "%{y:,d}",
                    "offsetgroup": i,
                }
            )
        layout["xaxis"]["title"] = {"text": header("bucket", lang)}
        layout["yaxis"]["title"] = {"text": w("report.chart.contacts")}
        layout["barmode"] = "group"
        return {"data": data, "layout": layout}
    if name == "abandoned":
        counts: dict[tuple[str, str], int] = {}
        for r in rows:
            if r["short"]:
                continue
            day = datetime.fromisoformat(r["left_at"]).date().isoformat()
            counts[(r["key"], day)] = counts.get((r["key"], day), 0) + 1
        days = sorted({d for _, d in counts})
        keys = sorted({k for k, _ in counts})
        data = [
            {
                "type": "bar",
                "name": k,
                "x": days,
                "y": [counts.get((k, d), 0) for d in days],
                "hovertemplate": "%{y:,d}",
            }
            for k in keys
        ]
        layout["barmode"] = "stack"
        layout["xaxis"]["title"] = {"text": header("day", lang)}
        layout["yaxis"]["title"] = {"text": header("abandoned", lang)}
        return {"data": data, "layout": layout}
    label = "start" if report.get("interval") else "day"
    u = unit(metric)
    xs = sorted({r[label] for r in rows})
    totals = report["totals"]
    weight = "answered" if name == "queues" else "handled"
    keys = sorted(totals, key=lambda k: -(totals[k].get(weight) or 0))[:MAX_LINES]
    data = []
    for i, k in enumerate(sorted(keys)):
        by_x = {r[label]: r.get(metric) for r in rows if r["key"] == k}
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": k,
                "x": xs,
                "y": [by_x.get(x) for x in xs],
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
                "connectgaps": False,
                "hovertemplate": HOVER.get(u, "%{y}"),
            }
        )
    if target is not None and xs:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": w("report.page.target").replace("{value}", _said(target, u)),
                "x": [xs[0], xs[-1]],
                "y": [target, target],
                "line": {"color": "#f9fafb", "width": 1.5, "dash": "dash"},
                "hoverinfo": "skip",
            }
        )
    title = header(metric, lang)
    suffix = {"seconds": " (s)", "percent": " (%)"}.get(u, "")
    layout["xaxis"]["title"] = {"text": header(label, lang)}
    layout["yaxis"]["title"] = {"text": title + suffix}
    layout["yaxis"]["tickformat"] = AXIS.get(u, "")
    return {"data": data, "layout": layout}


def _said(value: float, u: str) -> str:
    if u == "percent":
        return f"{value * 100:.0f}%"
    if u == "seconds":
        return f"{value:.0f} s"
    return f"{value:g}"
