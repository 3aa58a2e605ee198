"""Keeping the rollups equal to the rows: in the transaction of every write, from what it
changed, and `callboard rebuild`.

What a write changed is the change log (`live_changes`, filled by triggers on the derived
tables, `events` and `schedules` in the writing transaction; docs/LIVE.md): the instants of
every changed contact segment, survey and ring-no-answer (old and new values), and the spans
of every changed state interval and plan with its agent. `refresh_rollups` reads the lines of
its own transaction it has not read yet and computes again

- every group's contact parts of each 15-minute interval holding such an instant, and of the
  intervals of the customer's neighbouring contacts (a new contact can make the first contact
  just before it unresolved, and the arrivals after it, up to the next first contact,
  repeats): a late or out-of-order event updates the interval it is dated in;
- the changed agents' time and adherence over the intervals the changed spans cover, then
  the center's, as the sum of the agents'.

Rows are computed by the queries of app/metrics/parts.py (ingest/rollup_parts.py) with the
thresholds `rollup_state` records (T, S and repeat window of the configuration they were
built for). A new configuration with other thresholds rebuilds them as it is stored
(app/rollups/service.py); a reader with other thresholds reads rows.

Any write to the rows marks the rollups behind (`rollup_state.behind_xid`, by triggers) until
`refresh_rollups` runs in the same transaction: a write that did not go through it (a script,
an autocommit connection) leaves them out of use, read from rows, until the next rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg import sql

import app.metrics.parts as P
from app.metrics.registry import Level
from ingest import rollup_parts as F

INTERVAL = timedelta(minutes=15)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# `now` for stored parts: no state interval is open and no repeat window has ended.
FAR = datetime(9000, 1, 1, tzinfo=UTC)
_STEP = "900 seconds"
_SETTING = "callboard.rollups_seen"  # the last change-log line this transaction has applied
_CONTACT_LEVELS: tuple[Level, ...] = ("center", "queue", "agent")
_AGENT_LEVELS: tuple[Level, ...] = ("agent",)
CHUNK = timedelta(days=1)  # a rebuild's span per statement
MANY_AGENTS = 20  # neighbours' agents above which their handling is read in one scan
LIFE_H = 12.0  # a contact's longest life in the queue (app.metrics.service.WAITING_HORIZON_H)


def floor15(t: datetime) -> datetime:
    return EPOCH + ((t - EPOCH) // INTERVAL) * INTERVAL


def intervals(lo: datetime, hi: datetime) -> list[datetime]:
    """Starts of the 15-minute intervals overlapping [lo, hi)."""
    out, t = [], floor15(lo)
    while t < hi:
        out.append(t)
        t += INTERVAL
    return out


# The thresholds the parts depend on: [defaults] and each configured queue's effective values,
# as lists [T, S, repeat window in hours, callback target in seconds].
Thresholds = dict[str, Any]
# (name, T, S, repeat window in hours, callback target) of every known queue (`queues_of`)
Queues = list[tuple[str, float, float, float, float]]


def thresholds_of(body: dict[str, Any]) -> Thresholds:
    """The thresholds of a configuration (its JSON, as `config_versions` stores it), each
    queue's own values over the defaults (as CallboardConfig.queue reads them)."""
    d = body["defaults"]
    names = ("sl_threshold_s", "short_abandon_s", "repeat_window_h", "callback_target_s")
    defaults = [float(d[n]) for n in names]
    queues = {}
    for name, own in sorted((body.get("queues") or {}).items()):
        queues[name] = [
            # as CallboardConfig.queue: T and S may be 0; the windows fall back when 0 too
            float(own[n]) if own.get(n) is not None and (n in names[:2] or own[n]) else v
            for n, v in zip(names, defaults, strict=True)
        ]
    return {"defaults": defaults, "queues": queues}


def _state(conn: psycopg.Connection[Any]) -> tuple[Thresholds | None, bool]:
    """The thresholds the rollups hold, and whether a write of another transaction left them
    behind (None: never built)."""
    # IS DISTINCT FROM: a reader's transaction has no id, and `<>` NULL said "not behind"
    row = conn.execute(
        "SELECT params, behind_xid IS NOT NULL"
        " AND behind_xid IS DISTINCT FROM pg_current_xact_id_if_assigned()::text::bigint"
        " FROM rollup_state WHERE id = 1"
    ).fetchone()
    return (row[0], bool(row[1])) if row else (None, False)


def is_current(conn: psycopg.Connection[Any], thresholds: Thresholds) -> bool:
    """The rollups hold these thresholds and every write since was followed by its refresh."""
    built, behind = _state(conn)
    return not behind and built == thresholds


# --- the writer's call ---------------------------------------------------------------------


def refresh_rollups(conn: psycopg.Connection[Any]) -> None:
    """Bring the rollups up to date with what this transaction wrote so far (the writer calls
    it once per batch, after the derived rows; app/schedules after a plan's change)."""
    thresholds, behind = _state(conn)
    if thresholds is None or behind:  # never built, or left behind: rows until rebuilt
        return
    changes = conn.execute(
        "SELECT id, kind, t1, t2, t3, customer, agent FROM live_changes"
        " WHERE xid = pg_current_xact_id()::text::bigint"
        " AND id > coalesce(nullif(current_setting(%s, true), ''), '0')::bigint ORDER BY id",
        (_SETTING,),
    ).fetchall()
    conn.execute(
        "UPDATE rollup_state SET behind_xid = NULL"
        " WHERE behind_xid = pg_current_xact_id()::text::bigint"
    )
    if not changes:
        return
    conn.execute("SELECT set_config(%s, %s, true)", (_SETTING, str(changes[-1][0])))
    dirty: set[datetime] = set()
    touched: set[tuple[str, datetime]] = set()
    touched_lines: list[tuple[str, datetime]] = []
    agents: set[str] = set()
    spans: set[datetime] = set()
    for _, kind, t1, t2, t3, customer, agent in changes:
        if kind in ("s", "f", "m"):
            dirty.update(floor15(t) for t in (t1, t2, t3) if t is not None)
            if kind == "s" and customer is not None and t1 is not None:
                touched.add((customer, t1))
                touched_lines.append((customer, t1))
        elif kind in ("a", "h") and agent is not None and t1 is not None and t2 is not None:
            # an open state interval adds nothing to the rollups (its time is the reader's)
            agents.add(agent)
            spans.update(intervals(t1, t2))
    resolution: dict[datetime, tuple[set[str], set[str]]] = {}
    known = queues_of(conn, thresholds) if touched or dirty else []  # read once per batch
    if touched:
        arrivals, resolution = _neighbours(conn, known, _changed(touched_lines))
        dirty.update(arrivals)
    if dirty:
        refresh_contacts(conn, known, sorted(dirty))
    handled = {b: qa for b, qa in resolution.items() if b not in dirty}
    if handled:
        refresh_handling(conn, known, handled)
    if agents:
        refresh_agent_time(conn, sorted(spans), agents=sorted(agents))


# The intervals of the contacts a changed contact (customer c, queued at t) changes besides its
# own: the handling of the call of the customer's first contact just before t (resolution looks
# at the next first contact), and the arrivals of the customer after t up to their next first
# contact (a repeat looks at the previous one), within the longest repeat window.
_NEIGHBOURS = """
SELECT 'h', s.handled_at, s.queue, s.agent
FROM unnest(%(c)s::text[], %(t)s::timestamptz[]) AS x(customer, t)
CROSS JOIN LATERAL (
  SELECT f.call_id FROM contact_segments f
  WHERE f.customer = x.customer AND f.is_first AND f.queued_at < x.t
    AND f.queued_at >= x.t - make_interval(secs => %(rw)s)
  ORDER BY f.queued_at DESC LIMIT 1) prev
JOIN contact_segments s ON s.call_id = prev.call_id
WHERE s.handled_at IS NOT NULL
UNION ALL
SELECT 'a', s.queued_at, NULL, NULL
FROM unnest(%(c)s::text[], %(t)s::timestamptz[]) AS x(customer, t)
JOIN contact_segments f ON f.customer = x.customer AND f.is_first
  -- calls that began up to a contact's longest life before (a later segment of theirs)
  AND f.queued_at > x.t - make_interval(secs => %(life)s)
  AND f.queued_at <= x.t + make_interval(secs => %(rw)s)
JOIN contact_segments s ON s.call_id = f.call_id AND s.queued_at > x.t
  AND s.queued_at <= x.t + make_interval(secs => %(rw)s)
"""


def _changed(lines: list[tuple[str, datetime]]) -> set[tuple[str, datetime]]:
    """The (customer, queued at) of segments that appeared or went: a segment derived again
    as it was leaves two lines (its old and its new row) and changes no neighbour; one line
    alone is a contact that is new, gone or moved."""
    counts: dict[tuple[str, datetime], int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    return {line for line, n in counts.items() if n % 2}


def _neighbours(
    conn: psycopg.Connection[Any], known: Queues, touched: set[tuple[str, datetime]]
) -> tuple[set[datetime], dict[datetime, tuple[set[str], set[str]]]]:
    """The intervals of the arrivals after the changed contacts (all their parts are read
    again), and per interval the queues and agents whose handling holds the resolution of the
    contact just before (only that is read again)."""
    arrivals: set[datetime] = set()
    resolution: dict[datetime, tuple[set[str], set[str]]] = {}
    if not touched:
        return arrivals, resolution
    pairs = sorted(touched)
    longest = max(rw for _, _, _, rw, _ in known)
    rows = conn.execute(
        _NEIGHBOURS,
        {
            "c": [c for c, _ in pairs],
            "t": [t for _, t in pairs],
            "rw": longest * 3600,
            "life": LIFE_H * 3600,
        },
    ).fetchall()
    for kind, t, queue, agent in rows:
        if kind == "a":
            arrivals.add(floor15(t))
        else:
            queues, agents = resolution.setdefault(floor15(t), (set(), set()))
            queues.add(queue)
            if agent is not None:
                agents.add(agent)
    return arrivals, resolution


def queues_of(conn: psycopg.Connection[Any], thresholds: Thresholds) -> Queues:
    """The thresholds of every known queue (stored and configured)."""
    own = thresholds["queues"]
    names = {r[0] for r in conn.execute("SELECT name FROM queues").fetchall()} | set(own)
    return [(n, *own.get(n, thresholds["defaults"])) for n in sorted(names)]


# --- computing and writing rows ------------------------------------------------------------


def contact_rows(
    conn: psycopg.Connection[Any], queues: Queues, starts: Sequence[datetime]
) -> dict[tuple[Level, str, datetime], dict[str, Any]]:
    """Every group's contact parts of the 15-minute intervals starting at `starts`, for the
    known queues (`queues_of`)."""
    out: dict[tuple[Level, str, datetime], dict[str, Any]] = {}
    if not starts or not queues:
        return out
    lo, hi = min(starts), max(starts) + INTERVAL
    windows = [P.QueueWindow(name, t, s, rw, lo, hi, cbt) for name, t, s, rw, cbt in queues]
    dense = len(starts) > 8
    base = {
        **P._params(windows, FAR),
        "rf": list(starts),
        "rt": [s + INTERVAL for s in starts],
        "dense": dense,
        "step": INTERVAL,
    }
    for template, family, serves, center, dating in F.CONTACT_FAMILIES.values():
        wanted = [lv for lv in serves if lv in _CONTACT_LEVELS]
        found = P._run(conn, template, family, wanted, {**base, "center": center}, dating)
        for level, groups in found.items():
            for (b, key), parts in groups.items():
                row = out.setdefault((level, key, b), {})
                row.update((c, v) for c, v in parts.items() if c in F.CONTACT_COLUMNS)
    return out


def agent_rows(
    conn: psycopg.Connection[Any], starts: Sequence[datetime], agents: Sequence[str] | None
) -> dict[tuple[Level, str, datetime], dict[str, Any]]:
    """The agents' (None: every agent's) time and adherence in closed state intervals over
    the 15-minute intervals starting at `starts`."""
    out: dict[tuple[Level, str, datetime], dict[str, Any]] = {}
    if not starts:
        return out
    params = {
        "rf": list(starts),
        "rt": [s + INTERVAL for s in starts],
        "lo": min(starts),
        "hi": max(starts) + INTERVAL,
        "step": _STEP,
        "now": FAR,
        "all": agents is None,
        "agents": list(agents or []),
    }
    for template in (F.CLOSED_AGENT_TIME, F.CLOSED_ADHERENCE):
        found = F.run_intervals(conn, template, _AGENT_LEVELS, params)
        for (b, key), parts in found["agent"].items():
            row = out.setdefault(("agent", key, b), {})
            row.update((c, v) for c, v in parts.items() if c in F.AGENT_COLUMNS)
    return out


def _write(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: dict[tuple[Level, str, datetime], dict[str, Any]],
) -> None:
    names = ["level", "key", "bucket", *columns]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with conn.cursor().copy(copy_sql) as copy:
        for (level, key, b), parts in rows.items():
            copy.write_row((level, key, b, *(parts.get(c) for c in columns)))


def refresh_contacts(
    conn: psycopg.Connection[Any], queues: Queues, starts: Sequence[datetime]
) -> None:
    """Replace every group's contact rows of these intervals."""
    conn.execute("DELETE FROM rollup_contacts WHERE bucket = ANY(%s)", (list(starts),))
    _write(conn, "rollup_contacts", F.CONTACT_COLUMNS, contact_rows(conn, queues, starts))


_CENTER = sql.SQL(
    "INSERT INTO rollup_agent_time (level, key, bucket, {cols})"
    " SELECT 'center', 'center', bucket, {sums} FROM rollup_agent_time"
    " WHERE level = 'agent' AND bucket = ANY(%s) GROUP BY bucket"
).format(
    cols=sql.SQL(", ").join(map(sql.Identifier, F.AGENT_COLUMNS)),
    sums=sql.SQL(", ").join(sql.SQL("sum({})").format(sql.Identifier(c)) for c in F.AGENT_COLUMNS),
)


_STAGE = sql.SQL(
    "CREATE TEMP TABLE IF NOT EXISTS rollup_stage (LIKE rollup_contacts) ON COMMIT DELETE ROWS"
)
_UPSERT = sql.SQL(
    "INSERT INTO rollup_contacts (level, key, bucket, {cols})"
    " SELECT level, key, bucket, {cols} FROM rollup_stage"
    " ON CONFLICT (level, key, bucket) DO UPDATE SET {sets}"
).format(
    cols=sql.SQL(", ").join(map(sql.Identifier, F.HANDLED_COLUMNS)),
    sets=sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in F.HANDLED_COLUMNS
    ),
)
# the center's handling: the sum of its queues' (every handled segment is in one known queue)
_HANDLED_CENTER = sql.SQL(
    "INSERT INTO rollup_contacts (level, key, bucket, {cols})"
    " SELECT 'center', 'center', u.b, {aggs}"
    " FROM unnest(%(b)s::timestamptz[]) AS u(b)"
    " LEFT JOIN rollup_contacts q ON q.level = 'queue' AND q.bucket = u.b"
    " GROUP BY u.b"
    " ON CONFLICT (level, key, bucket) DO UPDATE SET {sets}"
).format(
    cols=sql.SQL(", ").join(map(sql.Identifier, F.HANDLED_COLUMNS)),
    aggs=sql.SQL(", ").join(F.summed(c, "q") for c in F.HANDLED_COLUMNS),
    sets=sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in F.HANDLED_COLUMNS
    ),
)
_EMPTY_ROWS = sql.SQL("DELETE FROM rollup_contacts WHERE bucket = ANY(%s) AND {}").format(
    sql.SQL(" AND ").join(sql.SQL("{} IS NULL").format(sql.Identifier(c)) for c in F.PRESENCE)
)


def refresh_handling(
    conn: psycopg.Connection[Any],
    known: Queues,
    handled: dict[datetime, tuple[set[str], set[str]]],
) -> None:
    """Read again the handling of these queues and agents in these intervals (the rows
    holding a neighbour's resolution), and the center's as the sum of its queues'."""
    starts = sorted(handled)
    queues = set().union(*(q for q, _ in handled.values()))
    agents = sorted(set().union(*(a for _, a in handled.values())))
    lo, hi = starts[0], starts[-1] + INTERVAL
    base = {
        "rf": starts,
        "rt": [s + INTERVAL for s in starts],
        "dense": False,
        "step": INTERVAL,
        "center": False,
    }
    rows: dict[tuple[Level, str, datetime], dict[str, Any]] = {}
    mine = [P.QueueWindow(n, t, s, rw, lo, hi, cbt) for n, t, s, rw, cbt in known if n in queues]
    everyone = [P.QueueWindow(n, t, s, rw, lo, hi, cbt) for n, t, s, rw, cbt in known]
    runs: list[tuple[list[Level], list[P.QueueWindow], bool]] = (
        # many agents: their rows are most of the intervals', one scan for both levels
        [(["queue", "agent"], everyone, True)]
        if len(agents) > MANY_AGENTS
        else [(["queue"], mine, True), (["agent"], everyone, False)]
    )
    wanted: dict[Level, set[str]] = {"queue": set(queues), "agent": set(agents)}
    for levels, windows, every in runs:
        if not windows:
            continue
        params = {**P._params(windows, FAR), **base, "every": every, "agents": agents}
        found = P._run(conn, F.HANDLED_OF, "seg", levels, params, "s.handled_at")
        for level in levels:
            for b in starts:
                for key in wanted[level]:
                    parts = found[level].get((b, key), {})
                    rows[(level, key, b)] = {c: parts.get(c) for c in F.HANDLED_COLUMNS}
    conn.execute(_STAGE)
    _write(conn, "rollup_stage", F.HANDLED_COLUMNS, rows)
    conn.execute(_UPSERT)
    conn.execute("DELETE FROM rollup_stage")
    conn.execute(_HANDLED_CENTER, {"b": starts})
    conn.execute(_EMPTY_ROWS, (starts,))


def refresh_agent_time(
    conn: psycopg.Connection[Any], starts: Sequence[datetime], *, agents: Sequence[str] | None
) -> None:
    """Replace the agents' (None: every agent's) time rows of these intervals, and the
    center's as their sum."""
    if not starts:
        return
    starts = list(starts)
    if agents is None:
        conn.execute(
            "DELETE FROM rollup_agent_time WHERE level = 'agent' AND bucket = ANY(%s)", (starts,)
        )
    else:
        conn.execute(
            "DELETE FROM rollup_agent_time"
            " WHERE level = 'agent' AND key = ANY(%s) AND bucket = ANY(%s)",
            (list(agents), starts),
        )
    _write(conn, "rollup_agent_time", F.AGENT_COLUMNS, agent_rows(conn, starts, agents))
    conn.execute(
        "DELETE FROM rollup_agent_time WHERE level = 'center' AND bucket = ANY(%s)", (starts,)
    )
    conn.execute(_CENTER, (starts,))


# --- rebuild -------------------------------------------------------------------------------


def rebuild(conn: psycopg.Connection[Any], thresholds: Thresholds) -> dict[str, int]:
    """Compute every rollup again from the rows with these thresholds (a day of intervals
    per statement). Does not commit."""
    conn.execute("TRUNCATE rollup_contacts, rollup_agent_time")
    lo, hi = _span(conn)
    known = queues_of(conn, thresholds)
    day = lo
    while lo is not None and hi is not None and day < hi:
        upper = min(day + CHUNK, hi)
        starts = intervals(day, upper)
        refresh_contacts(conn, known, starts)
        _write(conn, "rollup_agent_time", F.AGENT_COLUMNS, agent_rows(conn, starts, None))
        conn.execute(_CENTER, (starts,))
        day = upper
    conn.execute(
        "INSERT INTO rollup_state (id, params, behind_xid, built_at) VALUES (1, %s, NULL, now())"
        " ON CONFLICT (id) DO UPDATE SET params = EXCLUDED.params, behind_xid = NULL,"
        " built_at = now()",
        (orjson.dumps(thresholds).decode(),),
    )
    counts = {}
    for table in ("rollup_contacts", "rollup_agent_time"):
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = int(row.fetchone()[0])  # type: ignore[index]
    return counts


def _span(conn: psycopg.Connection[Any]) -> tuple[Any, Any]:
    row = conn.execute(
        "SELECT min(t), max(u) FROM ("
        " SELECT min(least(queued_at, left_at, handled_at)),"
        "        max(greatest(queued_at, left_at, handled_at)) FROM contact_segments"
        " UNION ALL SELECT min(ts), max(ts) FROM feedback"
        " UNION ALL SELECT min(ts), max(ts) FROM events WHERE type = 'call.missed'"
        " UNION ALL SELECT min(started_at), max(ended_at) FROM agent_states"
        " UNION ALL SELECT min(starts_at), max(ends_at) FROM schedules) AS x(t, u)"
    ).fetchone()
    if row is None or row[0] is None:
        return None, None
    return floor15(row[0]), row[1] + INTERVAL
