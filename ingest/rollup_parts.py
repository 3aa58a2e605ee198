"""The parts queries of app/metrics/parts.py, grouped by bucket: what a rollup row holds, what
a trend reads from rows, and what a reader adds for the rows still open at `now`.

Every query here is a parts template of app/metrics/parts.py with small, checked swaps (a
changed template fails at import, not with wrong numbers), so a rollup's parts are the same
SQL as a window's parts, only grouped by interval:

- contact families (outcome, arrivals, handling, surveys, ring-no-answers): `parts.FAMILIES`
  as they are, bucketed by the column dating them; handling also gives the earliest and
  latest end of its first contacts' repeat windows (`fcr_h_min`, `fcr_h_max`);
- agent time and adherence: the state intervals and plans joined with the buckets they
  overlap and clipped to each (`interval_family`); for rollups only the closed state
  intervals (`CLOSED_*`), for a reader the open ones up to now (`OPEN_*`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

import app.metrics.parts as P
from app.metrics.registry import Level
from app.models import ROLLUP_AGENT_TIME, ROLLUP_COUNTS, ROLLUP_SUMS, ROLLUP_TIMES

CONTACT_COLUMNS: tuple[str, ...] = (*ROLLUP_COUNTS, *ROLLUP_SUMS, *ROLLUP_TIMES)
AGENT_COLUMNS: tuple[str, ...] = tuple(ROLLUP_AGENT_TIME)


def swap(template: str, old: str, new: str) -> LiteralString:
    """`template` with `old` (found exactly once) replaced."""
    if template.count(old) != 1:
        raise RuntimeError(f"rollups: {old!r} not found exactly once in a parts template")
    return template.replace(old, new)


def interval_family(
    template: str, row: str, source: str, bounds: str, start: str, stop: str
) -> LiteralString:
    """A parts template over intervals (agent states, schedules) made bucketed: each interval
    row `source` is joined with the buckets it may overlap (generate_series from the bucket of
    its start to its clipped end, equal to a bucket of `r`), the window's edges %(wf)s / %(wt)s
    become the bucket's (r.f / r.t), `bounds` restricts the scan to [lo, hi) and the row
    carries its bucket as `b`."""
    t = swap(template, f"SELECT {row},", f"SELECT r.f AS b, {row},")
    t = swap(
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


_STATES_OPEN_OR_CLOSED = "AND (a.ended_at > greatest(sc.starts_at, %(wf)s) OR a.ended_at IS NULL)"


_ONLY = "(%(all)s OR {}.agent = ANY(%(agents)s)) AND "  # the agents asked for (all: every one)


def _agent_time(which: str) -> LiteralString:
    return interval_family(
        P._AGENT_TIME,
        "a.agent",
        "agent_states a",
        which + "a.started_at < %(hi)s AND (a.ended_at > %(lo)s OR a.ended_at IS NULL)",
        "a.started_at",
        "least(coalesce(a.ended_at, %(now)s), %(now)s, %(hi)s)",
    )


def _adherence(states: str, only: str = "") -> LiteralString:
    return interval_family(
        swap(P._ADHERENCE, _STATES_OPEN_OR_CLOSED, states),
        "sc.agent",
        "schedules sc",
        only + "sc.starts_at < least(%(hi)s, %(now)s) AND sc.ends_at > %(lo)s",
        "sc.starts_at",
        "least(sc.ends_at, %(now)s, %(hi)s)",
    )


# What a trend reads from rows (every state interval, the open one up to now).
AGENT_TIME = _agent_time("")
ADHERENCE = _adherence(_STATES_OPEN_OR_CLOSED)
# What a rollup holds (closed intervals only: their time does not move with the clock; a
# logged_out interval adds to no part) and what a reader adds to it at `now` (the open ones).
CLOSED_AGENT_TIME = _agent_time(
    _ONLY.format("a") + "a.ended_at IS NOT NULL AND a.state <> 'logged_out' AND "
)
OPEN_AGENT_TIME = _agent_time(
    _ONLY.format("a") + "a.ended_at IS NULL AND a.state <> 'logged_out' AND "
)
CLOSED_ADHERENCE = _adherence("AND a.ended_at > greatest(sc.starts_at, %(wf)s)", _ONLY.format("sc"))
OPEN_ADHERENCE = _adherence("AND a.ended_at IS NULL", _ONLY.format("sc"))

# Handling with the span of its first contacts' repeat windows: all open at `now` (after
# fcr_h_min), all closed (fcr_h_max at or before now), or straddling (read from rows).
_HORIZON = "f.queued_at + make_interval(secs => p.rw)"
HANDLED = swap(
    P._HANDLED,
    "  count(f.call_id) AS fcr_n,\n",
    f"  count(f.call_id) AS fcr_n, min({_HORIZON}) AS fcr_h_min, max({_HORIZON}) AS fcr_h_max,\n",
)
# Handling of some agents only (the rows holding a neighbour's resolution; every agent when
# %(every)s), and its stored columns.
HANDLED_OF = swap(
    HANDLED,
    "WHERE s.handled_at >= %(min_from)s",
    "WHERE (%(every)s OR s.agent = ANY(%(agents)s)) AND s.handled_at >= %(min_from)s",
)
CONTACT_FAMILIES: dict[str, tuple[LiteralString, str, tuple[Level, ...], bool, LiteralString]] = {
    name: (HANDLED if name == "handled" else template, family, serves, center, dating)
    for name, (template, family, serves, center, dating) in P.FAMILIES.items()
}
# Parts that move with the clock: made by the reader at `now` (app/rollups/read.py).
NOW_PARTS = frozenset({"fcr_pending", "fcr_open", "fcr_next_change"})
# A part added to a query without its rollup column fails here, not as a wrong sum.
_missing = (
    {
        a
        for template in [*(f[0] for f in CONTACT_FAMILIES.values()), AGENT_TIME, ADHERENCE]
        for a, _ in P.select_items(template)
    }
    - NOW_PARTS
    - set(CONTACT_COLUMNS)
    - set(AGENT_COLUMNS)
)
if _missing:
    raise RuntimeError(
        f"rollups: parts without a rollup column (app/models.py): {sorted(_missing)}"
    )


def summed(column: str, row: str) -> sql.Composed:
    """How a rollup column adds up over the rows `row` (one place for the upkeep and every
    reader): counts and sums add (a count stays bigint: sum(bigint) is numeric); the ends of
    the repeat windows span from the earliest to the latest."""
    return sql.SQL("{}({}.{}){}").format(
        sql.SQL("min" if column == "fcr_h_min" else "max" if column == "fcr_h_max" else "sum"),
        sql.Identifier(row),
        sql.Identifier(column),
        sql.SQL("::bigint" if column in ROLLUP_COUNTS else ""),
    )


def run_intervals(
    conn: psycopg.Connection[Any],
    template: LiteralString,
    levels: Sequence[Level],
    params: dict[str, Any],
) -> dict[Level, dict[tuple[Any, str], dict[str, Any]]]:
    """An interval family's parts per (bucket, group) for the levels (one scan, GROUPING
    SETS: one set per level, each with the bucket): level -> (bucket, key) -> parts."""
    grouped = [lv for lv in levels if lv != "center"]
    exprs = [sql.SQL(P._KEY["st"][lv]) for lv in grouped]
    keys = [sql.SQL("{} AS {}").format(e, sql.Identifier(f"k{i}")) for i, e in enumerate(exprs)]
    cols = sql.SQL(", ").join(
        [sql.SQL("x.b AS b"), sql.SQL("GROUPING({}) AS g").format(sql.SQL(", ").join(exprs)), *keys]
        if exprs
        else [sql.SQL("x.b AS b"), sql.SQL("0 AS g")]
    )
    sets: list[sql.Composable] = [sql.SQL("(x.b, {})").format(e) for e in exprs]
    if "center" in levels:
        sets.append(sql.SQL("(x.b)"))
    group = sql.SQL("GROUP BY GROUPING SETS ({})").format(sql.SQL(", ").join(sets))
    query = sql.SQL(
        "WITH r AS (SELECT * FROM unnest(%(rf)s::timestamptz[], %(rt)s::timestamptz[]) AS r(f, t))"
        "\n{}"
    ).format(sql.SQL(template).format(cols=cols, group=group))
    everything = (1 << len(exprs)) - 1
    out: dict[Level, dict[tuple[Any, str], dict[str, Any]]] = {lv: {} for lv in levels}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(query, params):
            b, g = row.pop("b"), row.pop("g")
            found = [row.pop(f"k{i}") for i in range(len(exprs))]
            if not exprs or g == everything:
                if "center" in out:
                    out["center"][(b, "center")] = row
                continue
            for i, level in enumerate(grouped):
                if not g & (1 << (len(exprs) - 1 - i)) and found[i] is not None:
                    out[level][(b, str(found[i]))] = row
    return out


HANDLED_COLUMNS = tuple(a for a, _ in P.select_items(HANDLED) if a in CONTACT_COLUMNS)
# a family's count of rows: a row without any is no row at all
PRESENCE = ("n_outcome", "arrived", "handled", "n_feedback", "missed")
