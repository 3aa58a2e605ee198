"""Reads events back and writes the derived tables. Incremental ingest and `callboard rebuild`
run the same functions; rebuild only runs them over everything."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.types.json import set_json_loads
from sqlalchemy.dialects.postgresql import ARRAY

from app.models import Base
from ingest.derive import (
    AGENT_STATE_COLUMNS,
    DERIVE_VERSION,
    FEEDBACK_COLUMNS,
    PRESENCE_STATES,
    SEGMENT_COLUMNS,
    STATE_EVENT_TYPES,
    Interval,
    Stored,
    agent_intervals,
    contact_rows,
)
from ingest.rollups import refresh_rollups

__all__ = [
    "INGEST_LOCK_KEY",
    "STATE_EVENT_TYPES",
    "derive_span",
    "ensure_reference",
    "finish_pending",
    "mark_pending",
    "pending_name",
    "rebuild",
    "refresh_agents",
    "refresh_contacts",
]

# pg_advisory_xact_lock key held by every transaction that writes events or derived rows
INGEST_LOCK_KEY = 0x63616C6C  # "call"

_EVENT_COLUMNS = "e.source, e.id, e.ts, e.type, e.call_id, e.queue, e.agent, e.data"


_PG_TYPES = {
    sa.Text: "text",
    sa.SmallInteger: "int2",
    sa.Integer: "int4",
    sa.Boolean: "bool",
    sa.Float: "float8",
    sa.DateTime: "timestamptz",
}


def _pg_type(column: sa.Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, ARRAY):
        return _PG_TYPES[type(kind.item_type)] + "[]"
    return _PG_TYPES[type(kind)]


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: Sequence[str], rows: Iterable[Any]
) -> None:
    """Binary COPY; column types come from the table's model."""
    types = [_pg_type(Base.metadata.tables[table].c[name]) for name in columns]
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(stmt) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def ensure_reference(
    conn: psycopg.Connection[Any], *, queues: Collection[str], agents: Collection[str]
) -> None:
    """Names first seen in events are created with defaults and flagged (EVENTS.md)."""
    if queues:
        conn.execute(
            "INSERT INTO queues (name, auto_created) SELECT unnest(%s::text[]), true"
            " ON CONFLICT DO NOTHING",
            (sorted(queues),),
        )
    if agents:
        conn.execute(
            "INSERT INTO agents (id, auto_created) SELECT unnest(%s::text[]), true"
            " ON CONFLICT DO NOTHING",
            (sorted(agents),),
        )


_NO_BOUND = 2**63 - 1


def refresh_contacts(
    conn: psycopg.Connection[Any],
    call_ids: Sequence[str],
    *,
    fresh: Mapping[str, Sequence[Stored]] | None = None,
    older_than: int | None = None,
) -> None:
    """Recompute the segments and feedback of these contacts from all their events: those
    stored with seq < `older_than`, plus `fresh` ones just inserted (not read back)."""
    set_json_loads(orjson.loads, conn)
    rows = (
        conn.cursor(binary=True)
        .execute(
            f"SELECT {_EVENT_COLUMNS} FROM events e"  # noqa: S608 (constant column list)
            " WHERE e.call_id = ANY(%b) AND e.type <> 'agent.state' AND e.seq < %b",
            (list(call_ids), older_than or _NO_BOUND),
        )
        .fetchall()
    )
    by_call: dict[str, list[Stored]] = defaultdict(list)
    for row in rows:
        by_call[row[4]].append(Stored(*row))
    # Only contacts with events stored before can have derived rows to replace, and only
    # those with surveys or evaluations feedback rows. (Deleting by the whole id list made
    # the planner scan feedback against the array: seconds per import.)
    stale = list(by_call)
    for call_id, events in (fresh or {}).items():
        by_call[call_id].extend(events)
    segments: list[tuple[Any, ...]] = []
    feedback: list[tuple[Any, ...]] = []
    with_feedback: list[str] = []
    for call_id, events in by_call.items():
        segs, fb = contact_rows(call_id, events)
        segments.extend(s.row() for s in segs)
        feedback.extend(f.row() for f in fb)
        if fb and call_id in stale:
            with_feedback.append(call_id)
    if stale:
        conn.execute(
            "DELETE FROM contact_segments t USING unnest(%b::text[]) AS u(call_id)"
            " WHERE t.call_id = u.call_id",
            (stale,),
        )
    if with_feedback:
        conn.execute(
            "DELETE FROM feedback t USING unnest(%b::text[]) AS u(call_id)"
            " WHERE t.call_id = u.call_id",
            (with_feedback,),
        )
    _copy(conn, "contact_segments", SEGMENT_COLUMNS, segments)
    _copy(conn, "feedback", FEEDBACK_COLUMNS, feedback)


_ANCHORS = """
SELECT a.agent, p.agent, p.started_at, p.ended_at, p.state, p.reason, p.queues
FROM unnest(%b::text[], %b::timestamptz[]) AS a(agent, since)
LEFT JOIN LATERAL (
    SELECT s.* FROM agent_states s
    WHERE s.agent = a.agent AND s.started_at < a.since AND s.state = ANY(%b)
    ORDER BY s.started_at DESC LIMIT 1) p ON true
"""


def refresh_agents(
    conn: psycopg.Connection[Any],
    since: Mapping[str, datetime | None],
    *,
    fresh: Mapping[str, Sequence[Stored]] | None = None,
    older_than: int | None = None,
) -> None:
    """Recompute each agent's state intervals from its earliest new event on (`None`: all).
    Stored events with seq < `older_than` are read; `fresh` ones are given.

    The tail starts at the last presence interval (available, away, logged out) that began
    before the earliest new event: there no call is open, so the state machine restarts from
    that interval alone and the tail equals a full recompute. Events after its start are read
    and every interval from its start on is replaced."""
    set_json_loads(orjson.loads, conn)
    agents = sorted(since)
    anchors = (
        conn.cursor(binary=True)
        .execute(
            _ANCHORS,
            (
                agents,
                [since[a] for a in agents],
                sorted(PRESENCE_STATES),
            ),
        )
        .fetchall()
    )
    read_after: dict[str, datetime | None] = dict.fromkeys(agents)
    before: dict[str, Interval] = {}
    for agent, p_agent, p_start, p_end, p_state, p_reason, p_queues in anchors:
        if p_start is not None:
            read_after[agent] = p_start
            before[agent] = Interval(p_agent, p_start, p_end, p_state, p_reason, p_queues)
    rows = (
        conn.cursor(binary=True)
        .execute(
            f"SELECT {_EVENT_COLUMNS} FROM unnest(%b::text[], %b::timestamptz[]) AS a(agent, since)"  # noqa: S608
            " JOIN events e ON e.agent = a.agent AND e.ts > coalesce(a.since, '-infinity')"
            " WHERE e.type = ANY(%b) AND e.seq < %b",
            (
                agents,
                [read_after[a] for a in agents],
                list(STATE_EVENT_TYPES),
                older_than or _NO_BOUND,
            ),
        )
        .fetchall()
    )
    by_agent: dict[str, list[Stored]] = defaultdict(list)
    for row in rows:
        by_agent[row[6]].append(Stored(*row))
    for agent, events in (fresh or {}).items():
        after = read_after.get(agent)
        by_agent[agent].extend(e for e in events if after is None or e.ts > after)
    intervals: list[Interval] = []
    for agent in agents:
        intervals.extend(agent_intervals(agent, by_agent.get(agent, ()), before.get(agent)))
    conn.execute(
        "DELETE FROM agent_states s USING unnest(%b::text[], %b::timestamptz[]) AS a(agent, since)"
        " WHERE s.agent = a.agent AND s.started_at >= coalesce(a.since, '-infinity')",
        (agents, [read_after[a] for a in agents]),
    )
    _copy(conn, "agent_states", AGENT_STATE_COLUMNS, intervals)


def _chunks(cur: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for (value,) in cur:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- bulk imports: the derived rows of a span of events, once at the end ---------------------

# derived_meta keys `pending:<name>` -> the first seq of a bulk import whose derived rows are
# not made yet. Written with the import's first batch, removed with its last derived rows: a
# bulk import cut short (a crash, a kill) is finished by the next import or `callboard migrate`.
PENDING = "pending:"
AGENT_CHUNK = 20  # agents whose whole span is read at once (bounded memory)


def mark_pending(conn: psycopg.Connection[Any], name: str, first_seq: int) -> None:
    conn.execute(
        "INSERT INTO derived_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
        " SET value = least(derived_meta.value::bigint, EXCLUDED.value::bigint)::text",
        (PENDING + name, str(first_seq)),
    )


def derive_span(
    conn: psycopg.Connection[Any], *, from_seq: int, chunk: int = 5000
) -> Iterator[int]:
    """Recompute the derived rows of every contact and agent that events with seq >= `from_seq`
    touch, a chunk at a time, each under the ingest lock; yields after each chunk (the caller
    may commit there: every chunk leaves the tables right for the contacts and agents it did).
    Yields the number of contacts or agents done."""
    calls = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT call_id FROM events"
            " WHERE seq >= %s AND call_id IS NOT NULL AND type <> 'agent.state'",
            (from_seq,),
        ).fetchall()
    ]
    for i in range(0, len(calls), chunk):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (INGEST_LOCK_KEY,))
        refresh_contacts(conn, calls[i : i + chunk])
        refresh_rollups(conn)  # in the transaction of the rows, as the writer does
        yield len(calls[i : i + chunk])
    since = dict(
        conn.execute(
            "SELECT agent, min(ts) FROM events"
            " WHERE seq >= %s AND agent IS NOT NULL AND type = ANY(%s) GROUP BY agent",
            (from_seq, list(STATE_EVENT_TYPES)),
        ).fetchall()
    )
    agents = sorted(since)
    for i in range(0, len(agents), AGENT_CHUNK):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (INGEST_LOCK_KEY,))
        refresh_agents(conn, {a: since[a] for a in agents[i : i + AGENT_CHUNK]})
        refresh_rollups(conn)
        yield len(agents[i : i + AGENT_CHUNK])


def pending_name(conn: psycopg.Connection[Any], source: str) -> str:
    """A bulk import's marker name: its source and its server process, which tells a running
    import (whose process is there) from one cut short."""
    return f"{source}:{conn.info.backend_pid}"


def pending(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Bulk imports cut short (their server process is gone) whose derived rows are not made
    yet: name -> first seq."""
    rows = conn.execute(
        "SELECT key, value FROM derived_meta WHERE starts_with(key, %s)"
        " AND substring(key from ':([0-9]+)$')::int NOT IN (SELECT pid FROM pg_stat_activity)",
        (PENDING,),
    ).fetchall()
    return {key.removeprefix(PENDING): int(value) for key, value in rows}


def clear_pending(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute("DELETE FROM derived_meta WHERE key = %s", (PENDING + name,))


def finish_pending(conn: psycopg.Connection[Any]) -> list[str]:
    """Make the derived rows of bulk imports cut short; the names done. Does not commit."""
    done = []
    for name, first_seq in pending(conn).items():
        for _ in derive_span(conn, from_seq=first_seq):
            pass
        clear_pending(conn, name)
        done.append(name)
    return done


def rebuild(conn: psycopg.Connection[Any], *, chunk: int = 5000) -> dict[str, int]:
    """Recompute every derived table from `events`. Does not commit."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (INGEST_LOCK_KEY,))
    conn.execute("TRUNCATE contact_segments, feedback, agent_states")
    conn.execute("DELETE FROM derived_meta WHERE starts_with(key, %s)", (PENDING,))
    calls = conn.execute(
        "SELECT DISTINCT call_id FROM events WHERE call_id IS NOT NULL AND type <> 'agent.state'"
        " ORDER BY 1"
    ).fetchall()
    for ids in _chunks(calls, chunk):
        refresh_contacts(conn, ids)
    agents = conn.execute(
        "SELECT DISTINCT agent FROM events WHERE agent IS NOT NULL AND type = ANY(%s) ORDER BY 1",
        (list(STATE_EVENT_TYPES),),
    ).fetchall()
    for names in _chunks(agents, max(1, chunk // 10)):
        refresh_agents(conn, dict.fromkeys(names))
    conn.execute(
        "INSERT INTO derived_meta (key, value) VALUES ('derive_version', %s)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (str(DERIVE_VERSION),),
    )
    counts = {}
    for table in ("contact_segments", "feedback", "agent_states"):
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = row[0] if row else 0
    return counts


def rebuild_if_outdated(conn: psycopg.Connection[Any]) -> dict[str, int] | None:
    """Rebuild when the derived tables were made by another version of ingest/derive.py."""
    row = conn.execute("SELECT value FROM derived_meta WHERE key = 'derive_version'").fetchone()
    if row is not None and row[0] == str(DERIVE_VERSION):
        finish_pending(conn)
        return None
    return rebuild(conn)
