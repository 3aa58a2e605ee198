from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def live_client(live_db: tuple[str, dict[str, str]]) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url, tokens = live_db
    app = create_app(Settings(database_url=url, tick_s=0.05, config=None))
    with TestClient(app) as client:
        app.state.hub.max_age_s = 60  # in these tests only changes trigger a recompute
        app.state.hub.clock_s = 60  # (the clock's computation included)
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
