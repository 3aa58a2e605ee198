"""Every path from a screen to data goes through the API's token rules (issue 10, item 3), and
CSV exports cannot smuggle formulas into a spreadsheet (item 11)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.cells import safe_cell as csv_safe


def _at(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def _contacts() -> list[dict[str, Any]]:
    return [
        {
            "id": "q1",
            "ts": _at(120),
            "type": "call.queued",
            "call_id": "c1",
            "queue": "billing",
            "customer": '=HYPERLINK("http://x","+4930111")',
        },
        {
            "id": "q2",
            "ts": _at(60),
            "type": "call.queued",
            "call_id": "c2",
            "queue": "billing",
            "customer": "+4930222",
        },
    ]


def _dash_drill(token: str) -> dict[str, Any]:
    """The request the old /sup drill-down callback answered with contact rows."""
    return {
        "output": "sup-contacts-data.data",
        "outputs": {"id": "sup-contacts-data", "property": "data"},
        "inputs": [{"id": "sup-selection", "property": "data", "value": {"queue": "billing"}}],
        "changedPropIds": ["sup-selection.data"],
        "state": [{"id": "url", "property": "search", "value": f"?token={token}"}],
    }


@pytest.mark.parametrize("role", ["wallboard", "ingest", "agent"])
def test_no_dash_callback_hands_out_contacts(
    anonymous: TestClient, make_token: Callable[..., str], role: str
) -> None:
    admin = {"Authorization": f"Bearer {make_token('admin')}"}
    posted = anonymous.post("/api/v1/events", json=_contacts(), headers=admin)
    assert posted.json()["inserted"] == 2
    token = make_token(role, agent="a1" if role == "agent" else None)
    anonymous.get("/")  # Dash sets itself up on its first request
    r = anonymous.post("/_dash-update-component", json=_dash_drill(token))
    assert r.status_code < 500
    assert "+4930222" not in r.text and "c2" not in r.text
    headers = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/v1/contacts?queue=billing", headers=headers).status_code == 403
    drill = anonymous.get("/api/v1/screens/sup/drill?queue=billing", headers=headers)
    assert drill.status_code == 403
    export = anonymous.get("/api/v1/screens/sup/export/contacts.csv", headers=headers)
    assert export.status_code == 403


def test_the_drill_down_answers_a_supervisor(client: TestClient) -> None:
    client.post("/api/v1/events", json=_contacts())
    body = client.get("/api/v1/screens/sup/drill?queue=billing").json()
    assert [r["call_id"] for r in body["contacts"]["rows"]] == ["c2", "c1"]  # newest first
    assert body["contacts"]["total"] == 2 and body["trend"]["by"] == "queue"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+4930", "'+4930"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "\r'=1"),  # the apostrophe where a reader starts the row
        ("billing", "billing"),
        (-2.5, -2.5),
        (None, None),
    ],
)
def test_csv_cells_that_would_be_formulas_stay_text(value: Any, written: Any) -> None:
    assert csv_safe(value) == written


def test_the_contacts_export_neutralises_formulas(client: TestClient) -> None:
    client.post("/api/v1/events", json=_contacts())
    r = client.get("/api/v1/screens/sup/export/contacts.csv?queue=billing")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    customers = {row["call_id"]: row["customer"] for row in rows}
    assert customers["c1"] == '\'=HYPERLINK("http://x","+4930111")'
    assert customers["c2"] == "'+4930222"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_the_contacts_export_writes_the_screen_s_zone_and_rounding(client: TestClient) -> None:
    client.post("/api/v1/events", json=_contacts())
    r = client.get("/api/v1/screens/sup/export/contacts.csv?queue=billing")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    tz = client.app.state.config.defaults.timezone  # type: ignore[attr-defined]
    assert f"queued_at ({tz})" in rows[0]
    queued = {row["call_id"]: row[f"queued_at ({tz})"] for row in rows}
    assert queued["c2"] == datetime.fromisoformat(_at(60)).astimezone(ZoneInfo(tz)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def test_a_break_that_runs_over_stays_the_agent_s_plan_until_they_are_back(
    client: TestClient,
) -> None:
    """The widget counts "over by" from the plan's end: the plan must still be the break once
    its end has passed while the agent is away (it turned to "productive" and the line went)."""
    now = datetime.now(UTC)
    at = lambda minutes: (now + timedelta(minutes=minutes)).isoformat()  # noqa: E731
    r = client.put(
        "/api/v1/schedules",
        json={
            "from": at(-60),
            "to": at(60),
            "entries": [
                {"agent": "a1", "start": at(-60), "end": at(-20), "activity": "productive"},
                {"agent": "a1", "start": at(-20), "end": at(-5), "activity": "break"},
                {"agent": "a1", "start": at(-5), "end": at(60), "activity": "productive"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    state = {"type": "agent.state", "agent": "a1", "queues": ["billing"]}
    events = [
        {**state, "id": "s1", "ts": at(-30), "state": "available"},
        {**state, "id": "s2", "ts": at(-19), "state": "away", "reason": "break"},
    ]
    assert client.post("/api/v1/events", json=events).json()["rejected"] == 0
    plan = client.get("/api/v1/screens/agent/a1/plan").json()
    assert plan["activity"] == "break"
    assert datetime.fromisoformat(plan["end"]) == datetime.fromisoformat(at(-5))
    back = {**state, "id": "s3", "ts": at(-1), "state": "available"}
    assert client.post("/api/v1/events", json=[back]).json()["rejected"] == 0
    assert client.get("/api/v1/screens/agent/a1/plan").json()["activity"] == "productive"
