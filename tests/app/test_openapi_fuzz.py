"""Every operation of the API's own OpenAPI schema, fuzzed by schemathesis (valid and invalid
cases) against a center with data, with an admin token, a reader's, a made-up one or none:
never a 500, and on the events route every item accounted for and every accepted item stored.

Time-boxed: a fixed number of examples (FUZZ_EXAMPLES, default 1000) with a wall-clock budget
(FUZZ_SECONDS, default 60) after which the remaining examples are skipped."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.main import create_app
from app.settings import Settings
from ingest.writer import ingest
from tests.helpers import count
from tests.metrics.scenario import call, state

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
BUDGET_S = float(os.environ.get("FUZZ_SECONDS", "60"))

_schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="unused")).openapi())
_operations = [op.ok() for op in _schema.get_all_operations()]
CASES = st.one_of(
    *(op.as_strategy(GenerationMode.POSITIVE) for op in _operations),
    *(op.as_strategy(GenerationMode.NEGATIVE) for op in _operations),
)
WHO = st.sampled_from(["admin", "admin", "admin", "wallboard", "agent", "madeup", None])


@pytest.fixture
def center(pg: psycopg.Connection[Any], make_token: Callable[..., str]) -> dict[str, str | None]:
    """A little floor (so reads find rows) and a token per kind of caller."""
    events = [state(f"a{i}", 0, "available", queues=["billing", "sales"]) for i in range(3)]
    for i in range(6):
        t = 600 + i * 120
        events += call(f"c{i}", "billing", t, answered=t + 10, ended=t + 200, agent=f"a{i % 3}")
    events += call("gone", "sales", 900, abandoned=960)
    assert ingest(pg, events).rejected == 0
    return {
        "admin": make_token("admin"),
        "wallboard": make_token("wallboard"),
        "agent": make_token("agent", agent="a1"),
        "madeup": "cb_madeupmadeupmadeupmadeupmadeupmadeup",
        None: None,
    }


def _request(case: Any, token: str | None) -> dict[str, Any]:
    kw = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: v for k, v in kw["headers"].items() if k.lower() != "content-length"}
    headers.pop("Authorization", None)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request: dict[str, Any] = {
        "method": kw["method"],
        "url": kw["url"],
        "headers": headers,
        "params": kw.get("params") or None,
    }
    if "json" in kw:
        request["json"] = kw["json"]
    elif "data" in kw:
        request["content"] = kw["data"]
    return request


def test_no_operation_ever_answers_500(
    anonymous: TestClient, pg: psycopg.Connection[Any], center: dict[str | None, str | None]
) -> None:
    pg.execute("SELECT 1")
    deadline = time.monotonic() + BUDGET_S
    seen: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=CASES, who=WHO)
    def run(case: Any, who: str | None) -> None:
        if time.monotonic() > deadline:
            return  # the time box: the rest of the examples pass without a request
        request = _request(case, center[who])
        key = f"{request['method']} {case.operation.path}"
        seen[key] = seen.get(key, 0) + 1
        with pg.transaction(force_rollback=True):
            before = count(pg, "events")
            response = anonymous.request(**request)
            assert response.status_code < 500 or response.status_code == 503, (
                request,
                response.status_code,
                response.text,
            )
            if case.operation.path == "/api/v1/events" and response.status_code == 200:
                body = response.json()
                sent = request.get("json")
                assert isinstance(sent, list)
                assert body["inserted"] + body["duplicates"] + body["rejected"] == len(sent)
                assert count(pg, "events") == before + body["inserted"]

    run()
    # every operation was tried (the box is large enough for that on any machine we run)
    assert len(seen) == len(_operations), seen
