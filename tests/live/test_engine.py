"""The live engine (incremental) equals the full computation for every metric, window and level.

Random streams of a floor's day are stored in random batches, shuffled (late and out of order),
partly sent twice, with a queue in a time zone whose midnight falls inside the day, a short
repeat window (resolution matures during the run) and schedules; at random instants the engine's
rows are compared with `compute_windows` at the same instant: the clock's computation (`rows`)
in full, and the event ticks (`update`, applied to what was shown before as a screen applies a
delta) in every value events change (the clock-driven ones, agent time and adherence and the
timers a screen advances itself, are the clock's: they are compared after `rows`)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app import migrate
from app.config import CallboardConfig, store_config
from app.live.engine import CLOCK_DRIVEN, Engine, Update, floor_b
from app.metrics.registry import LEVELS
from app.metrics.service import compute_windows
from app.metrics.windows import ROLLING
from ingest.writer import ingest
from tests.conftest import libpq
from tests.streams import START, day_of_events

WINDOWS = ("today", "interval", "30m", "15m", "60m")
CONFIG = CallboardConfig.model_validate(
    {
        "defaults": {"timezone": "Europe/Berlin"},
        "queues": {
            # local midnight at 15:00 UTC, inside the day of the stream
            "q1": {"timezone": "Asia/Tokyo", "repeat_window_h": 1.5},
            "q2": {"sl_threshold_s": 10, "short_abandon_s": 2, "repeat_window_h": 0.5},
        },
        "teams": {"north": {"agents": ["a00", "a01", "a02"]}, "south": {"agents": ["a03"]}},
    }
)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, server_url: str) -> Any:
    import uuid

    name = f"callboard_engine_{uuid.uuid4().hex[:8]}"
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


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


Shown = dict[str, dict[str, dict[str, dict[str, Any]]]]  # window -> level -> key -> row


def _shown(result: dict[str, Any]) -> Shown:
    return {
        w: {lv: {r["key"]: r for r in res["rows"]} for lv, res in levels.items()}
        for w, levels in result.items()
    }


def _apply(shown: Shown, update: Update) -> None:
    """What a screen does with a delta: the touched groups' rows replaced, or removed."""
    for w, levels in shown.items():
        for level, rows in levels.items():
            for lv, key in update.touched:
                if lv != level:
                    continue
                row = update.rows.get(w, {}).get(level, {}).get(key)
                if row is None:
                    rows.pop(key, None)
                else:
                    rows[key] = row


def _event_differences(
    shown: Shown, full: dict[str, Any], windows: tuple[str, ...] = WINDOWS
) -> list[str]:
    """The values events change, in these windows."""
    out = []
    for w in windows:
        for level in full[w]:
            a = shown[w][level]
            b = {r["key"]: r for r in full[w][level]["rows"]}
            if level == "agent" and w in ROLLING:
                # an agent is in a rolling window while their time is: the clock's to say
                a = {k: r for k, r in a.items() if k in b}
                b = {k: r for k, r in b.items() if k in a}
            if a.keys() != b.keys():
                out.append(f"{w}/{level}: groups {sorted(a.keys() ^ b.keys())}")
                continue
            for key in b:
                for metric in b[key]:
                    if metric in CLOCK_DRIVEN or metric == "to":  # a queue's own window's end
                        continue
                    if not _close(a[key].get(metric), b[key][metric]):
                        out.append(
                            f"{w}/{level}/{key}/{metric}: shown {a[key].get(metric)!r},"
                            f" full {b[key][metric]!r}"
                        )
    return out


def _differences(inc: dict[str, Any], full: dict[str, Any]) -> list[str]:
    out = []
    for w in full:
        for level in full[w]:
            a = {r["key"]: r for r in inc[w][level]["rows"]}
            b = {r["key"]: r for r in full[w][level]["rows"]}
            if a.keys() != b.keys():
                out.append(f"{w}/{level}: groups {sorted(a.keys() ^ b.keys())}")
                continue
            for key in b:
                for metric in b[key]:
                    if not _close(a[key].get(metric), b[key][metric]):
                        out.append(
                            f"{w}/{level}/{key}/{metric}: incremental {a[key].get(metric)!r},"
                            f" full {b[key][metric]!r}"
                        )
    return out


def _reset(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "TRUNCATE events, contact_segments, feedback, agent_states, schedules, live_changes,"
        " agents, queues CASCADE"
    )
    store_config(conn, CONFIG, origin="test")


@settings(
    max_examples=12,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    calls=st.integers(20, 120),
    ticks=st.integers(3, 8),
    late=st.floats(0, 0.3),
    twice=st.floats(0, 0.2),
)
def test_incremental_equals_full(
    database: str, seed: int, calls: int, ticks: int, late: float, twice: float
) -> None:
    rng = random.Random(seed)
    events = day_of_events(calls=calls, agents=5, queues=3, seed=seed, hours=10)
    for e in events:  # give queue-less feedback and queues the configured names
        if e.get("queue") == "q0":
            e["queue"] = "q2"
        if e.get("to_queue") == "q0":
            e["to_queue"] = "q2"
        if "queues" in e:
            e["queues"] = ["q2" if q == "q0" else q for q in e["queues"]]
    with psycopg.connect(database, autocommit=True) as conn:
        _reset(conn)
        version = conn.execute("SELECT max(version) FROM config_versions").fetchone()
        config_version = version[0] if version else None
        # a plan for two agents (adherence)
        for agent, start in (("a00", 8), ("a03", 9)):
            for k in range(6):
                t0 = START.replace(hour=start) + timedelta(minutes=45 * k)
                conn.execute(
                    "INSERT INTO schedules (agent, starts_at, ends_at, activity)"
                    " VALUES (%s, %s, %s, %s)",
                    (agent, t0, t0 + timedelta(minutes=40), "break" if k == 3 else "productive"),
                )
        engine = Engine(WINDOWS)
        instants = sorted(
            START + timedelta(seconds=rng.uniform(0, 11 * 3600)) for _ in range(ticks)
        )
        pending = list(events)
        rng.shuffle(pending)
        shown: Shown | None = None
        for now in instants:
            due = [e for e in pending if _ts(e) <= now and rng.random() > late]
            pending = [e for e in pending if e not in due]
            due += rng.sample(due, int(len(due) * twice))  # redelivered
            rng.shuffle(due)
            for k in range(0, len(due), 37):
                ingest(conn, due[k : k + 37])
            want = compute_windows(
                conn, CONFIG, levels=LEVELS, now=now, windows=WINDOWS, config_version=config_version
            )
            update = engine.update(conn, CONFIG, now=now, config_version=config_version)
            if update is not None and shown is not None:  # an event tick
                _apply(shown, update)
                diffs = _event_differences(shown, want)
                assert not diffs, f"event tick at {now} ({engine.stats}):\n" + "\n".join(diffs[:20])
            if update is None or shown is None or rng.random() < 0.5:  # the clock's tick
                got = engine.rows(conn, CONFIG, now=now, config_version=config_version)
                shown = _shown(got)
                diffs = _differences(got, want)
                assert not diffs, f"at {now} ({engine.stats}):\n" + "\n".join(diffs[:20])
            # a quiet stretch: only the clock moves; nothing is read but the change log
            quiet = now + timedelta(seconds=0.5)
            update = engine.update(conn, CONFIG, now=quiet, config_version=config_version)
            if update is not None and floor_b(quiet) == floor_b(now):
                assert not update.touched and engine.stats.buckets_read == 0
                want = compute_windows(
                    conn,
                    CONFIG,
                    levels=LEVELS,
                    now=quiet,
                    windows=WINDOWS,
                    config_version=config_version,
                )  # a rolling window's head slides with the clock: the clock's to move
                diffs = _event_differences(shown, want, ("today", "interval"))
                assert not diffs, f"quiet at {quiet}:\n" + "\n".join(diffs[:20])
            elif update is not None:
                _apply(shown, update)
        # and one more instant after the day (everything mature, late events all in)
        ingest(conn, pending)
        now = instants[-1] + timedelta(hours=2, seconds=7)
        got = engine.rows(conn, CONFIG, now=now, config_version=config_version)
        want = compute_windows(
            conn, CONFIG, levels=LEVELS, now=now, windows=WINDOWS, config_version=config_version
        )
        diffs = _differences(got, want)
        assert not diffs, f"at {now}:\n" + "\n".join(diffs[:20])


def _ts(e: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))


def test_a_rebuild_computes_everything_again(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        _reset(conn)
        ingest(conn, day_of_events(calls=30, agents=4, queues=3, seed=3, hours=2))
        engine = Engine(WINDOWS)
        now = START + timedelta(hours=1)
        engine.rows(conn, CONFIG, now=now, config_version=None)
        assert engine.stats.full
        engine.rows(conn, CONFIG, now=now + timedelta(seconds=1), config_version=None)
        assert not engine.stats.full
        conn.execute("TRUNCATE live_changes")
        conn.execute("TRUNCATE feedback")  # what `callboard rebuild` starts with
        engine.rows(conn, CONFIG, now=now + timedelta(seconds=2), config_version=None)
        assert engine.stats.full
