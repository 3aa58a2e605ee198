"""A month of a small floor, written through the ingest path: a weekly pattern (quiet
weekends, a busy Monday) with Poisson noise in every quarter hour, 08:00-12:00 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from ingest.writer import ingest

MONDAY = date(2026, 11, 2)
WEEKDAY_RATE = (6.0, 4.0, 4.0, 4.0, 3.0, 1.0, 0.5)  # mean calls per quarter hour
HANDLE_S = (120.0, 10.0)  # talk, wrap-up


def _ts(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def day_calls(queue: str, day: date, counts: list[int], prefix: str) -> list[dict[str, Any]]:
    """counts[i] calls in the quarter hour 08:00 + 15 min x i, each answered and handled."""
    out: list[dict[str, Any]] = []
    talk, acw = HANDLE_S
    for slot, n in enumerate(counts):
        start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(minutes=15 * slot)
        for k in range(n):
            cid = f"{prefix}-{queue}-{day:%m%d}-{slot}-{k}"
            q = start + timedelta(seconds=5 * k)
            a = q + timedelta(seconds=3)
            e = a + timedelta(seconds=talk)
            base = {"call_id": cid, "queue": queue}
            out += [
                {"id": cid + "q", "ts": _ts(q), "type": "call.queued", **base},
                {"id": cid + "a", "ts": _ts(a), "type": "call.answered", "agent": "a1", **base},
                {"id": cid + "e", "ts": _ts(e), "type": "call.ended", "agent": "a1", **base},
                {
                    "id": cid + "w",
                    "ts": _ts(e + timedelta(seconds=acw)),
                    "type": "call.wrapped",
                    "call_id": cid,
                    "agent": "a1",
                },
            ]
    return out


def write_month(conn: psycopg.Connection[Any], *, weeks: int = 4, seed: int = 7) -> int:
    """`weeks` weeks from MONDAY for the queue `sales`; returns the calls written."""
    rng = np.random.default_rng(seed)
    events: list[dict[str, Any]] = []
    calls = 0
    for i in range(7 * weeks):
        day = MONDAY + timedelta(days=i)
        counts = [int(x) for x in rng.poisson(WEEKDAY_RATE[day.weekday()], 16)]
        calls += sum(counts)
        events += day_calls("sales", day, counts, "m")
    result = ingest(conn, events)
    assert result.rejected == 0, result.errors[:3]
    return calls
