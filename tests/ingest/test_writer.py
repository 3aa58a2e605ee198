from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import migrate
from ingest.derived import rebuild
from ingest.writer import NOTIFY_CHANNEL, ingest
from tests.conftest import libpq
from tests.helpers import count, derived_snapshot
from tests.streams import day_of_events

SMALL = day_of_events(calls=40, agents=5, seed=7, hours=2)


def test_a_batch_sent_twice_is_stored_once(pg: psycopg.Connection[Any]) -> None:
    events = day_of_events(calls=100, seed=2)
    first = ingest(pg, events)
    before = derived_snapshot(pg)
    second = ingest(pg, events)
    assert (first.inserted, first.duplicates, first.rejected) == (len(events), 0, 0)
    assert (second.inserted, second.duplicates, second.rejected) == (0, len(events), 0)
    assert count(pg, "events") == len(events)
    assert derived_snapshot(pg) == before


def test_duplicates_inside_one_batch_are_counted_not_stored(pg: psycopg.Connection[Any]) -> None:
    events = SMALL[:10]
    result = ingest(pg, events + events[:4])
    assert (result.inserted, result.duplicates) == (10, 4)
    assert count(pg, "events") == 10


def test_bad_items_are_reported_by_index_and_the_good_ones_stored(
    pg: psycopg.Connection[Any],
) -> None:
    good = SMALL[:5]
    batch: list[Any] = [good[0], {"id": "x", "type": "call.queued"}, good[1], "nope", *good[2:]]
    result = ingest(pg, batch)
    assert result.inserted == 5
    assert result.rejected == 2
    assert [e.index for e in result.errors] == [1, 3]
    assert "ts: Field required" in result.errors[0].message
    assert count(pg, "events") == 5


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    order=st.randoms(use_true_random=False),
    dup_share=st.floats(0, 0.5),
    batch=st.integers(1, 60),
)
def test_shuffled_duplicated_batched_delivery_equals_ordered_delivery(
    pg: psycopg.Connection[Any], order: random.Random, dup_share: float, batch: int
) -> None:
    with pg.transaction(force_rollback=True):
        ingest(pg, SMALL)
        expected = derived_snapshot(pg)
    delivery = SMALL + order.sample(SMALL, int(len(SMALL) * dup_share))
    order.shuffle(delivery)
    with pg.transaction(force_rollback=True):
        total = 0
        for i in range(0, len(delivery), batch):
            total += ingest(pg, delivery[i : i + batch]).inserted
        assert total == len(SMALL)
        assert derived_snapshot(pg) == expected


def test_rebuild_recomputes_exactly_what_incremental_ingest_produced(
    pg: psycopg.Connection[Any],
) -> None:
    events = day_of_events(calls=300, seed=3)
    rng = random.Random(3)
    rng.shuffle(events)
    for i in range(0, len(events), 97):
        ingest(pg, events[i : i + 97])
    incremental = derived_snapshot(pg)
    assert incremental["contact_segments"] and incremental["agent_states"]
    counts = rebuild(pg)
    assert derived_snapshot(pg) == incremental
    assert counts["contact_segments"] == len(incremental["contact_segments"])


def test_unknown_queues_and_agents_are_created_and_flagged(pg: psycopg.Connection[Any]) -> None:
    ingest(
        pg,
        [
            {
                "id": "1",
                "ts": "2026-11-20T08:00:00Z",
                "type": "call.queued",
                "call_id": "c",
                "queue": "brand-new",
            },
            {
                "id": "2",
                "ts": "2026-11-20T08:00:03Z",
                "type": "call.answered",
                "call_id": "c",
                "queue": "brand-new",
                "agent": "stranger",
            },
        ],
    )
    assert pg.execute("SELECT auto_created FROM queues WHERE name='brand-new'").fetchone() == (
        True,
    )
    assert pg.execute("SELECT auto_created FROM agents WHERE id='stranger'").fetchone() == (True,)


def test_one_notify_per_committed_batch_and_none_for_a_rolled_back_one(fresh_db: str) -> None:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    with (
        psycopg.connect(libpq(fresh_db), autocommit=True) as listener,
        psycopg.connect(libpq(fresh_db)) as writer,
    ):
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with writer.transaction():
            ingest(writer, SMALL[:50])
        with writer.transaction():
            ingest(writer, SMALL[50:100])
        with writer.transaction(force_rollback=True):
            ingest(writer, SMALL[100:])
        got = list(listener.notifies(timeout=1.0))
    assert len(got) == 2
    assert '"inserted":50' in got[0].payload


def test_concurrent_writers_on_the_same_calls_agree_with_one_writer(
    fresh_db: str, engine: sa.Engine
) -> None:
    """Two processes feeding halves of the same calls at once must not lose each other's events
    in the derived rows (the ingest lock)."""
    with engine.connect() as sa_conn:
        trans = sa_conn.begin()
        pg = sa_conn.connection.driver_connection
        ingest(pg, SMALL)
        expected = derived_snapshot(pg)
        trans.rollback()
    e2 = sa.create_engine(fresh_db)
    with e2.begin() as c:
        migrate.upgrade(c)
    e2.dispose()
    halves = [SMALL[0::2], SMALL[1::2]]

    def feed(part: list[dict[str, Any]]) -> None:
        with psycopg.connect(libpq(fresh_db)) as conn:
            for i in range(0, len(part), 7):
                with conn.transaction():
                    ingest(conn, part[i : i + 7])

    threads = [threading.Thread(target=feed, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(libpq(fresh_db)) as conn:
        assert derived_snapshot(conn) == expected


@pytest.mark.parametrize("seed", [11, 12])
def test_a_late_agent_event_in_the_past_is_placed_where_it_belongs(
    pg: psycopg.Connection[Any], seed: int
) -> None:
    events = [e for e in day_of_events(calls=80, agents=3, seed=seed) if e.get("agent") == "a01"]
    late = [e for e in events if e["type"] == "agent.state" and e["state"] == "away"]
    on_time = [e for e in events if e not in late]
    ingest(pg, on_time)
    ingest(pg, late)
    incremental = derived_snapshot(pg)["agent_states"]
    rebuild(pg)
    assert derived_snapshot(pg)["agent_states"] == incremental
    away = [row for row in incremental if row[3] == "away"]
    assert len(away) == 1 and away[0][2] is not None


def test_timestamps_are_stored_as_utc(pg: psycopg.Connection[Any]) -> None:
    ingest(
        pg,
        [
            {
                "id": "tz",
                "ts": "2026-11-20T09:30:00+01:00",
                "type": "agent.state",
                "agent": "a",
                "state": "available",
            }
        ],
    )
    row = pg.execute("SELECT ts FROM events WHERE id='tz'").fetchone()
    assert row is not None and row[0] == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def test_a_large_batch_after_a_small_one_in_one_transaction_does_not_deadlock(
    fresh_db: str,
) -> None:
    """A large batch takes the queue gate before the ingest lock, unless its transaction holds
    the lock already (a small batch before it): else it would wait for a gate held by a large
    batch that waits for its lock."""
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    events = day_of_events(calls=200, seed=9)
    small, large, other = events[:5], events[5:400], events[400:]
    with psycopg.connect(libpq(fresh_db)) as a, psycopg.connect(libpq(fresh_db)) as b:
        ingest(a, small)  # a holds the ingest lock
        done = threading.Event()

        def large_elsewhere() -> None:
            ingest(b, other)  # takes the gate, waits for a's lock
            b.commit()
            done.set()

        t = threading.Thread(target=large_elsewhere)
        t.start()
        threading.Event().wait(0.5)
        assert ingest(a, large).inserted == len(large)
        a.commit()
        t.join(timeout=30)
        assert done.is_set()
        assert count(a, "events") == len(events)


def test_an_autocommit_connection_writes_each_batch_in_one_transaction(fresh_db: str) -> None:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    with psycopg.connect(libpq(fresh_db), autocommit=True) as conn:
        result = ingest(conn, SMALL[:30])
        assert result.inserted == 30
        assert count(conn, "events") == 30
        assert count(conn, "contact_segments") > 0


def test_a_batch_of_duplicates_leaves_the_rollups_in_use(fresh_db: str) -> None:
    """A retried batch stores nothing, but its insert still fires the rollups' statement
    trigger: the rollups stay current (else every later write skips their upkeep, and every
    reader reads rows, until a rebuild)."""
    from app.config import CallboardConfig
    from app.rollups import service

    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    config = CallboardConfig()
    with psycopg.connect(libpq(fresh_db), autocommit=True) as conn:
        with conn.transaction():
            service.rebuild(conn, config)
        assert ingest(conn, SMALL[:30]).inserted == 30
        assert service.is_current(conn, config)
        again = ingest(conn, SMALL[:30])
        assert (again.inserted, again.duplicates) == (0, 30)
        assert service.is_current(conn, config)
        later = ingest(conn, SMALL[30:60])  # the next batch still maintains them
        assert later.inserted == 30
        assert service.is_current(conn, config)
