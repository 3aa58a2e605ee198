"""The live engine's change log (`live_changes`, written by triggers with every derived row):
who prunes it.

The live leader prunes the rows it has read. While no leader runs (an import with no `serve`
up), nobody reads them, so writers prune instead: the rows of complete transactions are dropped
when no leader holds its lock. That is safe: a leader that takes the lock later computes
everything at its start and reads only rows of transactions not complete at that start."""

from __future__ import annotations

from typing import Any

import psycopg

LEADER_LOCK_KEY = 0x63626C76  # pg_try_advisory_lock key of the live leader (app/live/hub.py)

_PRUNE = """
DELETE FROM live_changes
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  AND NOT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND classid = 0 AND objid = %s AND objsubid = 1 AND granted)
"""


def prune_unread(conn: psycopg.Connection[Any]) -> int:
    """Drop the change log's rows when no live leader reads them; the rows dropped."""
    return conn.execute(_PRUNE, (LEADER_LOCK_KEY,)).rowcount
