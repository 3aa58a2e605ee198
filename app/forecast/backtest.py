"""The back-test: forecast days that already happened from only the days before them, and
score each method against what came (docs/FORECAST.md).

WAPE = sum |forecast - actual| / sum actual; bias = (sum forecast - sum actual) / sum actual
(positive: forecast too high). "Per interval" scores each queue's quarter hours, "per day"
each queue's day totals (a day's errors partly cancel: what a planner of the day sees).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from app.forecast.grids import QueueDays, aht_forecast, slot_start
from app.forecast.history import SLOTS_PER_DAY
from app.forecast.methods import DEFAULT_METHOD, METHODS, Grid


@dataclass
class _Sums:
    abs_err: float = 0.0
    forecast: float = 0.0
    actual: float = 0.0

    def add(self, f: Grid | float, a: Grid | float) -> None:
        self.abs_err += float(np.abs(np.asarray(f) - np.asarray(a)).sum())
        self.forecast += float(np.sum(f))
        self.actual += float(np.sum(a))

    def figures(self) -> dict[str, float | None]:
        if self.actual == 0:
            return {"wape": None, "bias": None}
        return {
            "wape": round(self.abs_err / self.actual, 4),
            "bias": round((self.forecast - self.actual) / self.actual, 4),
        }


@dataclass
class _MethodScore:
    interval: _Sums
    day: _Sums
    by_queue: dict[str, tuple[_Sums, _Sums]]


def backtest(
    days: dict[str, QueueDays],
    zones: dict[str, ZoneInfo],
    *,
    first: date,
    last: date,
    methods: tuple[str, ...] = tuple(METHODS),
) -> dict[str, Any]:
    """Forecast every queue's days `first`..`last` from its days before `first`; the rows (one
    per queue and quarter hour) and the scores of each method."""
    scores = {m: _MethodScore(_Sums(), _Sums(), {}) for m in methods}
    aht = _Sums()  # handle time: |f - a| per contact handled, over actual handle time
    rows: list[dict[str, Any]] = []
    skipped_days = 0
    for queue, qd in sorted(days.items()):
        tz = zones.get(queue, ZoneInfo("UTC"))
        train = {d: g for d, g in qd.offered.items() if d < first}
        train_days = QueueDays(
            train,
            {d: g for d, g in qd.handle_sum.items() if d < first},
            {d: g for d, g in qd.handle_n.items() if d < first},
        )
        for day, actual in qd.offered.items():  # the days stored history covers, oldest first
            if not first <= day <= last:
                continue
            predicted = {m: METHODS[m](train, day) for m in methods}
            if any(p is None for p in predicted.values()):
                skipped_days += 1  # no same weekday in the training days
                continue
            for m, p in predicted.items():
                assert p is not None
                s = scores[m]
                qi, qday = s.by_queue.setdefault(queue, (_Sums(), _Sums()))
                for sums in (s.interval, qi):
                    sums.add(p, actual)
                for sums in (s.day, qday):
                    sums.add(p.sum(), actual.sum())
            aht_f = aht_forecast(train_days, day)
            n = qd.handle_n[day]
            if aht_f is not None and n.sum() > 0:
                aht.add(aht_f * n, qd.handle_sum[day])
            for slot in range(SLOTS_PER_DAY):
                row: dict[str, Any] = {
                    "queue": queue,
                    "start": _rfc3339(slot_start(day, slot, tz)),
                    "forecast": round(float(predicted[methods[0]][slot]), 3),  # type: ignore[index]
                    "actual": int(actual[slot]),
                }
                for m in methods[1:]:
                    row[m] = round(float(predicted[m][slot]), 3)  # type: ignore[index]
                rows.append(row)
    summary = {
        m: {
            "interval": s.interval.figures(),
            "day": s.day.figures(),
            "offered": round(s.interval.actual),
            "by_queue": {
                q: {"interval": qi.figures(), "day": qd_.figures(), "offered": round(qi.actual)}
                for q, (qi, qd_) in sorted(s.by_queue.items())
            },
        }
        for m, s in scores.items()
    }
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "methods": list(methods),
        "summary": summary,
        "aht": {"wape": aht.figures()["wape"], "bias": aht.figures()["bias"]},
        "skipped_queue_days": skipped_days,
        "rows": rows,
    }


def ordered_methods(default: str = DEFAULT_METHOD) -> tuple[str, ...]:
    """The default method first (its figures are the rows' `forecast`), then the others."""
    return (default, *(m for m in METHODS if m != default))


def _rfc3339(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")
