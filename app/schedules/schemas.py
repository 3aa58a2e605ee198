from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Activity = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_ -]*$")]


class ScheduleEntry(BaseModel):
    """A planned activity: `productive` (on the phones) or time away (break, lunch, meeting,
    training, coaching, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: Annotated[str, Field(min_length=1, max_length=128)]
    start: AwareDatetime
    end: AwareDatetime
    activity: Activity

    @model_validator(mode="after")
    def _positive(self) -> ScheduleEntry:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class SchedulePut(BaseModel):
    """Replace the plan of the agents named in `entries` over [from, to)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    entries: Annotated[list[ScheduleEntry], Field(max_length=100_000)]

    @model_validator(mode="after")
    def _inside(self) -> SchedulePut:
        if self.end <= self.start:
            raise ValueError("to must be after from")
        for i, e in enumerate(self.entries):
            if e.start < self.start or e.end > self.end:
                raise ValueError(f"entries[{i}] is outside [from, to)")
        return self


def overlaps(entries: list[ScheduleEntry]) -> str | None:
    """The first overlap between one agent's entries, described, or None."""
    by_agent: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for i, e in enumerate(entries):
        by_agent.setdefault(e.agent, []).append((e.start, e.end, i))
    for agent, spans in by_agent.items():
        spans.sort()
        for (_, end, i), (start, _, j) in pairwise(spans):
            if start < end:
                return f"entries[{i}] and entries[{j}] overlap for agent {agent!r}"
    return None


class Planned(BaseModel):
    """One planned activity as GET /api/v1/schedules answers it."""

    agent: str
    start: datetime
    end: datetime
    activity: str


class Stored(BaseModel):
    stored: int  # entries stored by PUT /api/v1/schedules
