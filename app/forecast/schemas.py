"""The forecast API's responses (GET /api/v1/forecast, docs/FORECAST.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class IntervalOut(BaseModel):
    start: datetime
    forecast: float | None = Field(description="contacts offered forecast")
    aht_s: float | None = Field(description="AHT forecast, seconds")
    actual: int | None = Field(description="contacts offered so far; null: not begun")
    reforecast: float | None = Field(description="the forecast scaled by today's ratio so far")
    required: int | None = Field(description="agents required (Erlang C at the SL target)")
    scheduled: int = Field(description="agents scheduled productive")
    over_under: int | None = Field(description="scheduled - required; negative: short")


class ShortOut(BaseModel):
    start: datetime
    end: datetime
    agents: int


class QueueForecastOut(BaseModel):
    queue: str
    method: str | None
    forecast_total: float | None
    forecast_so_far: float | None
    actual_so_far: int
    ratio: float | None = Field(description="actual / forecast over the closed intervals")
    reforecast_total: float | None
    short: ShortOut | None = Field(description="the hour to come shortest of agents")
    intervals: list[IntervalOut]


class TotalOut(BaseModel):
    forecast_total: float | None
    forecast_so_far: float | None
    actual_so_far: int
    ratio: float | None
    short: ShortOut | None = Field(description="the queues' most short hour to come")
    short_queue: str | None


class ForecastOut(BaseModel):
    day: date
    now: datetime
    total: TotalOut
    queues: list[QueueForecastOut]


class FigureOut(BaseModel):
    """A Plotly figure (data and layout) for the supervisor's chart."""

    data: list[dict[str, Any]]
    layout: dict[str, Any]
