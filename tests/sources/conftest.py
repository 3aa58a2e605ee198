"""Shared fixtures of the source tests: the app of tests/app (for /metrics), a migrated and
committed database, and the command line run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import migrate
from tests.app.conftest import app, make_token
from tests.live.conftest import live_client

__all__ = ["app", "cli", "forget", "live_client", "make_token", "migrated"]


@pytest.fixture
def migrated(fresh_db: str) -> str:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    return fresh_db


def cli(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "CALLBOARD_DATA_DIR": str(tmp)}
    env.pop("CALLBOARD_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        capture_output=True,
        timeout=120,
    )


def forget(conn: Any, source: str) -> None:
    """Remove what a test committed for `source` from the shared test database: its events,
    kept lines, position and health, and the derived rows made from them (rebuilt from what
    remains), so that no later test sees them."""
    from ingest.derived import rebuild

    for table in ("events", "source_lines", "source_positions", "source_stats"):
        conn.execute(f"DELETE FROM {table} WHERE source = %s", (source,))
    with conn.transaction():
        rebuild(conn)
