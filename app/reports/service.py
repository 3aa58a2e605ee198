"""The four reports of the past (queues, agents, abandoned, waits) over a range of days, by the
definitions of docs/METRICS.md, in the time zone of the level (a queue's own for `by=queue`).

A report's totals equal `callboard metrics --from <first day 00:00> --to <day after the last
00:00> --by LEVEL` in that zone: `queues` and `agents` sum the registry's parts over 15-minute
intervals (app/reports/history.py, one statement) and evaluate them with the registry;
`abandoned` and `waits` count the same rows the outcome parts count."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import psycopg

from app.config import CallboardConfig
from app.metrics.registry import Level, evaluate
from app.metrics.service import known_queues
from app.metrics.windows import midnight
from app.reports import history
from app.reports.config import LEVELS
from app.reports.history import Interval
from app.scorecard.service import scored

Name = Literal["queues", "agents", "abandoned", "waits"]
NAMES: tuple[Name, ...] = get_args(Name)
Minutes = Literal[15, 30, 60]
PREVIOUS = "previous"  # the label of the period before the range
MAX_DAYS = 366
WAIT_BUCKETS_S: tuple[float, ...] = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 90, 120)

# The attribution rule each report follows (docs/METRICS.md, "Windows and attribution").
RULES: dict[Name, str] = {
    "queues": "A contact counts in the interval it left the queue (answered, abandoned,"
    " overflowed, its wait); arrivals when it was queued; handling (AHT, transfers, FCR) when"
    " handling finished; surveys when they arrived.",
    "agents": "Agent time is split at every interval's edge; handling counts when it finished;"
    " surveys and evaluations when they arrived.",
    "abandoned": "An abandoned contact counts on the day it left the queue; short abandons"
    " (wait <= the queue's short_abandon_s) are marked and not counted as abandoned.",
    "waits": "A contact's wait counts in the interval it left the queue (answered or abandoned).",
}

# The metrics each report shows, by the names `callboard metrics --json` uses.
COLUMNS: dict[Name, tuple[str, ...]] = {
    "queues": (
        "arrived",
        "answered",
        "abandoned",
        "short_abandoned",
        "overflowed",
        "service_level",
        "asa_s",
        "longest_wait_s",
        "abandon_rate",
        "handled",
        "aht_s",
        "transfer_rate",
        "fcr",
        "csat",
    ),
    "agents": (
        "logged_in_s",
        "t_available",
        "t_on_call",
        "t_wrap_up",
        "t_away",
        "break_s",
        "away_by_reason",
        "handled",
        "aht_s",
        "occupancy",
        "adherence",
        "fcr",
        "csat",
        "qa_score",
        "score",
    ),
    "abandoned": (
        "left_at",
        "queued_at",
        "customer",
        "wait_s",
        "short",
        "called_back_at",
        "called_back_after_s",
    ),
    "waits": ("bucket", "answered", "abandoned", "short_abandoned"),
}


class ReportError(ValueError):
    """A request a report cannot answer (said in words, never a 500)."""


@dataclass(frozen=True)
class Scope:
    """What the caller may see: None = everything; else these teams (their agents, and the
    queues their agents handled contacts of in the range)."""

    teams: frozenset[str] | None = None


@dataclass(frozen=True)
class Days:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ReportError("to must be on or after from")
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise ReportError(f"a report covers at most {MAX_DAYS} days")

    @property
    def count(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Days:
        n = timedelta(days=self.count)
        return Days(self.first - n, self.last - n)

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        return midnight(self.first, tz), midnight(self.last + timedelta(days=1), tz)


def intervals(days: Days, tz: str, interval: int | None, now: datetime) -> list[Interval]:
    """The 15-minute intervals of the previous period (label "previous") and of the range
    (labelled by local day, or by local time of day cut to `interval` minutes), none starting
    at or after `now`. Local midnights fall on quarter hours in every zone in use."""
    zone = ZoneInfo(tz)
    start, end = days.bounds(tz)
    t = days.previous().bounds(tz)[0]
    out = []
    while t < end and t < now:
        if t < start:
            label = PREVIOUS
        else:
            local = t.astimezone(zone)
            if interval is None:
                label = local.date().isoformat()
            else:
                label = f"{local.hour:02d}:{local.minute // interval * interval:02d}"
        out.append(Interval(t, min(t + history.STEP, end), label))
        t += history.STEP
    return out


def zone_of(config: CallboardConfig, by: Level, key: str | None = None) -> str:
    if by == "queue" and key is not None:
        return config.queue(key).timezone
    return config.defaults.timezone


def keys_of(
    conn: psycopg.Connection[Any], config: CallboardConfig, by: Level, scope: Scope, days: Days
) -> list[str]:
    """The groups a report lists, within the scope."""
    if by == "center":
        if scope.teams is not None:
            raise ReportError("the center covers every team: a supervisor reports by their teams")
        return ["center"]
    if by == "queue":
        queues = known_queues(conn, config)
        if scope.teams is None:
            return queues
        start, end = days.bounds(config.defaults.timezone)
        rows = conn.execute(
            "SELECT DISTINCT s.queue FROM contact_segments s JOIN agents ag ON ag.id = s.agent"
            " WHERE ag.team = ANY(%s) AND s.left_at >= %s AND s.left_at < %s",
            (sorted(scope.teams), start - timedelta(days=1), end + timedelta(days=1)),
        ).fetchall()
        return sorted({r[0] for r in rows})
    if by == "team":
        stored = {r[0] for r in conn.execute("SELECT name FROM teams").fetchall()}
        teams = sorted(stored | set(config.teams) | {"unassigned"})
        return [t for t in teams if scope.teams is None or t in scope.teams]
    rows = conn.execute("SELECT id, coalesce(team, 'unassigned') FROM agents").fetchall()
    members = {a: t for a, t in rows} | config.team_of()
    return sorted(a for a, t in members.items() if scope.teams is None or t in scope.teams)


def build(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    name: str,
    days: Days,
    by: Level,
    interval: int | None,
    now: datetime,
    scope: Scope | None = None,
    wait_buckets: Sequence[float] = WAIT_BUCKETS_S,
) -> dict[str, Any]:
    """A report: {"report", "from", "to", "by", "interval", "timezone", "rule", "rows",
    "totals", "previous"}."""
    if name not in NAMES:
        raise ReportError(f"unknown report {name!r}; expected one of: {', '.join(NAMES)}")
    report: Name = name
    if by not in LEVELS[report]:
        raise ReportError(f"the {report} report is by {', '.join(LEVELS[report])}, not by {by}")
    if interval is not None and interval not in get_args(Minutes):
        raise ReportError("interval is 15, 30 or 60 minutes")
    scope = scope or Scope()
    keys = keys_of(conn, config, by, scope, days)
    zones: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        zones[zone_of(config, by, key)].append(key)
    rows: list[dict[str, Any]] = []
    totals: dict[str, Any] = {}
    for tz, zone_keys in sorted(zones.items()) or [(zone_of(config, by), [])]:
        if report in ("queues", "agents"):
            r, t = _metrics_report(conn, config, report, by, zone_keys, days, tz, interval, now)
        elif report == "abandoned":
            r, t = _abandoned(conn, config, by, zone_keys, days, tz)
        else:
            r, t = _waits(conn, config, by, zone_keys, days, tz, list(wait_buckets))
        rows += r
        totals.update(t)
    if name in ("queues", "agents"):  # a group's rows together, in time order
        rows.sort(key=lambda row: (row["key"], row.get("day") or row.get("start") or ""))
    tz = zone_of(config, by, keys[0] if len(zones) == 1 and keys else None)
    if len(zones) == 1:
        tz = next(iter(zones))
    start, end = days.bounds(tz)
    return {
        "report": report,
        "from": days.first.isoformat(),
        "to": days.last.isoformat(),
        "by": by,
        "interval": interval,
        "timezone": tz if len(zones) <= 1 else None,
        "start": _iso(start),
        "end": _iso(end),
        "rule": RULES[report],
        "columns": list(COLUMNS[report]),
        "generated_at": _iso(now),
        "rows": rows,
        "totals": totals,
    }


def _metrics_report(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    report: Name,
    by: Level,
    keys: list[str],
    days: Days,
    tz: str,
    interval: int | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    spans = intervals(days, tz, interval, now)
    found = history.read(
        conn,
        config,
        by=by,
        keys=keys,
        intervals=spans,
        now=now,
        longest=report == "queues",
        away=report == "agents",
    )
    labels = [lb for lb in dict.fromkeys(i.label for i in spans) if lb != PREVIOUS]
    team = _teams(conn, config) if by == "agent" else {}
    whole: dict[str, dict[str, Any]] = {k: {} for k in keys}
    before: dict[str, dict[str, Any]] = {k: {} for k in keys}
    rows = []
    for label in sorted(labels):
        group = []
        for key in keys:
            parts = found.get((label, key))
            if parts is None and by in ("team", "agent"):
                continue  # nobody of the group worked then
            parts = parts or {}
            history.add(whole[key], parts)
            row = {"key": key, ("start" if interval else "day"): label}
            row.update(_evaluate(config, report, by, key, parts, team.get(key)))
            group.append(row)
        rows += _scored(config, report, by, group)
    for key in keys:
        parts = found.get((PREVIOUS, key))
        if parts is not None:
            history.add(before[key], parts)

    def evaluated(period: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Each group's row over a whole period (a team or an agent only if it worked)."""
        groups = [
            {"key": k, **_evaluate(config, report, by, k, period[k], team.get(k))}
            for k in keys
            if period[k] or by in ("center", "queue")
        ]
        return _scored(config, report, by, groups)

    totals: dict[str, Any] = {}
    current = evaluated(whole)
    previous = {r["key"]: r for r in evaluated(before)}
    for row in current:
        key = str(row.pop("key"))
        prev: dict[str, Any] = previous.get(key, {})
        prev.pop("key", None)
        delta = {
            c: row[c] - prev[c]
            for c in COLUMNS[report]
            if isinstance(row.get(c), int | float) and isinstance(prev.get(c), int | float)
        }
        totals[key] = {**row, "previous": prev, "delta": delta}
    return rows, totals


def _evaluate(
    config: CallboardConfig,
    report: Name,
    by: Level,
    key: str,
    parts: dict[str, Any],
    team: str | None,
) -> dict[str, Any]:
    p = dict(parts)
    p["sl_formula"] = config.queue(key).sl_formula if by == "queue" else config.defaults.sl_formula
    metrics = evaluate(p, by)
    out: dict[str, Any] = {}
    for c in COLUMNS[report]:
        if c in metrics:
            out[c] = metrics[c]
        elif c.startswith("t_"):
            out[c] = round(p[c], 0) if p.get(c) is not None else (0 if by != "queue" else None)
        elif c == "away_by_reason":
            out[c] = {r: round(s, 0) for r, s in sorted((p.get(c) or {}).items())}
        elif c == "longest_wait_s":
            out[c] = round(p[c], 1) if p.get(c) is not None else None
    if report == "queues" and by == "queue":
        q = config.queue(key)
        out.update(sl_formula=q.sl_formula, sl_threshold_s=q.sl_threshold_s)
    elif report == "queues" and by == "center":
        out.update(sl_formula=config.defaults.sl_formula)
    if report == "agents":
        # what the scorecard reads beside the columns
        out.update({m: metrics[m] for m in ("calls_per_hour", "transfer_rate", "nps")})
        if by == "agent":
            out["team"] = team
    return out


def _scored(
    config: CallboardConfig, report: Name, by: Level, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Agents' rows with their scorecard score (agents judged against their team that day)."""
    if report != "agents" or not rows:
        return rows
    for row, s in zip(rows, scored(config, by, rows), strict=True):
        row["score"] = s["score"]
    return rows


def _teams(conn: psycopg.Connection[Any], config: CallboardConfig) -> dict[str, str | None]:
    rows = conn.execute("SELECT id, team FROM agents").fetchall()
    return {a: t for a, t in rows} | config.team_of()


_ABANDONED = """
SELECT s.queue, s.left_at, s.queued_at, s.customer, w.wait, w.wait <= p.s AS short,
       nxt.at AS called_back_at
FROM contact_segments s
JOIN (SELECT * FROM unnest(%(q)s::text[], %(s)s::float8[], %(rw)s::float8[]) AS p(queue, s, rw))
  p ON p.queue = s.queue
CROSS JOIN LATERAL (
  SELECT CASE WHEN %(center)s THEN s.contact_wait_s ELSE s.wait_s END AS wait) w
LEFT JOIN LATERAL (
  SELECT min(o.queued_at) AS at FROM contact_segments o
  WHERE s.customer IS NOT NULL AND o.customer = s.customer AND o.is_first
    AND o.queued_at > s.left_at
    AND o.queued_at <= s.left_at + make_interval(secs => p.rw)) nxt ON true
WHERE s.left_at >= %(lo)s AND s.left_at < %(hi)s AND s.outcome = 'abandoned'
  AND (NOT %(center)s OR s.contact_outcome)
ORDER BY s.left_at, s.queue, s.call_id"""


def _queue_params(config: CallboardConfig, by: Level, keys: list[str], conn: Any) -> dict[str, Any]:
    queues = known_queues(conn, config) if by == "center" else keys
    return {
        "q": queues,
        "t": [config.queue(q).sl_threshold_s for q in queues],
        "s": [config.queue(q).short_abandon_s for q in queues],
        "rw": [config.queue(q).repeat_window_h * 3600 for q in queues],
        "center": by == "center",
    }


def _abandoned(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    by: Level,
    keys: list[str],
    days: Days,
    tz: str,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every abandoned contact of the range (the center: each contact once, at its outcome),
    with whether the customer called again within the queue's repeat window, and when."""
    lo, hi = days.bounds(tz)
    params = {**_queue_params(config, by, keys, conn), "lo": lo, "hi": hi}
    rows = []
    totals: dict[str, dict[str, int]] = {k: {"abandoned": 0, "short_abandoned": 0} for k in keys}
    for queue, left, queued, customer, wait, short, back in conn.execute(_ABANDONED, params):
        key = "center" if by == "center" else queue
        short = bool(short)
        totals[key]["short_abandoned" if short else "abandoned"] += 1
        rows.append(
            {
                "key": key,
                "queue": queue,
                "left_at": _iso(left),
                "queued_at": _iso(queued) if queued else None,
                "customer": customer,
                "wait_s": None if wait is None else round(wait, 1),
                "short": short,
                "called_back_at": _iso(back) if back else None,
                "called_back_after_s": None
                if back is None
                else round((back - left).total_seconds()),
            }
        )
    return rows, totals


_WAITS = """
SELECT CASE WHEN %(center)s THEN 'center' ELSE s.queue END AS k,
       CASE WHEN w.wait IS NOT NULL
            THEN (SELECT count(*) FROM unnest(%(edges)s::float8[]) e WHERE e < w.wait) END AS b,
       count(*) FILTER (WHERE s.outcome = 'answered') AS answered,
       count(*) FILTER (WHERE s.outcome = 'abandoned' AND (w.wait IS NULL OR w.wait > p.s))
         AS abandoned,
       count(*) FILTER (WHERE s.outcome = 'abandoned' AND w.wait <= p.s) AS short_abandoned
FROM contact_segments s
JOIN (SELECT * FROM unnest(%(q)s::text[], %(s)s::float8[]) AS p(queue, s)) p
  ON p.queue = s.queue
CROSS JOIN LATERAL (
  SELECT CASE WHEN %(center)s THEN s.contact_wait_s ELSE s.wait_s END AS wait) w
WHERE s.left_at >= %(lo)s AND s.left_at < %(hi)s AND s.outcome IN ('answered', 'abandoned')
  AND (NOT %(center)s OR s.contact_outcome)
GROUP BY 1, 2"""


def bucket_names(edges: Sequence[float]) -> list[str]:
    """ "0-5", "5-10", ..., "120+" (seconds); "unknown" for a wait the source did not give."""
    bounds = [0.0, *edges]
    names = [f"{_n(a)}-{_n(b)}" for a, b in pairwise(bounds)]
    return [*names, f"{_n(bounds[-1])}+"]


def _n(x: float) -> str:
    return f"{x:g}"


def _waits(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    by: Level,
    keys: list[str],
    days: Days,
    tz: str,
    edges: list[float],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Answered and abandoned contacts by wait, in buckets (a, b] of seconds."""
    if sorted(set(edges)) != edges or not edges or edges[0] <= 0:
        raise ReportError("wait buckets are increasing positive seconds, such as 5,10,20,60")
    lo, hi = days.bounds(tz)
    q = _queue_params(config, by, keys, conn)
    params = {"q": q["q"], "s": q["s"], "center": q["center"], "edges": edges, "lo": lo, "hi": hi}
    names = bucket_names(edges)
    counts: dict[tuple[str, str], list[int]] = {}
    for k, b, answered, abandoned, short in conn.execute(_WAITS, params):
        if k not in keys:
            continue
        # b: how many edges lie below the wait (a bucket holds waits a < wait <= b, as
        # "answered within T" counts a wait of exactly T)
        name = "unknown" if b is None else names[b]
        counts[(k, name)] = [answered, abandoned, short]
    rows = []
    totals: dict[str, dict[str, int]] = {}
    for key in keys:
        t = totals.setdefault(key, {"answered": 0, "abandoned": 0, "short_abandoned": 0})
        for name in [*names, "unknown"]:
            c = counts.get((key, name))
            if c is None and name == "unknown":
                continue
            a, ab, sh = c or [0, 0, 0]
            rows.append(
                {"key": key, "bucket": name, "answered": a, "abandoned": ab, "short_abandoned": sh}
            )
            t["answered"] += a
            t["abandoned"] += ab
            t["short_abandoned"] += sh
    return rows, totals


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
