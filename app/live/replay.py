"""A screen as it was at a past moment: the live topics' payloads computed for `at`.

A replay runs the live computation itself (`compute_windows`, which the live engine is held
equal to, then the hub's `frame_payloads`) with now = `at`, on the stored rows **as they were
at `at`**. The derived tables hold each contact's and agent's final state (a contact that
ended at 10:05 is stored as ended); inside the replay's transaction, temporary tables of the
same names shadow them (PostgreSQL looks in `pg_temp` first), filled with what was true at
`at`: a contact queued before `at` and answered after it is still waiting, a call ended before
`at` whose wrap-up ended after it is handled at its end with no wrap-up yet (as the live
screen counted it), an agent's state that ended after `at` is still open, a segment, survey
or state dated after `at` does not exist, and a queue first named after `at` is not yet
known. The queries themselves are not touched, so what a replay reads is exactly what live
read. The temporary tables go with the transaction.

Late events: a replay dates every stored event by its own time (`ts`), not by when it arrived
(docs/LIVE.md, Replay)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from app.config import CallboardConfig
from app.live.hub import frame_payloads, scorecards
from app.live.topics import BUILT_IN, Rows, levels_for
from app.metrics.service import WAITING_HORIZON_H, compute_windows

# How far before `at` the shadow tables reach: a day in the farthest time zone, plus the
# longest repeat window (repeats and first-contact resolution look back over it), plus slack.
DAY_SPAN = timedelta(hours=27)

# A segment as it was at %(at)s (columns in the table's order; see app/models.py).
_SEGMENTS = """
INSERT INTO pg_temp.contact_segments (call_id, segment, queue, is_first, is_last, channel,
  customer, priority, queued_at, outcome, left_at, wait_s, overflow_reason, overflow_to, missed,
  attempts, agent, answered_at, ended_at, ended_by, talk_s, hold_s, wrapped_at, acw_s,
  handled_at, transferred, transfer_to_queue, transfer_to_agent, transfer_to_external,
  contact_outcome, contact_wait_s, notes)
SELECT call_id, segment, queue, is_first,
  row_number() OVER (PARTITION BY call_id ORDER BY segment DESC) = 1 AS is_last,
  channel, customer, priority, queued_at, outcome, left_at, wait_s, overflow_reason,
  overflow_to, missed, attempts, agent, answered_at, ended_at, ended_by, talk_s, hold_s,
  wrapped_at, acw_s, handled_at, transferred, transfer_to_queue, transfer_to_agent,
  transfer_to_external,
  -- the segment carrying the contact's outcome (ingest/derive.py, _mark_contact_outcome):
  -- the first that was not overflowed or sent to a callback, else the last
  carries AS contact_outcome,
  CASE WHEN carries AND outcome IS NOT NULL AND waits = n THEN wait_sum END AS contact_wait_s,
  notes
FROM (
  SELECT *,
    count(*) FILTER (WHERE stop) OVER w - stop::int = 0
      AND (stop OR row_number() OVER (PARTITION BY call_id ORDER BY segment DESC) = 1)
      AS carries,
    sum(wait_s) OVER w AS wait_sum, count(wait_s) OVER w AS waits, count(*) OVER w AS n
  FROM (
    SELECT s.call_id, s.segment, s.queue, s.is_first, s.channel, s.customer, s.priority,
      s.queued_at,
      CASE WHEN gone THEN NULL ELSE s.outcome END AS outcome,
      CASE WHEN gone THEN NULL ELSE s.left_at END AS left_at,
      CASE WHEN gone THEN NULL ELSE s.wait_s END AS wait_s,
      CASE WHEN gone THEN NULL ELSE s.overflow_reason END AS overflow_reason,
      CASE WHEN gone THEN NULL ELSE s.overflow_to END AS overflow_to,
      s.missed, s.attempts,
      CASE WHEN coalesce(s.answered_at, s.left_at) > %(at)s THEN NULL ELSE s.agent END AS agent,
      CASE WHEN s.answered_at > %(at)s THEN NULL ELSE s.answered_at END AS answered_at,
      CASE WHEN ended THEN s.ended_at END AS ended_at,
      CASE WHEN ended THEN s.ended_by END AS ended_by,
      CASE WHEN ended THEN s.talk_s END AS talk_s,
      CASE WHEN ended THEN s.hold_s END AS hold_s,
      CASE WHEN wrapped THEN s.wrapped_at END AS wrapped_at,
      CASE WHEN wrapped THEN s.acw_s END AS acw_s,
      -- handled when the wrap-up ended; during it, at the call's end (derive: wrapped or ended)
      CASE WHEN wrapped THEN s.wrapped_at WHEN ended THEN s.ended_at END AS handled_at,
      ended AND s.transferred AS transferred,
      CASE WHEN ended THEN s.transfer_to_queue END AS transfer_to_queue,
      CASE WHEN ended THEN s.transfer_to_agent END AS transfer_to_agent,
      CASE WHEN ended THEN s.transfer_to_external END AS transfer_to_external,
      s.notes,
      (CASE WHEN gone THEN NULL ELSE s.outcome END) IS NULL
        OR s.outcome NOT IN ('overflowed', 'callback') AS stop
    FROM {real}.contact_segments s
    CROSS JOIN LATERAL (SELECT
      s.left_at > %(at)s AS gone,
      coalesce(s.ended_at <= %(at)s, false) AS ended,
      coalesce(s.wrapped_at <= %(at)s, false) AS wrapped) t
    WHERE s.call_id IN (
        SELECT call_id FROM {real}.contact_segments
          WHERE queued_at >= %(lo)s AND queued_at <= %(at)s
        UNION SELECT call_id FROM {real}.contact_segments
          WHERE left_at >= %(lo)s AND left_at <= %(at)s
        UNION SELECT call_id FROM {real}.contact_segments
          WHERE handled_at >= %(lo)s AND handled_at <= %(at)s
        UNION SELECT call_id FROM {real}.contact_segments
          WHERE outcome IS NULL AND queued_at IS NOT NULL AND queued_at <= %(at)s)
      AND coalesce(s.queued_at, s.left_at, s.answered_at, s.ended_at) <= %(at)s) x
  WINDOW w AS (PARTITION BY call_id ORDER BY segment ROWS UNBOUNDED PRECEDING)) y"""

# An agent's state intervals as they were at %(at)s: the one holding `at` is still open.
_STATES = """
INSERT INTO pg_temp.agent_states (agent, started_at, ended_at, state, reason, queues)
SELECT agent, started_at, CASE WHEN ended_at > %(at)s THEN NULL ELSE ended_at END,
  state, reason, queues
FROM {real}.agent_states
WHERE started_at <= %(at)s AND (ended_at IS NULL OR ended_at > %(lo)s)"""

_FEEDBACK = """
INSERT INTO pg_temp.feedback SELECT * FROM {real}.feedback WHERE ts >= %(lo)s AND ts <= %(at)s"""

# The queues known at `at`: configured ones, and those an event had named by then (a queue
# named only by agents' states or transfers, never by a contact, is kept: its first mention is
# not stored apart).
_QUEUES = """
INSERT INTO pg_temp.queues
SELECT * FROM {real}.queues q
WHERE NOT q.auto_created
  OR EXISTS (SELECT 1 FROM {real}.contact_segments s
             WHERE s.queue = q.name AND s.queued_at <= %(at)s)
  OR NOT EXISTS (SELECT 1 FROM {real}.contact_segments s WHERE s.queue = q.name)"""

SHADOWED = ("contact_segments", "agent_states", "feedback", "queues")


@contextmanager
def as_of(conn: psycopg.Connection[Any], config: CallboardConfig, at: datetime) -> Iterator[None]:
    """Within this block (in the caller's transaction) the derived tables read as they were at
    `at`; the temporary tables are dropped at its end (and with the transaction anyway)."""
    rw = max(
        [config.defaults.repeat_window_h, *(config.queue(q).repeat_window_h for q in config.queues)]
    )
    lo = at - DAY_SPAN - timedelta(hours=max(rw, WAITING_HORIZON_H))
    found = conn.execute(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = 'contact_segments'::regclass"
    ).fetchone()
    assert found is not None
    real = sql.Identifier(found[0])
    if found[0].startswith("pg_temp"):
        raise RuntimeError("a replay inside a replay")
    for table in SHADOWED:
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {t} (LIKE {real}.{t} INCLUDING DEFAULTS INCLUDING INDEXES)"
                " ON COMMIT DROP"
            ).format(t=sql.Identifier(table), real=real)
        )
    params = {"at": at, "lo": lo}
    for statement in (_SEGMENTS, _STATES, _FEEDBACK, _QUEUES):
        conn.execute(sql.SQL(statement).format(real=real), params)
    for table in SHADOWED:
        conn.execute(sql.SQL("ANALYZE pg_temp.{}").format(sql.Identifier(table)))
    yield
    # (after an error the transaction is rolled back, and the tables with it)
    for table in SHADOWED:
        conn.execute(sql.SQL("DROP TABLE pg_temp.{}").format(sql.Identifier(table)))


def replay(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    topics: set[str],
    at: datetime,
    config_version: int | None = None,
) -> dict[str, dict[str, Any]]:
    """topic -> payload of the built-in topics at `at`, as the live hub would have published
    them then (meta.version 0; meta.computed_at is `at`: the moment the figures are for)."""
    wanted = {t for t in topics if t.partition(":")[0] in BUILT_IN}
    if not wanted:
        return {}
    levels = levels_for(wanted)
    windows = config.live.windows
    with as_of(conn, config, at):
        result = compute_windows(
            conn, config, levels=levels, now=at, windows=windows, config_version=config_version
        )
        rows: Rows = {
            w: {lv: {r["key"]: r for r in res[lv]["rows"]} for lv in levels}
            for w, res in result.items()
        }
        agents = rows[windows[0]].get("agent", {})
        cards = scorecards(config, agents) if agents else {}
        out, _ = frame_payloads(conn, config, config_version, wanted, rows, at, 0, iso(at), cards)
    return out


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


# RFC 3339: a date, a time and an offset (Z or +hh:mm); ISO 8601's other forms are refused
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def first_data(conn: psycopg.Connection[Any]) -> datetime | None:
    """When the stored floor begins: the first contact's queuing or agent state's start (each
    through an index: the queuing time's, and per agent the state intervals' key)."""
    row = conn.execute(
        "SELECT least((SELECT min(queued_at) FROM contact_segments),"
        " (SELECT min((SELECT min(s.started_at) FROM agent_states s WHERE s.agent = a.id))"
        "  FROM agents a))"
    ).fetchone()
    return row[0] if row else None


_PLUS_AS_SPACE = re.compile(r"(:\d{2}(?:\.\d{1,9})?) (\d{2}:\d{2})$")


class BadMoment(ValueError):
    """A moment that cannot be replayed; the message says why (the API answers 422)."""


def moment(conn: psycopg.Connection[Any], text: str, *, now: datetime) -> datetime:
    """`text` as a replay's moment, or BadMoment with the reason: not RFC 3339, in the future
    (of the server's clock), or before any stored data."""
    # a "+01:00" typed into an address arrives as " 01:00" (a + in a query is a space)
    text = _PLUS_AS_SPACE.sub(r"\1+\2", text)
    if not _RFC3339.fullmatch(text):
        raise BadMoment(f"at={text!r} is not an RFC 3339 time such as 2026-12-01T10:30:00Z")
    try:
        at = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:
        raise BadMoment(f"at={text!r} is not a valid time: {exc}") from exc
    if at > now:
        raise BadMoment(f"at={text!r} is in the future (the server's clock says {iso(now)})")
    first = first_data(conn)
    if first is None or at < first:
        since = f"the first is at {iso(first)}" if first else "none is stored"
        raise BadMoment(f"at={text!r} is before any stored data ({since})")
    return at
