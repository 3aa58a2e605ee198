"""Source health: what `callboard sources`, the `sources` topic and /metrics say."""

from __future__ import annotations

import time
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
from app.live.topics import apply as topics_apply
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


def _refused(client: Any, topics: str, token: str) -> int:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/api/v1/live?topics={topics}&token={token}") as ws,
    ):
        ws.receive_json()
    return int(refused.value.code)


def test_the_sources_topic_for_supervisors_and_admins_only(
    live_client: Any, live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from tests.live.conftest import frames_until

    client, tokens = live_client
    url, _ = live_db
    path = tmp_path / "q.log"
    path.write_text(call(0))
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        import_queue_log(c, path, source="pbx")
    for who in ("north", "admin"):
        with client.websocket_connect(f"/api/v1/live?topics=sources&token={tokens[who]}") as ws:
            data = frames_until(ws, "sources", "snapshot")["data"]
        (pbx,) = data["sources"]
        assert (pbx["source"], pbx["inserted"], pbx["stale"]) == ("pbx", 4, False), who
    # the floor's plumbing (names, positions, rejects) is not the wallboard's nor an agent's,
    # alone or asked for beside topics they may follow
    for who, topics in (
        ("wallboard", "sources"),
        ("a1", "sources"),
        ("wallboard", "center,sources"),
        ("a1", "agent:a1,feed,sources"),
    ):
        assert _refused(client, topics, tokens[who]) == 4403, (who, topics)


def test_every_screen_hears_that_a_source_is_stale_without_its_name(
    live_client: Any, live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from tests.live.conftest import frames_until

    client, tokens = live_client
    url, _ = live_db
    app: Any = client.app
    app.state.config = CallboardConfig.model_validate(
        {"sources": {"pbx": {"max_silence_s": 3600}, "bus": {"max_silence_s": 3600}}}
    )
    path = tmp_path / "q.log"
    path.write_text(call(0))
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as c:
        import_queue_log(c, path, source="pbx")
        # heard from 150 s ago and never since: stale once its limit is 60 s
        c.execute("UPDATE source_stats SET last_batch_at = now() - interval '150 s'")
    for who in ("wallboard", "a1", "north", "admin"):
        topics = "agent:a1,feed" if who == "a1" else "feed"
        with client.websocket_connect(f"/api/v1/live?topics={topics}&token={tokens[who]}") as ws:
            data = frames_until(ws, "feed", "snapshot")["data"]
        # `bus` is configured and was never heard from: stale too
        assert {k: data[k] for k in ("stale", "silent_s", "unheard")} == {
            "stale": True,
            "silent_s": None,
            "unheard": True,
        }, who
    app.state.config = CallboardConfig.model_validate({"sources": {"pbx": {"max_silence_s": 60}}})
    with client.websocket_connect(f"/api/v1/live?topics=feed&token={tokens['wallboard']}") as ws:
        data = frames_until(ws, "feed", "snapshot")["data"]
        assert (data["stale"], data["silent_s"], data["unheard"]) == (True, 120, False)
        text = orjson.dumps(data).decode()
        assert "pbx" not in text and "bus" not in text  # no source named, nor counted
        assert set(data) == {"stale", "silent_s", "unheard", "meta"}
        path.write_text(call(1))
        with psycopg.connect(libpq, autocommit=True) as c:  # pbx speaks again
            import_queue_log(c, path, source="pbx")
        deadline = time.monotonic() + 10
        while data["stale"] and time.monotonic() < deadline:
            data = topics_apply(data, frames_until(ws, "feed", "patch")["data"])
        assert (data["stale"], data["silent_s"], data["unheard"]) == (False, None, False)


def test_feed_payload_floors_the_silence_and_says_nothing_when_all_is_well() -> None:
    from ingest.sources.health import feed_payload

    def src(silent: float | None, stale: bool) -> dict[str, Any]:
        return {"source": "x", "silent_s": silent, "stale": stale}

    assert feed_payload({"sources": []}) == {"stale": False, "silent_s": None, "unheard": False}
    assert feed_payload({"sources": [src(5000, False)]})["stale"] is False  # not watched
    assert feed_payload({"sources": [src(47.9, True)]})["silent_s"] == 40
    assert feed_payload({"sources": [src(61, True), src(2000, False)]})["silent_s"] == 60
    assert feed_payload({"sources": [src(None, True), src(400, True)]}) == {
        "stale": True,
        "silent_s": 360,
        "unheard": True,
    }


def test_get_sources_for_supervisors_and_admins(
    app: FastAPI, pg: psycopg.Connection[Any], make_token: Callable[..., str], tmp_path: Path
) -> None:
    path = tmp_path / "q.log"
    path.write_text(call(0) + "garbage\n")
    import_queue_log(pg, path, source="pbx")
    with TestClient(app) as client:
        for token in (make_token("wallboard"), make_token("agent", agent="a1")):
            got = client.get("/api/v1/sources", headers={"Authorization": f"Bearer {token}"})
            assert got.status_code == 403
        got = client.get(
            "/api/v1/sources", headers={"Authorization": f"Bearer {make_token('admin')}"}
        )
    assert got.status_code == 200
    pbx = next(s for s in got.json()["sources"] if s["source"] == "pbx")
    assert pbx["inserted"] == 4 and pbx["rejected"] == 1
