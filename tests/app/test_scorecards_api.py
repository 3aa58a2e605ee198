from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient


def _day() -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)

    def ts(seconds_ago: float) -> str:
        return (now - timedelta(seconds=seconds_ago)).isoformat()

    out: list[dict[str, Any]] = []
    for i in range(12):
        t = 3000 - i * 200
        for agent, talk in (("fast", 60), ("slow", 300)):
            cid = f"{agent}{i}"
            out += [
                {
                    "id": f"{cid}q",
                    "ts": ts(t),
                    "type": "call.queued",
                    "call_id": cid,
                    "queue": "q",
                    "customer": f"k{cid}",
                },
                {
                    "id": f"{cid}a",
                    "ts": ts(t - 5),
                    "type": "call.answered",
                    "call_id": cid,
                    "queue": "q",
                    "agent": agent,
                },
                {
                    "id": f"{cid}e",
                    "ts": ts(t - 5 - talk),
                    "type": "call.ended",
                    "call_id": cid,
                    "queue": "q",
                    "agent": agent,
                    "ended_by": "agent" if agent == "fast" else "customer",
                },
                {
                    "id": f"{cid}s",
                    "ts": ts(t - 10 - talk),
                    "type": "survey.completed",
                    "call_id": cid,
                    "csat": 2 if agent == "fast" else 5,
                    "resolved": agent == "slow",
                },
            ]
    return out


def test_scorecards_rank_and_flag(client: TestClient) -> None:
    client.post("/api/v1/events", json=_day())
    # the last 60 minutes hold the whole stream at any hour (today would not just after midnight)
    body = client.get("/api/v1/scorecards", params={"level": "agent", "window": "60m"}).json()
    rows = {r["key"]: r for r in body["rows"]}
    assert [r["key"] for r in body["rows"]] == ["slow", "fast"]
    fast = rows["fast"]
    assert fast["kpis"]["aht_s"]["capped_by"] == "csat"
    codes = {f["code"]: f for f in fast["flags"]}
    assert "aht_s_but_csat" in codes
    assert codes["agent_hangup_rate"]["params"]["mine"] == 1.0
    assert "100% of calls hung up before the caller did" in codes["agent_hangup_rate"]["text"]
    assert not any("_" in f["text"] for f in fast["flags"]), "no key leaks into the words"
    assert set(fast["perspectives"]) == {"efficiency", "quality", "customer", "employee"}


def test_the_center_has_its_balances(client: TestClient) -> None:
    client.post("/api/v1/events", json=_day())
    body = client.get("/api/v1/scorecards", params={"level": "center", "window": "60m"}).json()
    b = body["balances"]
    assert set(b) == {
        "ninety_ninety",
        "efficiency_quality",
        "service_cost",
        "customer_employee",
        "now_future",
    }
    assert b["ninety_ninety"]["service_level"] == 1.0


def test_a_wallboard_may_not_see_agents_scorecards(
    anonymous: TestClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token('wallboard')}"}
    assert anonymous.get("/api/v1/scorecards?level=agent", headers=headers).status_code == 403
    assert anonymous.get("/api/v1/scorecards?level=team", headers=headers).status_code == 200
