"""The value each rule reads on a tick, with the code and parameters its text is made of
(pure). Texts are never made here: a code and its parameters go to the edge, which turns
them into words in the reader's language (`alert.<code>` in the i18n catalogues)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.alerts.config import AGENT_METRICS, FORECAST_METRICS, AlertRule
from app.alerts.evaluate import Reading
from app.metrics.registry import BY_NAME, Level

# window -> level -> key -> metric row (as app.metrics.service computes them)
Rows = Mapping[str, Mapping[Level, Mapping[str, Mapping[str, Any]]]]


@dataclass(frozen=True)
class Planned:
    """The non-productive activity (break, lunch, ...) an agent is scheduled on now."""

    activity: str
    ends_at: datetime


def scope_key(rule: AlertRule) -> tuple[Level, str]:
    kind, _, name = rule.scope.partition(":")
    return ("center", "center") if kind == "center" else (kind, name)  # type: ignore[return-value]


def needs(rules: list[AlertRule]) -> set[tuple[str, Level]]:
    """(window, level) pairs the rules read (the forecast kinds read no metric rows)."""
    return {(r.window, r.level) for r in rules if r.metric not in FORECAST_METRICS}


def readings(
    rules: list[AlertRule],
    rows: Rows,
    now: datetime,
    planned: Mapping[str, Planned] | None = None,
    forecast: Mapping[tuple[str, str], tuple[float | None, dict[str, Any]]] | None = None,
) -> list[Reading]:
    """`forecast`: (metric, scope) -> (value, parameters) of the forecast kinds
    (app/forecast/alerts.py)."""
    planned = planned or {}
    out: list[Reading] = []
    for rule in rules:
        if rule.metric in FORECAST_METRICS:
            made = FORECAST_METRICS[rule.metric]
            value, extra = (forecast or {}).get((rule.metric, rule.scope), (None, {}))
            params: dict[str, Any] = {
                "name": rule.name,
                "metric": rule.metric,
                "threshold": rule.threshold,
                "condition": rule.condition,
                "window": rule.window,
                "scope": rule.scope,
                **extra,
                "value": value,
                "unit": made.unit,
            }
            out.append(Reading(rule, rule.scope, value, made.code, params))
            continue
        by_key = rows.get(rule.window, {}).get(rule.level, {})
        if rule.each_agent:
            # Only agents with a value are read (one in wrap-up, one on a break, of 5,000):
            # an open alert of an agent without one clears all the same (evaluate reads a
            # missing reading as "no data").
            kind, _, team = rule.scope.partition(":")
            timed = AGENT_METRICS.get(rule.metric)
            state = timed.state if timed else None
            for agent, row in by_key.items():
                if kind != "center" and row.get("team") != team:
                    continue
                if state is not None and row.get("state") != state:
                    continue
                if rule.metric == "break_ends_in_s" and agent not in planned:
                    continue
                out.append(_reading(rule, f"agent:{agent}", row, now, planned.get(agent)))
            continue
        key = scope_key(rule)[1]
        out.append(_reading(rule, rule.scope, by_key.get(key) or {}, now, planned.get(key)))
    return out


def _reading(
    rule: AlertRule,
    scope: str,
    row: Mapping[str, Any],
    now: datetime,
    plan: Planned | None,
) -> Reading:
    params: dict[str, Any] = {
        "name": rule.name,
        "metric": rule.metric,
        "threshold": rule.threshold,
        "condition": rule.condition,
        "window": rule.window,
        "scope": scope,
    }
    if rule.metric not in AGENT_METRICS:
        value = _number(row.get(rule.metric))
        params.update(value=value, unit=BY_NAME[rule.metric].unit)
        return Reading(rule, scope, value, rule.condition, params)
    params["unit"] = "seconds"
    kind = AGENT_METRICS[rule.metric]
    value = None
    state = row.get("state")
    if rule.metric == "break_ends_in_s":
        if plan is not None and state == "away":
            value = max(0.0, (plan.ends_at - now).total_seconds())
            params.update(
                minutes=math.ceil(value / 60),
                ends_at=plan.ends_at.isoformat().replace("+00:00", "Z"),
                activity=plan.activity,
            )
    elif state == kind.state:
        value = _number(row.get("time_in_state_s"))
        if value is not None:
            params.update(minutes=math.floor(value / 60), since=row.get("state_since"))
    params["value"] = value
    return Reading(rule, scope, value, kind.code, params)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
