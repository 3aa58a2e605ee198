"""Issue 10, defects 1, 2, 9 and 16 against a real `callboard serve` on loopback: a flood with
bogus tokens, tokens in the log, SIGTERM with a request stuck, and events that froze the tick.
Counts and times are bounded; each test stops its server."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ingest.derived import INGEST_LOCK_KEY
from tests.conftest import libpq
from tests.e2e.conftest import Server


class LoggedServer(Server):
    """tests/e2e's Server, with its output kept in a file."""

    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__(url, data_dir)
        self.log = data_dir / "serve.log"

    def start(self) -> None:
        with self.log.open("wb") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from app.cli import main; main()", "serve"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the server did not start:\n" + self.log.read_text()[-3000:])


@pytest.fixture
def logged(live_db: tuple[str, dict[str, str]], tmp_path: Path) -> Any:
    url, tokens = live_db
    srv = LoggedServer(url, tmp_path)
    srv.start()
    try:
        yield srv, tokens, url
    finally:
        srv.stop()


async def _flood(base: str, tokens: dict[str, str], n: int) -> list[tuple[bool, int, float, Any]]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as c:

        async def one(i: int) -> tuple[bool, int, float, Any]:
            valid = i % 2 == 0
            token = tokens["admin"] if valid else f"cb_bogus{i:04d}xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            path = ("/api/v1/metrics?by=queue", "/api/v1/staffing", "/api/v1/me")[i % 3]
            start = time.monotonic()
            r = await c.get(path, headers={"Authorization": f"Bearer {token}"})
            return valid, r.status_code, time.monotonic() - start, r.headers.get("retry-after")

        return await asyncio.gather(*(one(i) for i in range(n)))


def _probe_health(base: str, stop: threading.Event, times: list[tuple[int, float]]) -> None:
    """From another thread and connection: /healthz while the flood runs."""
    with httpx.Client(base_url=base, timeout=10) as c:
        while not stop.is_set():
            start = time.monotonic()
            r = c.get("/healthz")
            times.append((r.status_code, time.monotonic() - start))
            time.sleep(0.1)


def test_a_flood_with_bogus_tokens_is_answered_or_refused_at_once(logged: Any) -> None:
    """Before: 500s after 30 s and /healthz after 58 s (the pool was taken before the token
    was checked). The latency figures themselves are measured in bench/flood.py; here every
    request must get an answer, never a 500, and /healthz must keep answering."""
    srv, tokens, _ = logged
    health: list[tuple[int, float]] = []
    stop = threading.Event()
    probe = threading.Thread(target=_probe_health, args=(srv.base, stop, health))
    probe.start()
    try:
        answers = asyncio.run(_flood(srv.base, tokens, 200))
    finally:
        stop.set()
        probe.join()
    assert len(health) >= 2 and all(s == 200 for s, _ in health), health
    assert statistics.median(t for _, t in health) < 1.0, health
    assert not [a for a in answers if a[1] >= 500 and a[1] != 503], answers
    for valid, status, took, retry in answers:
        assert took < 15, took  # nothing queued for half a minute any more
        if not valid:
            assert status in (401, 503), status
        elif status == 503:
            assert retry is not None
        else:
            assert status == 200, status
    # how many are served rather than refused depends on the machine's load (bench/flood.py
    # measures it); some must be
    assert any(v and s == 200 for v, s, _, _ in answers)
    assert httpx.get(f"{srv.base}/healthz", timeout=2).status_code == 200


def test_tokens_never_reach_the_log(logged: Any) -> None:
    srv, tokens, _ = logged
    secret = tokens["wallboard"]
    with httpx.Client(base_url=srv.base, timeout=10) as c:
        c.get(f"/wall?token={secret}")
        c.get(f"/api/v1/metrics?token={secret}")
        c.get(f"/nowhere?token={secret}")
        c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    import websockets.sync.client as ws

    url = srv.base.replace("http", "ws") + f"/api/v1/live?topics=center&token={secret}"
    with ws.connect(url) as sock:
        sock.recv(timeout=10)
    srv.stop()
    text = srv.log.read_text()
    assert "GET /wall?token=[redacted]" in text  # the line is there, the token is not
    assert secret not in text and secret[3:20] not in text


def test_sigterm_stops_serve_with_a_request_stuck(logged: Any) -> None:
    srv, tokens, url = logged
    # hold the ingest lock: a POST of events waits for it inside the server (a stuck request)
    with psycopg.connect(libpq(url), autocommit=True) as blocker:
        blocker.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        event = {
            "id": "e1",
            "ts": "2026-11-20T08:00:00Z",
            "type": "call.queued",
            "call_id": "c1",
            "queue": "billing",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import httpx,sys; httpx.post(sys.argv[1], json=[eval(sys.argv[2])],"
                " headers={'Authorization': 'Bearer ' + sys.argv[3]}, timeout=60)",
                f"{srv.base}/api/v1/events",
                repr(event),
                tokens["ingest"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.5)  # the request is in, waiting for the lock
        assert srv.proc is not None
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=15)
        took = time.monotonic() - start
        proc.kill()
        proc.wait()
    srv.proc = None
    assert took < 10, took


def test_the_events_that_froze_the_tick_are_refused_and_the_tick_goes_on(logged: Any) -> None:
    srv, tokens, _ = logged
    h = {"Authorization": f"Bearer {tokens['ingest']}"}
    base = {"ts": "2026-11-20T08:00:00Z", "queue": "billing"}
    events = [
        {**base, "id": "q1", "type": "call.queued", "call_id": "c1"},
        {**base, "id": "a1", "type": "call.answered", "call_id": "c1", "agent": "a1"},
        {
            **base,
            "id": "e1",
            "type": "call.ended",
            "call_id": "c1",
            "agent": "a1",
            "talk_s": 100000,
        },
        {**base, "id": "q2", "type": "call.queued", "call_id": "c2"},
        {**base, "id": "x2", "type": "call.abandoned", "call_id": "c2", "wait_s": 31_000_000},
    ]
    r = httpx.post(f"{srv.base}/api/v1/events", json=events, headers=h, timeout=10)
    body = r.json()
    assert body["rejected"] == 2
    assert [e["index"] for e in body["errors"]] == [2, 4]
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    r = httpx.get(f"{srv.base}/api/v1/staffing", headers=admin, timeout=5)
    assert r.status_code == 200 and "agents_staffed" in r.json()


def test_embedded_postgres_is_restarted_and_stopped_on_sigterm(tmp_path: Path) -> None:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("this test is about the embedded server; DATABASE_URL is set")
    srv = LoggedServer("", tmp_path)
    srv.env.pop("DATABASE_URL", None)
    migrate = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "migrate"],
        env=srv.env,
        capture_output=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    srv.start()
    try:
        pid_file = tmp_path / "pg" / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        deadline = time.monotonic() + 30
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"{srv.base}/healthz", timeout=2)
                health = r.json()
                if r.status_code == 200 and health["postmaster"]["restarts"] == 1:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert health.get("database") == "embedded", health
        assert health["postmaster"]["state"] == "running" and health["postmaster"]["restarts"] == 1
        restarted = int(pid_file.read_text().split()[0])
        assert restarted != postmaster
        assert srv.proc is not None
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=15)
        assert time.monotonic() - start < 10
        srv.proc = None
        deadline = time.monotonic() + 5
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not pid_file.exists()  # the embedded server was stopped too
    finally:
        srv.stop()
