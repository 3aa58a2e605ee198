"""The cost of one live tick: every queue's, team's and agent's snapshot plus the center, for
200 queues and 5,000 agents, with 1 hour and with 30 days of stored history, in one run: the
full computation (every window read again) and the live engine's incremental tick after what
1,000 events/s bring in a quarter second (60 contacts, 10 agents changing state).

    .venv/bin/python bench/tick.py [--days 30] [--windows today,interval,30m]

Target (ARCHITECTURE.md): <= 100 ms, and <= 1.3 x as long with 30 days as with 1 hour.
History is written straight into the derived tables with generate_series (the tick reads only
those, and events for RONA): 16,000 contacts an hour over 10 open hours a day, agent state
intervals of 15 minutes. The last hour is the same in both databases."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import db, migrate
from app.config import CallboardConfig, store_config
from app.live.engine import Engine
from app.live.settings import DEFAULT_WINDOWS
from app.metrics.service import compute_windows

QUEUES, AGENTS, TEAM_SIZE, PER_HOUR, OPEN_HOURS = 200, 5000, 25, 16_000, 10
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

SEGMENTS = """
INSERT INTO contact_segments (call_id, segment, queue, is_first, is_last, channel, customer,
  queued_at, outcome, left_at, wait_s, agent, answered_at, ended_at, talk_s, hold_s,
  wrapped_at, acw_s, handled_at, contact_outcome, contact_wait_s, ended_by)
SELECT 'c' || g, 0, 'q' || (g %% %(queues)s::int), true, true, 'voice', 'k' || (g %% 200000), t,
  CASE WHEN g %% 10 = 0 THEN 'abandoned' ELSE 'answered' END, t + w, extract(epoch FROM w),
  CASE WHEN g %% 10 = 0 THEN NULL ELSE 'a' || (g %% %(agents)s::int) END,
  CASE WHEN g %% 10 = 0 THEN NULL ELSE t + w END,
  CASE WHEN g %% 10 = 0 THEN NULL ELSE t + w + interval '180 s' END,
  CASE WHEN g %% 10 = 0 THEN NULL ELSE 180 END, 0,
  CASE WHEN g %% 10 = 0 THEN NULL ELSE t + w + interval '210 s' END,
  CASE WHEN g %% 10 = 0 THEN NULL ELSE 30 END,
  CASE WHEN g %% 10 = 0 THEN NULL ELSE t + w + interval '210 s' END,
  true, extract(epoch FROM w), 'customer'
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
CROSS JOIN LATERAL (SELECT %(end)s::timestamptz
  - make_interval(secs => (%(last)s - g) * 3600.0 / %(per_hour)s::int
      + floor((%(last)s - g) / (%(per_hour)s::int * %(open)s::int)) * (24 - %(open)s::int) * 3600)
  AS t, make_interval(secs => (g * 7919) %% 45) AS w) x
"""

STATES = """
INSERT INTO agent_states (agent, started_at, ended_at, state, reason, queues)
SELECT 'a' || a, s,
  CASE WHEN s + interval '15 min' >= %(end)s THEN NULL ELSE s + interval '15 min' END,
  (ARRAY['available', 'on_call', 'wrap_up', 'on_call', 'available', 'away'])[1 + (i + a) %% 6],
  CASE WHEN (i + a) %% 6 = 5 THEN 'break' END,
  ARRAY['q' || (a %% %(queues)s::int), 'q' || ((a + 1) %% %(queues)s::int)]
FROM generate_series(0, %(agents)s::int - 1) AS a
CROSS JOIN generate_series(0, %(slots)s::int - 1) AS i
CROSS JOIN LATERAL (SELECT %(end)s::timestamptz
  - make_interval(secs => (%(slots)s::int - i) * 900.0
      + floor((%(slots)s::int - 1 - i) / (4 * %(open)s::int)) * (24 - %(open)s::int) * 3600) AS s) x
"""


def fill(conn: psycopg.Connection[Any], hours: int) -> None:
    contacts = PER_HOUR * hours
    params = {
        "queues": QUEUES,
        "agents": AGENTS,
        "per_hour": PER_HOUR,
        "open": OPEN_HOURS,
        "end": NOW,
        "first": 1,
        "last": contacts,
        "slots": 4 * hours,
    }
    conn.execute(SEGMENTS, params)
    conn.execute(STATES, params)
    conn.execute(
        "INSERT INTO queues (name) SELECT 'q' || g FROM generate_series(0, %s - 1) g"
        " ON CONFLICT DO NOTHING",
        (QUEUES,),
    )
    conn.commit()
    conn.execute("VACUUM ANALYZE contact_segments")
    conn.execute("VACUUM ANALYZE agent_states")


def floor_config() -> CallboardConfig:
    """200 teams of 25 agents."""
    return CallboardConfig.model_validate(
        {
            "teams": {
                f"t{t}": {"agents": [f"a{a}" for a in range(t * TEAM_SIZE, (t + 1) * TEAM_SIZE)]}
                for t in range(AGENTS // TEAM_SIZE)
            }
        }
    )


@contextmanager
def filled(config: CallboardConfig, hours: int) -> Iterator[tuple[psycopg.Connection[Any], int]]:
    """An embedded server holding `hours` of history (its change log emptied), stopped after:
    a connection (autocommit) and the number of contacts."""
    with tempfile.TemporaryDirectory() as tmp:
        server = db.EmbeddedServer(Path(tmp) / "pg")
        try:
            engine = db.make_engine(server.url)
            with engine.begin() as c:
                migrate.upgrade(c)
            engine.dispose()
            url = server.url.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(url, autocommit=True) as conn:
                store_config(conn, config, origin="bench")
                t0 = time.perf_counter()
                fill(conn, hours)
                conn.execute("TRUNCATE live_changes")
                row = conn.execute("SELECT count(*) FROM contact_segments").fetchone()
                contacts = row[0] if row else 0
                print(
                    f"  {hours} h of history: {contacts:,} contacts "
                    f"(written in {time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
                yield conn, contacts
        finally:
            server.close()


def tick(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    windows: tuple[str, ...],
    now: datetime,
) -> float:
    """The full computation: every level over every window, read again from the tables."""
    start = time.perf_counter()
    compute_windows(
        conn, config, levels=("center", "queue", "team", "agent"), now=now, windows=windows
    )
    return time.perf_counter() - start


# What arrives between two ticks at 1,000 events/s and the default tick of 0.25 s: about 60
# contacts (4 events each) and 10 agents changing state.
ARRIVE = """
INSERT INTO contact_segments (call_id, segment, queue, is_first, is_last, channel, customer,
  queued_at, outcome, left_at, wait_s, agent, answered_at, ended_at, talk_s, hold_s,
  wrapped_at, acw_s, handled_at, contact_outcome, contact_wait_s, ended_by)
SELECT 'n' || %(tick)s || '-' || g, 0, 'q' || ((g * 31 + %(tick)s) %% %(queues)s::int), true, true,
  'voice', 'k' || ((g * 7919 + %(tick)s) %% 200000), %(now)s - interval '200 s', 'answered',
  %(now)s - interval '190 s', 10, 'a' || ((g * 97 + %(tick)s * 13) %% %(agents)s::int),
  %(now)s - interval '190 s', %(now)s - interval '10 s', 180, 0, %(now)s, 10, %(now)s, true, 10,
  'customer'
FROM generate_series(1, %(n)s::int) AS g
"""
CHANGE_STATE = """
WITH picked AS (
  SELECT 'a' || ((g * 389 + %(tick)s * 7) %% %(agents)s::int) AS agent
  FROM generate_series(1, %(n)s::int) AS g),
closed AS (
  UPDATE agent_states s SET ended_at = %(now)s FROM picked
  WHERE s.agent = picked.agent AND s.ended_at IS NULL AND s.started_at < %(now)s
  RETURNING s.agent)
INSERT INTO agent_states (agent, started_at, ended_at, state, reason, queues)
SELECT agent, %(now)s, NULL, (ARRAY['available', 'on_call', 'wrap_up'])[1 + %(tick)s %% 3], NULL,
  NULL FROM closed
"""


def steady(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    windows: tuple[str, ...],
    repeats: int,
) -> tuple[float, float, list[float], list[float]]:
    """The live engine: its first (full) computation, then ticks 0.25 s apart, each after
    what 1,000 events/s bring in a quarter second. Returns (start, full recompute, ticks,
    ticks with nothing new)."""
    engine = Engine(windows)
    t0 = time.perf_counter()
    engine.rows(conn, config, now=NOW, config_version=None)
    first = time.perf_counter() - t0
    now = NOW
    busy, idle, cpu = [], [], []
    for i in range(repeats * 8):
        now += timedelta(seconds=0.25)
        params = {"tick": i, "now": now, "n": 60, "queues": QUEUES, "agents": AGENTS}
        conn.execute(ARRIVE, params)
        conn.execute(CHANGE_STATE, {**params, "n": 10})
        t0, c0 = time.perf_counter(), time.process_time()
        engine.rows(conn, config, now=now, config_version=None)
        busy.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert not engine.stats.full, engine.stats
    for _ in range(repeats):
        now += timedelta(seconds=0.25)
        t0 = time.perf_counter()
        engine.rows(conn, config, now=now, config_version=None)
        idle.append(time.perf_counter() - t0)
    engine.reset()
    t0 = time.perf_counter()
    engine.rows(conn, config, now=now, config_version=None)
    again = time.perf_counter() - t0
    CPU.append(statistics.median(cpu))
    return first, again, busy, idle


CPU: list[float] = []  # the engine's own CPU time per tick (Python; the database's is apart)


def measure(days: int, window: tuple[str, ...], repeats: int) -> tuple[float, float]:
    config = floor_config()
    with filled(config, 1 if days == 0 else days * OPEN_HOURS) as (conn, _):
        tick(conn, config, window, NOW)  # warm the cache
        full = statistics.median(tick(conn, config, window, NOW) for _ in range(repeats))
        first, again, busy, idle = steady(conn, config, window, repeats)
        p50 = statistics.median(busy)
        p95 = sorted(busy)[int(0.95 * (len(busy) - 1))]
        print(
            f"    full computation {full * 1000:.1f} ms; engine start {first * 1000:.0f} ms"
            f" (again {again * 1000:.0f} ms); tick p50 {p50 * 1000:.1f} ms,"
            f" p95 {p95 * 1000:.1f} ms; nothing new {statistics.median(idle) * 1000:.1f}"
            f" ms; incremental / full {p50 / full:.3f}; the tick's Python CPU"
            f" {CPU[-1] * 1000:.1f} ms",
            flush=True,
        )
    return p50, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--windows", default=",".join(DEFAULT_WINDOWS))
    parser.add_argument("--short-only", action="store_true", help="only the 1-hour database")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    windows = tuple(args.windows.split(","))
    print(f"{QUEUES} queues, {AGENTS:,} agents, windows {windows}, median of {args.repeats}")
    short, short_full = measure(0, windows, args.repeats)
    if args.short_only:
        print(
            f"tick, 1 hour of history    {short * 1000:8.1f} ms (full {short_full * 1000:.0f} ms)"
        )
        return
    long, long_full = measure(args.days, windows, args.repeats)
    print(f"tick, 1 hour of history    {short * 1000:8.1f} ms (full {short_full * 1000:.0f} ms)")
    print(
        f"tick, {args.days} days of history  {long * 1000:8.1f} ms (full {long_full * 1000:.0f} ms)"
    )
    print(f"ratio                      {long / short:8.2f}   (targets: <= 100 ms, ratio <= 1.3)")


if __name__ == "__main__":
    main()
