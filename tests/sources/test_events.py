"""Contract events from a JSON-lines file and from POST /api/v1/events, on the one seam: errors
by position and index (the writer's refusals too), aliases applied, the way they came counted
in the sources' health."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import CallboardConfig, store_config
from ingest.sources.events import errors_by_index, import_jsonl
from ingest.sources.normalize import Normalizer

TS = "2026-11-20T08:00:00Z"


def _ev(i: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"ev{i}", "ts": TS, "type": "call.queued", "call_id": f"c{i}", **fields}


def _stats(pg: psycopg.Connection[Any], source: str) -> tuple[Any, ...] | None:
    return pg.execute(
        "SELECT inserted, duplicates, rejected FROM source_stats WHERE source = %s", (source,)
    ).fetchone()


def test_a_file_names_each_bad_line_even_when_the_writer_refuses_it(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    (known,) = pg.execute("SELECT count(*) FROM queues").fetchone() or (0,)
    limits = {"max_queues": known + 1}  # one new queue more: the second is refused
    store_config(pg, CallboardConfig.model_validate({"limits": limits}), origin="test")
    agent = {"type": "agent.state", "agent": "SIP/1001", "state": "available", "queues": ["tq1"]}
    lines = [
        json.dumps(_ev(0, queue="tq1")),
        "",
        '{"id": "broken"',
        json.dumps(_ev(3, queue="tq1", ts="2026-11-20T08:00:00")),
        json.dumps(_ev(4, queue="tq1")),
        json.dumps(_ev(5, queue="tq2")),  # valid, refused by the writer (over the cap)
        json.dumps({**_ev(6), **agent}),
    ]
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(lines) + "\n")
    normalizer = Normalizer(aliases={"SIP/1001": "alice"})
    summary = import_jsonl(pg, path, batch=3, normalizer=normalizer)
    errors = errors_by_index(summary, say_where=True)
    assert [e["index"] for e in errors] == [2, 3, 5]
    assert errors[0]["message"].startswith("line 3: not valid JSON")
    assert errors[1]["message"].startswith("line 4: ts: must carry a UTC offset")
    assert errors[2]["message"].startswith("line 6: ") and "max_queues" in errors[2]["message"]
    assert (summary.inserted, summary.rejected) == (3, 3)
    # the one committer of every source: aliases applied, the health row, the kept lines
    assert pg.execute("SELECT agent FROM events WHERE id = 'ev6'").fetchone() == ("alice",)
    assert _stats(pg, "events") == (3, 0, 3)
    kept = pg.execute("SELECT raw FROM source_lines WHERE source = 'events'").fetchall()
    assert sorted(r[0] for r in kept) == sorted([lines[2], lines[3]])


def test_http_batches_count_as_the_api_source_and_answer_by_index(
    app: FastAPI, pg: psycopg.Connection[Any], make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token('ingest')}"}
    batch: list[Any] = [_ev(0, queue="billing"), [1, 2], _ev(2, queue="billing", wait_s=-1)]
    with TestClient(app, headers=headers) as client:
        body = client.post("/api/v1/events", json=batch).json()
        again = client.post("/api/v1/events", json=batch[:1]).json()
    assert (body["inserted"], body["rejected"]) == (1, 2)
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert body["errors"][0]["message"] == "event: must be a JSON object"
    assert again["duplicates"] == 1
    assert _stats(pg, "api") == (1, 1, 2)
