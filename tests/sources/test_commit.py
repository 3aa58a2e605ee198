"""The committer commits each batch on whatever connection a source hands it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from app import migrate
from ingest.contract import event_adapter
from ingest.sources.commit import Committer
from tests.conftest import libpq


@pytest.fixture
def db(fresh_db: str) -> Iterator[str]:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    yield libpq(fresh_db)


def queued(n: int) -> Any:
    return event_adapter.validate_python(
        {
            "id": f"q{n}",
            "ts": "2026-11-20T09:00:00+00:00",
            "type": "call.queued",
            "call_id": f"c{n}",
            "queue": "billing",
        }
    )


def stored(url: str) -> int:
    with psycopg.connect(url) as other:
        return int((other.execute("SELECT count(*) FROM events").fetchone() or (0,))[0])


@pytest.mark.parametrize("autocommit", [False, True])
def test_each_batch_is_visible_to_others_before_the_connection_closes(
    db: str, autocommit: bool
) -> None:
    # a plain (not autocommit) connection once kept every batch in one open transaction: the
    # demo's live floor was never seen until the demo stopped
    with psycopg.connect(db, autocommit=autocommit) as conn:
        committer = Committer(conn, "sim", batch=2)
        for n in range(5):
            committer.add(queued(n))
        assert stored(db) == 4  # two full batches, committed
        committer.flush()
        assert stored(db) == 5
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_inside_a_callers_transaction_batches_are_the_callers_to_commit(db: str) -> None:
    with psycopg.connect(db) as conn:
        conn.execute("SELECT 1")  # the caller's transaction
        committer = Committer(conn, "sim", batch=2)
        for n in range(3):
            committer.add(queued(n))
        committer.flush()
        assert stored(db) == 0
        conn.rollback()
    assert stored(db) == 0


def _log_rows(url: str) -> int:
    with psycopg.connect(url) as other:
        return int((other.execute("SELECT count(*) FROM live_changes").fetchone() or (0,))[0])


def test_the_change_log_is_pruned_while_no_live_leader_reads_it(db: str) -> None:
    from ingest.changelog import LEADER_LOCK_KEY
    from ingest.sources.commit import PRUNE_EVERY

    def run(first: int) -> None:
        with psycopg.connect(db, autocommit=True) as conn:
            committer = Committer(conn, "sim", batch=1)
            for n in range(first, first + PRUNE_EVERY):
                committer.add(queued(n))
            committer.flush()

    with psycopg.connect(db, autocommit=True) as leader:
        leader.execute("SELECT pg_advisory_lock(%s)", (LEADER_LOCK_KEY,))
        run(0)
        assert _log_rows(db) >= PRUNE_EVERY  # a leader reads them: left to it
    run(PRUNE_EVERY)  # no leader: the writer drops what nobody will read
    assert _log_rows(db) < PRUNE_EVERY
