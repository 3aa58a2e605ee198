"""Parameter types every route shares, so a bad value is a clear 422 wherever it is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from ingest.contract import TS_MAX, TS_MIN


def _instant(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset (e.g. 2026-11-20T08:00:00Z or +01:00)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not TS_MIN <= utc < TS_MAX:
        raise ValueError(f"must lie between {TS_MIN:%Y} and {TS_MAX:%Y}")
    return utc


Instant = Annotated[datetime, AfterValidator(_instant)]
From = Annotated[Instant | None, Query(alias="from", description="RFC 3339, inclusive")]
To = Annotated[Instant | None, Query(description="RFC 3339, exclusive")]
