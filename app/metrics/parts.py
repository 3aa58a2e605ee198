"""The stored parts of the metrics, summed per group (center, queue, team, agent) over a window.

Each query reads only the window's rows through an index on the time that dates them
(left_at, queued_at, handled_at, ts, state intervals), so its cost follows the window, not the
history. Per-queue parameters and windows come in as a table (`p`) built from unnest()."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.metrics.registry import Level

# Group keys: fixed SQL, by family and level (never built from input). A contact part without
# an agent (an abandon) has no team or agent key, so it counts for queues and the center only.
_KEY: dict[str, dict[Level, LiteralString]] = {
    "seg": {
        "queue": "s.queue",
        "team": "CASE WHEN s.agent IS NULL THEN NULL ELSE coalesce(ag.team, 'unassigned') END",
        "agent": "s.agent",
    },
    "fb": {
        "queue": "f.queue",
        "team": "CASE WHEN f.agent IS NULL THEN NULL ELSE coalesce(ag.team, 'unassigned') END",
        "agent": "f.agent",
    },
    "ev": {
        "queue": "e.queue",
        "team": "CASE WHEN e.agent IS NULL THEN NULL ELSE coalesce(ag.team, 'unassigned') END",
        "agent": "e.agent",
    },
    "st": {"team": "coalesce(ag.team, 'unassigned')", "agent": "x.agent"},
}


@dataclass(frozen=True)
class QueueWindow:
    """One queue's parameters and the window its rows are read over."""

    queue: str
    sl_threshold_s: float
    short_abandon_s: float
    repeat_window_h: float
    start: datetime
    end: datetime
    callback_target_s: float = 3600.0

    @classmethod
    def of(cls, name: str, q: Any, start: datetime, end: datetime) -> QueueWindow:
        """A queue's window from its configuration (`config.queue(name)`)."""
        return cls(
            name,
            q.sl_threshold_s,
            q.short_abandon_s,
            q.repeat_window_h,
            start,
            end,
            q.callback_target_s,
        )


_P = """p AS (
  SELECT * FROM unnest(%(q)b::text[], %(t)b::float8[], %(s)b::float8[], %(rw)b::float8[],
                       %(wf)b::timestamptz[], %(wt)b::timestamptz[], %(cbt)b::float8[])
         AS p(queue, t, s, rw, w_from, w_to, cbt))"""
_R = """,
r AS (SELECT * FROM unnest(%(rf)s::timestamptz[], %(rt)s::timestamptz[]) AS r(f, t))"""


def _params(windows: Sequence[QueueWindow], now: datetime) -> dict[str, Any]:
    return {
        "q": [w.queue for w in windows],
        "t": [w.sl_threshold_s for w in windows],
        "s": [w.short_abandon_s for w in windows],
        "rw": [w.repeat_window_h * 3600 for w in windows],
        "wf": [w.start for w in windows],
        "wt": [w.end for w in windows],
        "cbt": [w.callback_target_s for w in windows],
        "min_from": min(w.start for w in windows),
        "max_to": max(w.end for w in windows),
        "now": now,
    }


def _run(
    conn: psycopg.Connection[Any],
    template: LiteralString,
    family: str,
    levels: Sequence[Level],
    params: dict[str, Any],
    bucket: LiteralString | None = None,
) -> dict[Level, dict[Any, dict[str, Any]]]:
    """One scan for several levels: GROUP BY GROUPING SETS, one set per level (the center is
    the empty set). Returns level -> group key -> parts.

    With `bucket` (the column dating the family's rows), rows are read over the ranges
    `%(rf)s`/`%(rt)s` (disjoint) instead, and every set also groups by the range: the keys are
    then (range start, group key)."""
    grouped = [lv for lv in levels if lv != "center"]
    exprs = [sql.SQL(_KEY[family][lv]) for lv in grouped]
    by_range = [sql.SQL("r.f")] if bucket else []
    cols: sql.Composable
    group: sql.Composable
    if exprs:
        cols = sql.SQL("GROUPING({}) AS g, {}").format(
            sql.SQL(", ").join(exprs),
            sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(e, sql.Identifier(f"k{i}")) for i, e in enumerate(exprs)
            ),
        )
        sets: list[sql.Composable] = [
            sql.SQL("({})").format(sql.SQL(", ").join([*by_range, e])) for e in exprs
        ]
        if "center" in levels:
            sets.append(sql.SQL("({})").format(sql.SQL(", ").join(by_range)))
        group = sql.SQL("GROUP BY GROUPING SETS ({})").format(sql.SQL(", ").join(sets))
    else:
        cols = sql.SQL("0 AS g")
        group = sql.SQL("GROUP BY r.f") if bucket else sql.SQL("")
    rj: sql.Composable = sql.SQL("")
    with_p: sql.Composable = sql.SQL(_P)
    if bucket:
        cols = sql.SQL("{}, r.f AS b").format(cols)
        col = sql.SQL(bucket)
        if params.get("dense"):  # whole minutes, most of a span: one hash join on the minute
            rj = sql.SQL("JOIN r ON r.f = date_bin({}, {}, timestamptz 'epoch')").format(
                sql.Literal(params["step"]), col
            )
        else:  # a few ranges: the OR (on the scanned table alone) is one index scan each
            each = [
                sql.SQL("({col} >= {f} AND {col} < {t})").format(
                    col=col, f=sql.Literal(f), t=sql.Literal(t)
                )
                for f, t in zip(params["rf"], params["rt"], strict=True)
            ]
            rj = sql.SQL("JOIN r ON {col} >= r.f AND {col} < r.t AND ({any})").format(
                col=col, any=sql.SQL(" OR ").join(each)
            )
        with_p = sql.SQL(_P + _R)
    query = sql.SQL(template).format(cols=cols, group=group, p=with_p, rj=rj)
    n = len(exprs)
    everything = (1 << n) - 1
    out: dict[Level, dict[Any, dict[str, Any]]] = {lv: {} for lv in levels}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(query, params):
            g = row.pop("g")
            b = row.pop("b") if bucket else None
            keys = [row.pop(f"k{i}") for i in range(n)]
            if g == everything:  # the empty set: the whole center
                if "center" in out:
                    out["center"][(b, "center") if bucket else "center"] = row
                continue
            for i, level in enumerate(grouped):
                if not g & (1 << (n - 1 - i)) and keys[i] is not None:
                    out[level][(b, str(keys[i])) if bucket else str(keys[i])] = row
    return out


_OUTCOME = """WITH {p}
SELECT {cols}, count(*) AS n_outcome,
  count(*) FILTER (WHERE s.outcome = 'answered') AS answered,
  count(*) FILTER (WHERE s.outcome = 'answered' AND w.wait <= p.t) AS answered_in_sl,
  count(*) FILTER (WHERE s.outcome = 'abandoned' AND (w.wait IS NULL OR w.wait > p.s)) AS abandoned,
  count(*) FILTER (WHERE s.outcome = 'abandoned' AND w.wait <= p.s) AS short_abandoned,
  count(*) FILTER (WHERE s.outcome = 'abandoned' AND w.wait > p.s AND w.wait <= p.t)
    AS abandoned_in_sl,
  count(*) FILTER (WHERE s.outcome = 'overflowed') AS overflowed,
  sum(w.wait) FILTER (WHERE s.outcome = 'answered') AS wait_answered_sum,
  count(w.wait) FILTER (WHERE s.outcome = 'answered') AS wait_answered_n,
  sum(w.wait) FILTER (WHERE s.outcome = 'abandoned' AND w.wait > p.s) AS wait_abandoned_sum,
  count(w.wait) FILTER (WHERE s.outcome = 'abandoned' AND w.wait > p.s) AS wait_abandoned_n,
  count(*) FILTER (WHERE s.outcome = 'callback') AS callbacks_requested,
  count(*) FILTER (WHERE s.channel = 'callback' AND s.outcome IN ('answered', 'failed'))
    AS callbacks_done,
  count(*) FILTER (WHERE s.channel = 'callback' AND s.outcome = 'answered') AS callbacks_connected,
  count(*) FILTER (WHERE s.channel = 'callback' AND s.outcome = 'answered'
                     AND s.wait_s <= p.cbt) AS callbacks_in_target,
  coalesce(sum(s.attempts) FILTER (
    WHERE s.channel = 'callback' AND s.outcome IN ('answered', 'failed')), 0) AS callback_attempts
FROM contact_segments s
JOIN p ON p.queue = s.queue
LEFT JOIN agents ag ON ag.id = s.agent
CROSS JOIN LATERAL (
  SELECT CASE WHEN %(center)s THEN s.contact_wait_s ELSE s.wait_s END AS wait) w
{rj}
WHERE s.left_at >= %(min_from)s AND s.left_at < %(max_to)s
  AND s.left_at >= p.w_from AND s.left_at < p.w_to
  AND (NOT %(center)s OR s.contact_outcome)
{group}"""

_ARRIVED = """WITH {p}
SELECT {cols}, count(*) AS arrived,
  count(*) FILTER (WHERE s.customer IS NOT NULL) AS with_customer,
  count(*) FILTER (
    WHERE s.customer IS NOT NULL AND prv.at >= s.queued_at - make_interval(secs => p.rw))
    AS repeats
FROM contact_segments s
JOIN p ON p.queue = s.queue
LEFT JOIN agents ag ON ag.id = s.agent
LEFT JOIN LATERAL (
  SELECT max(o.queued_at) AS at FROM contact_segments o
  WHERE s.customer IS NOT NULL AND o.customer = s.customer AND o.is_first
    AND o.queued_at < s.queued_at) prv ON true
{rj}
WHERE s.queued_at >= %(min_from)s AND s.queued_at < %(max_to)s
  AND s.queued_at >= p.w_from AND s.queued_at < p.w_to
  AND (NOT %(center)s OR s.is_first)
{group}"""

_HANDLED = """WITH {p}
SELECT {cols},
  count(*) AS handled,
  sum(s.talk_s) AS talk_sum, count(s.talk_s) AS talk_n,
  sum(s.hold_s) AS hold_sum, count(s.hold_s) AS hold_n,
  sum(s.acw_s) AS acw_sum, count(s.acw_s) AS acw_n,
  sum(s.talk_s + coalesce(s.hold_s, 0) + coalesce(s.acw_s, 0)) AS handle_sum,
  count(s.talk_s) AS handle_n,
  count(*) FILTER (WHERE s.transferred) AS transferred,
  count(*) FILTER (WHERE s.talk_s < 10) AS short_calls,
  count(*) FILTER (WHERE s.ended_by = 'agent') AS agent_hangups,
  count(f.call_id) AS fcr_n,
  count(f.call_id) FILTER (
    WHERE nxt.at IS NULL OR nxt.at > f.queued_at + make_interval(secs => p.rw)) AS fcr_resolved,
  count(f.call_id) FILTER (
    WHERE (nxt.at IS NULL OR nxt.at > f.queued_at + make_interval(secs => p.rw))
      AND f.queued_at + make_interval(secs => p.rw) > %(now)s) AS fcr_pending,
  count(f.call_id) FILTER (
    WHERE f.queued_at + make_interval(secs => p.rw) > %(now)s) AS fcr_open,
  min(f.queued_at + make_interval(secs => p.rw)) FILTER (
    WHERE f.queued_at + make_interval(secs => p.rw) > %(now)s) AS fcr_next_change
FROM contact_segments s
JOIN p ON p.queue = s.queue
LEFT JOIN agents ag ON ag.id = s.agent
LEFT JOIN contact_segments f
  ON f.call_id = s.call_id AND f.is_first AND f.customer IS NOT NULL AND f.queued_at IS NOT NULL
LEFT JOIN LATERAL (
  SELECT min(o.queued_at) AS at FROM contact_segments o
  WHERE f.call_id IS NOT NULL AND o.customer = f.customer AND o.is_first
    AND o.queued_at > f.queued_at) nxt ON true
{rj}
WHERE s.handled_at >= %(min_from)s AND s.handled_at < %(max_to)s
  AND s.handled_at >= p.w_from AND s.handled_at < p.w_to
{group}"""

_FEEDBACK = """WITH {p}
SELECT {cols}, count(*) AS n_feedback,
  count(f.csat) AS csat_n, count(*) FILTER (WHERE f.csat >= 4) AS csat_top2,
  sum(f.csat) AS csat_sum,
  count(f.nps) AS nps_n, count(*) FILTER (WHERE f.nps >= 9) AS nps_promoters,
  count(*) FILTER (WHERE f.nps <= 6) AS nps_detractors,
  count(f.resolved) AS resolved_n, count(*) FILTER (WHERE f.resolved) AS resolved_yes,
  count(f.score) AS qa_n, sum(f.score) AS qa_sum
FROM feedback f
LEFT JOIN p ON p.queue = f.queue
LEFT JOIN agents ag ON ag.id = f.agent
{rj}
WHERE f.ts >= %(min_from)s AND f.ts < %(max_to)s
  AND f.ts >= coalesce(p.w_from, %(min_from)s) AND f.ts < coalesce(p.w_to, %(max_to)s)
{group}"""

_MISSED = """WITH {p}
SELECT {cols}, count(*) AS missed
FROM events e
LEFT JOIN p ON p.queue = e.queue
LEFT JOIN agents ag ON ag.id = e.agent
{rj}
WHERE e.type = 'call.missed' AND e.ts >= %(min_from)s AND e.ts < %(max_to)s
  AND e.ts >= coalesce(p.w_from, %(min_from)s) AND e.ts < coalesce(p.w_to, %(max_to)s)
{group}"""

# Agent time: state intervals clipped to the window (and to now, for the open one).
_AGENT_TIME = """
SELECT {cols},
  sum(x.dur) FILTER (WHERE x.state = 'on_call') AS t_on_call,
  sum(x.dur) FILTER (WHERE x.state = 'wrap_up') AS t_wrap_up,
  sum(x.dur) FILTER (WHERE x.state = 'available') AS t_available,
  sum(x.dur) FILTER (WHERE x.state = 'away') AS t_away,
  sum(x.dur) FILTER (WHERE x.state = 'away' AND x.reason IN ('break', 'lunch')) AS t_breaks,
  sum(x.dur) FILTER (WHERE x.state <> 'logged_out') AS t_logged_in
FROM (
  SELECT a.agent, a.state, a.reason,
         extract(epoch FROM least(coalesce(a.ended_at, %(now)s), %(wt)s, %(now)s)
                            - greatest(a.started_at, %(wf)s))::float8 AS dur
  FROM agent_states a
  WHERE a.started_at < %(wt)s AND (a.ended_at > %(wf)s OR a.ended_at IS NULL)) x
LEFT JOIN agents ag ON ag.id = x.agent
WHERE x.dur > 0
{group}"""

# Adherence: scheduled time (up to now) and the part of it spent in the scheduled state class:
# productive <-> available / on_call / wrap_up; any other activity <-> away.
_ADHERENCE = """
SELECT {cols}, sum(x.sched) AS scheduled_s, sum(x.adherent) AS adherent_s
FROM (
  SELECT sc.agent,
    extract(epoch FROM least(sc.ends_at, %(wt)s, %(now)s) - greatest(sc.starts_at, %(wf)s))::float8
      AS sched,
    coalesce((
      SELECT sum(extract(epoch FROM
               least(sc.ends_at, %(wt)s, %(now)s, coalesce(a.ended_at, %(now)s))
               - greatest(sc.starts_at, %(wf)s, a.started_at)))::float8
      FROM agent_states a
      WHERE a.agent = sc.agent
        AND a.started_at < least(sc.ends_at, %(wt)s, %(now)s)
        -- an agent's intervals follow each other: none before the one holding the start
        -- overlaps (without this bound the scan walks the agent's whole history)
        AND a.started_at >= coalesce((
          SELECT max(b.started_at) FROM agent_states b
          WHERE b.agent = sc.agent AND b.started_at <= greatest(sc.starts_at, %(wf)s)),
          '-infinity')
        AND (a.ended_at > greatest(sc.starts_at, %(wf)s) OR a.ended_at IS NULL)
        AND CASE WHEN sc.activity = 'productive'
                 THEN a.state IN ('available', 'on_call', 'wrap_up')
                 ELSE a.state = 'away' END), 0) AS adherent
  FROM schedules sc
  WHERE sc.starts_at < least(%(wt)s, %(now)s) AND sc.ends_at > %(wf)s) x
LEFT JOIN agents ag ON ag.id = x.agent
WHERE x.sched > 0
{group}"""


def window_parts(
    conn: psycopg.Connection[Any],
    levels: Sequence[Level],
    windows: Sequence[QueueWindow],
    *,
    people_window: tuple[datetime, datetime],
    now: datetime,
    contacts_only: bool = False,
) -> dict[Level, dict[str, dict[str, Any]]]:
    """All parts of every group of the levels (`contacts_only`: not agent time and adherence).
    `windows` gives each queue's parameters and
    window (the same window for all when several levels are asked at once); `people_window`
    is the window of agent-time parts (agents are not in one queue's time zone)."""
    merged: dict[Level, dict[str, dict[str, Any]]] = {lv: defaultdict(dict) for lv in levels}

    def add(found: dict[Level, dict[str, dict[str, Any]]]) -> None:
        for level, groups in found.items():
            for key, row in groups.items():
                merged[level][key].update(row)

    # Every call event names a queue, so without queues there are no contact parts.
    if windows:
        params = {**_params(windows, now), "center": False}
        not_center = [lv for lv in levels if lv != "center"]
        if not_center:
            add(_run(conn, _OUTCOME, "seg", not_center, params))
        add(_run(conn, _HANDLED, "seg", levels, params))
        add(_run(conn, _FEEDBACK, "fb", levels, params))
        add(_run(conn, _MISSED, "ev", levels, params))
        if "queue" in levels:  # arrivals and repeats are queue metrics
            add(_run(conn, _ARRIVED, "seg", ["queue"], params))
        if "center" in levels:  # the center counts contacts, not queue visits
            center = {**params, "center": True}
            add(_run(conn, _OUTCOME, "seg", ["center"], center))
            add(_run(conn, _ARRIVED, "seg", ["center"], center))
    people = [lv for lv in levels if lv != "queue"]
    if people and not contacts_only:
        params = {"wf": people_window[0], "wt": people_window[1], "now": now}
        add(_run(conn, _AGENT_TIME, "st", people, params))
        add(_run(conn, _ADHERENCE, "st", people, params))
    return {lv: dict(groups) for lv, groups in merged.items()}


# The parts dated by one instant of a row, as the live engine keeps them by minute: name ->
# (template, key family, the levels it serves, center mode, the dating column). A level's
# parts over a window are the union of its families' (window_parts reads the same).
FAMILIES: dict[str, tuple[LiteralString, str, tuple[Level, ...], bool, LiteralString]] = {
    "outcome": (_OUTCOME, "seg", ("queue", "team", "agent"), False, "s.left_at"),
    "outcome_c": (_OUTCOME, "seg", ("center",), True, "s.left_at"),
    "arrived": (_ARRIVED, "seg", ("queue",), False, "s.queued_at"),
    "arrived_c": (_ARRIVED, "seg", ("center",), True, "s.queued_at"),
    "handled": (_HANDLED, "seg", ("center", "queue", "team", "agent"), False, "s.handled_at"),
    "feedback": (_FEEDBACK, "fb", ("center", "queue", "team", "agent"), False, "f.ts"),
    "missed": (_MISSED, "ev", ("center", "queue", "team", "agent"), False, "e.ts"),
}


def range_parts(
    conn: psycopg.Connection[Any],
    levels: Sequence[Level],
    queues: Sequence[QueueWindow],
    ranges: Sequence[tuple[datetime, datetime]],
    *,
    now: datetime,
    dense: timedelta | None = None,
) -> dict[str, dict[Level, dict[tuple[datetime, str], dict[str, Any]]]]:
    """The instant-dated parts over each of the (disjoint) `ranges`, every family on its own
    (`dense`: the ranges are all of this length and aligned on it from the epoch, most of
    those between the first and the last):
    family -> level -> (range start, group key) -> parts. The queues' windows are ignored (the
    ranges are the same instants for every queue)."""
    out: dict[str, dict[Level, dict[tuple[datetime, str], dict[str, Any]]]] = {}
    if not ranges or not queues:
        return out
    lo, hi = min(f for f, _ in ranges), max(t for _, t in ranges)
    spread = [
        QueueWindow(
            q.queue,
            q.sl_threshold_s,
            q.short_abandon_s,
            q.repeat_window_h,
            lo,
            hi,
            q.callback_target_s,
        )
        for q in queues
    ]
    base = {
        **_params(spread, now),
        "rf": [f for f, _ in ranges],
        "rt": [t for _, t in ranges],
        "dense": dense is not None,
        "step": dense,
    }
    for name, (template, family, serves, center, dating) in FAMILIES.items():
        wanted = [lv for lv in serves if lv in levels]
        if wanted:
            found = _run(conn, template, family, wanted, {**base, "center": center}, dating)
            out[name] = found
    return out


def waiting_now(
    conn: psycopg.Connection[Any], level: Level, now: datetime, horizon_h: float
) -> dict[str, dict[str, Any]]:
    """Contacts in queue now. A contact waiting longer than the horizon is taken for a lost
    event (a call cut off by an export, a crashed feed), not for a customer still on hold."""
    if level not in ("center", "queue"):
        return {}
    template: LiteralString = """
SELECT {cols}, count(*) FILTER (WHERE NOT s.cb) AS waiting_now,
       extract(epoch FROM %(now)s - min(s.queued_at) FILTER (WHERE NOT s.cb))::float8
         AS longest_wait_now_s,
       min(s.queued_at) FILTER (WHERE NOT s.cb) AS oldest_waiting_at,
       count(*) FILTER (WHERE s.cb) AS callbacks_waiting_now,
       extract(epoch FROM %(now)s - min(s.queued_at) FILTER (WHERE s.cb))::float8
         AS oldest_callback_s
FROM (  -- callbacks wait apart: the customer is not on the line (EVENTS.md, Callbacks)
  SELECT queue, queued_at, channel IS NOT DISTINCT FROM 'callback' AS cb FROM contact_segments
  WHERE outcome IS NULL AND queued_at IS NOT NULL
  UNION ALL  -- left after now (the clock of a replay): still waiting at `now`
  SELECT queue, queued_at, channel IS NOT DISTINCT FROM 'callback' FROM contact_segments
  WHERE outcome IS NOT NULL AND left_at > %(now)s) s
WHERE s.queued_at <= %(now)s AND s.queued_at > %(now)s - make_interval(secs => %(h)s * 3600)
{group}"""
    return _run(conn, template, "seg", [level], {"now": now, "h": horizon_h})[level]


def adherence_parts(
    conn: psycopg.Connection[Any],
    agents: Sequence[str] | None,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Scheduled and adherent time per agent over [start, end) (None: every agent)."""
    template: LiteralString = _ADHERENCE.replace(
        "WHERE sc.starts_at < least(%(wt)s, %(now)s) AND sc.ends_at > %(wf)s",
        "WHERE sc.starts_at < least(%(wt)s, %(now)s) AND sc.ends_at > %(wf)s"
        " AND (%(all)s OR sc.agent = ANY(%(agents)s))",
    )
    params = {
        "wf": start,
        "wt": end,
        "now": now,
        "all": agents is None,
        "agents": list(agents or []),
    }
    return {str(k): v for k, v in _run(conn, template, "st", ["agent"], params)["agent"].items()}


@dataclass(frozen=True)
class AgentNow:
    agent: str
    name: str | None
    team: str | None
    state: str
    reason: str | None
    since: datetime
    queues: list[str] | None


def agents_now(
    conn: psycopg.Connection[Any], now: datetime, agents: Sequence[str] | None = None
) -> list[AgentNow]:
    """Each agent's state at `now` (the interval holding it), logged-out agents included
    (`agents`: only these, for the live engine's agents that changed)."""
    rows = conn.execute(
        "SELECT a.agent, ag.display_name, ag.team, a.state, a.reason, a.started_at, a.queues"
        " FROM (SELECT * FROM agent_states WHERE ended_at IS NULL AND started_at <= %(now)s"
        "       UNION ALL"  # two index scans, never the history (an OR would scan it)
        "       SELECT * FROM agent_states WHERE ended_at > %(now)s AND started_at <= %(now)s) a"
        " LEFT JOIN agents ag ON ag.id = a.agent"
        " WHERE %(all)s OR a.agent = ANY(%(agents)s)"
        " ORDER BY a.agent",
        {"now": now, "all": agents is None, "agents": list(agents or [])},
    ).fetchall()
    return [AgentNow(*row) for row in rows]


# Every part a formula can read, known in one place (app/metrics/__init__.py holds every metric's
# declared parts to it at import). The queries' parts are the column aliases of their templates'
# outer SELECT lists, read from the templates themselves: every string of this module with both a
# {cols} and a {group} slot, at module level or inside a function (waiting_now's), so a column
# added to a query is known at once. tests/metrics/test_registry.py runs the queries and checks
# that QUERIED is exactly what they return. The service adds PYTHON_PARTS to every group's parts.
# (The imports are local to keep this block in one piece.)

PYTHON_PARTS: frozenset[str] = frozenset({"waiting_now", "agents_by_state", "sl_formula"})


def _query_templates() -> list[str]:
    from types import CodeType, FunctionType

    def strings(code: CodeType) -> list[str]:
        out: list[str] = []
        for c in code.co_consts:
            if isinstance(c, str):
                out.append(c)
            elif isinstance(c, CodeType):
                out += strings(c)
        return out

    found: list[str] = []
    for v in list(globals().values()):
        if isinstance(v, str):
            found.append(v)
        elif isinstance(v, FunctionType) and v.__module__ == __name__:
            found += strings(v.__code__)
    return [s for s in dict.fromkeys(found) if "{cols}" in s and "{group}" in s]


def select_items(template: str) -> list[tuple[str, str]]:
    """(alias, expression) of each column after `SELECT {cols},` up to the FROM of that SELECT
    (commas and FROMs inside parentheses belong to expressions and subqueries). The trends read
    their columns with it too."""
    start = template.index("SELECT {cols},") + len("SELECT {cols},")
    items: list[str] = []
    depth, last = 0, start
    for m in re.compile(r"[(),]|\bFROM\b", re.IGNORECASE).finditer(template, start):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")":
            depth -= 1
        elif depth == 0:
            items.append(template[last : m.start()])
            last = m.end()
            if m.group() != ",":
                break
    else:
        raise ValueError(f"no FROM after SELECT {{cols}} in {template!r}")
    out = []
    for item in items:
        found = re.fullmatch(r"\s*(.*?)\s+AS\s+(\w+)\s*", item, re.S | re.I)
        if found is None:
            raise ValueError(f"a part without an alias ('expr AS name'): {item.strip()!r}")
        out.append((found.group(2), found.group(1)))
    return out


QUERIED: frozenset[str] = frozenset(a for t in _query_templates() for a, _ in select_items(t))
PRODUCED: frozenset[str] = QUERIED | PYTHON_PARTS
