"""Trends: a group's metrics per bucket of `step` over [start, end), in one SQL statement.

A trend answers what `compute(..., start=t, end=t + step, only=key)` answers for every bucket t,
but reads the database once: every family of parts (app/metrics/parts.py) is a CTE grouped by
its bucket, `date_bin(step, <the column dating the row>, start)`, and by the group key; the
intervals (agent time, adherence) are joined with the buckets they overlap and clipped to each
exactly as the per-window queries clip them to a window (and to `now`, for the open one). The
statement ends with the buckets x the keys LEFT JOINed with every family. When the last bucket
reaches `now`, the statement also reads what a window ending now shows: the contacts waiting
and the agents' states now. Each bucket's parts are then evaluated by the registry through
`compute_many(given=...)`, as `compute` would evaluate them (the same rows, the same extras).

Buckets are instants: [start + k * step, start + (k + 1) * step), the last one cut at `end`,
none starting at or after `now` (the same buckets in every time zone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, LiteralString, overload

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.config import CallboardConfig
from app.metrics import parts as P
from app.metrics.registry import Level
from app.metrics.service import WAITING_HORIZON_H, Shared, compute_many

STEP = timedelta(minutes=15)


def _swap(template: str, old: str, new: str) -> LiteralString:
    """`template` with `old` (found exactly once) replaced: a changed template fails at import,
    not with wrong numbers."""
    if template.count(old) != 1:
        raise RuntimeError(f"trends: {old!r} not found exactly once in a parts template")
    return template.replace(old, new)


def _interval_family(
    template: str, row: str, source: str, bounds: str, start: str, stop: str
) -> LiteralString:
    """A parts template over intervals (agent states, schedules) made bucketed: each interval
    row `source` is joined with the buckets it may overlap (generate_series from the bucket of
    its start to its clipped end, equal to a bucket of `r`), the window's edges %(wf)s / %(wt)s
    become the bucket's (r.f / r.t), `bounds` restricts the scan to [lo, hi) and the row
    carries its bucket as `b`."""
    t = _swap(template, f"SELECT {row},", f"SELECT r.f AS b, {row},")
    t = _swap(
        t,
        f"FROM {source}\n  WHERE ",
        f"FROM {source}\n"
        "  CROSS JOIN LATERAL generate_series(\n"
        f"    date_bin(%(step)s::interval, greatest({start}, %(lo)s), %(lo)s),\n"
        f"    {stop}, %(step)s::interval) AS g(f)\n"
        "  JOIN r ON r.f = g.f\n"
        f"  WHERE {bounds} AND ",
    )
    return t.replace("%(wf)s", "r.f").replace("%(wt)s", "r.t")


_AGENT_TIME = _interval_family(
    P._AGENT_TIME,
    "a.agent",
    "agent_states a",
    "a.started_at < %(hi)s AND (a.ended_at > %(lo)s OR a.ended_at IS NULL)",
    "a.started_at",
    "least(coalesce(a.ended_at, %(now)s), %(now)s, %(hi)s)",
)
_ADHERENCE = _interval_family(
    P._ADHERENCE,
    "sc.agent",
    "schedules sc",
    "sc.starts_at < least(%(hi)s, %(now)s) AND sc.ends_at > %(lo)s",
    "sc.starts_at",
    "least(sc.ends_at, %(now)s, %(hi)s)",
)


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


@overload
def trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = STEP,
) -> list[dict[str, Any]]: ...


@overload
def trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = STEP,
) -> dict[str, list[dict[str, Any]]]: ...


def trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    key: str | None = None,
    keys: Sequence[str] | None = None,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = STEP,
) -> list[dict[str, Any]] | dict[str, list[dict[str, Any]]]:
    """One row per bucket of `step` in [start, end) (none from `now` on) for the group `key`
    of `by` (or, with `keys`, key -> rows for several groups of one level at once): "from",
    "to" and the row `compute(..., start=from, end=to, only=key)` gives. One statement."""
    if (key is None) == (keys is None):
        raise TypeError("give either key or keys")
    wanted = [key] if key is not None else list(dict.fromkeys(keys or []))
    found = _trends(conn, config, by=by, keys=wanted, start=start, end=end, now=now, step=step)
    return found[wanted[0]] if key is not None else found


def _trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: list[str],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta,
) -> dict[str, list[dict[str, Any]]]:
    spans = buckets(start, end, now, step)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    if not spans or not keys:
        return out
    last, hi = spans[-1]
    live = hi >= now  # the last bucket is a window ending now: it shows what is true now
    query, names = statement(by, live)
    d = config.defaults
    configured = sorted(config.queues)
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
        "dt": d.sl_threshold_s,
        "ds": d.short_abandon_s,
        "drw": d.repeat_window_h * 3600,
        "cq": configured,
        "ct": [config.queue(q).sl_threshold_s for q in configured],
        "cs": [config.queue(q).short_abandon_s for q in configured],
        "crw": [config.queue(q).repeat_window_h * 3600 for q in configured],
        "dcbt": d.callback_target_s,
        "ccbt": [config.queue(q).callback_target_s for q in configured],
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()

    # what a window ending now reads besides the parts (compute_many reads it from `shared`)
    # (no queues: with the parts given and one key asked, compute_many reads none of them)
    shared = Shared(queues=[], agents=[], waiting={by: {}})
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
        upper = min(t + step, end)
        result = compute_many(
            conn,
            config,
            levels=(by,),
            now=now,
            start=t,
            end=upper,
            only=k,
            shared=shared,
            given={by: {k: parts}},
        )[by]
        out[k].append({"from": result["from"], "to": result["to"], **result["rows"][0]})
    return out


def _agent_now(a: list[Any]) -> P.AgentNow:
    agent, name, team, state, reason, since, queues = a
    return P.AgentNow(agent, name, team, state, reason, datetime.fromisoformat(since), queues)
