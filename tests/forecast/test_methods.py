from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from app.forecast.methods import (
    METHODS,
    Grid,
    same_weekdays,
    seasonal_naive,
    smooth,
    weekday_mean,
    weekday_share,
)

MONDAY = date(2026, 11, 2)


def flat(value: float) -> Grid:
    return np.full(96, float(value))


def weeks_of(daily: list[float], weeks: int, start: date = MONDAY) -> dict[date, Grid]:
    """`weeks` weeks from a Monday, each weekday's quarter hours all `daily[weekday]`."""
    return {start + timedelta(days=i): flat(daily[i % 7] * (1 + i // 7)) for i in range(7 * weeks)}


def test_seasonal_naive_is_the_same_weekday_a_week_before() -> None:
    history = weeks_of([1, 2, 3, 4, 5, 6, 7], 2)
    day = MONDAY + timedelta(days=14)
    got = seasonal_naive(history, day)
    assert got is not None and got[0] == 2.0  # the second week's Monday (1 x 2)


def test_a_day_weeks_past_the_history_uses_the_latest_same_weekday() -> None:
    history = weeks_of([1, 2, 3, 4, 5, 6, 7], 1)
    got = seasonal_naive(history, MONDAY + timedelta(days=7 * 5 + 2))  # a Wednesday
    assert got is not None and got[0] == 3.0


def test_no_same_weekday_in_history_is_no_forecast() -> None:
    history = {MONDAY: flat(1)}
    assert seasonal_naive(history, MONDAY + timedelta(days=1)) is None
    assert weekday_mean({}, MONDAY) is None


def test_weekday_mean_averages_the_last_weeks_of_that_weekday() -> None:
    history = weeks_of([1, 2, 3, 4, 5, 6, 7], 3)
    got = weekday_mean(history, MONDAY + timedelta(days=21))
    assert got is not None and got[5] == pytest.approx((1 + 2 + 3) / 3)
    assert [g[0] for g in same_weekdays(history, MONDAY + timedelta(days=21), 2)] == [3, 2]


def test_smoothing_keeps_the_day_total_and_spreads_a_peak() -> None:
    grid = np.zeros(96)
    grid[40] = 8
    grid[0] = 4  # at the edge: reflected, not lost
    out = smooth(grid)
    assert out.sum() == pytest.approx(12)
    assert out[39] == out[41] == 2 and out[40] == 4


def test_weekday_share_follows_the_latest_week_level() -> None:
    # A Monday is always a fifth of its week; the last week doubled: the Monday forecast is a
    # fifth of the last week, not the mean of the Mondays.
    pattern = [2, 2, 2, 2, 2, 0, 0]
    history = {MONDAY + timedelta(days=i): flat(pattern[i % 7]) for i in range(14)}
    for i in range(14, 21):
        history[MONDAY + timedelta(days=i)] = flat(pattern[i % 7] * 2)
    got = weekday_share(history, MONDAY + timedelta(days=21))
    last_week = sum(float(history[MONDAY + timedelta(days=i)].sum()) for i in range(14, 21))
    assert got is not None and got.sum() == pytest.approx(last_week / 5)


def test_every_method_returns_a_day_of_quarter_hours() -> None:
    history = weeks_of([5, 5, 5, 5, 5, 1, 0], 4)
    for name, method in METHODS.items():
        got = method(history, MONDAY + timedelta(days=28))
        assert got is not None and got.shape == (96,), name
        assert (got >= 0).all(), name
