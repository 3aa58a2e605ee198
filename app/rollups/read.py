"""Reading history through the rollups: the parts of any groups per bucket over a range, and
the registry's metrics from them.

    from app.rollups.read import parts, metrics

    # key -> one Bucket (start, end, parts) per bucket of `step` in [start, end)
    found = parts(conn, config, by="queue", keys=["billing"], start=s, end=e, now=now,
                  step=timedelta(minutes=30))
    # key -> one row per bucket: "from", "to" and every metric of the registry (what
    # GET /api/v1/metrics gives for that group and window), as app.metrics.trends returns
    rows = metrics(conn, config, by="team", keys=["north"], start=s, end=e, now=now,
                   step=e - s)   # one bucket: the whole range

- `by` is a level (center, queue, team, agent); `keys` the groups (`["center"]` for the
  center). Buckets are [start + k * step, ...), the last cut at `end`, none from `now` on.
- A bucket on whole 15-minute intervals that ended before `now` is read from the rollups:
  its 15-minute rows summed (30 or 60-minute buckets, a day, a month). What is not whole (the
  bucket ending now, a start or an end inside an interval) is read from the rows, in one
  statement: a range costs its intervals plus at most two partial edges. Buckets start at
  `start`: give a start on a quarter hour (local midnight is one in every time zone in use)
  and a step of a multiple of 15 minutes, or everything is read from rows.
- Parts are the column names of app/metrics/parts.py (`answered`, `wait_answered_sum`,
  `t_on_call`, ...). They add up: sum two buckets' parts with `add_parts` (counts and sums
  add, `fcr_next_change` is the earlier; None is "no rows"), then evaluate them with
  `app.metrics.registry.evaluate(parts | {"sl_formula": ...}, level)`, or ask `metrics`.
- Equal to the rows (tests/rollups/test_equal.py): every metric read this way equals the
  same metric computed from the rows (`app.metrics.service.compute` over the bucket), given
  `now` at or after every stored event; a replay at an earlier instant reads rows
  (`compute`). Rollups made with other thresholds than `config`'s are not read (rows are).
- Parts that move with the clock are completed at `now`: the open state interval's time
  and adherence (read from the agents' open intervals), and whether a first contact's repeat
  window is still open (`fcr_open`, `fcr_pending`: from the span of the windows' ends kept
  per interval; an interval whose windows straddle `now` is read from rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from app.config import CallboardConfig
from app.metrics import parts as P
from app.metrics.registry import Level
from app.metrics.service import Shared, compute_many, known_queues
from app.models import ROLLUP_COUNTS, ROLLUP_SUMS
from app.rollups.rows import buckets, now_values, row_parts
from app.rollups.service import is_current, thresholds
from ingest import rollup_parts as F
from ingest.rollups import EPOCH, INTERVAL, queues_of

_MIN = frozenset({"fcr_next_change", "fcr_h_min"})
_MAX = frozenset({"fcr_h_max"})


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    parts: dict[str, Any]


def add_parts(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """`into` with `more` added (in place): sums, the earliest fcr_next_change; None + None
    stays None (a part of no rows)."""
    for name, value in more.items():
        if value is None:
            into.setdefault(name, None)
            continue
        old = into.get(name)
        if old is None:
            into[name] = value
        elif name in _MIN:
            into[name] = min(old, value)
        elif name in _MAX:
            into[name] = max(old, value)
        else:
            into[name] = old + value
    return into


def parts(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: list[str],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = INTERVAL,
) -> dict[str, list[Bucket]]:
    """key -> the parts of each bucket of `step` in [start, end) (none from `now` on)."""
    found, _ = _read(conn, config, by=by, keys=keys, start=start, end=end, now=now, step=step)
    return found


def metrics(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: list[str],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = INTERVAL,
) -> dict[str, list[dict[str, Any]]]:
    """key -> one row per bucket: "from", "to" and the row `compute(..., start=from, end=to,
    only=key)` gives (every metric; the bucket ending now with the now values)."""
    found, shared = _read(conn, config, by=by, keys=keys, start=start, end=end, now=now, step=step)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in found}
    if not found:
        return out
    spans = [(b.start, b.end) for b in next(iter(found.values()))]
    # one evaluation per bucket for all keys (a team's or an agent's would also list every
    # team, every agent at work: one key at a time)
    together = by in ("center", "queue") or len(found) == 1
    for i, (f, t) in enumerate(spans):
        groups = [list(found)] if together else [[k] for k in found]
        for ks in groups:
            result = compute_many(
                conn,
                config,
                levels=(by,),
                now=now,
                start=f,
                end=t,
                only=ks[0] if len(ks) == 1 else None,
                shared=shared,
                given={by: {k: found[k][i].parts for k in ks}},
            )[by]
            for row in result["rows"]:
                if row["key"] in out:
                    out[row["key"]].append({"from": result["from"], "to": result["to"], **row})
    return out


def _whole(t: datetime) -> bool:
    return (t - EPOCH) % INTERVAL == timedelta(0)


def _floor(t: datetime) -> datetime:
    return EPOCH + ((t - EPOCH) // INTERVAL) * INTERVAL


def window_parts(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, dict[str, Any]] | None:
    """Every group of `by` with any part over the window [start, end) (one for all queues) and
    its parts: what `app.metrics.parts.window_parts` reads from the rows for `compute`, with
    the window's whole 15-minute intervals that ended by `now` read from the rollups and at
    most two partial edges (the start's quarter hour, and the end's or now's) from the rows.
    Give them to `compute_many(..., given={by: ...})`. None when the rollups do not serve
    (other thresholds, left behind, not one whole interval): `compute` reads the rows."""
    lo = _floor(start) if _whole(start) else _floor(start) + INTERVAL
    hi = _floor(min(end, now))
    if hi <= lo or not is_current(conn, config):
        return None
    keys = _candidates(conn, config, by)
    found: dict[str, dict[str, Any]] = {k: {} for k in keys}
    # Handling whose repeat windows may still be open at `now` is read again from rows (see
    # _resolution_at): the intervals older than the longest window are summed apart, so that
    # re-read covers the last repeat window, never the whole range.
    longest = max((w.repeat_window_h for w in _windows(conn, config, lo, hi)), default=0.0)
    mature = max(lo, min(hi, _floor(now - timedelta(hours=longest))))
    for a, b in ((lo, mature), (mature, hi)):
        if a < b:
            read, _ = _read(conn, config, by=by, keys=keys, start=a, end=b, now=now, step=b - a)
            for k, spans in read.items():
                for bucket in spans:
                    add_parts(found[k], bucket.parts)
    for a, b in ((start, lo), (hi, end)):  # the partial edges (the last one up to now)
        if a < b:
            rows = P.window_parts(
                conn, [by], _windows(conn, config, a, b), people_window=(a, b), now=now
            )[by]
            for k, p in rows.items():
                add_parts(found.setdefault(k, {}), p)
    return {k: p for k, p in found.items() if p}


def _windows(
    conn: psycopg.Connection[Any], config: CallboardConfig, start: datetime, end: datetime
) -> list[P.QueueWindow]:
    """Every known queue's thresholds over [start, end), as `compute` reads a range."""
    return [P.QueueWindow.of(n, config.queue(n), start, end) for n in known_queues(conn, config)]


def _candidates(conn: psycopg.Connection[Any], config: CallboardConfig, by: Level) -> list[str]:
    """Every group of the level that may have parts (those without are left out after)."""
    if by == "center":
        return ["center"]
    if by == "queue":
        return known_queues(conn, config)
    if by == "agent":
        return [r[0] for r in conn.execute("SELECT id FROM agents ORDER BY id").fetchall()]
    teams = conn.execute("SELECT DISTINCT coalesce(team, 'unassigned') FROM agents").fetchall()
    return sorted({r[0] for r in teams} | set(config.teams) | {"unassigned"})


# Contact parts that are counts or sums of rows dated by an instant: the same at any `now`,
# so a stored interval's are final however recent it is (never the ends of repeat windows).
ADDITIVE = frozenset((*ROLLUP_COUNTS, *ROLLUP_SUMS))


def interval_sums(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    level: Literal["center", "queue", "agent"],
    columns: Sequence[str],
    start: datetime,
    end: datetime,
    keys: Sequence[str] | None = None,
) -> list[tuple[Any, ...]] | None:
    """(key, interval start, *columns) of every 15-minute interval in [start, end) that has a
    rollup row, for `keys` (None: every key of the level), by key and interval: the contact
    parts `columns` (of ADDITIVE: `arrived`, `handle_sum`, ...). `start` and `end` on quarter hours.
    One statement, no rows read. None when the rollups do not serve `config` (never built,
    other thresholds, left behind): the caller reads the rows."""
    if not (_whole(start) and _whole(end)):
        raise ValueError("interval_sums: start and end must lie on quarter hours")
    unknown = set(columns) - ADDITIVE
    if unknown or not columns:
        raise ValueError(f"interval_sums: not a count or sum of contacts: {sorted(unknown)}")
    if end <= start:
        return []
    if not is_current(conn, config):
        return None
    query = sql.SQL(
        "SELECT x.key, x.bucket, {cols} FROM rollup_contacts x"
        " WHERE x.level = %(level)s AND x.bucket >= %(lo)s AND x.bucket < %(hi)s{only}"
        " ORDER BY x.key, x.bucket"  # the primary key's order
    ).format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        only=sql.SQL("" if keys is None else " AND x.key = ANY(%(keys)s::text[])"),
    )
    params = {"level": level, "lo": start, "hi": end, "keys": list(keys or [])}
    return conn.execute(query, params).fetchall()


def _read(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: list[str],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta,
) -> tuple[dict[str, list[Bucket]], Shared]:
    keys = list(dict.fromkeys(keys))
    spans = buckets(start, end, now, step)
    served = (
        bool(spans)
        and bool(keys)
        and _whole(start)
        and step % INTERVAL == timedelta(0)
        and is_current(conn, config)
    )
    # whole spans: on quarter hours and over by now (the one ending at now adds now values)
    n = 0
    if served:
        while n < len(spans) and _whole(spans[n][1]) and spans[n][1] <= now:
            n += 1
    whole, rest = spans[:n], spans[n:]
    by_key: dict[str, dict[datetime, dict[str, Any]]] = {k: {} for k in keys}
    if whole:
        for k, summed in _rollup_parts(conn, config, by, keys, whole, now, step).items():
            by_key[k].update(summed)
    shared = Shared(queues=[], agents=[], waiting={by: {}})
    if whole and not rest and whole[-1][1] == now:
        shared = now_values(conn, by=by, keys=keys, now=now)
    if rest:
        read, shared = row_parts(conn, config, by=by, keys=keys, spans=rest, now=now, step=step)
        for k, more in read.items():
            by_key[k].update(more)
    out = {k: [Bucket(f, t, by_key[k].get(f, {})) for f, t in spans] for k in keys}
    return out, shared


def _rollup_parts(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    by: Level,
    keys: list[str],
    spans: list[tuple[datetime, datetime]],
    now: datetime,
    step: timedelta,
) -> dict[str, dict[datetime, dict[str, Any]]]:
    """The parts of whole spans (consecutive, on quarter hours, before now) from the rollups,
    completed at `now`: key -> span start -> parts."""
    lo, hi = spans[0][0], spans[-1][1]
    out: dict[str, dict[datetime, dict[str, Any]]] = {k: {} for k in keys}
    params = {
        "level": "agent" if by == "team" else by,
        "keys": keys,
        "lo": lo,
        "hi": hi,
        "step": f"{step // timedelta(microseconds=1)} microseconds",
        "unassigned": "unassigned" in keys,
    }
    tables: list[tuple[str, tuple[str, ...]]] = [("rollup_contacts", F.CONTACT_COLUMNS)]
    if by != "queue":
        tables.append(("rollup_agent_time", F.AGENT_COLUMNS))
    with conn.cursor(row_factory=dict_row) as cur:
        for table, columns in tables:
            query = summed_rows(table, columns, team=by == "team", bucket=_BIN)
            for row in cur.execute(query, params):
                k, b = row.pop("k"), row.pop("b")
                add_parts(out[k].setdefault(b, {}), row)
    straddling = _resolution_at(out, now)
    if straddling:
        _handling_from_rows(conn, config, by, keys, straddling, out, now, step)
    if by != "queue":
        _open_intervals(conn, by, keys, spans, out, now, step)
    return out


# a span of `step` from `lo`
_BIN: LiteralString = "date_bin(%(step)s::interval, x.bucket, %(lo)s)"


def summed_rows(
    table: str,
    columns: tuple[str, ...],
    *,
    team: bool,
    bucket: LiteralString,
    join: LiteralString = "",
) -> sql.Composed:
    """The rollup rows `x` of the keys in [lo, hi) summed per key (`k`) and bucket (`b`, an
    expression of `x.bucket` or of a table `join`ed to it); a team: its members' agent rows.
    Parameters: level, keys, lo, hi, unassigned (whether a key is "unassigned")."""
    aggs = [sql.SQL("{} AS {}").format(F.summed(c, "x"), sql.Identifier(c)) for c in columns]
    if team:
        key = sql.SQL("coalesce(ag.team, 'unassigned')")
        where = sql.SQL(
            "x.level = 'agent' AND x.bucket >= %(lo)s AND x.bucket < %(hi)s"
            " AND coalesce(ag.team, 'unassigned') = ANY(%(keys)s::text[])"
            " AND (%(unassigned)s OR x.key = ANY(ARRAY("
            "SELECT id FROM agents WHERE team = ANY(%(keys)s::text[]))))"
        )
        source = sql.SQL("{} x LEFT JOIN agents ag ON ag.id = x.key").format(sql.Identifier(table))
    else:
        key = sql.SQL("x.key")
        where = sql.SQL(
            "x.level = %(level)s AND x.key = ANY(%(keys)s::text[])"
            " AND x.bucket >= %(lo)s AND x.bucket < %(hi)s"
        )
        source = sql.SQL("{} x").format(sql.Identifier(table))
    return sql.SQL(
        "SELECT {key} AS k, {bucket} AS b, {aggs} FROM {source} {join} WHERE {where} GROUP BY 1, 2"
    ).format(
        key=key,
        bucket=sql.SQL(bucket),
        aggs=sql.SQL(", ").join(aggs),
        source=source,
        join=sql.SQL(join),
        where=where,
    )


def _resolution_at(out: dict[str, dict[datetime, dict[str, Any]]], now: datetime) -> set[datetime]:
    """fcr_open, fcr_pending and fcr_next_change of each span from the span of its repeat
    windows' ends; the spans whose windows straddle `now` (read from rows instead)."""
    straddling: set[datetime] = set()
    for found in out.values():
        for b, p in found.items():
            first, last = p.pop("fcr_h_min", None), p.pop("fcr_h_max", None)
            if not p.get("fcr_n"):
                p.update(fcr_open=0, fcr_pending=0, fcr_next_change=None)
            elif first is not None and first > now:  # every window still open
                p.update(fcr_open=p["fcr_n"], fcr_pending=p["fcr_resolved"], fcr_next_change=first)
            elif last is not None and last <= now:  # every one over
                p.update(fcr_open=0, fcr_pending=0, fcr_next_change=None)
            else:
                straddling.add(b)
    return straddling


def _handling_from_rows(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    by: Level,
    keys: list[str],
    starts: set[datetime],
    out: dict[str, dict[datetime, dict[str, Any]]],
    now: datetime,
    step: timedelta,
) -> None:
    """The handling parts of these spans read from rows at `now` (replacing the rollups')."""
    ranges = sorted(starts)
    lo, hi = ranges[0], ranges[-1] + step
    windows = [
        P.QueueWindow(name, t, s, rw, lo, hi, cbt)
        for name, t, s, rw, cbt in queues_of(conn, thresholds(config))
    ]
    if not windows:
        return
    params = {
        **P._params(windows, now),
        "rf": ranges,
        "rt": [s + step for s in ranges],
        "dense": False,
        "center": False,
    }
    found = P._run(conn, P._HANDLED, "seg", [by], params, "s.handled_at")[by]
    columns = [a for a, _ in P.select_items(P._HANDLED)]
    for k in keys:
        for b in ranges:
            p = out[k].get(b)
            if p is not None:
                fresh = found.get((b, k), {})
                p.update((c, fresh.get(c)) for c in columns)


def _open_intervals(
    conn: psycopg.Connection[Any],
    by: Level,
    keys: list[str],
    spans: list[tuple[datetime, datetime]],
    out: dict[str, dict[datetime, dict[str, Any]]],
    now: datetime,
    step: timedelta,
) -> None:
    """Adds the time and adherence of the state intervals open at `now` to the spans."""
    agents: list[str] = []
    everyone = by == "center" or "unassigned" in keys
    if by == "agent":
        agents = keys
    elif by == "team" and not everyone:
        agents = [
            r[0]
            for r in conn.execute("SELECT id FROM agents WHERE team = ANY(%s)", (keys,)).fetchall()
        ]
    params = {
        "rf": [f for f, _ in spans],
        "rt": [t for _, t in spans],
        "lo": spans[0][0],
        "hi": spans[-1][1],
        "step": f"{step // timedelta(microseconds=1)} microseconds",
        "now": now,
        "all": everyone,
        "agents": agents,
    }
    for template, columns in (
        (F.OPEN_AGENT_TIME, F.AGENT_COLUMNS),
        (F.OPEN_ADHERENCE, ("adherent_s",)),
    ):
        found = F.run_intervals(conn, template, [by], params)[by]
        for (b, k), more in found.items():
            if k in out:
                add_parts(out[k].setdefault(b, {}), {c: more[c] for c in columns if c in more})
