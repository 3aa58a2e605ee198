"""Time windows (METRICS.md): rolling 15m / 30m / 60m, `today` since local midnight in a time
zone, `interval` (the current 15-minute interval), or any closed range [from, to)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

ROLLING = {"15m": timedelta(minutes=15), "30m": timedelta(minutes=30), "60m": timedelta(hours=1)}
NAMES = (*ROLLING, "today", "interval")
INTERVAL = timedelta(minutes=15)


class WindowError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    name: str  # one of NAMES, or "range"
    start: datetime
    end: datetime

    def ends_now(self, now: datetime) -> bool:
        return self.end >= now


def midnight(day: date, tz: str) -> datetime:
    """The instant the local `day` begins in the time zone `tz`."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_midnight(now: datetime, tz: str) -> datetime:
    return midnight(now.astimezone(ZoneInfo(tz)).date(), tz)


def interval_start(now: datetime) -> datetime:
    """Quarter hours are the same instants in every time zone in use (offsets are multiples of
    15 minutes), so aligning in UTC aligns locally too."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((now - epoch) // INTERVAL) * INTERVAL


def default_name(name: str | None, start: datetime | None, end: datetime | None) -> str | None:
    """What the API means without a window: today, unless a range is given."""
    return name if name is not None or start is not None or end is not None else "today"


def resolve(
    name: str | None,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    now: datetime,
    tz: str = "UTC",
) -> Window:
    if name is not None and (start is not None or end is not None):
        raise WindowError("give either a window or from/to, not both")
    if name is None:
        if start is None or end is None:
            raise WindowError("give a window (15m, 30m, 60m, today, interval) or both from and to")
        if start.tzinfo is None or end.tzinfo is None:
            raise WindowError("from and to need a UTC offset (RFC 3339)")
        if end <= start:
            raise WindowError("to must be after from")
        return Window("range", start.astimezone(UTC), end.astimezone(UTC))
    if name in ROLLING:
        return Window(name, now - ROLLING[name], now)
    if name == "today":
        return Window(name, local_midnight(now, tz), now)
    if name == "interval":
        return Window(name, interval_start(now), now)
    raise WindowError(f"unknown window {name!r}; expected one of: {', '.join(NAMES)}")
