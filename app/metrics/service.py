"""Metric rows for a level and a window: what `callboard metrics`, GET /api/v1/metrics and the
screens show."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.metrics import parts as P
from app.metrics.registry import Level, evaluate, reevaluate
from app.metrics.windows import Window, resolve

_GONE = object()  # a part a group no longer has

# A contact "waiting" longer than this is a lost event, not a customer on hold (docs/METRICS.md).
WAITING_HORIZON_H = 12.0


def known_queues(conn: psycopg.Connection[Any], config: CallboardConfig) -> list[str]:
    rows = conn.execute("SELECT name FROM queues").fetchall()
    return sorted({r[0] for r in rows} | set(config.queues))


def compute(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    now: datetime,
    window: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    config_version: int | None = None,
    only: str | None = None,
) -> dict[str, Any]:
    """Rows of every group of `by` (or of the group `only`)."""
    return compute_many(
        conn,
        config,
        levels=(by,),
        now=now,
        window=window,
        start=start,
        end=end,
        config_version=config_version,
        only=only,
    )[by]


def compute_many(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    levels: tuple[Level, ...],
    now: datetime,
    window: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    config_version: int | None = None,
    only: str | None = None,
    shared: Shared | None = None,
    given: dict[Level, dict[str, dict[str, Any]]] | None = None,
    among: dict[Level, set[str]] | None = None,
) -> dict[Level, dict[str, Any]]:
    """Several levels at once (a live tick): what they share is read once. `shared` carries
    what several windows of one instant have in common (now values, evaluated rows); `among`
    keeps only these groups of a level (those present: the live engine's touched groups)."""
    main = resolve(window, start, end, now=now, tz=config.defaults.timezone)
    live = main.ends_now(now)
    if shared is None:
        shared = Shared()
    if shared.queues is None:
        shared.queues = known_queues(conn, config)
    queues = shared.queues
    if live and shared.agents is None:
        shared.agents = P.agents_now(conn, now)
    agents = (shared.agents or []) if live else []

    def queue_windows(by: Level) -> dict[str, Window]:
        names = queues if among is None else [q for q in queues if q in among.get(by, ())]
        return {
            name: resolve(window, start, end, now=now, tz=config.queue(name).timezone)
            if by == "queue"
            else main
            for name in names
        }

    def params(per_queue: dict[str, Window]) -> list[P.QueueWindow]:
        out = []
        for name in queues:
            w = per_queue.get(name, main)  # (a queue left out by `among`: read it over main)
            out.append(P.QueueWindow.of(name, config.queue(name), w.start, w.end))
        return out

    people_window = (main.start, main.end)
    windows = {by: queue_windows(by) for by in levels}
    # Levels whose queues all share the main window are read in one pass; a queue level with
    # its own days (`today` across time zones) is read on its own.
    together = [by for by in levels if all(w == main for w in windows[by].values())]
    parts: dict[Level, dict[str, dict[str, Any]]] = dict(given or {})
    if together and given is None:
        parts.update(
            P.window_parts(
                conn, together, params(windows[together[0]]), people_window=people_window, now=now
            )
        )
    for by in levels:
        if by not in parts:
            parts.update(
                P.window_parts(
                    conn, [by], params(windows[by]), people_window=people_window, now=now
                )
            )
    out: dict[Level, dict[str, Any]] = {}
    for by in levels:
        waiting: dict[str, dict[str, Any]] = {}
        if live:
            if by not in shared.waiting:
                shared.waiting[by] = P.waiting_now(conn, by, now, WAITING_HORIZON_H)
            waiting = shared.waiting[by]
        rows = _rows(
            config,
            by,
            main,
            windows[by],
            parts[by],
            waiting,
            agents,
            queues,
            now,
            live,
            only,
            shared,
            None if among is None else among.get(by, set()),
        )
        out[by] = {
            "from": _iso(main.start),
            "to": _iso(main.end),
            "by": by,
            "window": main.name,
            "now": _iso(now),
            "config_version": config_version,
            "rows": rows,
        }
    return out


@dataclass
class Shared:
    """What the windows of one live computation share: the queues, the agents' states and
    the contacts waiting now (read once), and `evaluated`: (level, key, parts) -> metrics,
    kept across computations by the caller so that a group whose parts did not change is
    not evaluated again."""

    queues: list[str] | None = None
    agents: list[P.AgentNow] | None = None
    waiting: dict[Level, dict[str, dict[str, Any]]] = field(default_factory=dict)
    by_state: dict[Level, dict[str, dict[str, int]]] = field(default_factory=dict)
    evaluated: dict[tuple[str, Level, str], tuple[dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )
    window: str = ""


def compute_windows(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    levels: tuple[Level, ...],
    now: datetime,
    windows: tuple[str, ...],
    config_version: int | None = None,
) -> dict[str, dict[Level, dict[str, Any]]]:
    """The live snapshot's rows computed in full: window -> level -> result, for several
    named windows at one instant (what the live engine, app/live/engine.py, keeps up to date
    incrementally)."""
    shared = Shared()
    out = {}
    for w in windows:
        shared.window = w
        out[w] = compute_many(
            conn,
            config,
            levels=levels,
            now=now,
            window=w,
            config_version=config_version,
            shared=shared,
        )
    return out


def _rows(
    config: CallboardConfig,
    by: Level,
    main: Window,
    per_queue: dict[str, Window],
    parts: dict[str, dict[str, Any]],
    waiting: dict[str, dict[str, Any]],
    agents: list[P.AgentNow],
    queues: list[str],
    now: datetime,
    live: bool,
    only: str | None,
    shared: Shared,
    among: set[str] | None = None,
) -> list[dict[str, Any]]:
    keys: set[str] = set(parts) | set(waiting)
    if by == "queue":
        keys |= set(queues)
    elif by == "center":
        keys.add("center")
    elif by == "team":
        keys |= set(config.teams)
        keys |= {a.team or "unassigned" for a in agents if a.state != "logged_out"}
    else:
        keys |= {a.agent for a in agents if a.state != "logged_out"}
    if only is not None:
        keys = {only}
    if among is not None:
        keys &= among

    by_state: dict[str, dict[str, int]] = {}
    if live and by != "agent":
        if by not in shared.by_state:
            shared.by_state[by] = _agents_by_state(agents, by)
        by_state = shared.by_state[by]
    evaluated = shared.evaluated
    current = {a.agent: a for a in agents}
    center_formula = config.defaults.sl_formula
    rows = []
    for key in sorted(keys):
        p: dict[str, Any] = dict(parts.get(key, {}))
        p.update(waiting.get(key, {}))
        if live and by in ("center", "queue"):
            p.setdefault("waiting_now", 0)
            p.setdefault("callbacks_waiting_now", 0)
        if live and by != "agent":
            p["agents_by_state"] = by_state.get(key, {})
        p["sl_formula"] = config.queue(key).sl_formula if by == "queue" else center_formula
        memo = (shared.window, by, key)
        known = evaluated.get(memo)
        if known is None:
            metrics = evaluate(p, by)
        else:  # only the metrics reading a part that changed (time, for most agents)
            old = known[0]
            changed = [k for k, v in p.items() if old.get(k, _GONE) != v]
            changed.extend(k for k in old if k not in p)
            metrics = reevaluate(p, by, changed, known[1]) if changed else known[1]
        if shared.window:
            evaluated[memo] = (p, metrics)
        row: dict[str, Any] = {"key": key, **metrics}
        if live and by in ("center", "queue"):
            # screens tick the longest wait themselves between frames, from this instant
            oldest = p.get("oldest_waiting_at")
            row["oldest_waiting_at"] = _iso(oldest) if oldest else None
        if by == "queue":
            q = config.queue(key)
            w = per_queue.get(key, main)
            row.update(
                sl_formula=q.sl_formula,
                sl_threshold_s=q.sl_threshold_s,
                short_abandon_s=q.short_abandon_s,
                repeat_window_h=q.repeat_window_h,
                timezone=q.timezone,
                targets=q.targets,
                **({"from": _iso(w.start), "to": _iso(w.end)} if w != main else {}),
            )
        elif by == "center":
            row["sl_formula"] = center_formula
        if by == "agent":
            row.update(_agent_state(current.get(key), now))
        rows.append(row)
    return rows


def _agents_by_state(agents: list[P.AgentNow], by: Level) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for a in agents:
        if a.state == "logged_out":
            continue
        if by == "center":
            groups = ["center"]
        elif by == "team":
            groups = [a.team or "unassigned"]
        elif by == "queue":
            groups = list(a.queues or [])
        else:
            groups = []
        for g in groups:
            c = counts.setdefault(g, Counter())
            c[a.state] += 1
            c["logged_in"] += 1
            if a.state == "away":
                c[f"away:{a.reason or 'unspecified'}"] += 1
    return {g: dict(sorted(c.items())) for g, c in counts.items()}


def _agent_state(a: P.AgentNow | None, now: datetime) -> dict[str, Any]:
    if a is None:
        return {
            "state": None,
            "state_since": None,
            "reason": None,
            "time_in_state_s": None,
            "team": None,
            "name": None,
            "queues": None,
        }
    return {
        "state": a.state,
        "state_since": _iso(a.since),
        "reason": a.reason,
        "time_in_state_s": round((now - a.since).total_seconds(), 1),
        "team": a.team,
        "name": a.name,
        "queues": a.queues,
    }


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")
