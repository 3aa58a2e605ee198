"""Notifications delivered to a real HTTP server and a real SMTP server started here;
retries with backoff; a dead receiver never holds up the evaluation."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller

from app.alerts.delivery import drain_once
from app.alerts.service import deliveries, evaluate_tick
from app.config import CallboardConfig
from tests.alerts.conftest import Receiver, backlog, config
from tests.conftest import libpq

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def waiting(n: int) -> dict[str, Any]:
    return {"queue": {"billing": {"key": "billing", "waiting_now": n}}}


def on(pg: psycopg.Connection[Any]) -> Any:
    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with pg.transaction():
            yield pg

    return connect


def clock(at: datetime) -> Any:
    return lambda: at


def test_webhooks_in_each_format_reach_a_real_server(
    pg: psycopg.Connection[Any], receiver: Receiver
) -> None:
    cfg = config(
        alerts=[
            backlog(above=2, step=2, notify=["webhook:json", "webhook:slack", "webhook:teams"])
        ],
        webhooks={
            f: {"url": f"{receiver.url}?{f}", "format": f} for f in ("json", "slack", "teams")
        },
    )
    evaluate_tick(pg, cfg, waiting(3), NOW)
    done = drain_once(on(pg), cfg, clock(NOW))
    assert [status for _, status in done] == ["sent"] * 3
    by_format = {("attachments" in b) + ("type" in b): b for b in receiver.bodies}
    plain, slack, teams = by_format[0], by_format[1], by_format[2]
    assert plain["event"] == "raised" and plain["alert"]["name"] == "billing backlog"
    assert plain["alert"]["value"] == 3 and plain["alert"]["code"] == "above"
    assert plain["text"] == "Queue billing · billing backlog: waiting now is 3, above 2"
    assert slack["text"] == plain["text"] and slack["attachments"][0]["color"]
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"] == "[Warning] billing backlog"
    # the same tick again tells nothing; the next step does
    evaluate_tick(pg, cfg, waiting(3), NOW + timedelta(seconds=1))
    assert drain_once(on(pg), cfg, clock(NOW + timedelta(seconds=1))) == []
    evaluate_tick(pg, cfg, waiting(4), NOW + timedelta(seconds=2))
    assert len(drain_once(on(pg), cfg, clock(NOW + timedelta(seconds=2)))) == 3
    assert len(receiver.bodies) == 6


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_recorded(
    pg: psycopg.Connection[Any],
) -> None:
    receiver = Receiver(fail=2)
    try:
        cfg = config(
            alerts=[backlog(notify=["webhook:ops"])],
            webhooks={"ops": {"url": receiver.url}},
            alerting={"backoff_s": 10, "max_attempts": 5},
        )
        evaluate_tick(pg, cfg, waiting(5), NOW)
        steps = [(0, "pending"), (5, None), (10, "pending"), (29, None), (30, "sent")]
        for offset, expected in steps:
            done = drain_once(on(pg), cfg, clock(NOW + timedelta(seconds=offset)))
            assert [s for _, s in done] == ([expected] if expected else []), offset
        [alert_id] = pg.execute("SELECT id FROM alerts").fetchone() or []
        [record] = deliveries(pg, alert_id)
        assert (record["status"], record["attempts"], record["last_error"]) == ("sent", 3, None)
        assert [(a["ok"], a["detail"][:8]) for a in record["attempts_log"]] == [
            (False, "Delivery"),
            (False, "Delivery"),
            (True, "HTTP 200"),
        ]
        assert "HTTP 500" in record["attempts_log"][0]["detail"]
        assert len(receiver.bodies) == 1
    finally:
        receiver.close()


def test_retries_are_bounded(pg: psycopg.Connection[Any]) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    cfg = config(
        alerts=[backlog(notify=["webhook:gone"])],
        webhooks={"gone": {"url": f"http://127.0.0.1:{port}/hook"}},
        alerting={"backoff_s": 1, "max_attempts": 3},
    )
    evaluate_tick(pg, cfg, waiting(5), NOW)
    statuses = []
    for offset in range(0, 60, 1):
        statuses += [s for _, s in drain_once(on(pg), cfg, clock(NOW + timedelta(seconds=offset)))]
    assert statuses == ["pending", "pending", "failed"]
    row = pg.execute("SELECT status, attempts, last_error FROM alert_notifications").fetchone()
    assert row is not None and row[:2] == ("failed", 3) and "ConnectError" in row[2]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_reaches_a_real_smtp_server(
    pg: psycopg.Connection[Any], smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    cfg = config(
        alerts=[backlog(notify=["email:leads"], severity="critical")],
        smtp={"host": "127.0.0.1", "port": port, "from": "callboard@floor.example"},
        emails={"leads": {"to": ["lead@floor.example", "wfm@floor.example"]}},
    )
    evaluate_tick(pg, cfg, waiting(7), NOW)
    assert [s for _, s in drain_once(on(pg), cfg, clock(NOW))] == ["sent"]
    evaluate_tick(pg, cfg, waiting(0), NOW + timedelta(seconds=5))  # cleared: told too
    assert [s for _, s in drain_once(on(pg), cfg, clock(NOW + timedelta(seconds=5)))] == ["sent"]
    (to, first), (_, second) = inbox.messages
    assert to == ["lead@floor.example", "wfm@floor.example"]
    assert first["Subject"] == "[Critical] billing backlog"
    assert first["From"] == "callboard@floor.example"
    assert "waiting now is 7, above 2" in first.get_payload()
    assert second["Subject"] == "[Cleared] billing backlog"
    assert "back within (waiting now 0)" in second.get_payload()


def test_a_dead_receiver_does_not_hold_up_the_evaluation(
    live_db: tuple[str, dict[str, str]],
) -> None:
    """The receiver accepts the connection and never answers. While the delivery waits for
    it (its timeout), ticks go on being evaluated and committed."""
    url, _ = live_db
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead.listen(8)  # connections complete in the backlog; nobody ever reads or answers
    try:
        cfg = config(
            alerts=[backlog(notify=["webhook:dead"])],
            webhooks={
                "dead": {"url": f"http://127.0.0.1:{dead.getsockname()[1]}/", "timeout_s": 5}
            },
        )

        @contextmanager
        def connect() -> Iterator[psycopg.Connection[Any]]:
            with psycopg.connect(libpq(url)) as conn:
                yield conn  # commits on a clean exit

        with connect() as conn:
            evaluate_tick(conn, cfg, waiting(5), NOW)
        result: list[Any] = []
        drainer = threading.Thread(
            target=lambda: result.extend(drain_once(connect, cfg, clock(NOW)))
        )
        drainer.start()
        try:
            ticks = []
            for i in range(1, 4):  # the evaluation goes on, committed, while the drain waits
                with connect() as conn:
                    ticks += evaluate_tick(
                        conn, cfg, waiting(5 + 2 * i), NOW + timedelta(seconds=i)
                    )
            assert drainer.is_alive()
            assert [t.value for t in ticks] == [7, 9, 11]
        finally:
            drainer.join()
        [(_, status)] = result
        assert status == "pending"  # retried later
        with connect() as conn:
            row = conn.execute("SELECT ok, detail FROM alert_deliveries").fetchone()
        assert row is not None and row[0] is False and "Timeout" in row[1]
    finally:
        dead.close()


def test_a_removed_target_is_a_failed_attempt_not_a_crash(pg: psycopg.Connection[Any]) -> None:
    cfg = config(
        alerts=[backlog(notify=["webhook:ops"])], webhooks={"ops": {"url": "http://127.0.0.1:9/"}}
    )
    evaluate_tick(pg, cfg, waiting(5), NOW)
    later = CallboardConfig.model_validate(cfg.model_dump(exclude={"alerts", "webhooks"}))
    [(_, status)] = drain_once(on(pg), later, clock(NOW))
    assert status == "pending"
    row = pg.execute("SELECT detail FROM alert_deliveries").fetchone()
    assert row == ("DeliveryError: webhook:ops is no longer configured",)
