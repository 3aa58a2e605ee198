"""Alerts in PostgreSQL: evaluate a tick, list, acknowledge. Plain functions on a psycopg
connection; they run in the caller's transaction and never commit.

One evaluator at a time: `evaluate_tick` takes a transaction-level advisory lock without
waiting; a worker that finds it taken skips the tick (the holder is evaluating the same
data). Under the lock every write is also conditional (`ON CONFLICT` on the open-alert index,
`WHERE cleared_at IS NULL`, the outbox's unique step), so even two evaluators that did not
share the lock would raise and notify once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from app.alerts.config import FORECAST_METRICS, AlertRule
from app.alerts.evaluate import Open, Transition, evaluate
from app.alerts.readings import Planned, Rows, needs, readings
from app.auth.service import Principal, team_of
from app.config import CallboardConfig
from app.metrics.registry import Level
from ingest.writer import NOTIFY_CHANNEL

ALERTS_LOCK_KEY = 0x63626131  # pg_try_advisory_xact_lock: one evaluator per tick
LEVEL_ORDER: tuple[Level, ...] = ("center", "queue", "team", "agent")

ITEM_COLUMNS = (
    'id, rule, severity, scope, metric, "window", value, threshold, condition, raised_at,'
    " escalated_at, acknowledged_by, acknowledged_at, code, params, cleared_at"
)


def evaluate_tick(
    pg: psycopg.Connection[Any],
    config: CallboardConfig,
    rows: Mapping[Level, Mapping[str, Mapping[str, Any]]] | Rows | None,
    now: datetime,
    *,
    window: str = "today",
) -> list[Transition]:
    """Evaluate every rule on this tick and store what changed. `rows` are the tick's metric
    rows by level and key for `window` (what the live hub computed); levels or windows the
    rules need and `rows` lack are computed here. Returns the transitions stored ([] when
    another worker holds the tick)."""
    got = pg.execute("SELECT pg_try_advisory_xact_lock(%s)", (ALERTS_LOCK_KEY,)).fetchone()
    if not got or not got[0]:
        return []
    states = _open(pg)
    if not config.alerts and not states:
        return []
    by_window = _rows(pg, config, rows, now, window)
    planned = _planned(pg, now) if any(r.metric == "break_ends_in_s" for r in config.alerts) else {}
    forecast = None
    if any(r.metric in FORECAST_METRICS for r in config.alerts):
        from app.forecast.alerts import forecast_readings

        forecast = forecast_readings(pg, config, list(config.alerts), now)
    found = readings(list(config.alerts), by_window, now, planned, forecast)
    intervals = [r.min_interval_s for r in config.alerts]
    last = _last_notified(pg, now - timedelta(seconds=max(intervals, default=0)))
    transitions = evaluate(
        list(config.alerts),
        found,
        now,
        states,
        last_notified=last,
        quiet=config.alerting.quiet_hours,
        timezone=config.defaults.timezone,
    )
    return _apply(pg, config, transitions, states, now)


def _rows(
    pg: psycopg.Connection[Any],
    config: CallboardConfig,
    rows: Any,
    now: datetime,
    window: str,
) -> dict[str, dict[Level, Mapping[str, Mapping[str, Any]]]]:
    from app.metrics.service import compute_many

    have: dict[str, dict[Level, Mapping[str, Mapping[str, Any]]]] = {}
    if rows:
        first = next(iter(rows))
        if first in LEVEL_ORDER:
            have[window] = dict(rows)
        else:
            have = {w: dict(levels) for w, levels in rows.items()}
    missing: dict[str, set[Level]] = {}
    for w, level in needs(list(config.alerts)):
        if level not in have.get(w, {}):
            missing.setdefault(w, set()).add(level)
    for w, levels in missing.items():
        ordered = tuple(lv for lv in LEVEL_ORDER if lv in levels)
        result = compute_many(pg, config, levels=ordered, now=now, window=w)
        for level in ordered:
            have.setdefault(w, {})[level] = {r["key"]: r for r in result[level]["rows"]}
    return have


def _planned(pg: psycopg.Connection[Any], now: datetime) -> dict[str, Planned]:
    rows = pg.execute(
        "SELECT agent, activity, ends_at FROM schedules"
        " WHERE starts_at <= %s AND ends_at > %s AND activity <> 'productive'",
        (now, now),
    ).fetchall()
    return {agent: Planned(activity, ends_at) for agent, activity, ends_at in rows}


def _open(pg: psycopg.Connection[Any]) -> dict[tuple[str, str], Open]:
    rows = pg.execute(
        "SELECT id, rule, scope, breach_since, raised_at, level, severity, value, code, params,"
        " notified_level, notified_severity FROM alerts WHERE cleared_at IS NULL"
    ).fetchall()
    return {(r[1], r[2]): Open(*r) for r in rows}


def _last_notified(pg: psycopg.Connection[Any], since: datetime) -> dict[tuple[str, str], datetime]:
    rows = pg.execute(
        "SELECT a.rule, a.scope, max(n.created_at) FROM alert_notifications n"
        " JOIN alerts a ON a.id = n.alert_id"
        " WHERE n.event <> 'cleared' AND n.created_at >= %s GROUP BY a.rule, a.scope",
        (since,),
    ).fetchall()
    return {(rule, scope): at for rule, scope, at in rows}


UPDATE_HELD = (
    "UPDATE alerts SET value = %s, level = %s, severity = %s, code = %s, params = %s,"
    " peak = CASE WHEN condition = 'above' THEN greatest(peak, %s) ELSE least(peak, %s) END,"
    " updated_at = %s, escalated_at = CASE WHEN %s THEN %s ELSE escalated_at END"
    " WHERE id = %s AND cleared_at IS NULL AND raised_at IS NOT NULL"
)


def _apply(
    pg: psycopg.Connection[Any],
    config: CallboardConfig,
    transitions: list[Transition],
    states: Mapping[tuple[str, str], Open],
    now: datetime,
) -> list[Transition]:
    rules = {r.name: r for r in config.alerts}
    done: list[Transition] = []
    # The common case, an open alert whose value moved (many per tick on a big floor): one
    # batch. Under the evaluator's lock these updates cannot miss their row.
    moved = [
        t
        for t in transitions
        if t.kind in ("held", "escalated") and t.notify is None and t.alert_id is not None
    ]
    moved = [t for t in moved if _changed(t, states.get((t.rule, t.scope)))]
    if moved:
        pg.cursor().executemany(
            UPDATE_HELD,
            [
                (
                    t.value,
                    t.level,
                    t.severity,
                    t.code,
                    Jsonb(t.params),
                    t.value,
                    t.value,
                    now,
                    t.kind == "escalated",
                    now,
                    t.alert_id,
                )
                for t in moved
            ],
        )
        done += moved
    for t in transitions:
        if t.kind in ("held", "escalated") and t.notify is None:
            continue
        rule = rules.get(t.rule)
        alert_id = _write(pg, t, rule, now)
        if alert_id is None:
            continue
        done.append(t)
        if t.notify is None:
            continue
        if t.notify != "cleared":
            pg.execute(
                "UPDATE alerts SET notified_level = %s, notified_severity = %s WHERE id = %s",
                (t.level, t.severity, alert_id),
            )
        targets = rule.notify if rule is not None else []
        if targets:
            alert = item(_row(pg, alert_id))
            if rule is not None and rule.names:
                alert["names"] = dict(rule.names)  # the rule's name per language (texts.py)
            body = {"event": t.notify, "at": iso(now), "alert": alert}
            pg.cursor().executemany(
                "INSERT INTO alert_notifications"
                " (alert_id, event, step, target, body, created_at, next_attempt_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (alert_id, target, step) DO NOTHING",
                [(alert_id, t.notify, t.step, target, Jsonb(body), now, now) for target in targets],
            )
    return done


def _changed(t: Transition, state: Open | None) -> bool:
    return state is None or (
        state.value,
        state.level,
        state.severity,
        state.code,
        state.params,
    ) != (t.value, t.level, t.severity, t.code, t.params)


def _write(
    pg: psycopg.Connection[Any],
    t: Transition,
    rule: AlertRule | None,
    now: datetime,
) -> int | None:
    """Store one transition; the alert's id, or None when nothing was written (another
    evaluator got there first, or nothing changed)."""
    params = Jsonb(t.params)
    if t.alert_id is None:  # a new breach: pending, or raised at once
        assert rule is not None
        row = pg.execute(
            'INSERT INTO alerts (rule, scope, metric, "window", condition, threshold,'
            " severity, value, peak, level, code, params, breach_since, raised_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (rule, scope) WHERE cleared_at IS NULL DO NOTHING RETURNING id",
            (
                t.rule,
                t.scope,
                rule.metric,
                rule.window,
                rule.condition,
                rule.threshold,
                t.severity,
                t.value,
                t.value,
                t.level,
                t.code,
                params,
                now,
                now if t.kind == "raised" else None,
            ),
        ).fetchone()
        return row[0] if row else None
    if t.kind == "dropped":
        pg.execute("DELETE FROM alerts WHERE id = %s AND raised_at IS NULL", (t.alert_id,))
        return None
    if t.kind == "cleared":
        row = pg.execute(
            "UPDATE alerts SET cleared_at = %s, value = %s, params = %s, updated_at = %s"
            " WHERE id = %s AND cleared_at IS NULL RETURNING id",
            (now, t.value, params, now, t.alert_id),
        ).fetchone()
        return row[0] if row else None
    row = pg.execute(
        "UPDATE alerts SET value = %s, level = %s, severity = %s, code = %s, params = %s,"
        " peak = CASE WHEN condition = 'above' THEN greatest(peak, %s) ELSE least(peak, %s) END,"
        " updated_at = %s,"
        " raised_at = CASE WHEN %s THEN coalesce(raised_at, %s) ELSE raised_at END,"
        " escalated_at = CASE WHEN %s THEN %s ELSE escalated_at END"
        " WHERE id = %s AND cleared_at IS NULL AND (raised_at IS NULL OR NOT %s)"
        " RETURNING id",
        (
            t.value,
            t.level,
            t.severity,
            t.code,
            params,
            t.value,
            t.value,
            now,
            t.kind == "raised",
            now,
            t.kind == "escalated",
            now,
            t.alert_id,
            t.kind == "raised",
        ),
    ).fetchone()
    return row[0] if row else None


# --- reading -----------------------------------------------------------------------------


def _row(pg: psycopg.Connection[Any], alert_id: int) -> tuple[Any, ...]:
    row = pg.execute(
        f"SELECT {ITEM_COLUMNS} FROM alerts WHERE id = %s",  # noqa: S608 (constant columns)
        (alert_id,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def item(row: tuple[Any, ...]) -> dict[str, Any]:
    (
        id_,
        rule,
        severity,
        scope,
        metric,
        window,
        value,
        threshold,
        condition,
        raised_at,
        escalated_at,
        ack_by,
        ack_at,
        code,
        params,
        cleared_at,
    ) = row
    return {
        "id": id_,
        "name": rule,
        "severity": severity,
        "scope": scope,
        "metric": metric,
        "window": window,
        "value": value,
        "threshold": threshold,
        "condition": condition,
        "raised_at": iso(raised_at),
        "escalated_at": iso(escalated_at),
        "acknowledged_by": ack_by,
        "acknowledged_at": iso(ack_at),
        "code": code,
        "params": params,
        "cleared_at": iso(cleared_at),
    }


def may_see(principal: Principal, scope: str, teams: Mapping[str, str | None]) -> bool:
    """Alerts follow the metrics' rule: aggregates for every reader of them, an agent's
    alerts only for whoever may see that agent's details."""
    kind, _, name = scope.partition(":")
    if kind in ("center", "queue"):
        return principal.sees_topic(scope if kind == "queue" else "center", {})
    if kind == "team":
        return principal.sees_team(name)
    if kind == "agent":
        return principal.sees_agent(name, teams.get(name))
    return principal.role == "admin"


def listing(
    pg: psycopg.Connection[Any],
    *,
    principal: Principal | None = None,
    scope: str | None = None,
    kinds: frozenset[str] | None = None,
    cleared: bool = False,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Raised alerts, open ones first by severity; with `cleared`, the newest cleared too.
    `scope` narrows to one scope (team:T includes its agents)."""
    where = "raised_at IS NOT NULL" + ("" if cleared else " AND cleared_at IS NULL")
    rows = pg.execute(
        f"SELECT {ITEM_COLUMNS} FROM alerts WHERE {where}"  # noqa: S608 (constant columns)
        " ORDER BY cleared_at IS NOT NULL, cleared_at DESC,"
        " CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, raised_at"
        " LIMIT %s",
        (limit,),
    ).fetchall()
    items = [item(tuple(r)) for r in rows]
    teams = teams_for(pg, items) if principal or scope else {}
    if principal is not None:
        items = [i for i in items if may_see(principal, i["scope"], teams)]
    if kinds is not None:
        items = [i for i in items if i["scope"].partition(":")[0] in kinds]
    if scope is not None:
        kind, _, name = scope.partition(":")
        items = [
            i
            for i in items
            if i["scope"] == scope
            or (
                kind == "team"
                and i["scope"].startswith("agent:")
                and teams.get(i["scope"][6:]) == name
            )
        ]
    return items


def teams_for(pg: psycopg.Connection[Any], items: list[dict[str, Any]]) -> dict[str, str | None]:
    """The teams of the agents these alerts are about."""
    agents = sorted({i["scope"][6:] for i in items if i["scope"].startswith("agent:")})
    return team_of(pg, agents) if agents else {}


def listing_one(pg: psycopg.Connection[Any], alert_id: int) -> dict[str, Any] | None:
    row = pg.execute(
        f"SELECT {ITEM_COLUMNS} FROM alerts WHERE id = %s AND raised_at IS NOT NULL",  # noqa: S608
        (alert_id,),
    ).fetchone()
    return None if row is None else item(tuple(row))


def alerts_payload(
    pg: psycopg.Connection[Any],
    config: CallboardConfig,
    now: datetime,
    principal: Principal | None = None,
    *,
    scope: str | None = None,
    kinds: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The `alerts` websocket topic: {"active": [...], "meta": {"computed_at"}}. `principal`
    leaves out what the token may not see; `scope` narrows to one scope (team:T with its
    agents); `kinds` to scope kinds (center, queue, team, agent)."""
    active = listing(pg, principal=principal, scope=scope, kinds=kinds)
    for i in active:
        i.pop("cleared_at", None)
    return {"active": active, "meta": {"computed_at": iso(now)}}


class AckError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def acknowledge(
    pg: psycopg.Connection[Any],
    alert_id: int,
    *,
    by: str,
    now: datetime,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """Record who acknowledged the alert, and when. A second acknowledgement keeps the first
    (who saw it first is what the floor wants to know)."""
    row = pg.execute(
        f"SELECT {ITEM_COLUMNS} FROM alerts WHERE id = %s AND raised_at IS NOT NULL"  # noqa: S608
        " FOR UPDATE",
        (alert_id,),
    ).fetchone()
    if row is None:
        raise AckError(404, f"no alert {alert_id}")
    current = item(tuple(row))
    if principal is not None:
        teams = team_of(pg, [current["scope"][6:]]) if current["scope"].startswith("agent:") else {}
        if not may_see(principal, current["scope"], teams):
            raise AckError(403, f"the token may not see alert {alert_id}")
    if current["cleared_at"] is not None:
        raise AckError(409, f"alert {alert_id} was cleared at {current['cleared_at']}")
    if current["acknowledged_at"] is None:
        pg.execute(
            "UPDATE alerts SET acknowledged_by = %s, acknowledged_at = %s, updated_at = %s"
            " WHERE id = %s",
            (by, now, now, alert_id),
        )
        # the live hub recomputes on this (at commit): every screen says who, on the next tick
        pg.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, '{"alert_ack": true}'))
        current = item(_row(pg, alert_id))
    return current


def deliveries(pg: psycopg.Connection[Any], alert_id: int) -> list[dict[str, Any]]:
    rows = pg.execute(
        "SELECT n.id, n.event, n.step, n.target, n.status, n.attempts, n.created_at,"
        " n.sent_at, n.last_error,"
        " coalesce(json_agg(json_build_object('attempt', d.attempt, 'at', d.started_at,"
        " 'ok', d.ok, 'detail', d.detail, 'duration_ms', d.duration_ms) ORDER BY d.attempt)"
        " FILTER (WHERE d.id IS NOT NULL), '[]')"
        " FROM alert_notifications n LEFT JOIN alert_deliveries d ON d.notification_id = n.id"
        " WHERE n.alert_id = %s GROUP BY n.id ORDER BY n.id",
        (alert_id,),
    ).fetchall()
    keys = (
        "id",
        "event",
        "step",
        "target",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "last_error",
        "attempts_log",
    )
    out = []
    for r in rows:
        d = dict(zip(keys, r, strict=True))
        d["created_at"], d["sent_at"] = iso(d["created_at"]), iso(d["sent_at"])
        out.append(d)
    return out


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat().replace("+00:00", "Z")
