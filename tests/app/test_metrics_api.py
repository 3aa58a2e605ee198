from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient


def _recent_events() -> list[dict[str, object]]:
    now = datetime.now(UTC).replace(microsecond=0)

    def ts(seconds_ago: int) -> str:
        return (now - timedelta(seconds=seconds_ago)).isoformat()

    return [
        {
            "id": "1",
            "ts": ts(600),
            "type": "agent.state",
            "agent": "api-a1",
            "state": "available",
            "queues": ["api-q"],
        },
        {"id": "2", "ts": ts(300), "type": "call.queued", "call_id": "api-c1", "queue": "api-q"},
        {
            "id": "3",
            "ts": ts(290),
            "type": "call.answered",
            "call_id": "api-c1",
            "queue": "api-q",
            "agent": "api-a1",
        },
        {
            "id": "4",
            "ts": ts(100),
            "type": "call.ended",
            "call_id": "api-c1",
            "queue": "api-q",
            "agent": "api-a1",
        },
        {"id": "5", "ts": ts(60), "type": "call.queued", "call_id": "api-c2", "queue": "api-q"},
    ]


def test_metrics_by_queue_over_a_rolling_window(client: TestClient) -> None:
    client.post("/api/v1/events", json=_recent_events())
    body = client.get("/api/v1/metrics", params={"by": "queue", "window": "15m"}).json()
    assert body["by"] == "queue" and body["window"] == "15m"
    [row] = [r for r in body["rows"] if r["key"] == "api-q"]
    assert (row["arrived"], row["answered"], row["asa_s"], row["waiting_now"]) == (2, 1, 10.0, 1)
    assert row["service_level"] == 1.0 and row["sl_formula"] == "standard"
    assert row["agents_by_state"] == {"logged_in": 1, "wrap_up": 1}


def test_metrics_over_a_closed_range_has_no_live_values(client: TestClient) -> None:
    client.post("/api/v1/events", json=_recent_events())
    end = datetime.now(UTC) - timedelta(seconds=1)
    params = {"by": "center", "from": (end - timedelta(hours=1)).isoformat(), "to": end.isoformat()}
    [row] = client.get("/api/v1/metrics", params=params).json()["rows"]
    assert row["arrived"] == 2 and row["waiting_now"] is None


def test_bad_windows_are_refused_with_the_reason(client: TestClient) -> None:
    r = client.get("/api/v1/metrics", params={"window": "5m"})
    assert r.status_code == 422 and "unknown window '5m'" in r.json()["detail"]
    r = client.get("/api/v1/metrics", params={"window": "15m", "from": "2026-11-20T08:00:00Z"})
    assert r.status_code == 422
    r = client.get(
        "/api/v1/metrics", params={"from": "2026-11-20T09:00:00Z", "to": "2026-11-20T08:00:00Z"}
    )
    assert r.status_code == 422 and "after" in r.json()["detail"]
    assert client.get("/api/v1/metrics", params={"by": "galaxy"}).status_code == 422


def test_one_agent_next_to_their_team(client: TestClient) -> None:
    client.post("/api/v1/events", json=_recent_events())
    body = client.get("/api/v1/agents/api-a1", params={"window": "60m"}).json()
    assert body["agent"] == "api-a1" and body["window"] == "60m"
    assert body["metrics"]["state"] == "wrap_up"
    assert body["metrics"]["handled"] == 1
    assert client.get("/api/v1/agents/nobody").status_code == 404
