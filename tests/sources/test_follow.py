"""Following a live queue_log: partial lines, logrotate (rename or copytruncate), and a kill
in the middle, with nothing lost and nothing counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from app import migrate
from ingest.sources.follow import Follower
from tests.conftest import libpq

T = 1763625600


def call(n: int) -> str:
    """One answered call: 3 lines; queued, answered and ended carry its id (+ available)."""
    t = T + n * 100
    c = f"f{n}.1"
    return (
        f"{t}|{c}|sales|NONE|ENTERQUEUE||555{n:04d}|1\n"
        f"{t + 5}|{c}|sales|SIP/201|CONNECT|5|{c}x|1\n"
        f"{t + 65}|{c}|sales|SIP/201|COMPLETECALLER|5|60|1\n"
    )


def stored_calls(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM contact_segments WHERE outcome = 'answered' AND ended_at IS NOT NULL"
    ).fetchone()
    return int(row[0]) if row else 0


def events_per_call(conn: psycopg.Connection[Any]) -> set[int]:
    rows = conn.execute(
        "SELECT call_id, count(*) FROM events WHERE call_id IS NOT NULL GROUP BY call_id"
    ).fetchall()
    return {n for _, n in rows}


def wait_for(check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def running(pg: psycopg.Connection[Any], tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    path = tmp_path / "queue_log"
    path.write_text(call(0))
    stop = threading.Event()
    follower = Follower(pg, path, source="pbx")
    thread = threading.Thread(target=follower.run, args=(stop, 0.05))
    thread.start()
    lock = threading.Lock()

    def count() -> int:
        with lock:
            return stored_calls(pg) if not thread.is_alive() else follower.summary.inserted

    try:
        yield path, follower
    finally:
        stop.set()
        thread.join(timeout=10)


def test_lines_are_stored_as_they_come_even_in_pieces(running: tuple[Path, Any]) -> None:
    path, follower = running
    wait_for(lambda: follower.summary.inserted >= 4)
    with path.open("a") as f:
        first, rest = call(1)[:30], call(1)[30:]
        f.write(first)  # half a line: nothing yet
        f.flush()
        time.sleep(0.3)
        assert follower.summary.inserted == 4
        f.write(rest)
    wait_for(lambda: follower.summary.inserted >= 8)
    assert follower.summary.duplicates == 0


def test_logrotate_renaming_the_file_loses_nothing(running: tuple[Path, Any]) -> None:
    path, follower = running
    wait_for(lambda: follower.summary.inserted >= 4)
    rotated = path.with_name("queue_log.1")
    path.rename(rotated)
    with rotated.open("a") as f:  # Asterisk still writes to the old file until it reopens
        f.write(call(1))
    path.write_text(call(2))
    wait_for(lambda: follower.summary.inserted >= 12)
    assert follower.summary.duplicates == 0


def test_logrotate_copytruncate(running: tuple[Path, Any]) -> None:
    path, follower = running
    wait_for(lambda: follower.summary.inserted >= 4)
    path.write_text(call(3))  # truncated, then written again
    wait_for(lambda: follower.summary.inserted >= 8)


def _follow_process(url: str, path: Path, tmp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "CALLBOARD_DATA_DIR": str(tmp)}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "import",
            "queue-log",
            str(path),
            "--source",
            "pbx",
            "--follow",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_follower_resumes_exactly_where_it_stopped(fresh_db: str, tmp_path: Path) -> None:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    path = tmp_path / "queue_log"
    path.write_text("".join(call(i) for i in range(3)))
    with psycopg.connect(libpq(fresh_db), autocommit=True) as conn:
        proc = _follow_process(fresh_db, path, tmp_path)
        try:
            wait_for(lambda: stored_calls(conn) == 3, 60)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        with path.open("a") as f:  # written while nobody follows
            f.write("".join(call(i) for i in range(3, 6)))
        path.rename(path.with_name("queue_log.1"))  # and rotated, too
        path.write_text("".join(call(i) for i in range(6, 8)))
        proc = _follow_process(fresh_db, path, tmp_path)
        try:
            wait_for(lambda: stored_calls(conn) == 8, 60)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert events_per_call(conn) == {3}  # every call's events once, none twice
        (total,) = conn.execute("SELECT count(*) FROM events").fetchone() or (0,)
        assert total == 8 * 4  # queued, answered, ended, available: nothing twice
        (offset,) = conn.execute(
            "SELECT (value->>'offset')::bigint FROM source_positions"
        ).fetchone() or (0,)
        assert offset == path.stat().st_size
