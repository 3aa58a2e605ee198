"""Issue 25, what the attack run found: each finding as an attacker tried it, and the
variants of its class (another origin, another line break, another path). Findings 3
(webhooks) and 4 (token flood) are in tests/alerts/test_outbox_per_target.py and
tests/adversarial/test_token_lanes.py."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.cells import FORMULA_START, csv_text, safe_cell
from app.config import CallboardConfig
from tests.live.conftest import frames_until

TEAMS = {"north": {"agents": ["a1", "a2"]}, "south": {"agents": ["a3"]}}


# --- 1. cross-site websocket hijacking ---------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://testserver.evil.example",  # a look-alike host
        "http://testserver:8443",  # another port of the same host
        "http://sub.testserver",  # a sibling / sub-domain
        "null",  # a sandboxed frame or a file
        "https://crm.example.com.evil.example",
    ],
)
def test_a_socket_from_another_origin_is_refused_before_any_frame(
    live_client: Any, origin: str
) -> None:
    client, tokens = live_client
    url = "/api/v1/live?topics=team:north"
    headers = {"origin": origin, "cookie": f"callboard_token={tokens['admin']}"}
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(url, headers=headers) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403


def test_the_served_host_and_the_allowed_origins_may_open_sockets(live_client: Any) -> None:
    client, tokens = live_client
    app: FastAPI = client.app
    config: CallboardConfig = app.state.config
    security = config.security.model_copy(update={"allowed_origins": ["https://crm.example.com"]})
    app.state.config = config.model_copy(update={"security": security})
    cookie = f"callboard_token={tokens['admin']}"
    for origin in ("http://testserver", "HTTPS://CRM.example.com", None):
        headers = {"cookie": cookie} | ({"origin": origin} if origin else {})
        with client.websocket_connect("/api/v1/live?topics=team:north", headers=headers) as ws:
            assert frames_until(ws, "team:north", "snapshot")["data"] is not None


def test_allowed_origins_must_be_origins() -> None:
    with pytest.raises(ValueError, match="allowed_origins"):
        CallboardConfig.model_validate({"security": {"allowed_origins": ["crm.example.com/x"]}})


# --- 2. CSV formula cells ---------------------------------------------------------------------

HOSTILE = [
    "\r=1+1",
    "Ann\r=1+1",
    "Ann\n@SUM(A1)",
    "Ann\r\n+cmd|' /C calc'!A0",
    "\t=1",
    " =1+1",
    "-2+3",
    '=HYPERLINK("http://x")',
    "Ann\r\r\t-1",
    "\uff1d1+1",  # a full-width equals sign, which some spreadsheets read as "="
]


def _cells(text: str) -> list[str]:
    """Every cell as RFC 4180 readers split the file, and as naive line splitters do."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    naive = [row for line in text.splitlines() for row in csv.reader([line])]
    return [c for row in rows + naive for c in row]


def _live(cell: str) -> bool:
    try:
        float(cell)  # a number (-3) is a value, not a formula
        return False
    except ValueError:
        return cell.lstrip(" \t\r\n").startswith(FORMULA_START)


@pytest.mark.parametrize("name", HOSTILE)
def test_no_cell_a_reader_finds_starts_a_formula(name: str) -> None:
    text = csv_text(["agent", "n"], [[name, -3], ["ok", 2.5]])
    cells = _cells(text)
    assert not [c for c in cells if _live(c)], cells
    # what a reader reads back is the value, behind the apostrophe that keeps it text
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[1][0].replace("'", "") == name.replace("'", "")
    assert read[1][1] == "-3"  # numbers stay numbers


def test_the_neutraliser_is_one_function_for_every_writer() -> None:
    assert safe_cell("a\r=1") != "a\r=1"
    assert safe_cell(-1) == -1 and safe_cell(None) is None and safe_cell("Ann") == "Ann"


def test_the_export_route_writes_no_live_cell(
    app: FastAPI, pg: psycopg.Connection[Any], make_token: Callable[..., str]
) -> None:
    admin = make_token("admin")
    ingest = make_token("ingest")
    now = "2026-12-07T09:00:00+00:00"
    events = [
        {"id": f"s{i}", "ts": now, "type": "agent.state", "agent": name, "state": "available"}
        for i, name in enumerate(HOSTILE[:4])
    ]
    with TestClient(app) as c:
        r = c.post("/api/v1/events", json=events, headers={"Authorization": f"Bearer {ingest}"})
        assert r.status_code == 200, r.text
        r = c.get(
            "/api/v1/screens/sup/export/agents.csv", headers={"Authorization": f"Bearer {admin}"}
        )
    assert r.status_code == 200
    assert not [c for c in _cells(r.text) if _live(c)]


# --- 5. ?token= sets the cookie only for a token that resolves --------------------------------


def test_a_token_that_does_not_resolve_sets_no_cookie(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    good = make_token("wallboard")
    with TestClient(app, follow_redirects=False) as c:
        c.cookies.set("callboard_token", good)
        for bad in ("x", "cb_made_up_token", ""):
            r = c.get(f"/wall?token={bad}")
            assert r.status_code == 303
            assert "set-cookie" not in r.headers, bad
        assert c.get("/wall").status_code == 200  # still signed in


def test_a_valid_token_sets_the_cookie_but_never_replaces_another_one(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    mine, theirs = make_token("supervisor", teams=("north",)), make_token("wallboard")
    with TestClient(app, follow_redirects=False) as c:
        r = c.get(f"/sup?token={mine}")
        assert "callboard_token=" + mine in r.headers["set-cookie"]
        c.cookies.set("callboard_token", mine)
        # an attacker's link carrying their own (valid) token: the signed-in browser stays so
        r = c.get(f"/wall?token={theirs}")
        assert "set-cookie" not in r.headers
        # and no other site's link signs a browser in at all
        c.cookies.clear()
        r = c.get(f"/wall?token={theirs}", headers={"sec-fetch-site": "cross-site"})
        assert "set-cookie" not in r.headers


# --- 6. the screen shell without a check ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sup/", 401),
        ("/agent/a01%2F", 401),
        ("/agent/a01/", 401),
        ("/wall/", 401),
        ("/wall/..%2Fx", 404),
        ("/wall/nope", 404),
        ("/wall/default/x", 404),
        ("/nope", 404),
        ("/sup/x", 404),
        ("/", 401),  # leads to /sup
        ("/index.html", 404),
    ],
)
def test_no_path_serves_the_shell_without_a_check(
    anonymous: TestClient, path: str, status: int
) -> None:
    r = anonymous.get(path)
    assert r.status_code == status, (path, r.status_code, r.text[:200])
    assert "_dash-config" not in r.text and "dash-renderer" not in r.text


def test_the_screens_still_open_with_a_token(app: FastAPI, make_token: Callable[..., str]) -> None:
    admin = make_token("admin")
    with TestClient(app, headers={"Authorization": f"Bearer {admin}"}) as c:
        for path in ("/sup", "/wall", "/sup/", "/wall/default"):
            r = c.get(path)
            assert r.status_code == 200 and "_dash-config" in r.text, path


# --- 7. a binary frame on the live socket -----------------------------------------------------


@pytest.mark.parametrize("frame", [b"\x00\x01", b"{}"])
def test_a_binary_frame_closes_cleanly_with_a_code(
    live_client: Any, caplog: pytest.LogCaptureFixture, frame: bytes
) -> None:
    client, tokens = live_client
    caplog.set_level(logging.WARNING)
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['admin']}") as ws:
        frames_until(ws, "center", "snapshot")
        ws.send_bytes(frame)
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(100):
                ws.receive_json()
    assert closed.value.code == 1003
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_text_from_the_client_is_still_ignored(live_client: Any) -> None:
    client, tokens = live_client
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['admin']}") as ws:
        frames_until(ws, "center", "snapshot")
        ws.send_text("ping")
        assert frames_until(ws, "_heartbeat")


# --- 8. ingest tokens limited to named sources ------------------------------------------------


def test_an_ingest_token_writes_only_its_sources(app: FastAPI, pg: psycopg.Connection[Any]) -> None:
    from app.auth.service import create_token

    token = create_token(pg, role="ingest", sources=("pbx",), label="pbx feed")
    now = "2026-12-07T09:00:00+00:00"
    events = [
        {
            "id": "e1",
            "source": "pbx",
            "ts": now,
            "type": "call.queued",
            "call_id": "c1",
            "queue": "q",
        },
        {
            "id": "e2",
            "source": "crm",
            "ts": now,
            "type": "call.queued",
            "call_id": "c2",
            "queue": "q",
        },
        {"id": "e3", "ts": now, "type": "call.queued", "call_id": "c3", "queue": "q"},  # "api"
    ]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post("/api/v1/events", json=events)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["inserted"] == 1 and body["rejected"] == 2
        assert {e["index"] for e in body["errors"]} == {1, 2}
        assert all("source" in e["message"] for e in body["errors"])
        # the platform adapters name their source in the query: the same rule
        r = c.post("/api/v1/sources/amazon-connect?source=crm", content=b"[]")
        assert r.status_code == 403
    stored = pg.execute("SELECT source, id FROM events ORDER BY id").fetchall()
    assert stored == [("pbx", "e1")]


def test_an_unlimited_ingest_token_writes_any_source(
    app: FastAPI, make_token: Callable[..., str]
) -> None:
    token = make_token("ingest")
    now = "2026-12-07T09:00:00+00:00"
    events = [
        {
            "id": "e9",
            "source": "crm",
            "ts": now,
            "type": "call.queued",
            "call_id": "c",
            "queue": "q",
        }
    ]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.post("/api/v1/events", json=events).json()["inserted"] == 1


def test_sources_limit_only_ingest_tokens(pg: psycopg.Connection[Any]) -> None:
    from app.auth.service import create_token

    with pytest.raises(ValueError, match="ingest"):
        create_token(pg, role="admin", sources=("pbx",))


# --- 10. header sizes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"accept-language": "en;q=0.5," * 100_000},
        {"x-anything": "a" * 20_000},
        {"cookie": "a=" + "b" * 20_000},
        {f"x-h{i}": "a" * 1000 for i in range(80)},
    ],
)
def test_oversized_headers_are_refused_before_any_route(
    anonymous: TestClient, headers: dict[str, str]
) -> None:
    for path in ("/api/v1/screens/words", "/healthz", "/wall"):
        r = anonymous.get(path, headers=headers)
        assert r.status_code == 431, (path, r.status_code)


def test_a_long_but_fair_accept_language_is_read(anonymous: TestClient) -> None:
    header = ",".join(f"x{i};q=0.1" for i in range(300)) + ",ru;q=0.9"
    assert len(header) < 8192
    r = anonymous.get("/api/v1/screens/words", headers={"accept-language": header})
    assert r.status_code == 200 and r.json()["common.page_401"] != ""
