"""A simulated center over two days (and the day before, for the previous period), stored in
the test's transaction: the reports are checked against `compute` on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from app.config import CallboardConfig
from app.schedules.schemas import ScheduleEntry
from app.schedules.service import upsert
from ingest.sim.center import config as center_config
from ingest.sim.center import demo_center, local, schedule
from ingest.sim.engine import Simulation
from ingest.writer import ingest

DAYS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def center_events() -> tuple[CallboardConfig, list[dict[str, Any]], list[ScheduleEntry]]:
    center = demo_center(agents=12, queues=3, seed=5)
    body = center_config(center)
    config = CallboardConfig.model_validate(body)
    events: list[dict[str, Any]] = []
    plans: list[ScheduleEntry] = []
    for i, day in enumerate(DAYS):
        sim = Simulation(
            center, start=local(day, 7.0, center.timezone), hours=11, seed=10 + i, prefix=f"d{i}-"
        )
        events += list(sim.run())
        plans += [ScheduleEntry.model_validate(e) for e in schedule(center, day)]
    return config, events, plans


@pytest.fixture
def center(
    pg: psycopg.Connection[Any],
    center_events: tuple[CallboardConfig, list[dict[str, Any]], list[ScheduleEntry]],
) -> Iterator[tuple[psycopg.Connection[Any], CallboardConfig]]:
    config, events, plans = center_events
    # what store_config writes, without its lock (an app's start in the test takes it)
    members = config.team_of()
    pg.execute(
        "INSERT INTO agents (id, team) SELECT * FROM unnest(%s::text[], %s::text[])",
        (list(members), list(members.values())),
    )
    pg.execute("INSERT INTO queues (name) SELECT unnest(%s::text[])", (sorted(config.queues),))
    pg.execute("INSERT INTO teams (name) SELECT unnest(%s::text[])", (sorted(config.teams),))
    upsert(pg, plans)
    result = ingest(pg, events)
    assert result.rejected == 0, result.errors[:3]
    yield pg, config


@pytest.fixture(params=["rows", "rollups"])
def center_any(
    request: pytest.FixtureRequest, center: tuple[psycopg.Connection[Any], CallboardConfig]
) -> tuple[psycopg.Connection[Any], CallboardConfig]:
    """The center read from rows, or through the 15-minute rollups built for its config."""
    pg, config = center
    if request.param == "rollups":
        from app.rollups.service import is_current, rebuild

        rebuild(pg, config)
        assert is_current(pg, config)
    return center
