"""Figures as pure functions of data (no SQL, no globals)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

DARK = {"paper_bgcolor": "#111827", "plot_bgcolor": "#111827", "font": {"color": "#e5e7eb"}}


def trend_figure(rows: list[dict[str, Any]], *, title: str, target: float | None) -> go.Figure:
    """Service level, answered and abandoned per 15-minute interval."""
    x = [r["from"] for r in rows]
    fig = go.Figure()
    fig.add_bar(
        x=x,
        y=[r.get("answered") or 0 for r in rows],
        name="answered",
        marker_color="#3b82f6",
        yaxis="y2",
        opacity=0.5,
    )
    fig.add_bar(
        x=x,
        y=[r.get("abandoned") or 0 for r in rows],
        name="abandoned",
        marker_color="#ef4444",
        yaxis="y2",
        opacity=0.6,
    )
    fig.add_scatter(
        x=x,
        y=[r.get("service_level") for r in rows],
        name="service level",
        mode="lines+markers",
        line={"color": "#22c55e", "width": 3},
    )
    if target is not None:
        fig.add_hline(
            y=target, line_dash="dash", line_color="#f59e0b", annotation_text=f"target {target:.0%}"
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        uirevision=title,
        height=320,
        margin={"l": 40, "r": 40, "t": 40, "b": 30},
        legend={"orientation": "h"},
        yaxis={"title": "service level", "range": [0, 1.05], "tickformat": ".0%"},
        yaxis2={"title": "contacts", "overlaying": "y", "side": "right", "showgrid": False},
        **DARK,
    )
    return fig


def empty_figure(text: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        height=320,
        annotations=[{"text": text, "showarrow": False, "font": {"size": 16}}],
        xaxis={"visible": False},
        yaxis={"visible": False},
        **DARK,
    )
    return fig
