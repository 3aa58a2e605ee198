from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

DERIVED = {
    "contact_segments": "call_id, segment",
    "feedback": "source, id",
    "agent_states": "agent, started_at",
}


def derived_snapshot(conn: psycopg.Connection[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived row, in a stable order."""
    out = {}
    for table, order in DERIVED.items():
        query = sql.SQL("SELECT * FROM {} ORDER BY {}").format(
            sql.Identifier(table), sql.SQL(order)
        )
        out[table] = conn.execute(query).fetchall()
    return out


def count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])
