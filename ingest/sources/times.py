"""Times in the platforms' records, read one way."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def aware_time(value: Any, name: str) -> datetime:
    """An ISO 8601 time with its zone (`Z` or an offset); a ValueError naming the field
    (`name`) when it is missing, unreadable or without a zone."""
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from exc
    if t.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone")
    return t
