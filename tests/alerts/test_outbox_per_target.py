"""Issue 25, finding 3: a webhook that never answers holds back only its own notifications.
A real receiver that accepts the connection and never answers, a real healthy one beside it,
both started here; the outbox's deliveries to the healthy one go out while the other hangs,
on the first alert and on the next."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from app.alerts.delivery import Outbox, drain_once
from app.alerts.service import evaluate_tick
from tests.alerts.conftest import Receiver, backlog, config
from tests.conftest import libpq

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Silent:
    """Accepts connections and never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # the client reads the end at once
            conn.close()
        self.held.clear()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def silent() -> Iterator[Silent]:
    s = Silent()
    yield s
    s.close()


def waiting(queue: str, n: int) -> dict[str, Any]:
    return {"queue": {queue: {"key": queue, "waiting_now": n}}}


def _until(check: Any, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_silent_webhook_holds_back_only_its_own(
    live_db: tuple[str, dict[str, str]], receiver: Receiver, silent: Silent
) -> None:
    url, _ = live_db
    cfg = config(
        alerts=[
            backlog(above=2, notify=["webhook:silent", "webhook:healthy"]),
            {
                **backlog(above=2, notify=["webhook:silent", "webhook:healthy"]),
                "name": "sales backlog",
                "scope": "queue:sales",
            },
        ],
        webhooks={
            "silent": {"url": silent.url, "timeout_s": 60},
            "healthy": {"url": receiver.url, "timeout_s": 60},
        },
    )

    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(libpq(url)) as pg:
            yield pg

    pool = ThreadPoolExecutor(max_workers=4)
    outbox = Outbox(connect, pool)
    try:
        with connect() as pg:
            evaluate_tick(pg, cfg, waiting("billing", 3), NOW)
        assert outbox.drain(cfg, lambda: NOW) == 2
        assert _until(lambda: len(receiver.bodies) == 1), "the healthy webhook waited"
        # the healthy target is free again while the silent one still waits for its answer
        assert _until(lambda: outbox.busy == {"webhook:silent"})
        # the next alert: the silent target is busy, so only the healthy one is claimed
        later = NOW + timedelta(seconds=5)
        with connect() as pg:
            both = {"queue": waiting("billing", 3)["queue"] | waiting("sales", 3)["queue"]}
            evaluate_tick(pg, cfg, both, later)
        assert outbox.drain(cfg, lambda: later) == 1
        assert _until(lambda: len(receiver.bodies) == 2), "the healthy webhook waited"
        assert _until(lambda: outbox.busy == {"webhook:silent"})
        with connect() as pg:
            statuses = dict(
                pg.execute(
                    "SELECT target, array_agg(status ORDER BY id) FROM alert_notifications"
                    " GROUP BY target"
                ).fetchall()
            )
        assert statuses == {
            "webhook:healthy": ["sent", "sent"],
            "webhook:silent": ["pending", "pending"],
        }
    finally:
        silent.close()  # the silent receiver hangs up: its delivery ends as a failure
        pool.shutdown(wait=True)
    assert _until(lambda: not outbox.busy, 5)


def test_drain_once_records_each_target_as_it_is_answered(
    live_db: tuple[str, dict[str, str]], receiver: Receiver, silent: Silent
) -> None:
    url, _ = live_db
    cfg = config(
        alerts=[backlog(above=2, notify=["webhook:silent", "webhook:healthy"])],
        webhooks={"silent": {"url": silent.url, "timeout_s": 60}, "healthy": {"url": receiver.url}},
    )

    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(libpq(url)) as pg:
            yield pg

    with connect() as pg:
        evaluate_tick(pg, cfg, waiting("billing", 3), NOW)
    done: list[Any] = []
    runner = threading.Thread(target=lambda: done.extend(drain_once(connect, cfg, lambda: NOW)))
    runner.start()
    try:

        def healthy_sent() -> bool:
            with connect() as pg:
                row = pg.execute(
                    "SELECT status FROM alert_notifications WHERE target = 'webhook:healthy'"
                ).fetchone()
            return row is not None and row[0] == "sent"

        assert _until(healthy_sent), "the healthy target's outcome waited for the silent one"
        assert runner.is_alive()
    finally:
        silent.close()
        runner.join(30)
    assert sorted(s for _, s in done) == ["pending", "sent"]
