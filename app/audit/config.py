"""`[audit]` of callboard.toml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AuditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # how long entries are kept (pruned hourly by every server)
    keep_days: int = Field(default=400, ge=1, le=36_500)
