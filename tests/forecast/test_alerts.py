"""The forecast kinds of [[alerts]]: contacts above their forecast for N intervals, and agents
short in the next hour, through the alerts' own tick."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from app.alerts.service import alerts_payload, evaluate_tick
from app.alerts.texts import alert_text
from app.config import CallboardConfig, store_config
from app.forecast.history import INTERVAL
from app.forecast.service import ForecastRow, store
from ingest.writer import ingest
from tests.forecast.conftest import day_calls

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def config(*rules: dict[str, Any]) -> CallboardConfig:
    return CallboardConfig.model_validate({"queues": {"sales": {}}, "alerts": list(rules)})


RULES = (
    {
        "name": "busy",
        "scope": "queue:sales",
        "metric": "above_forecast",
        "above": 0.2,
        "for_s": 900,
    },  # two intervals in a row
    {"name": "short", "scope": "center", "metric": "short_next_hour", "above": 1},
)


def floor(pg: psycopg.Connection[Any]) -> None:
    """A stored forecast of 10 calls a quarter hour at 130 s from 08:00 to 12:00, 14 calls in
    each of 08:00-08:45, and one agent planned."""
    store(
        pg,
        [ForecastRow("sales", at(8) + i * INTERVAL, 10.0, 130.0, "import") for i in range(16)],
        now=at(7),
    )
    ingest(pg, day_calls("sales", DAY.date(), [14, 14, 14], "busy"))
    pg.execute(
        "INSERT INTO schedules (agent, starts_at, ends_at, activity)"
        " VALUES ('a1', %s, %s, 'productive')",
        (at(8), at(12)),
    )


def test_above_forecast_for_two_intervals_and_short_next_hour_raise(
    pg: psycopg.Connection[Any],
) -> None:
    cfg = config(*RULES)
    store_config(pg, cfg, origin="test")
    floor(pg)
    # 08:00 closed 40 % above: pending (for 15 min); 2 agents short at once
    first = sorted((t.kind, round(t.value, 3)) for t in evaluate_tick(pg, cfg, None, at(8, 16)))
    assert first == [("pending", 0.4), ("raised", 2.0)]
    # 08:15 closed 40 % above too: two intervals in a row
    second = sorted((t.kind, round(t.value, 3)) for t in evaluate_tick(pg, cfg, None, at(8, 31)))
    assert second == [("held", 3.0), ("raised", 0.4)]  # the shortage grew: 3 short now
    payload = alerts_payload(pg, cfg, at(8, 31))
    by_code = {a["code"]: a for a in payload["active"]}
    assert set(by_code) == {"above_forecast", "short_next_hour"}
    busy = by_code["above_forecast"]
    assert busy["params"]["actual"] == 14 and busy["params"]["forecast"] == 10.0
    assert alert_text("en", busy) == (
        "busy: 40% above forecast in the last quarter hour (14 offered, 10.0 forecast)"
    )
    short = by_code["short_next_hour"]
    assert short["value"] >= 2 and short["params"]["agents"] == short["value"]
    assert alert_text("ru", short).startswith("short: в ближайший час не хватает операторов: ")
    # 08:45 brought no calls: the last closed interval is far below, the alert clears
    cleared = evaluate_tick(pg, cfg, None, at(9, 1))
    assert "cleared" in [t.kind for t in cleared]


def test_without_a_stored_forecast_the_reading_is_no_data(pg: psycopg.Connection[Any]) -> None:
    cfg = config(*RULES)
    ingest(pg, day_calls("sales", DAY.date(), [14], "busy"))
    assert evaluate_tick(pg, cfg, None, at(9)) == []


def test_the_forecast_kinds_are_for_a_queue_or_the_center() -> None:
    with pytest.raises(ValidationError, match="queue's or the center's"):
        config({"name": "x", "scope": "team:north", "metric": "short_next_hour", "above": 1})
