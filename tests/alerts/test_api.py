"""GET /api/v1/alerts and the acknowledgement, filtered by role like the metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.alerts.service import evaluate_tick
from app.auth.service import create_token
from tests.alerts.conftest import backlog, config

RULES = [
    backlog(above=2),
    {"name": "north slow", "scope": "team:north", "metric": "aht_s", "above": 300},
    {"name": "south slow", "scope": "team:south", "metric": "aht_s", "above": 300},
    {
        "name": "long wrap-up",
        "scope": "center",
        "each_agent": True,
        "metric": "wrap_up_s",
        "above": 180,
        "severity": "info",
    },
]
ROWS = {
    "queue": {"billing": {"key": "billing", "waiting_now": 5}},
    "team": {"north": {"key": "north", "aht_s": 400.0}, "south": {"key": "south", "aht_s": 410.0}},
    "agent": {
        a: {"key": a, "team": team, "state": "wrap_up", "time_in_state_s": 200.0}
        for a, team in (("a1", "north"), ("a3", "south"))
    },
}


@pytest.fixture
def floor(app: FastAPI, pg: psycopg.Connection[Any]) -> dict[str, str]:
    cfg = config(alerts=RULES)
    app.state.config = cfg
    # the reference rows store_config writes (not called here: the app's start takes its lock)
    pg.execute("INSERT INTO teams (name) VALUES ('north'), ('south')")
    pg.execute("INSERT INTO agents (id, team) VALUES ('a1', 'north'), ('a3', 'south')")
    evaluate_tick(pg, cfg, ROWS, datetime.now(UTC))
    return {
        "admin": create_token(pg, role="admin", label="Dana (admin)"),
        "wallboard": create_token(pg, role="wallboard"),
        "north": create_token(pg, role="supervisor", teams=("north",), label="Maria (north)"),
        "a1": create_token(pg, role="agent", agent="a1"),
        "ingest": create_token(pg, role="ingest"),
    }


def scopes(client: TestClient, token: str, query: str = "") -> set[str]:
    r = client.get(f"/api/v1/alerts{query}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return {a["scope"] for a in r.json()["active"]}


def test_each_role_sees_what_it_may(app: FastAPI, floor: dict[str, str]) -> None:
    with TestClient(app) as client:
        everything = {"queue:billing", "team:north", "team:south", "agent:a1", "agent:a3"}
        assert scopes(client, floor["admin"]) == everything
        assert scopes(client, floor["wallboard"]) == {"queue:billing", "team:north", "team:south"}
        assert scopes(client, floor["north"]) == {"queue:billing", "team:north", "agent:a1"}
        assert scopes(client, floor["a1"]) == {"queue:billing", "team:north", "agent:a1"}
        assert scopes(client, floor["north"], "?scope=team:north") == {"team:north", "agent:a1"}
        assert client.get("/api/v1/alerts").status_code == 401
        denied = client.get(
            "/api/v1/alerts", headers={"Authorization": f"Bearer {floor['ingest']}"}
        )
        assert denied.status_code == 403


def test_acknowledge_by_a_supervisor_of_the_scope(app: FastAPI, floor: dict[str, str]) -> None:
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {floor['admin']}"}
        ids = {
            a["scope"]: a["id"] for a in client.get("/api/v1/alerts", headers=auth).json()["active"]
        }

        def ack(who: str, scope: str, body: dict[str, Any] | None = None) -> Any:
            return client.post(
                f"/api/v1/alerts/{ids[scope]}/ack",
                json=body,
                headers={"Authorization": f"Bearer {floor[who]}"},
            )

        assert ack("a1", "agent:a1").status_code == 403  # agents do not acknowledge
        assert ack("wallboard", "queue:billing").status_code == 403
        assert ack("north", "agent:a3").status_code == 403  # not their team
        r = ack("north", "agent:a1")
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_by"] == "Maria (north)" and r.json()["acknowledged_at"]
        # the acknowledger is who is signed in (issue 25, finding 9), never the body's word
        assert ack("admin", "queue:billing", {"by": "Olga"}).status_code == 422
        r = ack("admin", "queue:billing", {"by": "Dana (admin)"})
        assert r.json()["acknowledged_by"] == "Dana (admin)"
        listed = {
            a["scope"]: a for a in client.get("/api/v1/alerts", headers=auth).json()["active"]
        }
        assert listed["agent:a1"]["acknowledged_by"] == "Maria (north)"
        assert listed["team:north"]["acknowledged_by"] is None
        missing = client.post("/api/v1/alerts/999999/ack", headers=auth)
        assert missing.status_code == 404


def test_all_lists_cleared_alerts_too(
    app: FastAPI, pg: psycopg.Connection[Any], floor: dict[str, str]
) -> None:
    rows = {**ROWS, "queue": {"billing": {"key": "billing", "waiting_now": 0}}}
    evaluate_tick(pg, app.state.config, rows, datetime.now(UTC))
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {floor['admin']}"}
        body = client.get("/api/v1/alerts?all=true", headers=auth).json()
        assert "queue:billing" not in {a["scope"] for a in body["active"]}
        assert [a["scope"] for a in body["cleared"]] == ["queue:billing"]
        assert body["cleared"][0]["cleared_at"] is not None
        assert client.get("/api/v1/alerts", headers=auth).json()["cleared"] is None


def test_the_screens_cookie_acknowledges_only_with_their_header(
    app: FastAPI, floor: dict[str, str]
) -> None:
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {floor['admin']}"}
        ids = {
            a["scope"]: a["id"]
            for a in client.get("/api/v1/alerts", headers=admin).json()["active"]
        }
        client.cookies.set("callboard_token", floor["north"])
        url = f"/api/v1/alerts/{ids['team:north']}/ack"
        assert client.post(url).status_code == 401  # another site's form: no header, no write
        r = client.post(url, headers={"X-Callboard-Screen": "1"})
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_by"] == "Maria (north)"
