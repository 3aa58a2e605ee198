"""Scorecards over long windows read through the rollups equal the scorecards computed from the
rows: three days of random streams (queues 30 and 45 minutes off the hour, days crossing their
midnight) stored in random batches, late and partly twice, with plans; at random instants the
scorecards of every level over a range of days with partial edges (ending before now, or after
it) are compared, metric by metric and card by card, with `compute` over the rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.metrics.registry import Level
from app.metrics.service import compute
from app.rollups import service
from app.rollups.read import window_parts
from app.schedules.schemas import ScheduleEntry
from app.schedules.service import upsert
from app.scorecard.service import rank, scorecards, scored
from ingest.writer import ingest
from tests.rollups.test_equal import CONFIG, close, database, reset, stream, ts
from tests.streams import START

__all__ = ["database"]  # the module's database, shared with test_equal.py's fixture

DAYS = 3
LEVELS: tuple[Level, ...] = ("center", "queue", "team", "agent")


def same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return close(a, b)


def differences(
    conn: psycopg.Connection[Any], level: Level, start: datetime, end: datetime, now: datetime
) -> list[str]:
    got = scorecards(conn, CONFIG, level=level, now=now, start=start, end=end)
    rows = compute(conn, CONFIG, by=level, now=now, start=start, end=end)
    want = rank(scored(CONFIG, level, rows["rows"]))
    where = f"{level} [{start:%d %H:%M:%S}, {end:%d %H:%M:%S}) at {now:%d %H:%M:%S}"
    out = []
    if [r["key"] for r in got["rows"]] != [r["key"] for r in want]:
        out.append(f"{where}: keys {[r['key'] for r in got['rows']]} != {[r['key'] for r in want]}")
    for g, w in zip(got["rows"], want, strict=False):
        for name in w:
            if not same(g.get(name), w[name]):
                out.append(f"{where} {w['key']} {name}: {g.get(name)!r} != {w[name]!r}")
    for name in ("from", "to", "window"):
        if got[name] != rows[name]:
            out.append(f"{where} {name}: {got[name]} != {rows[name]}")
    return out


def days_of_events(seed: int, calls: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for day in range(DAYS):
        for e in stream(seed + day, calls):
            e = {**e, "id": f"d{day}-{e['id']}"}
            e["ts"] = (ts(e) + timedelta(days=day)).isoformat().replace("+00:00", "Z")
            if "call_id" in e:
                e["call_id"] = f"d{day}-{e['call_id']}"
            out.append(e)
    return out


@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # a failure names its seed; shrinking takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    calls=st.integers(20, 60),
    late=st.floats(0, 0.3),
    twice=st.floats(0, 0.2),
)
def test_long_window_scorecards_from_rollups_equal_the_rows(
    database: str, seed: int, calls: int, late: float, twice: float
) -> None:
    rng = random.Random(seed)
    events = days_of_events(seed, calls)
    with psycopg.connect(database) as conn:
        reset(conn)
        with conn.transaction():  # plans (adherence) through the schedules' own writer
            plans = []
            for day in range(DAYS):
                for agent, hour in (("a00", 8), ("a03", 17)):
                    for k in range(6):
                        t0 = START.replace(hour=hour) + timedelta(days=day, minutes=45 * k + 7)
                        plans.append(
                            ScheduleEntry(
                                agent=agent,
                                start=t0,
                                end=t0 + timedelta(minutes=40),
                                activity="break" if k == 3 else "productive",
                            )
                        )
            upsert(conn, plans)
        last_day = START + timedelta(days=DAYS - 1)
        instants = sorted(last_day + timedelta(seconds=rng.uniform(0, 15 * 3600)) for _ in range(2))
        instants.append(last_day + timedelta(hours=17, seconds=7))  # everything in
        pending = list(events)
        rng.shuffle(pending)
        for i, now in enumerate(instants):
            final = i == len(instants) - 1
            due = [e for e in pending if final or (ts(e) <= now and rng.random() > late)]
            pending = [e for e in pending if e not in due]
            due += rng.sample(due, int(len(due) * twice))  # redelivered
            rng.shuffle(due)
            for k in range(0, len(due), 97):
                with conn.transaction():
                    ingest(conn, due[k : k + 97])
            lo = START - timedelta(hours=rng.uniform(0, 30))  # a partial first quarter hour
            ends = [
                now - timedelta(hours=rng.uniform(0, 6)),  # over before now
                now + timedelta(minutes=rng.uniform(0, 90)),  # still running
            ]
            diffs: list[str] = []
            for hi in ends:
                assert window_parts(conn, CONFIG, by="agent", start=lo, end=hi, now=now)
                for level in LEVELS:
                    diffs += differences(conn, level, lo, hi, now)
            assert not diffs, f"at {now}:\n" + "\n".join(diffs[:20])
        assert service.is_current(conn, CONFIG)
        # read from the rollups indeed: a changed rollup row changes the card
        start, now = START - timedelta(days=1), instants[-1]
        before = scorecards(conn, CONFIG, level="center", now=now, start=start, end=now)
        with conn.transaction(force_rollback=True):
            conn.execute(
                "UPDATE rollup_contacts SET handled = handled + 1000 WHERE level = 'center'"
            )
            after = scorecards(conn, CONFIG, level="center", now=now, start=start, end=now)
        assert after["rows"][0]["contacts"] > before["rows"][0]["contacts"] + 1000
