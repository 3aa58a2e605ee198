"""The stored parts of the metrics over a range of days, grouped by a label of each 15-minute
interval (its local day, its time of day, or "previous" for the period before), in ONE SQL
statement per report. This is the one place reports read history.

Every family of parts is the registry's own query (app/metrics/parts.py, bucketed as the trends
bucket it: app/rollups/rows.py), so a report's figure is the metric's definition, summed over
whole 15-minute intervals: the contact families are dated by their instant (left the queue,
handling finished, arrived) and the interval that holds it; agent time and adherence are split at
every interval's edge. A label's parts are then the sums of its intervals' parts: equal to one
window over the label's intervals, because every part is a count or a sum.

Swapping in stored 15-minute rollups is local to `statement`: each family's CTE becomes a sum of
the rollup rows of the label's whole intervals (plus the partial edges read from rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.config import CallboardConfig
from app.metrics import parts as P
from app.metrics.registry import Level
from app.rollups import rows as T
from app.rollups.read import summed_rows
from app.rollups.service import is_current
from ingest import rollup_parts as F
from ingest.rollup_parts import swap

STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class Interval:
    """One 15-minute interval [start, end) and the label its parts are summed under."""

    start: datetime
    end: datetime
    label: str


def _family_template(name: str) -> LiteralString:
    template: LiteralString = T.FAMILIES[name][0]
    if T.FAMILIES[name][3] is None:  # an interval family: its rows carry the label, not the start
        template = swap(template, "SELECT r.f AS b,", "SELECT r.l AS b,")
    return template


def _family_cte(name: str, by: Level) -> sql.Composable:
    _, family, _, dating = T.FAMILIES[name]
    template = _family_template(name)
    key: sql.Composable = sql.SQL("'center'") if by == "center" else sql.SQL(P._KEY[family][by])
    rj: sql.Composable = sql.SQL("")
    if dating:  # the row's interval, and its label
        label: sql.Composable = sql.SQL("r.l")
        rj = sql.SQL("JOIN r ON r.f = date_bin(%(step)s::interval, {}, %(lo)s)").format(
            sql.SQL(dating)
        )
    else:
        label = sql.SQL("x.b")
    group = (
        sql.SQL("GROUP BY {}").format(label)
        if by == "center"
        else sql.SQL("GROUP BY {l}, {k} HAVING {k} = ANY(%(keys)s::text[])").format(l=label, k=key)
    )
    body = sql.SQL(template).format(
        cols=sql.SQL("{} AS b, {} AS k").format(label, key), group=group, rj=rj
    )
    return sql.SQL("{} AS (\n{})").format(sql.Identifier(f"f_{name}"), body)


# Beside the registry's parts: what a report shows that no live metric needs.
# The longest wait of the contacts that left the queue in the label (dated as queue outcomes).
_LONGEST = """f_longest AS (
  SELECT r.l AS b, {key} AS k, max(w.wait) AS longest_wait_s
  FROM contact_segments s
  JOIN p ON p.queue = s.queue
  LEFT JOIN agents ag ON ag.id = s.agent
  CROSS JOIN LATERAL (
    SELECT CASE WHEN {center} THEN s.contact_wait_s ELSE s.wait_s END AS wait) w
  JOIN r ON r.f = date_bin(%(step)s::interval, s.left_at, %(lo)s)
  WHERE s.left_at >= %(lo)s AND s.left_at < %(hi)s AND s.outcome IS NOT NULL
    AND (NOT {center} OR s.contact_outcome)
  {group})"""

# Time away by reason, split at the intervals' edges as agent time is.
_AWAY = """f_away AS (
  SELECT x.b, {key} AS k,
    jsonb_object_agg(x.reason, x.dur) AS away_by_reason
  FROM (
    SELECT r.l AS b, a.agent, coalesce(a.reason, 'unspecified') AS reason,
      sum(extract(epoch FROM least(coalesce(a.ended_at, %(now)s), r.t, %(now)s)
                             - greatest(a.started_at, r.f)))::float8 AS dur
    FROM agent_states a
    JOIN r ON r.f < least(coalesce(a.ended_at, %(now)s), %(now)s) AND r.t > a.started_at
    WHERE a.state = 'away' AND a.started_at < %(hi)s
      AND (a.ended_at > %(lo)s OR a.ended_at IS NULL)
    GROUP BY 1, 2, 3) x
  LEFT JOIN agents ag ON ag.id = x.agent
  WHERE x.dur > 0
  {group})"""

# the trends' queue parameters (`p`), with intervals that carry their label (`r`)
_P = swap(
    T._P,
    "r AS (SELECT * FROM unnest(%(rf)s::timestamptz[], %(rt)s::timestamptz[]) AS r(f, t))",
    "r AS (SELECT * FROM unnest(%(rf)s::timestamptz[], %(rt)s::timestamptz[], %(rl)s::text[])"
    " AS r(f, t, l))",
)


def families(by: Level) -> list[str]:
    return [n for n, f in T.FAMILIES.items() if by in f[2]]


def statement(
    by: Level, *, longest: bool, away: bool, parts: bool = True
) -> tuple[sql.Composed, list[str]]:
    """The statement reading every family of `by` (without `parts`: only the extras asked),
    and the CTE names."""
    names = families(by) if parts else []
    ctes: list[sql.Composable] = [sql.SQL(_P), *(_family_cte(n, by) for n in names)]
    extra: list[tuple[str, list[str]]] = []
    if longest and by in ("center", "queue"):
        center = sql.SQL("true" if by == "center" else "false")
        key = sql.SQL("'center'" if by == "center" else "s.queue")
        group = sql.SQL("GROUP BY 1" if by == "center" else "GROUP BY 1, 2")
        ctes.append(sql.SQL(_LONGEST).format(key=key, center=center, group=group))
        extra.append(("longest", ["longest_wait_s"]))
    if away and by != "queue":
        key = sql.SQL("'center'" if by == "center" else P._KEY["st"][by])
        group = sql.SQL("GROUP BY 1" if by == "center" else "GROUP BY 1, 2")
        ctes.append(sql.SQL(_AWAY).format(key=key, group=group))
        extra.append(("away", ["away_by_reason"]))
    cols: list[sql.Composable] = [sql.SQL("ll.l AS b"), sql.SQL("kk.k AS k")]
    joins: list[sql.Composable] = []
    for n, columns in [(n, T._COLUMNS[n]) for n in names] + extra:
        t = sql.Identifier(f"f_{n}")
        cols.append(sql.SQL("{}.b IS NOT NULL AS {}").format(t, sql.Identifier(f"has_{n}")))
        cols.extend(sql.SQL("{}.{}").format(t, sql.Identifier(c)) for c in columns)
        joins.append(sql.SQL("LEFT JOIN {t} ON {t}.b = ll.l AND {t}.k = kk.k").format(t=t))
    query = sql.SQL(
        "WITH {ctes}\nSELECT {cols}\n"
        "FROM (SELECT DISTINCT l FROM r) ll CROSS JOIN unnest(%(keys)s::text[]) AS kk(k)\n"
        "{joins}\nORDER BY kk.k, ll.l"
    ).format(
        ctes=sql.SQL(",\n").join(ctes),
        cols=sql.SQL(",\n  ").join(cols),
        joins=sql.SQL("\n").join(joins),
    )
    return query, names + [n for n, _ in extra]


def read(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: Sequence[str],
    intervals: Sequence[Interval],
    now: datetime,
    longest: bool = False,
    away: bool = False,
) -> dict[tuple[str, str], dict[str, Any]]:
    """(label, key) -> the parts of the key's group over the label's intervals (only the pairs
    with any row at all). `intervals` are contiguous 15-minute intervals, none starting at or
    after `now`. One statement."""
    if not intervals or not keys:
        return {}
    from_rollups = (
        intervals[-1].end <= now
        and is_current(conn, config)
        and (by == "queue" or not _open_before(conn, intervals[-1].end))
    )
    if from_rollups:
        out = _rollup_parts(conn, by, keys, intervals)
        # what no rollup holds (the longest wait, time away by reason) from rows, when the
        # range is short enough for rows to be cheap
        if (longest or away) and len(intervals) <= EXTRAS_FROM_ROWS:
            extra = _rows(conn, config, by, keys, intervals, now, longest, away, with_parts=False)
            for key, more in extra.items():
                out.setdefault(key, {}).update(more)
        return out
    return _rows(conn, config, by, keys, intervals, now, longest, away, with_parts=True)


def _open_before(conn: psycopg.Connection[Any], end: datetime) -> bool:
    """Is a state (other than logged out) that began before `end` still open? The rollups hold
    closed intervals only: such a range's agent time is read from rows."""
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM agent_states WHERE ended_at IS NULL AND started_at < %s"
        " AND state <> 'logged_out')",
        (end,),
    ).fetchone()
    return bool(row and row[0])


# Longer ranges read from rollups show no longest wait and no time by away reason (None).
EXTRAS_FROM_ROWS = 2 * 8 * 96  # a week and its previous week, in 15-minute intervals


def _rollup_parts(
    conn: psycopg.Connection[Any], by: Level, keys: Sequence[str], intervals: Sequence[Interval]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored 15-minute rollups of whole intervals (all over before now), summed by label:
    one statement over rollup_contacts and rollup_agent_time."""
    query = _ROLLUP_STATEMENT[by]
    params = {
        "level": "agent" if by == "team" else by,
        "keys": list(keys),
        "lo": intervals[0].start,
        "hi": intervals[-1].end,
        "rf": [i.start for i in intervals],
        "rl": [i.label for i in intervals],
        "unassigned": "unassigned" in keys,
    }
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(query, params):
            b, k = row.pop("b"), row.pop("k")
            # the span of the repeat windows' ends (are they still open?): no report column
            # reads it
            row.pop("fcr_h_min", None)
            row.pop("fcr_h_max", None)
            out[(b, k)] = {c: v for c, v in row.items() if v is not None}
    return out


def _rollup_statement(by: Level) -> sql.Composed:
    def summed(table: str, columns: tuple[str, ...], alias: str) -> sql.Composable:
        # the trends' sum of rollup rows, by the label of each row's interval
        rows = summed_rows(
            table, columns, team=by == "team", bucket="r.l", join="JOIN r ON r.f = x.bucket"
        )
        return sql.SQL("{} AS ({})").format(sql.Identifier(alias), rows)

    ctes = [
        sql.SQL("r AS (SELECT * FROM unnest(%(rf)s::timestamptz[], %(rl)s::text[]) AS r(f, l))"),
        summed("rollup_contacts", F.CONTACT_COLUMNS, "c"),
    ]
    cols = [sql.SQL("c.{}").format(sql.Identifier(c)) for c in F.CONTACT_COLUMNS]
    if by == "queue":
        return sql.SQL("WITH {} SELECT c.b, c.k, {} FROM c").format(
            sql.SQL(", ").join(ctes), sql.SQL(", ").join(cols)
        )
    ctes.append(summed("rollup_agent_time", F.AGENT_COLUMNS, "a"))
    cols += [sql.SQL("a.{}").format(sql.Identifier(c)) for c in F.AGENT_COLUMNS]
    return sql.SQL(
        "WITH {} SELECT coalesce(c.b, a.b) AS b, coalesce(c.k, a.k) AS k, {}"
        " FROM c FULL JOIN a ON a.b = c.b AND a.k = c.k"
    ).format(sql.SQL(", ").join(ctes), sql.SQL(", ").join(cols))


_ROLLUP_STATEMENT: dict[Level, sql.Composed] = {
    level: _rollup_statement(level) for level in ("center", "queue", "team", "agent")
}


def _rows(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    by: Level,
    keys: Sequence[str],
    intervals: Sequence[Interval],
    now: datetime,
    longest: bool,
    away: bool,
    *,
    with_parts: bool,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The parts (and extras) read from the rows, in one statement."""
    query, names = statement(by, longest=longest, away=away, parts=with_parts)
    params = {
        "keys": list(keys),
        "step": f"{STEP // timedelta(microseconds=1)} microseconds",
        "lo": intervals[0].start,
        "hi": intervals[-1].end,
        "min_from": intervals[0].start,
        "max_to": intervals[-1].end,
        "now": now,
        "rf": [i.start for i in intervals],
        "rt": [i.end for i in intervals],
        "rl": [i.label for i in intervals],
        **T.queue_params(config),
    }
    columns = {n: T._COLUMNS[n] for n in names if n in T._COLUMNS}
    columns["longest"] = ["longest_wait_s"]
    columns["away"] = ["away_by_reason"]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(query, params):
            parts: dict[str, Any] = {}
            for n in names:
                if row[f"has_{n}"]:
                    parts.update({c: row[c] for c in columns[n]})
            if parts:
                out[(row["b"], row["k"])] = parts
    return out


def add(into: dict[str, Any], parts: dict[str, Any]) -> None:
    """Parts of two labels summed (every part is a count or a sum; the longest wait a max, time
    away by reason summed per reason)."""
    for name, value in parts.items():
        if value is None:
            continue
        old = into.get(name)
        if old is None:
            into[name] = dict(value) if isinstance(value, dict) else value
        elif name == "longest_wait_s":
            into[name] = max(old, value)
        elif name in ("fcr_next_change",):
            into[name] = min(old, value)
        elif isinstance(value, dict):
            for k, v in value.items():
                old[k] = old.get(k, 0) + v
        else:
            into[name] = old + value
