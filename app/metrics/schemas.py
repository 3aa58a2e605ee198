"""What GET /api/v1/metrics, /agents/{agent} and /trends answer, for the OpenAPI document.

A row's metrics are the registry's (`app/metrics/registry.py`): the row's model is made from
it, so a metric added there is named here at once. The routes answer with only the fields a
row has (`response_model_exclude_unset`): a queue row carries its settings, an agent row its
state, a center row neither."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.metrics.registry import METRICS

Number = int | float | None


class RowBase(BaseModel):
    # a row may carry a field this model does not name yet: it is passed on, not dropped
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    key: str = Field(description="the center, the queue, the team or the agent")
    # live windows of the center and queues: the screens tick the longest wait from this
    oldest_waiting_at: str | None = None
    # queues: their settings, and their own window where it differs (`today` in their zone)
    sl_formula: str | None = None
    sl_threshold_s: float | None = None
    short_abandon_s: float | None = None
    repeat_window_h: float | None = None
    timezone: str | None = None
    targets: dict[str, float] | None = None
    start: str | None = Field(None, alias="from")
    end: str | None = Field(None, alias="to")
    # agents: their state now
    state: str | None = None
    state_since: str | None = None
    reason: str | None = None
    time_in_state_s: float | None = None
    team: str | None = None
    name: str | None = None
    queues: list[str] | None = None


def _metric_field(unit: str, description: str) -> Any:
    kind: Any = dict[str, int] | None if unit == "state" else Number
    return (kind, Field(None, description=f"{description} ({unit})"))


MetricRow: type[RowBase] = create_model(
    "MetricRow",
    __base__=RowBase,
    **{m.name: _metric_field(m.unit, m.description) for m in METRICS},
)


class WindowOut(BaseModel):
    """What rows of a level over a window were computed for (metrics, scorecards)."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    by: str
    window: str | None
    now: str
    config_version: int | None


class MetricsOut(WindowOut):
    rows: list[MetricRow]


class AgentOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agent: str
    name: str | None
    team: str | None
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    window: str | None
    config_version: int | None
    metrics: MetricRow
    team_metrics: MetricRow | None
