"""What a tick means for the alerts: a pure function from the rules, the values read on this
tick, the open alerts as stored and the time, to transitions. No database, no clock.

Storms are prevented three ways, all here:
- `for_s`: a breach must hold that long before it is raised (a pending alert is not shown);
- `step`: once raised, it is notified again only when the value reaches threshold + k x step
  for a k higher than any notified so far (a value that falls back and rises again to a step
  already notified is not notified twice);
- `min_interval_s`: at most one notification per rule and scope per interval; a step reached
  inside the interval is notified when the interval is over, if the alert is still open. A
  rise in severity (`escalate`) is notified at once.
Quiet hours hold notifications back the same way: an alert still open when they end is
notified then. Clearing is notified only for alerts whose raising was notified."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from app.alerts.config import SEVERITY_RANK, AlertRule, QuietHours

Kind = Literal["pending", "raised", "held", "escalated", "cleared", "dropped"]
Event = Literal["raised", "escalated", "cleared"]
EPS = 1e-9


@dataclass(frozen=True)
class Reading:
    """One rule's value for one scope on this tick (None: no data, never a breach)."""

    rule: AlertRule
    scope: str
    value: float | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Open:
    """An alert as stored, not yet cleared (raised_at None: pending its `for_s`)."""

    id: int
    rule: str
    scope: str
    breach_since: datetime
    raised_at: datetime | None
    level: int
    severity: str
    value: float | None
    code: str
    params: dict[str, Any]
    notified_level: int
    notified_severity: str | None


@dataclass(frozen=True)
class Transition:
    kind: Kind
    rule: str
    scope: str
    alert_id: int | None  # None for a new alert
    value: float | None
    level: int
    severity: str
    code: str
    params: dict[str, Any]
    notify: Event | None = None  # what to tell the rule's targets, if anything

    @property
    def step(self) -> str:
        """What a notification says about (its uniqueness key): the level and severity."""
        return "cleared" if self.notify == "cleared" else f"{self.level}/{self.severity}"


def breached(rule: AlertRule, value: float | None) -> bool:
    if value is None or math.isnan(value):
        return False
    return value > rule.threshold if rule.condition == "above" else value < rule.threshold


def level_of(rule: AlertRule, value: float) -> int:
    """k of threshold + k x step reached (0 without a step)."""
    if rule.step is None:
        return 0
    beyond = value - rule.threshold if rule.condition == "above" else rule.threshold - value
    return max(0, math.floor(beyond / rule.step + EPS))


def severity_of(rule: AlertRule, value: float) -> str:
    best = rule.severity
    for severity, at in rule.escalate.items():
        crossed = value >= at if rule.condition == "above" else value <= at
        if crossed and SEVERITY_RANK[severity] > SEVERITY_RANK[best]:
            best = severity
    return best


def evaluate(
    rules: list[AlertRule],
    readings: list[Reading],
    now: datetime,
    states: Mapping[tuple[str, str], Open],
    *,
    last_notified: Mapping[tuple[str, str], datetime] | None = None,
    quiet: QuietHours | None = None,
    timezone: str = "UTC",
) -> list[Transition]:
    """Transitions for this tick. `readings` may leave scopes out: an open alert without a
    reading is read as "no data" and clears (its agent logged out, its rule was removed)."""
    last_notified = last_notified or {}
    by_name = {r.name: r for r in rules}
    read = {(r.rule.name, r.scope): r for r in readings}
    out: list[Transition] = []
    for key in sorted(read.keys() | states.keys()):
        state = states.get(key)
        reading = read.get(key)
        rule = by_name.get(key[0])
        if rule is None or reading is None:
            if state is not None:
                out.append(_end(state))
            continue
        hours = rule.quiet_hours or quiet
        silent = hours is not None and hours.quiet(now, timezone)
        t = _one(rule, reading, state, now, last_notified.get(key), silent)
        if t is not None:
            out.append(t)
    return out


def _end(state: Open) -> Transition:
    """The rule is gone or no reading: clear (or drop a pending alert)."""
    if state.raised_at is None:
        return _t("dropped", state, None, state.level, state.severity, state.code, state.params)
    notify: Event | None = "cleared" if state.notified_level >= 0 else None
    return _t("cleared", state, None, state.level, state.severity, state.code, state.params, notify)


def _one(
    rule: AlertRule,
    reading: Reading,
    state: Open | None,
    now: datetime,
    last: datetime | None,
    silent: bool,
) -> Transition | None:
    value = reading.value
    if not breached(rule, value):
        if state is None:
            return None
        if state.raised_at is None:
            return _t("dropped", state, value, 0, rule.severity, reading.code, reading.params)
        notify: Event | None = "cleared" if state.notified_level >= 0 and not silent else None
        return _t(
            "cleared",
            state,
            value,
            state.level,
            state.severity,
            reading.code,
            reading.params,
            notify,
        )
    assert value is not None
    level, severity = level_of(rule, value), severity_of(rule, value)
    new = Transition(
        "raised",
        rule.name,
        reading.scope,
        None,
        value,
        level,
        severity,
        reading.code,
        reading.params,
    )
    if state is None:
        if rule.for_s > 0:
            return _replace(new, kind="pending")
        kind: Kind = "raised"
    elif state.raised_at is None:
        held = (now - state.breach_since).total_seconds() >= rule.for_s - EPS
        if not held:
            return None  # still pending; nothing to show or write
        kind = "raised"
    elif level > state.level or SEVERITY_RANK[severity] > SEVERITY_RANK[state.severity]:
        kind = "escalated"
    else:
        kind = "held"
    t = _replace(new, kind=kind, alert_id=state.id if state else None)
    if silent:
        return t  # told when the quiet hours end, if still open
    notified_level = state.notified_level if state and state.raised_at else -1
    notified_rank = (
        SEVERITY_RANK[state.notified_severity]
        if state and state.raised_at and state.notified_severity
        else -1
    )
    rank = SEVERITY_RANK[severity]
    if level <= notified_level and rank <= notified_rank:
        return t  # this step (and severity) was told already
    severity_rise = notified_rank >= 0 and rank > notified_rank
    waiting = last is not None and now - last < timedelta(seconds=rule.min_interval_s)
    if waiting and not severity_rise:
        return t  # told recently; told later if still open
    return _replace(t, notify="raised" if notified_level < 0 else "escalated")


def _t(
    kind: Kind,
    state: Open,
    value: float | None,
    level: int,
    severity: str,
    code: str,
    params: dict[str, Any],
    notify: Event | None = None,
) -> Transition:
    return Transition(
        kind, state.rule, state.scope, state.id, value, level, severity, code, params, notify
    )


def _replace(t: Transition, **changes: Any) -> Transition:
    return replace(t, **changes)
