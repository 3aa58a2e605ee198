"""What GET /api/v1/staffing answers: one queue's requirement now, or the center's."""

from __future__ import annotations

from pydantic import BaseModel


class ErlangLevel(BaseModel):
    """The queue's figures with a number of agents (None: beyond what can be served)."""

    agents: int
    p_wait: float | None
    service_level: float | None
    asa_s: float | None
    occupancy: float | None
    p_abandon: float | None
    method: str  # exact, or fluid (Erlang A's fluid limit for a hugely overloaded queue)


class QueueStaffing(BaseModel):
    queue: str
    now: str
    # absent when the queue's figures could not be computed at all (`unavailable` says why)
    arrivals_last_30m: int | None = None
    aht_s: float | None = None
    target: float | None = None
    within_s: float | None = None
    agents_serving: int
    agents_staffed: int  # the older name of agents_serving
    agents_available: float | None
    projected_with: int | None = None
    assumes: str
    patience_s: float | None = None
    unavailable: dict[str, str]  # figure -> why it is not given
    traffic_erlangs: float | None
    agents_required: int | None
    erlang_c: ErlangLevel | None
    erlang_a: ErlangLevel | None


class CenterStaffing(BaseModel):
    now: str
    agents_logged_in: int
    agents_staffed: int
    agents_required: int
    projected_sl: float | None
    queues_unavailable: list[str]
    assumes: str
    queues: list[QueueStaffing]
