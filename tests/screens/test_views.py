"""The view model by hand: levels from configured thresholds, a queue's own target, the
staffing headline, the projection, and what the live topics carry."""

from __future__ import annotations

from typing import Any

from app.config import CallboardConfig
from app.live.topics import payloads
from app.screens.config import Threshold
from app.screens.levels import tone
from app.screens.live import split
from app.screens.views import center_view, queue_view

CONFIG = CallboardConfig.model_validate(
    {
        "queues": {"billing": {"targets": {"service_level": 0.9}, "sl_threshold_s": 30}},
        "screens": {"thresholds": {"abandon_rate": {"good": 0.02, "bad": 0.04}}},
    }
)


def _queue(key: str, **row: Any) -> dict[str, Any]:
    base = {
        "key": key,
        "waiting_now": 0,
        "service_level": 0.85,
        "asa_s": 12.0,
        "abandon_rate": 0.03,
        "answered": 40,
        "arrived": 42,
        "oldest_waiting_at": None,
        "agents_by_state": {
            "logged_in": 4,
            "available": 1,
            "on_call": 2,
            "away": 1,
            "away:lunch": 1,
        },
    }
    return {**base, **row}


def test_levels_follow_the_direction_of_the_threshold() -> None:
    higher = Threshold(good=0.8, bad=0.7)
    assert [tone(v, higher) for v in (0.85, 0.75, 0.7, None)] == ["good", "warn", "bad", "none"]
    lower = Threshold(good=20, bad=60)
    assert [tone(v, lower) for v in (10, 30, 60)] == ["good", "warn", "bad"]


def test_a_queue_is_judged_by_its_own_target_and_the_configured_thresholds() -> None:
    billing = queue_view(CONFIG, _queue("billing"))
    sales = queue_view(CONFIG, _queue("sales"))
    # 85 %: below billing's own 90 % target (warn), above the default 80 % for sales
    assert billing.service_level.level == "warn" and sales.service_level.level == "good"
    assert billing.sl_target == 0.9 and billing.sl_threshold_s == 30
    assert billing.abandon_rate.level == "warn"  # 3 % between the configured 2 % and 4 %
    assert billing.agents.away_by_reason == {"lunch": 1}
    waiting = queue_view(CONFIG, _queue("billing", oldest_waiting_at="2026-12-01T10:00:00Z"))
    steps = [(s.after_s, s.level) for s in waiting.longest.steps]
    assert steps == [(30, "warn"), (90, "bad")]  # from the queue's own SL threshold


def test_the_staffing_headline_counts_each_agent_once_and_no_green_promise_while_red() -> None:
    queues = {
        "billing": queue_view(CONFIG, _queue("billing", service_level=0.5)),
        "sales": queue_view(CONFIG, _queue("sales")),
    }
    center = {"key": "center", "service_level": 0.7, "agents_by_state": {"logged_in": 5}}
    balances = {
        "service_cost": {"agents_required": 7},
        "now_future": {"service_level_next": 1.0},
    }
    view = center_view(CONFIG, center, None, balances, queues)
    assert view is not None
    assert view.staffed.value == 5 and view.staffed.level == "bad"  # 5 distinct, 7 needed
    assert view.projection.value is None  # not "SL 70 % -> next 100 %" while a queue is red
    assert view.projection_note == "common.projection_queues_red"
    calm = {k: queue_view(CONFIG, _queue(k)) for k in ("billing", "sales")}
    calm_view = center_view(CONFIG, center, None, balances, calm)
    assert calm_view is not None and calm_view.projection.level == "good"


def test_the_live_topics_carry_the_views_with_the_data_age() -> None:
    rows: Any = {
        "today": {
            "center": {"center": {"key": "center", "service_level": 0.9}},
            "queue": {"billing": _queue("billing")},
            "team": {},
        },
        "30m": {
            "center": {"center": {"key": "center", "service_level": 0.5}},
            "queue": {"billing": _queue("billing", service_level=0.5)},
            "team": {},
        },
    }
    today, recent, name = split(rows)
    assert name == "30m" and recent is not None and today is rows["today"]
    meta = {"now": "2026-12-01T10:00:00Z", "computed_at": "2026-12-01T10:00:00.2Z"}
    out = payloads({"center"}, rows["today"], meta, config=CONFIG)
    view = out["center"]["view"]
    assert view["meta"]["computed_at"] == "2026-12-01T10:00:00Z"
    assert view["meta"]["stale_after_s"] == CONFIG.screens.stale_after_s
    assert view["queues"]["billing"]["service_level"] == {
        "value": 0.85,
        "unit": "percent",
        "level": "warn",
    }
    out = payloads({"center"}, rows, meta, config=CONFIG)  # several windows
    billing = out["center"]["view"]["queues"]["billing"]
    assert billing["recent_window"] == "30m"
    assert billing["service_level_recent"]["level"] == "bad"


def test_beside_the_agent_s_count_stands_the_team_s_per_working_agent() -> None:
    from app.screens.views import agent_self

    me = {"key": "a1", "team": "north", "handled": 14, "aht_s": 300.0}
    team = {"key": "north", "handled": 85, "aht_s": 280.0}
    view = agent_self(CONFIG, me, team, None, team_working=5)
    lines = {k.key: k for k in view.kpis}
    assert lines["agent.kpi.handled"].mine.value == 14
    assert lines["agent.kpi.handled"].team.value == 17  # 85 over 5 agents, not 85
    assert lines["agent.kpi.aht"].team.value == 280.0  # a rate stays the team's own
    alone = agent_self(CONFIG, me, team, None, team_working=0)
    assert {k.key: k for k in alone.kpis}["agent.kpi.handled"].team.value is None


def test_display_names_per_language_fall_back_to_english_then_the_key() -> None:
    from app.screens.views import display_names

    config = CallboardConfig.model_validate(
        {
            "queues": {
                "billing": {"names": {"zh-CN": "账单", "en": "Billing"}},
                "sales": {},
            },
            "teams": {"north": {"names": {"ru": "Север"}}},
        }
    )
    zh = display_names(config, "zh-CN")
    assert zh.queue == {"billing": "账单"} and zh.team == {}
    assert display_names(config, "zh-TW").queue == {"billing": "Billing"}
    assert display_names(config, "ru").team == {"north": "Север"}
