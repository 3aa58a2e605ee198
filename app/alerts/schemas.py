"""What the alerts API answers (the `alerts` topic's shape, plus history)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class AlertOut(BaseModel):
    id: int
    name: str = Field(description="the rule's name in callboard.toml")
    severity: Literal["info", "warning", "critical"]
    scope: str = Field(description="center, queue:NAME, team:NAME or agent:NAME")
    metric: str
    window: str
    value: float | None = Field(description="the metric's latest value (at clearing: then)")
    threshold: float
    condition: Literal["above", "below"]
    raised_at: str
    escalated_at: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None
    code: str = Field(description="the text's key: alert.<code> in the message catalogues")
    params: dict[str, Any] = Field(description="the text's parameters")
    cleared_at: str | None = None


class AlertsMeta(BaseModel):
    computed_at: str


class AlertsOut(BaseModel):
    active: list[AlertOut]
    cleared: list[AlertOut] | None = Field(
        None, description="with ?all=true: the newest cleared alerts"
    )
    meta: AlertsMeta


class Attempt(BaseModel):
    attempt: int
    at: str
    ok: bool
    detail: str
    duration_ms: float


class DeliveryOut(BaseModel):
    id: int
    event: Literal["raised", "escalated", "cleared"]
    step: str
    target: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    created_at: str | None
    sent_at: str | None
    last_error: str | None
    attempts_log: list[Attempt]


class AckIn(BaseModel):
    by: str | None = Field(
        None,
        max_length=128,
        description="leave out: the acknowledger is who is signed in (the person, or the "
        "token's label); a different value is refused (422)",
    )
