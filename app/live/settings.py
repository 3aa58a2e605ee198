"""`[live]` in callboard.toml: which windows every live topic carries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.metrics.windows import NAMES

DEFAULT_WINDOWS = ("today", "interval", "30m")


class LiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # the first one is the default window (scorecards and center balances are computed on it)
    windows: tuple[str, ...] = Field(default=DEFAULT_WINDOWS, min_length=1, max_length=len(NAMES))

    @field_validator("windows")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [w for w in value if w not in NAMES]
        if unknown:
            raise ValueError(f"unknown window {unknown[0]!r}; expected some of: {', '.join(NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("a window is listed twice")
        return value
