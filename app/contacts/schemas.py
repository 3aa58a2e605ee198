"""What GET /api/v1/contacts answers: one queue visit of a contact per row."""

from __future__ import annotations

from pydantic import BaseModel


class Contact(BaseModel):
    call_id: str
    segment: int
    queue: str
    queued_at: str | None
    outcome: str | None
    left_at: str | None
    wait_s: float | None
    agent: str | None
    answered_at: str | None
    talk_s: float | None
    hold_s: float | None
    acw_s: float | None
    handled_at: str | None
    transferred: bool
    ended_by: str | None
    missed: int
    customer: str | None
    notes: list[str] | None
    csat: float | None  # the mean of the contact's surveys
    nps: float | None
