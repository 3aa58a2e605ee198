"""The cost of one live tick: every queue's, team's and agent's rows plus the center, for 200
queues and 5,000 agents (or `--agents 48000 --queues 1000`), with 1 hour and with 3 days (30
open hours) of stored history, in one run: the full computation (every window read again),
the live engine's event tick with nothing new and after what 1,000 events/s (1,500 above
5,000 agents) bring in a quarter second, and the clock's computation of every row.

    .venv/bin/python bench/tick.py [--quick] [--days 3] [--agents 48000 --queues 1000]

Targets (issue #19): nothing new <= 10 ms (48,000 agents: 20 ms); after 0.25 s of events
<= 50 ms (48,000: 250 ms), and with 30 h of history <= 1.3 x the 1-hour figure.
History is written straight into the derived tables with generate_series (the tick reads only
those, and events for RONA): 16,000 contacts an hour over 10 open hours a day, agent state
intervals of 15 minutes. The last hour is the same in both databases.

Preconditions: the floor holds what was asked (every queue has contacts, every agent has state
intervals), every busy event tick saw the changes that arrived before it and needed no full
computation, every quiet one saw none. A floor smaller than its queues (`--agents 30 --queues
500`: 96 contacts an hour for 500 queues) is the broken setup of tests/bench."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import CallboardConfig, store_config
from app.live.engine import Engine
from app.live.settings import DEFAULT_WINDOWS
from app.metrics.service import compute_windows
from bench.common import migrated_database
from bench.harness import Run

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


def fill(
    conn: psycopg.Connection[Any], hours: int, *, queues: int = QUEUES, agents: int = AGENTS
) -> None:
    contacts = PER_HOUR * hours * agents // AGENTS
    params = {
        "queues": queues,
        "agents": agents,
        "per_hour": PER_HOUR * agents // AGENTS,
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
        (queues,),
    )
    conn.commit()
    conn.execute("VACUUM ANALYZE contact_segments")
    conn.execute("VACUUM ANALYZE agent_states")


def floor_config(agents: int = AGENTS) -> CallboardConfig:
    """Teams of 25 agents (200 for 5,000 agents)."""
    return CallboardConfig.model_validate(
        {
            "teams": {
                f"t{t}": {"agents": [f"a{a}" for a in range(t * TEAM_SIZE, (t + 1) * TEAM_SIZE)]}
                for t in range(agents // TEAM_SIZE)
            }
        }
    )


@contextmanager
def filled(
    config: CallboardConfig, hours: int, *, queues: int = QUEUES, agents: int = AGENTS
) -> Iterator[tuple[psycopg.Connection[Any], int]]:
    """An embedded server holding `hours` of history (its change log emptied), stopped after:
    a connection (autocommit) and the number of contacts."""
    with (
        migrated_database() as database,
        psycopg.connect(database.libpq, autocommit=True) as conn,
    ):
        store_config(conn, config, origin="bench")
        t0 = time.perf_counter()
        fill(conn, hours, queues=queues, agents=agents)
        conn.execute("TRUNCATE live_changes")
        row = conn.execute("SELECT count(*) FROM contact_segments").fetchone()
        contacts = row[0] if row else 0
        print(
            f"  {hours} h of history: {contacts:,} contacts "
            f"(written in {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        yield conn, contacts


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


@dataclass
class Ticks:
    start: float  # the engine's first (full) computation
    clock: list[float]  # the clock's computation (every row at now), after a second of events
    busy: list[float]  # an event tick after what `rate` events/s bring in 0.25 s
    idle: list[float]  # an event tick with nothing new
    cpu: list[float]  # the busy event tick's own Python CPU
    changes: list[int]  # the changes each busy event tick read
    quiet_changes: list[int]  # the changes each tick with nothing new read
    full: int = 0  # clock computations that had to compute everything again
    needed_clock: datetime | None = None  # an event tick that returned None (stopped there)


def steady(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    windows: tuple[str, ...],
    repeats: int,
    *,
    queues: int = QUEUES,
    agents: int = AGENTS,
    rate: int = 1000,
) -> Ticks:
    """The live engine: its first (full) computation, then event ticks 0.25 s apart, each
    after what `rate` events/s bring in a quarter second (a contact is 4 events; one agent
    in 6 changes state per contact), the clock's computation every 4 of them, and event ticks
    with nothing new."""
    engine = Engine(windows)
    t0 = time.perf_counter()
    engine.rows(conn, config, now=NOW, config_version=None)
    out = Ticks(time.perf_counter() - t0, [], [], [], [], [], [])
    now = NOW
    contacts = max(1, rate // 16)
    for i in range(repeats * 8):
        now += timedelta(seconds=0.25)
        params = {"tick": i, "now": now, "n": contacts, "queues": queues, "agents": agents}
        conn.execute(ARRIVE, params)
        conn.execute(CHANGE_STATE, {**params, "n": max(1, contacts // 6)})
        t0, c0 = time.perf_counter(), time.process_time()
        update = engine.update(conn, config, now=now, config_version=None)
        if update is None:  # a window's start moved (not in this bench's hour)
            out.needed_clock = now
            return out
        out.busy.append(time.perf_counter() - t0)
        out.cpu.append(time.process_time() - c0)
        out.changes.append(engine.stats.changes)
        if i % 4 == 3:
            t0 = time.perf_counter()
            engine.rows(conn, config, now=now, config_version=None)
            out.clock.append(time.perf_counter() - t0)
            out.full += engine.stats.full
    for _ in range(repeats * 4):  # one in 40 crosses a 10-s bucket (reads the new one)
        now += timedelta(seconds=0.25)
        t0 = time.perf_counter()
        engine.update(conn, config, now=now, config_version=None)
        out.idle.append(time.perf_counter() - t0)
        out.quiet_changes.append(engine.stats.changes)
    return out


def measure(
    run: Run,
    hours: int,
    windows: tuple[str, ...],
    repeats: int,
    *,
    queues: int,
    agents: int,
    rate: int,
) -> float:
    """The figures of one database; returns the busy event tick's median (s)."""
    config = floor_config(agents)
    label = f"{agents:,} agents, {hours} h"
    with filled(config, hours, queues=queues, agents=agents) as (conn, contacts):
        run.require(f"history filled ({label})", contacts > 0, f"{contacts:,} contacts")
        row = conn.execute(
            "SELECT (SELECT count(DISTINCT queue) FROM contact_segments),"
            " (SELECT count(DISTINCT agent) FROM agent_states)"
        ).fetchone()
        have_queues, have_agents = row if row else (0, 0)
        run.require(
            f"every queue and agent of the floor filled ({label})",
            have_queues == queues and have_agents == agents,
            f"{have_queues:,} of {queues:,} queues with contacts,"
            f" {have_agents:,} of {agents:,} agents with states",
        )
        tick(conn, config, windows, NOW)  # warm the cache
        full = statistics.median(tick(conn, config, windows, NOW) for _ in range(repeats))
        t = steady(conn, config, windows, repeats, queues=queues, agents=agents, rate=rate)
    run.require(
        f"every event tick incremental ({label})",
        t.needed_clock is None and t.full == 0,
        f"the tick at {t.needed_clock} needed the clock's computation"
        if t.needed_clock
        else f"{t.full} clock computation(s) computed everything again",
    )
    run.require(
        f"every busy event tick read the events that arrived ({label})",
        len(t.changes) == repeats * 8 and all(c > 0 for c in t.changes),
        f"{sum(c > 0 for c in t.changes)} of {repeats * 8} ticks read changes",
    )
    run.require(
        f"the ticks with nothing new read nothing ({label})",
        len(t.quiet_changes) == repeats * 4 and not any(t.quiet_changes),
        f"{sum(c > 0 for c in t.quiet_changes)} of {repeats * 4} read changes",
    )
    ms = 1000
    big = agents > AGENTS
    run.figure(f"full computation ({label})", full * ms, "ms")
    run.figure(f"engine start ({label})", t.start * ms, "ms")
    run.figure(
        f"event tick, nothing new ({label})",
        statistics.median(t.idle) * ms,
        "ms",
        target=20 if big else 10,
    )
    run.figure(
        f"event tick after 0.25 s of {rate:,} events/s ({label})",
        statistics.median(t.busy) * ms,
        "ms",
        target=250 if big else 50,
        note=f"p95 {sorted(t.busy)[int(0.95 * (len(t.busy) - 1))] * ms:.1f} ms; its Python CPU"
        f" {statistics.median(t.cpu) * ms:.1f} ms",
    )
    run.figure(f"clock's computation, every row ({label})", statistics.median(t.clock) * ms, "ms")
    return statistics.median(t.busy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3, help="the long history (0: none)")
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--queues", type=int, default=QUEUES)
    parser.add_argument(
        "--rate",
        type=int,
        default=0,
        help="events/s (default 1,000; 1,500 when more than 5,000 agents)",
    )
    parser.add_argument("--windows", default=",".join(DEFAULT_WINDOWS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 hour of history, 2 repeats")
    args = parser.parse_args()
    windows = tuple(args.windows.split(","))
    rate = args.rate or (1500 if args.agents > AGENTS else 1000)
    run = Run("tick" if args.agents == AGENTS else f"tick-{args.agents}", quick=args.quick)
    repeats = 2 if args.quick else args.repeats
    print(f"{args.queues} queues, {args.agents:,} agents, windows {windows}, median of {repeats}")
    short = measure(run, 1, windows, repeats, queues=args.queues, agents=args.agents, rate=rate)
    if args.days and not args.quick:
        long = measure(
            run,
            args.days * OPEN_HOURS,
            windows,
            repeats,
            queues=args.queues,
            agents=args.agents,
            rate=rate,
        )
        run.figure(
            f"event tick, {args.days * OPEN_HOURS} h / 1 h of history",
            long / short,
            "x",
            target=1.3,
        )
    run.finish()


if __name__ == "__main__":
    main()
