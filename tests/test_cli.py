"""The command line as a user runs it: a real process, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import libpq
from tests.streams import day_of_events

CALLBOARD = [sys.executable, "-c", "from app.cli import main; main()"]


def run(args: list[str], url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "CALLBOARD_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([*CALLBOARD, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def migrated(fresh_db: str, tmp_path: Path) -> str:
    r = run(["migrate"], fresh_db, tmp_path)
    assert r.returncode == 0, r.stderr
    return fresh_db


def test_a_realistic_day_imported_twice_is_stored_once(migrated: str, tmp_path: Path) -> None:
    events = day_of_events(calls=3000, agents=40, queues=4, seed=4)
    day = tmp_path / "day.jsonl"
    day.write_text("".join(json.dumps(e) + "\n" for e in events))

    first = run(["import", "events", str(day)], migrated, tmp_path)
    second = run(["import", "events", str(day)], migrated, tmp_path)

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "inserted": len(events),
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
    }
    assert json.loads(second.stdout)["inserted"] == 0
    assert json.loads(second.stdout)["duplicates"] == len(events)
    with psycopg.connect(libpq(migrated)) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM events").fetchone() or (0,)
        (segments,) = conn.execute("SELECT count(*) FROM contact_segments").fetchone() or (0,)
    assert stored == len(events)
    assert segments >= 3000


def test_a_file_with_bad_lines_stores_the_good_ones_and_names_each_bad_one(
    migrated: str, tmp_path: Path
) -> None:
    good = day_of_events(calls=5, agents=2, seed=9)
    lines = [json.dumps(e) for e in good]
    lines.insert(2, '{"id": "broken", "ts": "2026-11-20T08:00:00Z", "type": "call.queued"')
    lines.insert(5, json.dumps({**good[0], "id": "naive", "ts": "2026-11-20T08:00:00"}))
    lines.insert(7, "")
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")

    r = run(["import", "events", str(path)], migrated, tmp_path)

    out: dict[str, Any] = json.loads(r.stdout)
    assert r.returncode == 1
    assert (out["inserted"], out["rejected"]) == (len(good), 2)
    assert [(e["line"], e["index"]) for e in out["errors"]] == [(3, 2), (6, 5)]
    assert "not valid JSON" in out["errors"][0]["message"]
    assert "ts: must carry a UTC offset" in out["errors"][1]["message"]


def test_a_large_file_is_streamed_in_committed_batches(migrated: str, tmp_path: Path) -> None:
    from ingest.sources.events import import_jsonl

    events = day_of_events(calls=400, seed=8)
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    seen: list[int] = []
    with psycopg.connect(libpq(migrated)) as conn:
        result = import_jsonl(conn, path, batch=500, progress=lambda t: seen.append(t.inserted))
    assert result.inserted == len(events)
    assert len(seen) == -(-len(events) // 500)
    assert seen == sorted(seen)


def test_rebuild_prints_what_it_recomputed(migrated: str, tmp_path: Path) -> None:
    day = tmp_path / "day.jsonl"
    day.write_text("".join(json.dumps(e) + "\n" for e in day_of_events(calls=50, seed=6)))
    run(["import", "events", str(day)], migrated, tmp_path)
    with psycopg.connect(libpq(migrated)) as conn:
        before = conn.execute("SELECT * FROM contact_segments ORDER BY 1, 2").fetchall()
    r = run(["rebuild"], migrated, tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["contact_segments"] == len(before)
    with psycopg.connect(libpq(migrated)) as conn:
        assert conn.execute("SELECT * FROM contact_segments ORDER BY 1, 2").fetchall() == before


def test_commands_refuse_an_unmigrated_database_with_a_hint(fresh_db: str, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text("")
    r = run(["import", "events", str(path)], fresh_db, tmp_path)
    assert r.returncode == 2
    assert "callboard migrate" in r.stderr


def test_token_create_prints_a_token_once_and_checks_its_binding(
    migrated: str, tmp_path: Path
) -> None:
    r = run(["token", "create", "--role", "agent"], migrated, tmp_path)
    assert r.returncode == 2 and "needs --agent" in r.stderr
    r = run(
        ["token", "create", "--role", "supervisor", "--team", "north", "--team", "south"],
        migrated,
        tmp_path,
    )
    token = r.stdout.strip()
    assert r.returncode == 0 and token.startswith("cb_") and len(token) > 40
    with psycopg.connect(libpq(migrated)) as conn:
        row = conn.execute("SELECT role, teams FROM tokens").fetchone()
    assert row == ("supervisor", ["north", "south"])
