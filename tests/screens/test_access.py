"""Every path from a screen to data goes through the API's token rules (issue 10, item 3), and
CSV exports cannot smuggle formulas into a spreadsheet (item 11)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

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
