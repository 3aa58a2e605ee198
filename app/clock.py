"""What time it is. Normally the real time; in the demo a simulated clock that runs `speed`
times faster from `origin`, the same in every process (it is set through the environment),
so the floor can show a morning in minutes while every number keeps its real-world size."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Clock:
    origin: datetime | None = None  # simulated time at wall-clock `wall0`
    wall0: float = 0.0  # time.time() at origin
    speed: float = 1.0

    def now(self) -> datetime:
        if self.origin is None:
            return datetime.now(UTC)
        return self.origin + timedelta(seconds=(time.time() - self.wall0) * self.speed)

    @property
    def simulated(self) -> bool:
        return self.origin is not None


def check_zone(name: str) -> str:
    """An IANA time zone's name, or a ValueError saying it is unknown (for the settings'
    validators: pydantic reports it at its place in callboard.toml)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name
