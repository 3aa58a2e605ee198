"""Scheduled reports: due times, the days they cover, a late source holding the send up to its
bound, the mail reaching a real SMTP server (aiosmtpd) with the report attached, once."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from openpyxl import load_workbook

from app.config import CallboardConfig
from app.reports.config import ScheduledReport
from app.reports.schedule import days_for, last_due, run_due, send_now
from app.reports.service import Days

TZ = "Europe/Berlin"


def entry(**kw: Any) -> ScheduledReport:
    return ScheduledReport.model_validate(
        {"name": "r", "report": "queues", "notify": ["email:m"], **kw}
    )


def at(local: str) -> datetime:
    return datetime.fromisoformat(local + "+01:00").astimezone(UTC)


def test_due_times_and_days() -> None:
    daily = entry(schedule="daily 07:00")
    assert last_due(daily, at("2026-11-21T07:05:00"), TZ) == at("2026-11-21T07:00:00")
    assert last_due(daily, at("2026-11-21T06:59:00"), TZ) == at("2026-11-20T07:00:00")
    assert days_for(daily, at("2026-11-21T07:00:00"), TZ) == Days(
        date(2026, 11, 20), date(2026, 11, 20)
    )
    weekly = entry(schedule="weekly mon 07:00", range="last-week")
    due = last_due(weekly, at("2026-11-26T12:00:00"), TZ)  # a Thursday
    assert due == at("2026-11-23T07:00:00")  # that week's Monday
    assert days_for(weekly, due, TZ) == Days(date(2026, 11, 16), date(2026, 11, 22))
    every = entry(schedule="every 15 min", range="today-so-far")
    assert last_due(every, at("2026-11-21T10:22:00"), TZ) == at("2026-11-21T10:15:00")
    assert days_for(every, at("2026-11-21T10:15:00"), TZ) == Days(
        date(2026, 11, 21), date(2026, 11, 21)
    )
    with pytest.raises(ValueError, match="daily 07:00"):
        entry(schedule="at 7")
    with pytest.raises(ValueError, match="emails"):
        CallboardConfig.model_validate(
            {"reports": [{"name": "x", "report": "waits", "notify": ["email:nobody"]}]}
        )


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
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


def on(pg: psycopg.Connection[Any]) -> Any:
    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with pg.transaction():
            yield pg

    return connect


def test_a_scheduled_report_reaches_a_real_smtp_server(
    center: tuple[psycopg.Connection[Any], CallboardConfig], smtp_server: tuple[Inbox, int]
) -> None:
    pg, base = center
    inbox, port = smtp_server
    config = CallboardConfig.model_validate(
        {
            **base.model_dump(mode="json", by_alias=True, exclude={"reports"}),
            "smtp": {"host": "127.0.0.1", "port": port, "from": "callboard@floor.test"},
            "emails": {"m": {"to": ["boss@floor.test"], "language": "ru"}},
            "reports": [
                {
                    "name": "daily-queues",
                    "report": "queues",
                    "by": "queue",
                    "interval": 60,
                    "schedule": "daily 07:00",
                    "range": "yesterday",
                    "format": "xlsx",
                    "notify": ["email:m"],
                    "wait_for_data_min": 60,
                }
            ],
        }
    )
    due = at("2026-11-21T07:00:00")
    # the slowest source has reached 20 Nov 17:00 only: the range (20 Nov) is not whole yet
    pg.execute(
        "INSERT INTO source_stats (source, last_event_ts) VALUES ('pbx', %s), ('crm', %s)",
        (at("2026-11-20T17:00:00"), at("2026-11-21T06:00:00")),
    )
    assert run_due(on(pg), config, due + timedelta(minutes=5)) == [("daily-queues", "waiting")]
    assert inbox.messages == []
    # past the bound: sent, with the gap said
    assert run_due(on(pg), config, due + timedelta(minutes=61)) == [("daily-queues", "sent")]
    assert len(inbox.messages) == 1
    rcpt, msg = inbox.messages[0]
    assert rcpt == ["boss@floor.test"]
    assert "Отчёт по очередям" in msg["Subject"] and "2026-11-20" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "2026-11-20T16:00:00Z" in text and "данных может не хватать" in text
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "callboard-daily-queues-2026-11-20-2026-11-20.xlsx"
    ws = load_workbook(io.BytesIO(attachment.get_payload(decode=True))).active
    assert ws is not None and ws["A1"].value == "Отчёт по очередям"
    # once per due time, whoever runs next
    assert run_due(on(pg), config, due + timedelta(minutes=62)) == []
    row = pg.execute("SELECT status, gap_at FROM report_sends").fetchone()
    assert row == ("sent", at("2026-11-20T17:00:00"))
    # `callboard report run`: now, and whole when every source has reached the range's end
    pg.execute("UPDATE source_stats SET last_event_ts = %s", (at("2026-11-21T08:00:00"),))
    sent = send_now(pg, config, "daily-queues", due + timedelta(hours=2))
    assert sent.gap is None and "gap" not in sent.report
    assert len(inbox.messages) == 2
    with pytest.raises(LookupError, match="daily-queues"):
        send_now(pg, config, "nope", due)


def test_a_dead_smtp_server_is_retried(
    center: tuple[psycopg.Connection[Any], CallboardConfig],
) -> None:
    pg, base = center
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here
    config = CallboardConfig.model_validate(
        {
            **base.model_dump(mode="json", by_alias=True, exclude={"reports"}),
            "smtp": {"host": "127.0.0.1", "port": port, "timeout_s": 2},
            "emails": {"m": {"to": ["boss@floor.test"]}},
            "reports": [{"name": "r", "report": "waits", "by": "center", "notify": ["email:m"]}],
        }
    )
    pg.execute(
        "INSERT INTO source_stats (source, last_event_ts) VALUES ('pbx', %s)",
        (at("2026-11-22T00:00:00"),),
    )
    due = at("2026-11-21T07:00:00")
    assert run_due(on(pg), config, due + timedelta(minutes=1)) == [("r", "pending")]
    status, attempts, detail = (
        pg.execute("SELECT status, attempts, detail FROM report_sends").fetchone() or ()
    )
    assert (status, attempts) == ("pending", 1) and "Connection" in detail
    assert run_due(on(pg), config, due + timedelta(minutes=1, seconds=1)) == []  # backoff
