"""What a socket may hold: the center's teams by the token's rule, a revoked token's sockets
closed, and topics nobody watches forgotten (issue 10, items 5, 10 and 15)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from starlette.websockets import WebSocketDisconnect

from app.auth.service import digest
from app.live import topics as topics_module
from tests.live.conftest import frames_until, snapshots


@pytest.mark.parametrize(
    ("who", "teams"),
    [("a1", {"north"}), ("north", {"north"}), ("wallboard", {"north", "south"})],
)
def test_the_center_topic_holds_only_the_teams_the_token_may_see(
    live_client: Any, who: str, teams: set[str]
) -> None:
    client, tokens = live_client
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens[who]}") as ws:
        data = frames_until(ws, "center", "snapshot")["data"]
    assert data["windows"], "no windows"
    for section in data["windows"].values():
        assert set(section["teams"]) == teams


def test_a_revoked_token_s_socket_closes_within_5_s_with_4401(
    live_client: Any, live_db: tuple[str, dict[str, str]]
) -> None:
    client, tokens = live_client
    url, _ = live_db
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['north']}") as ws:
        frames_until(ws, "center", "snapshot")
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(
                "UPDATE tokens SET revoked_at = now() WHERE token_sha256 = %s",
                (digest(tokens["north"]),),
            )
        revoked = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as closed:
            while time.monotonic() - revoked < 10:  # heartbeats keep frames coming
                ws.receive_json()
    assert closed.value.code == 4401
    assert time.monotonic() - revoked < 5
    # the other tokens' sockets stay open
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['a1']}") as ws:
        frames_until(ws, "center", "snapshot")


def test_topics_nobody_subscribes_to_are_dropped(live_client: Any) -> None:
    client, tokens = live_client
    hub = client.app.state.hub
    for n in range(5):
        topic = f"queue:q{n}"
        with client.websocket_connect(f"/api/v1/live?topics={topic}&token={tokens['admin']}") as ws:
            frames_until(ws, topic, "snapshot")
            assert topic in hub.topics
        deadline = time.monotonic() + 5
        while topic in hub.topics and time.monotonic() < deadline:
            time.sleep(0.02)
        assert topic not in hub.topics
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['admin']}") as ws:
        frames_until(ws, "center", "snapshot")
        assert set(hub.topics) == {"center"}
        assert set(hub._pub) == {"center"}  # the leader stopped computing and publishing them


def test_a_plugged_in_topic_kind_is_one_registration(live_client: Any) -> None:
    client, tokens = live_client

    def produce(pg: Any, config: Any, rows: Any, now: Any) -> dict[str, Any]:
        queues = rows["today"]["queue"]
        return {"queues": sorted(queues), "windows": sorted(rows), "now": now.isoformat()}

    topics_module.register("probe", produce, needs=("queue",))
    try:
        url = f"/api/v1/live?topics=probe,queue:billing&token={tokens['wallboard']}"
        with client.websocket_connect(url) as ws:
            got = snapshots(ws, {"probe", "queue:billing"})
        probe = got["probe"]["data"]
        assert probe["windows"] == ["30m", "interval", "today"]
        assert probe["meta"]["version"] >= 1
        with (
            client.websocket_connect(f"/api/v1/live?topics=probe&token={tokens['ingest']}") as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        assert closed.value.code == 4403
    finally:
        topics_module.KINDS.pop("probe", None)


def test_healthz_reports_the_snapshot_age_and_metrics_the_tick(live_client: Any) -> None:
    client, tokens = live_client
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['admin']}") as ws:
        frames_until(ws, "center", "snapshot")
        live = client.get("/healthz").json()["live"]
    assert live["leader"] is True and 0 <= live["snapshot_age_s"] < 5
    text = client.get("/metrics", headers={"Authorization": f"Bearer {tokens['admin']}"}).text
    assert "callboard_live_tick_seconds_bucket" in text
    assert "callboard_live_tick_seconds_count" in text
