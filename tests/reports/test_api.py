"""GET /api/v1/reports/{name}: JSON by the response model, CSV / XLSX / PDF files, roles,
clear errors; formula-like text written as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.clock import Clock
from tests.app.conftest import app, make_token
from tests.reports.conftest import NOW

__all__ = ["app", "make_token"]

Q = {"from": "2026-11-19", "to": "2026-11-20"}


@pytest.fixture
def api(
    center: tuple[psycopg.Connection[Any], Any], app: FastAPI, make_token: Callable[..., str]
) -> Iterator[tuple[TestClient, Callable[..., str]]]:
    _, config = center
    app.state.config = config
    app.state.clock = Clock(NOW, 0.0, 0.0)
    with TestClient(app) as c:
        app.state.config = config  # the lifespan reads its own; the test's center is this one
        app.state.clock = Clock(NOW, 0.0, 0.0)
        c.headers["Authorization"] = f"Bearer {make_token('admin')}"
        yield c, make_token


def test_json_by_the_model(api: Any) -> None:
    c, _ = api
    r = c.get("/api/v1/reports/queues", params={**Q, "by": "queue", "interval": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"report", "from", "to", "by", "interval", "rows", "totals", "rule"}
    assert body["from"] == "2026-11-19" and body["interval"] == 30
    assert body["rows"][0]["start"] == "00:00"
    assert "service_level" in body["rows"][0]


def test_files(api: Any) -> None:
    c, _ = api
    r = c.get("/api/v1/reports/agents", params={**Q, "by": "agent", "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["group", "day"] and len(rows) > 5
    r = c.get("/api/v1/reports/queues", params={**Q, "by": "queue", "format": "xlsx"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    heads = [c.value for c in ws[5]]
    sl = heads.index("SL")
    first = ws.cell(row=6, column=sl + 1)
    assert isinstance(first.value, float) and first.number_format == "0.0%"
    r = c.get("/api/v1/reports/waits", params={**Q, "by": "queue", "format": "pdf", "lang": "ru"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_formula_text_is_text(api: Any, center: Any) -> None:
    conn, _ = center
    conn.execute(
        "UPDATE contact_segments SET customer = '=HYPERLINK(1)' WHERE outcome = 'abandoned'"
    )
    c, _ = api
    r = c.get("/api/v1/reports/abandoned", params={**Q, "by": "queue", "format": "csv"})
    text = r.content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    r = c.get("/api/v1/reports/abandoned", params={**Q, "by": "queue", "format": "xlsx"})
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    values = [cell.value for row in ws.iter_rows() for cell in row]
    assert "'=HYPERLINK(1)" in values and "=HYPERLINK(1)" not in values


def test_roles_and_errors(api: Any, center: Any) -> None:
    c, make_token = api
    _, config = center
    team = sorted(config.teams)[0]
    sup = {"Authorization": f"Bearer {make_token('supervisor', teams=(team,))}"}
    r = c.get("/api/v1/reports/agents", params={**Q, "by": "agent"}, headers=sup)
    assert r.status_code == 200
    members = set(config.teams[team].agents)
    assert r.json()["rows"] and {row["key"] for row in r.json()["rows"]} <= members
    r = c.get("/api/v1/reports/queues", params={**Q, "by": "center"}, headers=sup)
    assert r.status_code == 422 and "center" in r.json()["detail"]
    agent = {"Authorization": f"Bearer {make_token('agent', agent='x')}"}
    assert c.get("/api/v1/reports/queues", params=Q, headers=agent).status_code == 403
    assert c.get("/api/v1/reports/nope", params=Q).status_code == 422
    bad = c.get("/api/v1/reports/queues", params={"from": "2026-11-20", "to": "2026-11-19"})
    assert bad.status_code == 422 and "after" in bad.json()["detail"]
    assert c.get("/api/v1/reports/queues", params={**Q, "interval": 20}).status_code == 422
    assert c.get("/api/v1/reports/waits", params={**Q, "buckets": "x"}).status_code == 422
