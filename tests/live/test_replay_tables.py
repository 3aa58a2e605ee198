"""The derived tables as a replay reads them at a moment (app/live/replay.py, `as_of`) are the
tables rebuilt from only the events dated up to that moment: on seeded floors with transfers,
overflows, callbacks, ring-no-answers, surveys, breaks and repeat customers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from app.config import CallboardConfig
from app.live.replay import as_of
from ingest.derived import rebuild
from ingest.writer import ingest
from tests.streams import START, day_of_events

# What a stored segment cannot tell about an earlier moment: how many ring-no-answers and
# callback attempts it had by then (the metrics count those from `events` by their time) and
# the notes about events that came later.
NOT_DATED = {"missed", "attempts", "notes"}
TABLES = {
    "contact_segments": ("call_id", "segment"),
    "agent_states": ("agent", "started_at"),
    "feedback": ("source", "id"),
}


def _rows(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[Any, dict[str, Any]]:
    cur = conn.execute(
        sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    )
    names = [d.name for d in cur.description or []]
    out = {}
    for values in cur.fetchall():
        row = {n: v for n, v in zip(names, values, strict=True) if n not in NOT_DATED}
        out[tuple(row[k] for k in TABLES[table])] = row
    return out


def _public(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = 'contact_segments'::regclass"
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tables_at_a_moment_are_those_rebuilt_from_the_events_until_then(
    pg: psycopg.Connection[Any], seed: int
) -> None:
    result = ingest(pg, day_of_events(calls=160, agents=6, queues=3, seed=seed, hours=4))
    assert result.inserted > 500
    schema = _public(pg)
    config = CallboardConfig()
    rng = random.Random(seed)
    moments: list[datetime] = sorted(
        START + timedelta(seconds=rng.uniform(300, 4.5 * 3600)) for _ in range(4)
    )
    busy = 0
    for at in moments:
        with as_of(pg, config, at):
            replayed = {t: _rows(pg, "pg_temp", t) for t in TABLES}
        with pg.transaction(force_rollback=True):
            pg.execute("DELETE FROM events WHERE ts > %s", (at,))
            rebuild(pg)
            rebuilt = {t: _rows(pg, schema, t) for t in TABLES}
        for table in TABLES:
            assert replayed[table].keys() == rebuilt[table].keys(), (at, table)
            for key, row in rebuilt[table].items():
                assert replayed[table][key] == row, (at, table, key)
        busy += sum(
            r["outcome"] is None or (r["outcome"] == "answered" and r["wrapped_at"] is None)
            for r in replayed["contact_segments"].values()
        )
    assert busy > 0  # the moments caught contacts waiting, talking or wrapping up
