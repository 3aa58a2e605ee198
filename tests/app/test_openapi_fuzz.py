"""The events route fuzzed from the API's own OpenAPI schema (schemathesis strategies, valid and
invalid): never a 500, every item accounted for, and every accepted item really stored."""

from __future__ import annotations

from typing import Any

import psycopg
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.main import create_app
from app.settings import Settings
from tests.helpers import count

_schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="unused")).openapi())
_events = _schema["/api/v1/events"]["POST"]
CASES = st.one_of(
    _events.as_strategy(GenerationMode.POSITIVE), _events.as_strategy(GenerationMode.NEGATIVE)
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=CASES)
def test_events_route_never_fails_and_loses_nothing(
    client: TestClient, pg: psycopg.Connection[Any], case: Any
) -> None:
    kw = case.as_transport_kwargs(base_url="http://testserver")
    request: dict[str, Any] = {
        "method": kw["method"],
        "url": kw["url"],
        "headers": {k: v for k, v in kw["headers"].items() if k.lower() != "content-length"},
        "params": kw.get("params") or None,
    }
    if "json" in kw:
        request["json"] = kw["json"]
    elif "data" in kw:
        request["content"] = kw["data"]
    with pg.transaction(force_rollback=True):
        before = count(pg, "events")
        response = client.request(**request)
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            body = response.json()
            sent = kw.get("json")
            assert isinstance(sent, list)
            assert body["inserted"] + body["duplicates"] + body["rejected"] == len(sent)
            assert count(pg, "events") == before + body["inserted"]
        else:
            assert response.status_code in (400, 413, 422), response.text
