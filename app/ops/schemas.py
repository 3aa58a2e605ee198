"""What /healthz answers (200 ready, 503 not)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class LiveHealth(BaseModel):
    leader: bool
    version: int
    snapshot_age_s: float | None  # the age of the newest live snapshot this worker has
    subscribers: int
    topics: int


class Health(BaseModel):
    status: str  # ok, unavailable, migration needed
    database: str  # embedded or external
    postmaster: dict[str, Any] | None = None  # the embedded server's watch
    schema_: str | None = Field(None, alias="schema")
    expected_schema: str | None = None
    live: LiveHealth | None = None
    error: str | None = None
