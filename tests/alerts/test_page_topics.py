"""A page follows only the alerts topics its token may see (the socket refuses the others, and
one refused topic closes the page's whole socket): what GET /api/v1/screens/page hands each
role, and who may acknowledge from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.alerts.live import page_topics
from app.auth.service import Principal, create_token
from tests.alerts.conftest import config


@pytest.fixture
def page(app: FastAPI, pg: psycopg.Connection[Any]) -> Callable[..., dict[str, Any]]:
    app.state.config = config()  # north (a1, a2), south (a3)
    # the reference rows store_config writes (not called here: the app's start takes its lock)
    pg.execute("INSERT INTO teams (name) VALUES ('north'), ('south')")
    pg.execute(
        "INSERT INTO agents (id, team) VALUES ('a1', 'north'), ('a2', 'north'), ('a3', 'south')"
    )
    tokens = {
        "wallboard": create_token(pg, role="wallboard"),
        "a1": create_token(pg, role="agent", agent="a1"),
        "north": create_token(pg, role="supervisor", teams=("north",)),
        "admin": create_token(pg, role="admin"),
    }

    def get(who: str, screen: str, **query: str) -> dict[str, Any]:
        with TestClient(app) as c:
            r = c.get(
                "/api/v1/screens/page",
                params={"screen": screen, **query},
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
        assert r.status_code == 200, r.text
        return dict(r.json())

    return get


def test_each_screen_follows_the_alerts_its_token_may_see(
    page: Callable[..., dict[str, Any]],
) -> None:
    wall = page("wallboard", "wall")
    assert wall["topics"] == ["center", "feed", "alerts"] and wall["ack"] is False
    assert wall["board"]["sound"] is False
    assert page("a1", "wall")["topics"] == ["center", "feed", "alerts"]
    mine = page("a1", "agent", agent="a1")
    assert mine["topics"] == ["agent:a1", "feed", "alerts:agent:a1"] and mine["ack"] is False
    theirs = page("north", "agent", agent="a1")  # a supervisor on one of their agents' widget
    assert theirs["topics"] == ["agent:a1", "feed", "alerts:agent:a1"] and theirs["ack"] is True
    sup = page("north", "sup")
    assert sup["topics"] == ["center", "team:north", "sources", "alerts", "alerts:team:north"]
    assert sup["ack"] is True
    assert page("admin", "sup")["topics"] == [
        "center",
        "team:north",
        "team:south",
        "sources",
        "alerts",
        "alerts:team:north",
        "alerts:team:south",
    ]


@pytest.mark.parametrize(
    ("principal", "wanted"),
    [
        (Principal(role="wallboard"), ["alerts"]),
        (Principal(role="agent", agent="a1", own_team="north"), ["alerts", "alerts:agent:a1"]),
        (
            Principal(role="supervisor", teams=frozenset({"north"})),
            ["alerts", "alerts:team:north", "alerts:agent:a1"],
        ),
        (Principal(role="ingest"), []),
    ],
)
def test_only_topics_the_token_may_follow(principal: Principal, wanted: list[str]) -> None:
    asked = ["center", "team:north", "team:south", "agent:a1", "agent:a3", "queue:billing"]
    teams = {"a1": "north", "a3": "south"}
    assert page_topics(principal, asked, teams) == wanted
