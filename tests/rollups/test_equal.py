"""Every metric read through the rollups equals the same metric computed from the rows.

Random streams of a floor's day (crossing midnight in queues 30 and 45 minutes off the hour:
Asia/Kolkata, Asia/Kathmandu) are stored in random batches, shuffled (late and out of order),
partly sent twice, with short repeat windows (resolution matures during the run) and plans;
at random instants the trends by 15, 30 and 60 minutes since each zone's midnight and ranges
with partial edges are read (rollups for the whole intervals) and compared with
`compute(..., start=, end=)` over each bucket (rows only)."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from app import migrate
from app.config import CallboardConfig, store_config
from app.metrics.registry import Level
from app.metrics.service import compute
from app.metrics.windows import local_midnight
from app.rollups import service
from app.rollups.read import metrics
from app.rollups.rows import buckets
from ingest.writer import ingest
from tests.conftest import libpq
from tests.streams import START, day_of_events

CONFIG = CallboardConfig.model_validate(
    {
        "defaults": {"timezone": "Asia/Kathmandu", "repeat_window_h": 2},
        "queues": {
            "q1": {"timezone": "Asia/Kolkata", "repeat_window_h": 1.5},
            "q2": {"sl_threshold_s": 10, "short_abandon_s": 2, "repeat_window_h": 0.5},
        },
        "teams": {"north": {"agents": ["a00", "a01", "a02"]}, "south": {"agents": ["a03"]}},
    }
)
GROUPS: list[tuple[Level, str]] = [
    ("center", "center"),
    ("queue", "q1"),
    ("queue", "q2"),
    ("team", "north"),
    ("team", "unassigned"),
    ("agent", "a01"),
    ("agent", "a04"),
]


@pytest.fixture(scope="module")
def database(server_url: str) -> Iterator[str]:
    name = f"callboard_rollups_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server_url).set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    yield libpq(url.render_as_string(hide_password=False))
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        # parts summed in another order: the last bits of a float, or one unit of rounding
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1.01e-4)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    return bool(a == b)


def differences(
    conn: psycopg.Connection[Any],
    by: Level,
    key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta,
) -> list[str]:
    got = metrics(conn, CONFIG, by=by, keys=[key], start=start, end=end, now=now, step=step)[key]
    spans = buckets(start, end, now, step)
    assert [(r["from"], r["to"]) for r in got] == [(iso(f), iso(t)) for f, t in spans]
    out = []
    for row, (f, t) in zip(got, spans, strict=True):
        want = compute(conn, CONFIG, by=by, now=now, start=f, end=t, only=key)["rows"][0]
        for metric, value in want.items():
            if not close(row.get(metric), value):
                got_value = row.get(metric)
                out.append(
                    f"{by}/{key} [{f:%H:%M}, {t:%H:%M}) {metric}: {got_value!r} != {value!r}"
                )
    return out


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def reset(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute(
            "TRUNCATE events, contact_segments, feedback, agent_states, schedules, live_changes,"
            " agents, queues CASCADE"
        )
        store_config(conn, CONFIG, origin="test")
        service.rebuild_if_outdated(conn, CONFIG)  # as the server's start does


def stream(seed: int, calls: int) -> list[dict[str, Any]]:
    events = day_of_events(calls=calls, agents=5, queues=3, seed=seed, hours=14)
    for e in events:  # queue names the configuration knows
        for field in ("queue", "to_queue"):
            if e.get(field) == "q0":
                e[field] = "q2"
        if "queues" in e:
            e["queues"] = ["q2" if q == "q0" else q for q in e["queues"]]
    return events


def ts(e: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # a failure names its seed; shrinking takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    calls=st.integers(20, 100),
    ticks=st.integers(2, 4),
    late=st.floats(0, 0.3),
    twice=st.floats(0, 0.2),
)
def test_rollups_equal_the_rows(
    database: str, seed: int, calls: int, ticks: int, late: float, twice: float
) -> None:
    rng = random.Random(seed)
    events = stream(seed, calls)
    with psycopg.connect(database) as conn:
        reset(conn)
        with conn.transaction():  # plans (adherence) through the schedules' own writer
            from app.schedules.schemas import ScheduleEntry
            from app.schedules.service import upsert

            plans = []
            for agent, hour in (("a00", 8), ("a03", 17)):
                for k in range(6):
                    t0 = START.replace(hour=hour) + timedelta(minutes=45 * k + 7)
                    plans.append(
                        ScheduleEntry(
                            agent=agent,
                            start=t0,
                            end=t0 + timedelta(minutes=40),
                            activity="break" if k == 3 else "productive",
                        )
                    )
            upsert(conn, plans)
        instants = sorted(
            START + timedelta(seconds=rng.uniform(0, 15 * 3600)) for _ in range(ticks)
        )
        # on a quarter hour (its last bucket whole: rollups and the now values), then after
        # everything is in, mostly mature
        instants.append(max(instants[-1], START) + timedelta(minutes=15 - instants[-1].minute % 15))
        instants[-1] = instants[-1].replace(second=0, microsecond=0)
        instants.append(START + timedelta(hours=17, seconds=7))
        pending = list(events)
        rng.shuffle(pending)
        for i, now in enumerate(instants):
            last = i == len(instants) - 1
            due = [e for e in pending if last or (ts(e) <= now and rng.random() > late)]
            pending = [e for e in pending if e not in due]
            due += rng.sample(due, int(len(due) * twice))  # redelivered
            rng.shuffle(due)
            for k in range(0, len(due), 37):
                with conn.transaction():
                    ingest(conn, due[k : k + 37])
            diffs: list[str] = []
            step = rng.choice([timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)])
            for by, key in GROUPS:
                tz = CONFIG.queue(key).timezone if by == "queue" else CONFIG.defaults.timezone
                midnight = local_midnight(now, tz)
                start = min(midnight, START)
                diffs += differences(conn, by, key, start, now, now, step)
                # a range with partial edges (reports): one bucket, then by the hour
                lo = START + timedelta(minutes=rng.randrange(0, 120), seconds=rng.randrange(60))
                hi = lo + timedelta(minutes=rng.randrange(30, 600))
                diffs += differences(conn, by, key, lo, hi, now, hi - lo)
            assert not diffs, f"at {now}:\n" + "\n".join(diffs[:20])
        # read through the rollups indeed, and kept equal to a rebuild from the rows
        assert service.is_current(conn, CONFIG)
        kept = rollup_rows(conn)
        assert kept["rollup_contacts"] and kept["rollup_agent_time"]
        with conn.transaction():
            service.rebuild(conn)
        assert close(rollup_rows(conn), kept)


def rollup_rows(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in ("rollup_contacts", "rollup_agent_time"):
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT * FROM {table}").fetchall()
        out[table] = {(r.pop("level"), r.pop("key"), r.pop("bucket")): r for r in rows}
    return {t: {str(k): v for k, v in rows.items()} for t, rows in out.items()}
