"""Source health: what `callboard sources`, the `sources` topic and /metrics say."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import CallboardConfig
from ingest.sources.base import Position
from ingest.sources.commit import Committer
from ingest.sources.health import sources_payload
from ingest.sources.queue_log_import import import_queue_log
from tests.sources.conftest import cli as _cli
from tests.sources.test_follow import call


def test_counts_age_rate_and_staleness(pg: psycopg.Connection[Any], tmp_path: Path) -> None:
    path = tmp_path / "q.log"
    path.write_text(call(0) + "garbage\n" + call(1))
    import_queue_log(pg, path, source="pbx")
    import_queue_log(pg, path, source="pbx")  # again: all duplicates
    config = CallboardConfig.model_validate(
        {"sources": {"pbx": {"max_silence_s": 60}, "quiet": {"max_silence_s": 60}}}
    )
    now = datetime.now(UTC)
    payload = sources_payload(pg, config, now)
    by = {s["source"]: s for s in payload["sources"]}
    pbx = by["pbx"]
    assert (pbx["inserted"], pbx["duplicates"], pbx["rejected"]) == (8, 8, 2)
    assert pbx["last_event_ts"] == "2025-11-20T08:02:45+00:00"  # call(1) ended at T + 165 s
    assert pbx["age_s"] > 3600 and pbx["silent_s"] < 60 and not pbx["stale"]
    assert pbx["events_per_min"] == 8 / 5  # stored in the last five minutes
    assert by["quiet"]["stale"] and by["quiet"]["last_heard_at"] is None  # configured, unheard
    later = sources_payload(pg, config, now + timedelta(seconds=120))
    assert {s["source"]: s["stale"] for s in later["sources"]} == {"pbx": True, "quiet": True}


def test_numbered_messages_missing_between_batches_are_gaps(pg: psycopg.Connection[Any]) -> None:
    committer = Committer(pg, "bus")
    committer.run([Position({"first_seq": 1, "seq": 10})], at_positions=True)
    committer.run([Position({"first_seq": 14, "seq": 20})], at_positions=True)
    (gaps,) = pg.execute("SELECT gaps FROM source_stats WHERE source = 'bus'").fetchone() or (0,)
    assert gaps == 3 and committer.summary.gaps == 3


def test_a_followed_files_lag_is_what_is_left_to_read(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    path.write_text(call(0))
    size = path.stat().st_size
    committer = Committer(pg, "pbx")
    committer.run(
        [Position({"path": str(path), "inode": path.stat().st_ino, "offset": 10}, str(path))],
        at_positions=True,
    )
    (pos,) = sources_payload(pg, None, datetime.now(UTC))["sources"][0]["positions"]
    assert (pos["offset"], pos["size"], pos["lag_bytes"]) == (10, size, size - 10)


def test_prometheus_gauges_per_source(
    app: FastAPI, pg: psycopg.Connection[Any], make_token: Callable[..., str], tmp_path: Path
) -> None:
    path = tmp_path / "q.log"
    path.write_text(call(0))
    import_queue_log(pg, path, source="pbx")
    app.state.sources_connect = lambda: nullcontext(pg)
    with TestClient(app, headers={"Authorization": f"Bearer {make_token('admin')}"}) as client:
        text = client.get("/metrics").text
    assert 'callboard_source_events_stored{source="pbx"} 4.0' in text
    assert 'callboard_source_rejected{source="pbx"} 0.0' in text


def test_callboard_sources_on_the_command_line(migrated: str, tmp_path: Path) -> None:
    path = tmp_path / "q.log"
    path.write_text(call(0) + "garbage\n")
    done = _cli(migrated, tmp_path, "import", "queue-log", str(path), "--source", "pbx")
    assert done.returncode == 1  # one line rejected
    assert orjson.loads(done.stdout)["inserted"] == 4
    shown = _cli(migrated, tmp_path, "sources", "--json")
    assert shown.returncode == 0, shown.stderr
    (pbx,) = orjson.loads(shown.stdout)["sources"]
    assert (pbx["source"], pbx["inserted"], pbx["rejected"], pbx["stale"]) == ("pbx", 4, 1, False)
    table = _cli(migrated, tmp_path, "sources")
    assert b"pbx" in table.stdout and table.returncode == 0


def test_the_sources_topic_for_supervisors_and_wallboards(
    live_client: Any, live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from starlette.websockets import WebSocketDisconnect

    from tests.live.conftest import frames_until

    client, tokens = live_client
    url, _ = live_db
    path = tmp_path / "q.log"
    path.write_text(call(0))
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        import_queue_log(c, path, source="pbx")
    with client.websocket_connect(f"/api/v1/live?topics=sources&token={tokens['wallboard']}") as ws:
        data = frames_until(ws, "sources", "snapshot")["data"]
    (pbx,) = data["sources"]
    assert (pbx["source"], pbx["inserted"], pbx["stale"]) == ("pbx", 4, False)
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/api/v1/live?topics=sources&token={tokens['a1']}") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 4403  # an agent's token: not the floor's plumbing
