"""Trend buckets read from rows: a group's parts per bucket of `step` in one SQL statement.

What a trend reads where no rollup serves (the bucket ending now, a range not on whole
intervals, rollups built with other thresholds): every family of parts (app/metrics/parts.py)
is a CTE grouped by its bucket, `date_bin(step, <the column dating the row>, start)`, and by
the group key; the intervals (agent time, adherence) are joined with the buckets they overlap
and clipped to each exactly as the per-window queries clip them to a window (and to `now`, for
the open one). The statement ends with the buckets x the keys LEFT JOINed with every family.
When the last bucket reaches `now`, the statement also reads what a window ending now shows:
the contacts waiting and the agents' states now.

Buckets are instants: [start + k * step, start + (k + 1) * step), the last one cut at `end`,
none starting at or after `now` (the same buckets in every time zone)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.config import CallboardConfig
from app.metrics import parts as P
from app.metrics.registry import Level
from app.metrics.service import WAITING_HORIZON_H, Shared
from ingest import rollup_parts as F

STEP = timedelta(minutes=15)

_AGENT_TIME = F.AGENT_TIME
_ADHERENCE = F.ADHERENCE


def _contact_family(template: str, center: bool) -> LiteralString:
    """A contact parts template as a CTE body (its `p` is the statement's) in one mode."""
    if not template.startswith("WITH {p}\n"):
        raise RuntimeError("trends: a contact parts template no longer starts with WITH {p}")
    body = template.removeprefix("WITH {p}\n")
    return body.replace("%(center)s", "true" if center else "false")


# name -> (bucketed template, key family, levels served, dating column or None for intervals)
_Family = tuple[LiteralString, str, tuple[Level, ...], LiteralString | None]
FAMILIES: dict[str, _Family] = {
    **{
        name: (_contact_family(template, center), family, serves, dating)
        for name, (template, family, serves, center, dating) in P.FAMILIES.items()
    },
    "agent_time": (_AGENT_TIME, "st", ("center", "team", "agent"), None),
    "adherence": (_ADHERENCE, "st", ("center", "team", "agent"), None),
}
_CONTACTS = frozenset(P.FAMILIES)


# Each family's columns, and its row over no rows at all (counts 0, sums and minimums None):
# what the center gets from a window without any (its query has no GROUP BY).
_COLUMNS = {name: [a for a, _ in P.select_items(f[0])] for name, f in FAMILIES.items()}
_EMPTY = {
    name: {a: 0 if e.lower().startswith("count(") else None for a, e in P.select_items(f[0])}
    for name, f in FAMILIES.items()
}
_seen: set[str] = set()
for _name, _cols in _COLUMNS.items():
    if _name.endswith("_c"):  # the center variant of a family: the same columns
        continue
    if _seen & set(_cols):
        raise RuntimeError(f"trends: family {_name} repeats a part of another family")
    _seen |= set(_cols)

_WAITING: LiteralString = next(t for t in P._query_templates() if "AS waiting_now" in t)

_WAITING_PARTS = ("waiting_now", "longest_wait_now_s", "oldest_waiting_at")

_P = """p AS (
  SELECT n.queue, coalesce(c.t, %(dt)s) AS t, coalesce(c.s, %(ds)s) AS s,
         coalesce(c.rw, %(drw)s) AS rw, %(lo)s::timestamptz AS w_from, %(hi)s::timestamptz AS w_to,
         coalesce(c.cbt, %(dcbt)s) AS cbt
  FROM (SELECT name AS queue FROM queues UNION SELECT unnest(%(cq)s::text[])) n
  LEFT JOIN unnest(%(cq)s::text[], %(ct)s::float8[], %(cs)s::float8[], %(crw)s::float8[],
                   %(ccbt)s::float8[])
    AS c(queue, t, s, rw, cbt) ON c.queue = n.queue),
r AS (SELECT * FROM unnest(%(rf)s::timestamptz[], %(rt)s::timestamptz[]) AS r(f, t))"""

# The agents' states now (parts.agents_now), narrowed to those the keys' rows read.
_AGENTS_NOW = """agents_now AS (
  SELECT jsonb_agg(jsonb_build_array(a.agent, ag.display_name, ag.team, a.state, a.reason,
                                     a.started_at, a.queues)) AS agents
  FROM (SELECT * FROM agent_states WHERE ended_at IS NULL AND started_at <= %(now)s
        UNION ALL
        SELECT * FROM agent_states WHERE ended_at > %(now)s AND started_at <= %(now)s) a
  LEFT JOIN agents ag ON ag.id = a.agent
  WHERE {who})"""
_WHO: dict[Level, LiteralString] = {
    "center": "a.state <> 'logged_out'",
    "queue": "a.state <> 'logged_out' AND a.queues && %(keys)s::text[]",
    "team": "a.state <> 'logged_out'"
    " AND coalesce(nullif(ag.team, ''), 'unassigned') = ANY(%(keys)s::text[])",
    "agent": "a.agent = ANY(%(keys)s::text[])",
}


def buckets(
    start: datetime, end: datetime, now: datetime, step: timedelta = STEP
) -> list[tuple[datetime, datetime]]:
    """[from, to) of every bucket: from `start` by `step` while before `end` and `now`; the
    last one ends at `end` at the latest."""
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    out = []
    t = start
    while t < min(end, now):
        upper = min(t + step, end)
        out.append((t, upper))
        t = upper
    return out


def _family_cte(name: str, by: Level) -> sql.Composable:
    template, family, _, dating = FAMILIES[name]
    key: sql.Composable = sql.SQL("'center'") if by == "center" else sql.SQL(P._KEY[family][by])
    bucket: sql.Composable = (
        sql.SQL("date_bin(%(step)s::interval, {}, %(lo)s)").format(sql.SQL(dating))
        if dating
        else sql.SQL("x.b")
    )
    group = (
        sql.SQL("GROUP BY {}").format(bucket)
        if by == "center"
        else sql.SQL("GROUP BY {b}, {k} HAVING {k} = ANY(%(keys)s::text[])").format(b=bucket, k=key)
    )
    body = sql.SQL(template).format(
        cols=sql.SQL("{} AS b, {} AS k").format(bucket, key), group=group, rj=sql.SQL("")
    )
    return sql.SQL("{} AS (\n{})").format(sql.Identifier(f"f_{name}"), body)


def _waiting_cte(by: Level) -> sql.Composable:
    if by == "center":  # no GROUP BY: always one row, as parts.waiting_now reads it
        cols, group = sql.SQL("'center' AS k"), sql.SQL("")
    else:
        cols = sql.SQL("s.queue AS k")
        group = sql.SQL("GROUP BY s.queue HAVING s.queue = ANY(%(keys)s::text[])")
    return sql.SQL("f_waiting AS (\n{})").format(sql.SQL(_WAITING).format(cols=cols, group=group))


def statement(by: Level, live: bool) -> tuple[sql.Composed, list[str]]:
    """The statement of a trend of level `by` (`live`: its last bucket ends at now or later)
    and the families it reads."""
    names = [n for n, f in FAMILIES.items() if by in f[2]]
    ctes = [sql.SQL(_P), *(_family_cte(n, by) for n in names)]
    cols: list[sql.Composable] = [
        sql.SQL("r.f AS b"),
        sql.SQL("kk.k AS k"),
        sql.SQL("EXISTS (SELECT FROM p) AS has_queues"),
    ]
    joins: list[sql.Composable] = []
    for n in names:
        t = sql.Identifier(f"f_{n}")
        cols.append(sql.SQL("{}.b IS NOT NULL AS {}").format(t, sql.Identifier(f"has_{n}")))
        cols.extend(sql.SQL("{}.{}").format(t, sql.Identifier(c)) for c in _COLUMNS[n])
        joins.append(sql.SQL("LEFT JOIN {t} ON {t}.b = r.f AND {t}.k = kk.k").format(t=t))
    if live:
        ctes.append(sql.SQL(_AGENTS_NOW).format(who=sql.SQL(_WHO[by])))
        cols.append(
            sql.SQL(
                "CASE WHEN r.f = %(last)s AND kk.k = %(first)s"
                " THEN (SELECT agents FROM agents_now) END AS agents_now"
            )
        )
        if by in ("center", "queue"):
            ctes.append(_waiting_cte(by))
            cols.append(sql.SQL("w.k IS NOT NULL AS has_waiting"))
            cols.extend(sql.SQL("w.{}").format(sql.Identifier(c)) for c in _WAITING_PARTS)
            joins.append(sql.SQL("LEFT JOIN f_waiting w ON w.k = kk.k AND r.f = %(last)s"))
    query = sql.SQL(
        "WITH {ctes}\nSELECT {cols}\nFROM r CROSS JOIN unnest(%(keys)s::text[]) AS kk(k)\n{joins}"
        "\nORDER BY kk.k, r.f"
    ).format(
        ctes=sql.SQL(",\n").join(ctes),
        cols=sql.SQL(",\n  ").join(cols),
        joins=sql.SQL("\n").join(joins),
    )
    return query, names


def queue_params(config: CallboardConfig) -> dict[str, Any]:
    """The thresholds the queue table `p` (`_P`) is built from: the defaults (every known
    queue) and each configured queue's own."""
    d = config.defaults
    configured = sorted(config.queues)
    return {
        "dt": d.sl_threshold_s,
        "ds": d.short_abandon_s,
        "drw": d.repeat_window_h * 3600,
        "dcbt": d.callback_target_s,
        "cq": configured,
        "ct": [config.queue(q).sl_threshold_s for q in configured],
        "cs": [config.queue(q).short_abandon_s for q in configured],
        "crw": [config.queue(q).repeat_window_h * 3600 for q in configured],
        "ccbt": [config.queue(q).callback_target_s for q in configured],
    }


def row_parts(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: list[str],
    spans: list[tuple[datetime, datetime]],
    now: datetime,
    step: timedelta,
) -> tuple[dict[str, dict[datetime, dict[str, Any]]], Shared]:
    """The parts of each key in each span (consecutive buckets of `step` from the first span's
    start, the last perhaps cut short): key -> span start -> parts, and what a window ending
    now reads besides (the agents' states, the contacts waiting) when the last span reaches
    `now`. One statement."""
    out: dict[str, dict[datetime, dict[str, Any]]] = {k: {} for k in keys}
    shared = Shared(queues=[], agents=[], waiting={by: {}})
    if not spans or not keys:
        return out, shared
    start = spans[0][0]
    last, hi = spans[-1]
    live = hi >= now  # the last bucket is a window ending now: it shows what is true now
    query, names = statement(by, live)
    params = {
        "keys": keys,
        # seconds, never days: a day of an interval is not 24 hours across a DST change
        "step": f"{step // timedelta(microseconds=1)} microseconds",
        "lo": start,
        "hi": hi,
        "min_from": start,
        "max_to": hi,
        "now": now,
        "last": last,
        "first": keys[0],
        "h": WAITING_HORIZON_H,
        "rf": [f for f, _ in spans],
        "rt": [t for _, t in spans],
        **queue_params(config),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()

    # what a window ending now reads besides the parts (compute_many reads it from `shared`)
    for row in rows:
        if live and row["b"] == last:
            if row["k"] == keys[0]:
                shared.agents = [_agent_now(a) for a in row["agents_now"] or []]
            if row.get("has_waiting"):
                shared.waiting[by][row["k"]] = {c: row[c] for c in _WAITING_PARTS}
    for row in rows:
        k, t = row["k"], row["b"]
        parts: dict[str, Any] = {}
        for n in names:
            if row[f"has_{n}"]:
                parts.update({c: row[c] for c in _COLUMNS[n]})
            elif k == "center" == by and (n not in _CONTACTS or row["has_queues"]):
                parts.update(_EMPTY[n])
        out[k][t] = parts
    return out, shared


def now_values(
    conn: psycopg.Connection[Any], *, by: Level, keys: list[str], now: datetime
) -> Shared:
    """What a window ending now reads besides the parts, for a bucket ending at `now` that is
    otherwise read from the rollups: the agents' states now (those the keys' rows read) and
    the contacts waiting. One statement."""
    ctes: list[sql.Composable] = [sql.SQL(_AGENTS_NOW).format(who=sql.SQL(_WHO[by]))]
    cols: list[sql.Composable] = [sql.SQL("(SELECT agents FROM agents_now) AS agents_now")]
    waiting = by in ("center", "queue")
    if waiting:
        ctes.append(_waiting_cte(by))
        cols.append(sql.SQL("(SELECT jsonb_agg(to_jsonb(w)) FROM f_waiting w) AS waiting"))
    query = sql.SQL("WITH {}\nSELECT {}").format(
        sql.SQL(",\n").join(ctes), sql.SQL(", ").join(cols)
    )
    params = {"keys": keys, "now": now, "h": WAITING_HORIZON_H}
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone() or {}
    shared = Shared(queues=[], agents=[], waiting={by: {}})
    shared.agents = [_agent_now(a) for a in row.get("agents_now") or []]
    for w in row.get("waiting") or []:
        oldest = w.get("oldest_waiting_at")
        shared.waiting[by][w["k"]] = {
            "waiting_now": w["waiting_now"],
            "longest_wait_now_s": w["longest_wait_now_s"],
            "oldest_waiting_at": datetime.fromisoformat(oldest) if oldest else None,
        }
    return shared


def _agent_now(a: list[Any]) -> P.AgentNow:
    agent, name, team, state, reason, since, queues = a
    return P.AgentNow(agent, name, team, state, reason, datetime.fromisoformat(since), queues)
