"""The alerts topics on the live websocket: a breach is on the wall on the tick that sees it
and goes when the metric is back; who may follow which alerts topic."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.main import create_app
from app.settings import Settings
from tests.alerts.conftest import TEAMS, abandoned, queued
from tests.live.conftest import frames_until


@pytest.fixture
def client(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url, tokens = live_db
    path = tmp_path / "callboard.toml"
    path.write_text(
        tomli_w.dumps(
            {
                "queues": {"billing": {}},
                "teams": TEAMS,
                "alerts": [
                    {
                        "name": "billing backlog",
                        "scope": "queue:billing",
                        "metric": "waiting_now",
                        "above": 2,
                        "severity": "critical",
                    }
                ],
            }
        )
    )
    app = create_app(Settings(database_url=url, tick_s=0.05, config=path))
    with TestClient(app) as c:
        app.state.hub.max_age_s = 60
        app.state.hub.heartbeat_s = 0.2
        yield c, tokens
        # let a computation in flight end before the app stops: the hub's stop does not wait
        # for its worker thread, whose connection would outlive the disposed engine
        time.sleep(0.5)


def post(client: TestClient, token: str, events: list[dict[str, Any]]) -> None:
    r = client.post("/api/v1/events", json=events, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


def test_a_breach_reaches_the_wall_and_clears(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client
    with c.websocket_connect(
        f"/api/v1/live?topics=alerts,center&token={tokens['wallboard']}"
    ) as ws:
        first = frames_until(ws, "alerts", "snapshot")
        assert first["data"]["active"] == []
        post(c, tokens["ingest"], queued(3, "w"))
        frame = frames_until(ws, "alerts", "patch")
        [alert] = frame["data"]["active"]
        assert (alert["name"], alert["severity"], alert["value"]) == (
            "billing backlog",
            "critical",
            3,
        )
        assert alert["code"] == "above" and alert["params"]["threshold"] == 2
        post(c, tokens["ingest"], abandoned(3, "w"))
        assert frames_until(ws, "alerts", "patch")["data"]["active"] == []


@pytest.mark.parametrize(
    ("who", "topic", "allowed"),
    [
        ("wallboard", "alerts", True),
        ("a1", "alerts", True),
        ("wallboard", "alerts:team:north", False),
        ("north", "alerts:team:north", True),
        ("north", "alerts:team:south", False),
        ("a1", "alerts:agent:a1", True),
        ("a1", "alerts:agent:a2", False),
        ("admin", "alerts:agent:a3", True),
        # a supervisor opening one of their agents' widgets follows that agent's alerts
        ("north", "alerts:agent:a1", True),
        ("north", "alerts:agent:a3", False),
    ],
)
def test_who_may_follow_which_alerts(
    client: tuple[TestClient, dict[str, str]], who: str, topic: str, allowed: bool
) -> None:
    c, tokens = client
    with c.websocket_connect(f"/api/v1/live?topics={topic}&token={tokens[who]}") as ws:
        if allowed:
            assert frames_until(ws, topic, "snapshot")["data"]["active"] == []
        else:
            with pytest.raises(WebSocketDisconnect) as exc:
                ws.receive_json()
            assert exc.value.code == 4403
