"""Forecast methods: pure functions from a queue's past days to one coming day.

A queue's history is a mapping from local date to 96 quarter-hour counts (local time of day);
a day without contacts after the history began is zeros, a day before it is absent. Each
method sees only the days it is given, so the back-test can hold back everything from its
first test day on. docs/FORECAST.md has the measured accuracy of each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from app.forecast.history import SLOTS_PER_DAY

Grid = npt.NDArray[np.float64]
History = Mapping[date, Grid]
Method = Callable[[History, date], Grid | None]

WEEKS = 4  # same weekdays averaged (the last ones before the day)
DECAY = 0.8  # weight of each older week against the next newer one
# Quarter hours are noisy (a few calls each); neighbours share most of their rate.
_KERNEL = np.array([0.25, 0.5, 0.25])


def same_weekdays(history: History, day: date, weeks: int) -> list[Grid]:
    """The last `weeks` days of history on the day's weekday, newest first."""
    out: list[Grid] = []
    latest = max(history, default=None)
    if latest is None:
        return out
    d = day - timedelta(days=7)
    while d > latest:  # the day may be weeks past the end of history
        d -= timedelta(days=7)
    while d in history and len(out) < weeks:
        out.append(history[d])
        d -= timedelta(days=7)
    return out


def seasonal_naive(history: History, day: date) -> Grid | None:
    """The same interval on the last same weekday in history (a week before, in the
    back-test's first week)."""
    found = same_weekdays(history, day, 1)
    return found[0].copy() if found else None


def weekday_mean(history: History, day: date) -> Grid | None:
    """The mean of the same interval over the last WEEKS same weekdays."""
    found = same_weekdays(history, day, WEEKS)
    return np.mean(found, axis=0) if found else None


def weighted(found: list[Grid]) -> Grid:
    weights = DECAY ** np.arange(len(found))
    return np.tensordot(weights / weights.sum(), np.asarray(found), axes=1)


def smooth(grid: Grid) -> Grid:
    """A [1/4, 1/2, 1/4] average over neighbouring quarter hours; the day's total is kept
    (the edges are reflected, so nothing leaks past midnight)."""
    padded = np.concatenate([grid[:1], grid, grid[-1:]])
    out: Grid = np.convolve(padded, _KERNEL, mode="valid")
    return out


def weekday_smoothed(history: History, day: date) -> Grid | None:
    """The last WEEKS same weekdays, newer weeks weighing more (DECAY), smoothed over
    neighbouring quarter hours."""
    found = same_weekdays(history, day, WEEKS)
    return smooth(weighted(found)) if found else None


def _weekly_totals(history: History, weeks: int) -> list[float]:
    """Totals of the last complete 7-day blocks of history, newest first."""
    latest = max(history)
    out: list[float] = []
    for k in range(weeks):
        end = latest - timedelta(days=7 * k)
        block = [history.get(end - timedelta(days=i)) for i in range(7)]
        if any(g is None for g in block):
            break
        out.append(sum(float(g.sum()) for g in block if g is not None))
    return out


def _weekday_share(history: History, day: date, *, trend: bool) -> Grid | None:
    found = same_weekdays(history, day, WEEKS)
    if not found:
        return None
    shape = smooth(weighted(found))
    total = float(shape.sum())
    weekly = _weekly_totals(history, len(found))
    if total == 0 or not weekly:
        return shape
    # found[k] lies in the k-th newest block: the same weekday is 7 days apart
    shares = [float(g.sum()) / w for g, w in zip(found, weekly, strict=False) if w > 0]
    level = weekly[0] * (sum(shares) / len(shares) if shares else 1 / 7)
    if trend and len(weekly) >= 2 and weekly[1] > 0:
        level *= weekly[0] / weekly[1]
    out: Grid = shape * (level / total)
    return out


def weekday_share(history: History, day: date) -> Grid | None:
    """The day's total is its weekday's mean share of a week times the last week's total (the
    level follows the latest week, the weekday pattern rests on every week); the quarter hours
    share it as weekday_smoothed does."""
    return _weekday_share(history, day, trend=False)


def weekday_share_trend(history: History, day: date) -> Grid | None:
    """weekday_share, with the last week's change over the week before carried forward."""
    return _weekday_share(history, day, trend=True)


METHODS: dict[str, Method] = {
    "seasonal_naive": seasonal_naive,
    "weekday_mean": weekday_mean,
    "weekday_smoothed": weekday_smoothed,
    "weekday_share": weekday_share,
    "weekday_share_trend": weekday_share_trend,
}
DEFAULT_METHOD = "weekday_share"


def empty_day() -> Grid:
    return np.zeros(SLOTS_PER_DAY)
