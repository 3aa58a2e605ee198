"""The live websocket: snapshot first, then patches; who may subscribe to what; resuming."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.clock import Clock
from app.config import CallboardConfig
from app.live.engine import Update
from app.live.fanout import Publication, Subscriber, Topic
from app.live.hub import Hub
from app.live.topics import apply, diff
from tests.live.conftest import frames_until, snapshots


def _events(n: int, prefix: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "id": f"{prefix}{i}",
            "ts": (now - timedelta(seconds=30 - i)).isoformat(),
            "type": "call.queued",
            "call_id": f"{prefix}c{i}",
            "queue": "billing",
        }
        for i in range(n)
    ]


def post(client: TestClient, token: str, events: list[dict[str, Any]]) -> None:
    r = client.post("/api/v1/events", json=events, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


def test_snapshot_first_then_patches_that_rebuild_the_state(live_client: Any) -> None:
    client, tokens = live_client
    post(client, tokens["ingest"], _events(2, "x"))
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['wallboard']}") as ws:
        beat = frames_until(ws, "_heartbeat")
        assert beat["data"]["speed"] == 1.0 and "now" in beat["data"]
        first = frames_until(ws, "center", "snapshot")
        state = first["data"]
        assert state["windows"]["today"]["queues"]["billing"]["waiting_now"] == 2
        post(client, tokens["ingest"], _events(3, "y"))
        seq = first["seq"]
        while state["windows"]["today"]["queues"]["billing"]["waiting_now"] != 5:
            patch = frames_until(ws, "center", "patch")  # (a republished state: meta only)
            assert patch["seq"] > seq and patch["base"] == seq
            seq = patch["seq"]
            state = apply(state, patch["data"])
        assert "teams" not in patch["data"]["windows"]["today"]
    with client.websocket_connect(f"/api/v1/live?topics=center&token={tokens['wallboard']}") as ws:
        fresh = frames_until(ws, "center", "snapshot")["data"]
    assert apply(state, diff(state, fresh)) == fresh
    today, fresh_today = state["windows"]["today"], fresh["windows"]["today"]
    assert (
        today["queues"]["billing"]["waiting_now"] == fresh_today["queues"]["billing"]["waiting_now"]
    )


def test_a_reconnecting_client_resumes_with_the_current_state(live_client: Any) -> None:
    client, tokens = live_client
    url = f"/api/v1/live?topics=queue:billing&token={tokens['wallboard']}"
    with client.websocket_connect(url) as ws:
        before = frames_until(ws, "queue:billing", "snapshot")["data"]["windows"]["today"]["queue"]
    post(client, tokens["ingest"], _events(4, "z"))  # while disconnected
    with client.websocket_connect(url) as ws:
        after = frames_until(ws, "queue:billing", "snapshot")["data"]["windows"]["today"]["queue"]
    assert before is None  # no such queue yet
    assert after["waiting_now"] == 4


@pytest.mark.parametrize(
    ("who", "topics", "code"),
    [
        (None, "center", 4401),
        ("nobody", "center", 4401),
        ("ingest", "center", 4403),
        ("wallboard", "team:north", 4403),
        ("wallboard", "agent:a1", 4403),
        ("a1", "agent:a2", 4403),
        ("a1", "team:north", 4403),
        ("north", "team:south", 4403),
        ("north", "agent:a3", 4403),
        ("admin", "", 4400),
    ],
)
def test_topics_are_guarded_by_role(
    live_client: Any, who: str | None, topics: str, code: int
) -> None:
    client, tokens = live_client
    token = "" if who is None else tokens.get(who, "cb_nobody")
    with (
        client.websocket_connect(f"/api/v1/live?topics={topics}&token={token}") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == code


@pytest.mark.parametrize(
    ("who", "topics"),
    [
        ("a1", "agent:a1,center,queue:billing"),
        ("north", "team:north,agent:a2,center"),
        ("admin", "team:south,agent:a3"),
    ],
)
def test_allowed_topics_get_snapshots(live_client: Any, who: str, topics: str) -> None:
    client, tokens = live_client
    with client.websocket_connect(f"/api/v1/live?topics={topics}&token={tokens[who]}") as ws:
        got = snapshots(ws, set(topics.split(",")))
    for frame in got.values():
        meta = frame["data"]["meta"]
        assert meta["default_window"] == "today"
        assert set(frame["data"]["windows"]) == set(meta["windows"]) == {"today", "interval", "30m"}
        assert frame["ts"] == meta["computed_at"]


def test_a_slow_client_gets_the_latest_state_not_a_backlog() -> None:
    hub = Hub(engine=None, listen_url="", clock=Clock(), config=lambda: (CallboardConfig(), None))  # type: ignore[arg-type]
    sub = Subscriber(frozenset({"center"}))
    hub.subscribers.add(sub)

    def publish(n: int, data: dict[str, Any]) -> None:
        hub._apply(Publication(n, float(n), {"center": Topic(n, data, n, f"t{n}", float(n))}))

    publish(1, {"n": 1, "rows": {"a": 1, "b": 2}})
    first = sub.frames(hub)
    assert [f["kind"] for f in first if f["topic"] == "center"] == ["snapshot"]
    for n in range(2, 50):  # the client does not read while 48 versions go by
        publish(n, {"n": n, "rows": {"a": n, "c": 3}})
    [patch] = [f for f in sub.frames(hub) if f["topic"] == "center"]
    assert patch["seq"] == 49 and patch["ts"] == "t49"
    assert patch["data"] == {"n": 49, "rows": {"a": 49, "c": 3, "b": {"__deleted__": True}}}
    assert sub.frames(hub) == []  # nothing new: nothing sent
    assert asyncio.iscoroutinefunction(hub.stop)


def test_the_alert_rules_are_evaluated_at_most_once_a_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """A computation follows every NOTIFY (batches come many times a second); the rules are
    evaluated at most every tick_s, and one put off is due on the next tick, even when
    nothing new arrives by then."""
    import app.alerts.live

    evaluated: list[bool] = []

    def tick(*_a: Any, evaluate: bool = True, **_kw: Any) -> dict[str, Any]:
        evaluated.append(evaluate)
        return {}

    monkeypatch.setattr(app.alerts.live, "tick", tick)
    config = CallboardConfig()
    hub = Hub(engine=None, listen_url="", clock=Clock(), config=lambda: (config, None), tick_s=60)  # type: ignore[arg-type]
    for _ in range(3):
        hub._alerts(set(), {}, config, None, window="today")
    assert evaluated == [True, False, False]
    # the next tick brings nothing and was not notified: it still evaluates what was put off
    hub._rows, hub.notified, hub.alerts_evaluated_at = {"today": {}}, False, 0.0
    nothing = Update({}, set(), datetime.now(UTC))
    hub._event_tick(None, config, None, set(), nothing, meta_at=(1, ""))
    assert evaluated == [True, False, False, True]
    assert hub._event_tick(None, config, None, set(), nothing, meta_at=(2, "")) == {}
    assert len(evaluated) == 4  # nothing due, nothing new: no computation at all


def test_a_patch_names_its_base_and_a_client_that_missed_one_gets_a_snapshot() -> None:
    hub = Hub(engine=None, listen_url="", clock=Clock(), config=lambda: (CallboardConfig(), None))  # type: ignore[arg-type]
    sub = Subscriber(frozenset({"center", "queue:billing"}))
    hub.subscribers.add(sub)

    def publish(n: int, data: dict[str, Any]) -> None:
        hub._apply(Publication(n, float(n), {"center": Topic(n, data, n, f"t{n}", float(n))}))

    publish(1, {"rows": {"a": 1}})
    [snap] = [f for f in sub.frames(hub) if f["topic"] == "center"]
    publish(2, {"rows": {"a": 2}})
    [patch] = sub.frames(hub)
    assert (patch["kind"], patch["base"], patch["seq"]) == ("patch", snap["seq"], 2)
    sub.resend({"center", "queue:other"})  # the client lost its state; another topic is ignored
    assert sub.wake.is_set()
    [again] = sub.frames(hub)
    assert (again["kind"], again["seq"], again["data"]) == ("snapshot", 2, {"rows": {"a": 2}})


def test_a_client_asks_for_a_snapshot_over_the_socket(live_client: Any) -> None:
    client, tokens = live_client
    post(client, tokens["ingest"], _events(1, "s"))
    url = f"/api/v1/live?topics=queue:billing&token={tokens['wallboard']}"
    with client.websocket_connect(url) as ws:
        first = frames_until(ws, "queue:billing", "snapshot")
        ws.send_text("not json")  # asks nothing, closes nothing
        ws.send_json({"snapshot": ["queue:billing"]})
        again = frames_until(ws, "queue:billing", "snapshot")
    assert again["seq"] >= first["seq"]
    assert again["data"]["windows"]["today"]["queue"]["waiting_now"] == 1
