"""Trends in one statement (app/metrics/trends.py) against the per-bucket computation they
replace: `compute(..., start=t, end=t + step, only=key)` for every bucket, every metric."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.clock import Clock
from app.config import CallboardConfig
from app.metrics.registry import Level
from app.metrics.service import compute
from app.metrics.trends import buckets, trends
from app.metrics.windows import local_midnight
from ingest.writer import ingest
from tests.app.conftest import app, client, make_token
from tests.streams import START, day_of_events

__all__ = ["app", "client", "make_token"]

CONFIG = CallboardConfig.model_validate(
    {
        "defaults": {"timezone": "Europe/Berlin"},
        "queues": {
            "q0": {"sl_threshold_s": 10, "short_abandon_s": 2, "sl_formula": "abandons_met"},
            "q1": {"timezone": "America/New_York", "repeat_window_h": 2},
        },
        "teams": {
            "north": {"agents": ["a00", "a01", "a02", "a03", "a04"]},
            "south": {"agents": ["a05", "a06", "a07", "a08"]},
        },
    }
)
# a00 .. a08 in teams, a09 .. a11 "unassigned"


@pytest.fixture
def day(pg: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    # the teams and queues store_config writes (without its lock: the app's start takes it)
    members = CONFIG.team_of()
    pg.execute(
        "INSERT INTO agents (id, team) SELECT * FROM unnest(%s::text[], %s::text[])",
        (list(members), list(members.values())),
    )
    pg.execute("INSERT INTO queues (name) SELECT unnest(%s::text[])", (sorted(CONFIG.queues),))
    result = ingest(pg, day_of_events(calls=500, agents=12, queues=3, seed=7))
    assert result.rejected == 0, result.errors
    # schedules (adherence): a productive day with a break in the middle, for a few agents
    for i, agent in enumerate(["a00", "a01", "a05", "a09"]):
        start = START + timedelta(minutes=7 * i)
        pg.execute(
            "INSERT INTO schedules (agent, starts_at, ends_at, activity) VALUES"
            " (%(a)s, %(s)s, %(b)s, 'productive'), (%(a)s, %(b)s, %(c)s, 'break'),"
            " (%(a)s, %(c)s, %(e)s, 'productive')",
            {
                "a": agent,
                "s": start,
                "b": start + timedelta(hours=4, minutes=3),
                "c": start + timedelta(hours=4, minutes=33),
                "e": start + timedelta(hours=9, minutes=1),
            },
        )
    yield pg


def per_bucket(
    conn: psycopg.Connection[Any],
    by: Level,
    key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta,
) -> list[dict[str, Any]]:
    """What trends were before: the full computation once per bucket."""
    out = []
    for t, upper in buckets(start, end, now, step):
        rows = compute(conn, CONFIG, by=by, now=now, start=t, end=upper, only=key)["rows"]
        out.append({"from": iso(t), "to": iso(upper), **rows[0]})
    return out


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b) and type(a) is type(b)


def assert_same(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> None:
    assert [(r["from"], r["to"]) for r in new] == [(r["from"], r["to"]) for r in old]
    for n, o in zip(new, old, strict=True):
        assert n.keys() == o.keys(), n["from"]
        wrong = {k: (n[k], o[k]) for k in n if not same(n[k], o[k])}
        assert not wrong, f"bucket {n['from']}: {wrong}"


DAY = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # before the first event: quiet buckets
GROUPS: list[tuple[Level, str]] = [
    ("center", "center"),
    ("queue", "q0"),
    ("queue", "q1"),
    ("team", "north"),
    ("team", "unassigned"),
    ("agent", "a01"),
    ("agent", "a10"),
]


@pytest.mark.parametrize("step", [timedelta(minutes=15), timedelta(minutes=60)], ids=["15m", "60m"])
@pytest.mark.parametrize(("by", "key"), GROUPS, ids=[f"{b}-{k}" for b, k in GROUPS])
def test_a_closed_day_equals_the_per_bucket_computation(
    day: psycopg.Connection[Any], by: Level, key: str, step: timedelta
) -> None:
    now = DAY + timedelta(hours=20)  # the day is over
    end = DAY + timedelta(hours=14, minutes=10)  # the last bucket cut short at `end`
    new = trends(day, CONFIG, by=by, key=key, start=DAY, end=end, now=now, step=step)
    old = per_bucket(day, by, key, DAY, end, now, step)
    assert len(new) == len(old) > 8
    assert_same(new, old)
    assert any(r["handled"] for r in new)


@pytest.mark.parametrize("step", [timedelta(minutes=15), timedelta(minutes=60)], ids=["15m", "60m"])
@pytest.mark.parametrize(("by", "key"), GROUPS, ids=[f"{b}-{k}" for b, k in GROUPS])
@pytest.mark.parametrize("ends", ["now", "later"])
def test_a_day_until_now_inside_a_bucket(
    day: psycopg.Connection[Any], by: Level, key: str, step: timedelta, ends: str
) -> None:
    """`now` inside a bucket: open agent intervals end at now, the last bucket shows what is
    true now (contacts waiting, agents' states)."""
    now = START + timedelta(hours=5, minutes=7, seconds=30, microseconds=250)
    end = now if ends == "now" else DAY + timedelta(hours=19)
    new = trends(day, CONFIG, by=by, key=key, start=DAY, end=end, now=now, step=step)
    old = per_bucket(day, by, key, DAY, end, now, step)
    assert_same(new, old)
    if by != "agent":
        assert new[-1]["agents_by_state"]["logged_in"] > 0
    else:
        assert new[-1]["state"] is not None and new[-2]["state"] is None


def test_several_keys_at_once(day: psycopg.Connection[Any]) -> None:
    now = START + timedelta(hours=3, minutes=50)
    keys = ["q2", "q0", "nowhere", "q1"]
    many = trends(day, CONFIG, by="queue", keys=keys, start=DAY, end=now, now=now)
    assert list(many) == keys
    for key in keys:
        assert_same(many[key], per_bucket(day, "queue", key, DAY, now, now, timedelta(minutes=15)))
    assert many["nowhere"][-1]["waiting_now"] == 0


def test_a_trend_reads_rows_in_one_statement(
    day: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    execute = psycopg.Cursor.execute

    def counting(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    now = START + timedelta(hours=6, minutes=1)
    for by, key in GROUPS:
        statements.clear()
        rows = trends(day, CONFIG, by=by, key=key, start=DAY, end=now, now=now)
        assert len(rows) == 33
        # whether the rollups serve (not here: never built), then the rows in one statement
        assert len(statements) == 2, (by, key)
    statements.clear()
    trends(day, CONFIG, by="queue", keys=["q0", "q1", "q2"], start=DAY, end=now, now=now)
    assert len(statements) == 2
    # the computation it replaces: 33 buckets, each several statements
    statements.clear()
    per_bucket(day, "queue", "q0", DAY, now, now, timedelta(minutes=15))
    assert len(statements) > 33 * 5


def test_no_bucket_before_now_reads_nothing(day: psycopg.Connection[Any]) -> None:
    now = DAY
    assert trends(day, CONFIG, by="center", key="center", start=DAY, end=now, now=now) == []
    assert trends(day, CONFIG, by="queue", keys=[], start=DAY, end=now, now=now) == {}


def test_the_api_and_the_screens_show_the_same_trends(
    day: psycopg.Connection[Any], app: FastAPI, client: TestClient
) -> None:
    """GET /api/v1/trends, the wall's small trends and the drill-down's trend: today from
    the center's midnight, as the per-bucket computation gave them."""
    now = START + timedelta(hours=4, minutes=20, seconds=5)
    app.state.clock = Clock(origin=now, speed=0.0)
    app.state.config = CONFIG
    midnight = local_midnight(now, "Europe/Berlin")
    step = timedelta(minutes=15)

    got = client.get("/api/v1/trends", params={"by": "team", "key": "north"}).json()
    assert_same(
        got, json.loads(json.dumps(per_bucket(day, "team", "north", midnight, now, now, step)))
    )

    def points(by: Level, key: str) -> list[tuple[str, float | None, int, int]]:
        rows = per_bucket(day, by, key, midnight, now, now, step)
        out = [
            (
                datetime.fromisoformat(r["from"])
                .astimezone(ZoneInfo("Europe/Berlin"))
                .strftime("%H:%M"),
                r["service_level"],
                r["answered"] or r["handled"],
                r["abandoned"] or 0,
            )
            for r in rows
        ]
        busy = [i for i, p in enumerate(out) if p[2] or p[3]]
        return out[busy[0] :]

    def shown(trend: dict[str, Any]) -> list[tuple[str, float | None, int, int]]:
        return [
            (p["start"], p["service_level"]["value"], p["answered"], p["abandoned"])
            for p in trend["points"]
        ]

    wall = client.get("/api/v1/screens/wall/trends").json()
    assert sorted(wall) == ["q0", "q1", "q2"]
    for q in wall:
        assert shown(wall[q]) == points("queue", q)
        assert shown(wall[q])[0][0] == "08:00"  # the first busy interval (07:00Z)
    drill = client.get("/api/v1/screens/sup/drill", params={"agent": "a03"}).json()
    assert shown(drill["trend"]) == points("agent", "a03")


@pytest.mark.parametrize("queues", [{}, {"q0": {}}], ids=["no-queue", "a-queue"])
def test_the_center_of_an_empty_floor(pg: psycopg.Connection[Any], queues: dict[str, Any]) -> None:
    """Without any row the center still has every part of a window (counts 0, sums null), and
    without any queue no contact part at all."""
    config = CallboardConfig.model_validate({"queues": queues})
    now = DAY + timedelta(hours=1, minutes=5)
    new = trends(pg, config, by="center", key="center", start=DAY, end=now, now=now)
    old = [
        {
            "from": iso(t),
            "to": iso(u),
            **compute(pg, config, by="center", now=now, start=t, end=u)["rows"][0],
        }
        for t, u in buckets(DAY, now, now, timedelta(minutes=15))
    ]
    assert_same(new, old)
    assert new[0]["answered"] == 0 and new[0]["asa_s"] is None
