"""The pure evaluation: holds, steps, intervals, severities, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.alerts.config import AlertRule, QuietHours
from app.alerts.evaluate import Open, Reading, Transition, evaluate, level_of

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def rule(**kw: Any) -> AlertRule:
    base: dict[str, Any] = {"name": "backlog", "scope": "queue:billing", "metric": "waiting_now"}
    return AlertRule.model_validate(base | kw)


class Floor:
    """Runs ticks the way the store does: applies each transition to the open alerts."""

    def __init__(self, r: AlertRule, quiet: QuietHours | None = None) -> None:
        self.rule, self.quiet = r, quiet
        self.states: dict[tuple[str, str], Open] = {}
        self.last: dict[tuple[str, str], datetime] = {}
        self.told: list[tuple[str, str]] = []  # (event, step)
        self.ids = 0

    def tick(self, value: float | None, at: datetime) -> list[Transition]:
        reading = Reading(self.rule, self.rule.scope, value, self.rule.condition, {"value": value})
        out = evaluate(
            [self.rule], [reading], at, self.states, last_notified=self.last, quiet=self.quiet
        )
        for t in out:
            key = (t.rule, t.scope)
            old = self.states.get(key)
            if t.kind in ("cleared", "dropped"):
                del self.states[key]
            else:
                if old is None:
                    self.ids += 1
                raised = at if t.kind == "raised" else (old.raised_at if old else None)
                self.states[key] = Open(
                    old.id if old else self.ids,
                    t.rule,
                    t.scope,
                    old.breach_since if old else at,
                    raised,
                    t.level,
                    t.severity,
                    t.value,
                    t.code,
                    t.params,
                    t.level
                    if t.notify in ("raised", "escalated")
                    else (old.notified_level if old else -1),
                    t.severity
                    if t.notify in ("raised", "escalated")
                    else (old.notified_severity if old else None),
                )
            if t.notify:
                self.told.append((t.notify, t.step))
                if t.notify != "cleared":
                    self.last[key] = at
        return out


def kinds(out: list[Transition]) -> list[str]:
    return [t.kind for t in out]


def test_raised_held_then_cleared() -> None:
    f = Floor(rule(above=2))
    assert kinds(f.tick(3, T0)) == ["raised"]
    assert kinds(f.tick(3, T0 + timedelta(seconds=1))) == ["held"]
    assert kinds(f.tick(2, T0 + timedelta(seconds=2))) == ["cleared"]  # 2 is not above 2
    assert f.told == [("raised", "0/warning"), ("cleared", "cleared")]
    assert f.tick(1, T0 + timedelta(seconds=3)) == []


def test_one_notification_per_step_and_never_twice_for_the_same_step() -> None:
    f = Floor(rule(above=2, step=2))
    for i, v in enumerate([3, 3, 4, 5, 3, 4, 6, 7, 6, 9, 10]):
        f.tick(v, T0 + timedelta(seconds=i))
    # 3 raises (level 0), 4 is 2 + 1 x 2, 6 is 2 + 2 x 2, 10 is 2 + 4 x 2 (9 is level 3,
    # reached in the same climb: each tick tells the step it is at, once)
    assert f.told == [
        ("raised", "0/warning"),
        ("escalated", "1/warning"),
        ("escalated", "2/warning"),
        ("escalated", "3/warning"),
        ("escalated", "4/warning"),
    ]


def test_level_of_counts_whole_steps_either_way() -> None:
    assert level_of(rule(above=2, step=2), 3.9) == 0
    assert level_of(rule(above=2, step=2), 4) == 1
    assert level_of(rule(below=0.8, step=0.1, metric="service_level"), 0.6) == 2
    assert level_of(rule(above=2), 100) == 0


def test_for_s_holds_before_raising_and_a_short_blip_is_never_shown() -> None:
    f = Floor(rule(above=2, for_s=30))
    assert kinds(f.tick(5, T0)) == ["pending"]
    assert f.tick(5, T0 + timedelta(seconds=10)) == []
    assert kinds(f.tick(1, T0 + timedelta(seconds=20))) == ["dropped"]
    assert f.told == []
    f.tick(5, T0 + timedelta(seconds=40))
    assert f.tick(5, T0 + timedelta(seconds=69)) == []
    assert kinds(f.tick(5, T0 + timedelta(seconds=70))) == ["raised"]
    assert f.told == [("raised", "0/warning")]


def test_min_interval_defers_then_tells_once() -> None:
    f = Floor(rule(above=2, min_interval_s=300))
    f.tick(3, T0)
    f.tick(1, T0 + timedelta(seconds=10))  # cleared (told: it was told raised)
    f.tick(3, T0 + timedelta(seconds=20))  # raised again inside the interval: not told yet
    assert f.told == [("raised", "0/warning"), ("cleared", "cleared")]
    f.tick(3, T0 + timedelta(seconds=299))
    assert len(f.told) == 2
    f.tick(3, T0 + timedelta(seconds=300))
    f.tick(3, T0 + timedelta(seconds=301))
    assert f.told[2:] == [("raised", "0/warning")]


def test_severity_escalation_is_told_at_once_even_inside_the_interval() -> None:
    f = Floor(rule(above=2, min_interval_s=600, escalate={"critical": 8}))
    f.tick(3, T0)
    out = f.tick(9, T0 + timedelta(seconds=5))
    assert kinds(out) == ["escalated"] and out[0].severity == "critical"
    assert f.told == [("raised", "0/warning"), ("escalated", "0/critical")]
    f.tick(3, T0 + timedelta(seconds=6))  # back to warning, still open: nothing to tell
    f.tick(9, T0 + timedelta(seconds=7))  # critical again: already told
    assert len(f.told) == 2


def test_quiet_hours_hold_notifications_and_tell_when_they_end() -> None:
    quiet = QuietHours(start="08:00", end="09:00")
    f = Floor(rule(above=2), quiet)
    night = T0 - timedelta(minutes=30)  # 08:30 UTC
    assert kinds(f.tick(3, night)) == ["raised"]  # shown on the screens at once
    assert f.told == []
    f.tick(3, T0)  # 09:00: quiet hours are over
    assert f.told == [("raised", "0/warning")]


def test_quiet_hours_span_midnight_and_days() -> None:
    q = QuietHours(start="22:00", end="06:00", timezone="Europe/Berlin")
    assert q.quiet(datetime(2026, 12, 1, 22, 30, tzinfo=UTC), "UTC")  # 23:30 Berlin
    assert q.quiet(datetime(2026, 12, 1, 4, 30, tzinfo=UTC), "UTC")
    assert not q.quiet(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "UTC")
    weekend = QuietHours(days=["sat", "sun"])
    assert weekend.quiet(datetime(2026, 12, 5, 12, tzinfo=UTC), "UTC")  # a Saturday
    assert not weekend.quiet(datetime(2026, 12, 4, 12, tzinfo=UTC), "UTC")


def test_below_and_no_data() -> None:
    f = Floor(rule(metric="service_level", below=0.8))
    assert f.tick(None, T0) == []  # no calls yet is not a breach
    assert kinds(f.tick(0.7, T0 + timedelta(seconds=1))) == ["raised"]
    assert kinds(f.tick(None, T0 + timedelta(seconds=2))) == ["cleared"]


def test_an_alert_whose_rule_is_gone_clears() -> None:
    r = rule(above=2)
    f = Floor(r)
    f.tick(5, T0)
    out = evaluate([], [], T0 + timedelta(seconds=1), f.states)
    assert kinds(out) == ["cleared"] and out[0].notify == "cleared"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"above": 1, "below": 2}, "exactly one of above or below"),
        ({"above": 1, "escalate": {"info": 5}}, "higher severity"),
        ({"above": 5, "escalate": {"critical": 3}}, "beyond the threshold"),
        ({"above": 1, "window": "2h"}, "window must be one of"),
        ({"above": 1, "metric": "wrap_up_s"}, "is an agent's"),
        ({"above": 1, "metric": "agents_by_state"}, "not a number"),
        ({"above": 1, "each_agent": True}, "each_agent needs scope"),
    ],
)
def test_bad_rules_say_what_is_wrong(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule(**bad)
