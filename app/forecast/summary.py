"""The queues' day in one line (the wall's forecast tile, the alert kinds)."""

from __future__ import annotations

from typing import Any

from app.forecast.intraday import QueueDay


def total(days: list[QueueDay]) -> dict[str, Any]:
    """Sums over the queues that have a forecast, and the most short hour of any of them."""
    with_fc = [d for d in days if d.forecast_total is not None]
    fc_total = sum(d.forecast_total or 0.0 for d in with_fc) if with_fc else None
    fc_so_far = sum(d.forecast_so_far or 0.0 for d in with_fc) if with_fc else None
    so_far = sum(d.actual_so_far for d in with_fc)
    ratio = so_far / fc_so_far if fc_so_far and any(d.ratio is not None for d in with_fc) else None
    shorts = [d for d in days if d.short is not None]
    worst = min(shorts, key=lambda d: (-d.short.agents, d.short.start), default=None)  # type: ignore[union-attr]
    return {
        "forecast_total": None if fc_total is None else round(fc_total, 1),
        "forecast_so_far": None if fc_so_far is None else round(fc_so_far, 1),
        "actual_so_far": so_far,
        "ratio": None if ratio is None else round(ratio, 4),
        "short": None if worst is None else worst.short,
        "short_queue": None if worst is None else worst.queue,
    }
