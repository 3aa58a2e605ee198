from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app import migrate
from app.auth.service import create_token
from app.config import CallboardConfig, store_config
from app.main import create_app
from app.settings import Settings
from tests.conftest import libpq

TEAMS = {"north": {"agents": ["a1", "a2"]}, "south": {"agents": ["a3"]}}


@pytest.fixture
def live_db(fresh_db: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A committed database with the teams and a token per role (the hub and the websocket
    read with their own connections, so nothing can hide in a test transaction)."""
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    with psycopg.connect(libpq(fresh_db)) as conn:
        store_config(conn, CallboardConfig.model_validate({"teams": TEAMS}), origin="test")
        tokens = {
            "admin": create_token(conn, role="admin"),
            "ingest": create_token(conn, role="ingest"),
            "wallboard": create_token(conn, role="wallboard"),
            "a1": create_token(conn, role="agent", agent="a1"),
            "north": create_token(conn, role="supervisor", teams=("north",)),
        }
        conn.commit()
    yield fresh_db, tokens


@pytest.fixture
def live_client(live_db: tuple[str, dict[str, str]]) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url, tokens = live_db
    app = create_app(Settings(database_url=url, tick_s=0.05, config=None))
    with TestClient(app) as client:
        app.state.hub.max_age_s = 60  # in these tests only changes trigger a recompute
        app.state.hub.heartbeat_s = 0.2  # keeps frames coming, so waits end by their deadline
        yield client, tokens


def frames_until(
    ws: Any, topic: str, kind: str | None = None, timeout: float = 10
) -> dict[str, Any]:
    """The next frame of a topic (and kind); heartbeats keep frames coming, the deadline ends
    a wait that would otherwise block."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = ws.receive_json()
        if frame["topic"] == topic and (kind is None or frame.get("kind") == kind):
            return frame
    raise AssertionError(f"no {kind or ''} frame for {topic} within {timeout} s")


def snapshots(ws: Any, topics: set[str], timeout: float = 10) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    out: dict[str, dict[str, Any]] = {}
    while topics - out.keys() and time.monotonic() < deadline:
        frame = ws.receive_json()
        if frame.get("kind") == "snapshot":
            out[frame["topic"]] = frame
    assert not topics - out.keys(), f"no snapshot for {topics - out.keys()}"
    return out
