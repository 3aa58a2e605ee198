"""Shared fixtures of the source tests: the app of tests/app (for /metrics), a migrated and
committed database, and the command line run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import migrate
from tests.app.conftest import app, make_token

__all__ = ["app", "cli", "make_token", "migrated"]


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
