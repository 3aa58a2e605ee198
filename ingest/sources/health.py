"""Each source's health, from the counters the committer keeps (`source_stats`) and the
positions it stores (`source_positions`).

Per source: the newest event's own time and its age, when the source was last heard from,
events stored per minute (the last 5 minutes), duplicates, rejects, skipped lines, gaps (for
sources that number their messages), followed files' offsets and lag (bytes not read yet), and
`stale` when it has been silent longer than its `[sources.<name>] max_silence_s`. One payload
serves `callboard sources`, the `sources` websocket topic and the Prometheus gauges; the `feed`
topic carries only whether some source is stale (what a wallboard or an agent may know)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import psycopg

RATE_MINUTES = 5


def _lag(value: dict[str, Any]) -> tuple[int | None, int | None]:
    """(file size, bytes not read yet) of a followed file, when it is here to look at."""
    path = value.get("path")
    if not path or "offset" not in value:
        return None, None
    try:
        st = os.stat(path)
    except OSError:
        return None, None
    if st.st_ino != value.get("inode"):
        return st.st_size, st.st_size  # a new file (rotated): all of it is still to read
    return st.st_size, max(0, st.st_size - int(value["offset"]))


def sources_payload(
    pg: psycopg.Connection[Any], config: Any, now: datetime, *, wall: datetime | None = None
) -> dict[str, Any]:
    """Every source's health at `now` (the events' clock: the age of the newest event);
    silence and staleness are measured on `wall` (the real clock, default `now`), since that is
    when the committer heard from the source, even when the screens run a simulated clock."""
    wall = wall or now
    stats = {
        row[0]: row
        for row in pg.execute(
            "SELECT source, inserted, duplicates, rejected, skipped, gaps, last_event_ts,"
            " last_batch_at, minutes FROM source_stats"
        ).fetchall()
    }
    positions: dict[str, list[dict[str, Any]]] = {}
    for source, key, value, updated in pg.execute(
        "SELECT source, key, value, updated_at FROM source_positions ORDER BY source, key"
    ).fetchall():
        size, lag = _lag(value)
        positions.setdefault(source, []).append(
            {
                "key": key,
                "offset": value.get("offset", value.get("seq")),
                "size": size,
                "lag_bytes": lag,
                "updated_at": updated.isoformat(),
            }
        )
    configured = dict(getattr(config, "sources", None) or {})
    minute = int(wall.timestamp()) // 60
    out = []
    for name in sorted(set(stats) | set(configured) | set(positions)):
        row = stats.get(name)
        settings = configured.get(name)
        silence = getattr(settings, "max_silence_s", None)
        last_ts = row[6] if row else None
        heard = row[7] if row else None
        minutes = row[8] if row else {}
        recent = sum(int(n) for k, n in minutes.items() if minute - RATE_MINUTES < int(k) <= minute)
        heard_s = None if heard is None else max(0.0, (wall - heard).total_seconds())
        lags = [p["lag_bytes"] for p in positions.get(name, []) if p["lag_bytes"] is not None]
        out.append(
            {
                "source": name,
                "last_event_ts": last_ts.isoformat() if last_ts else None,
                "age_s": None if last_ts is None else (now - last_ts).total_seconds(),
                "last_heard_at": heard.isoformat() if heard else None,
                "silent_s": heard_s,
                "events_per_min": recent / RATE_MINUTES,
                "inserted": row[1] if row else 0,
                "duplicates": row[2] if row else 0,
                "rejected": row[3] if row else 0,
                "skipped": row[4] if row else 0,
                "gaps": row[5] if row else 0,
                "positions": positions.get(name, []),
                "lag_bytes": sum(lags) if lags else None,
                "max_silence_s": silence,
                "stale": silence is not None and (heard_s is None or heard_s > silence),
            }
        )
    return {"generated_at": wall.isoformat(), "sources": out}


def feed_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """What every screen may know of the sources (the `feed` topic): whether the figures may be
    behind because a source is stale, and for how long, never which source or how many.
    `silent_s` is the longest silence of a stale source heard from at all, floored to 10 s
    under a minute and to whole minutes above (the payload then changes at most that often on
    every wallboard and agent widget); `unheard`: a stale source never heard from."""
    stale = [s for s in payload["sources"] if s["stale"]]
    heard = [float(s["silent_s"]) for s in stale if s["silent_s"] is not None]
    silent = max(heard) if heard else None
    if silent is not None:
        silent = silent // 10 * 10 if silent < 60 else silent // 60 * 60
    return {
        "stale": bool(stale),
        "silent_s": silent,
        "unheard": any(s["silent_s"] is None for s in stale),
    }
