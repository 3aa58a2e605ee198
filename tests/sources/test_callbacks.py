"""Callbacks from Amazon Connect (a CALLBACK contact linked to the caller's) and Genesys Cloud
(a callback in the caller's conversation): the wait on the line ends in a callback, never an
abandon, and the callback is answered or fails in its queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from ingest.sources.amazon_connect import parse as parse_connect
from ingest.sources.commit import Committer
from ingest.sources.genesys import parse as parse_genesys
from tests.sources.callback_records import AGENT_ARN, connect, genesys

T0 = datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
AGENT = AGENT_ARN.rsplit("/", 1)[1]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def segments(pg: psycopg.Connection[Any], call: str) -> list[tuple[Any, ...]]:
    return pg.execute(
        "SELECT queue, channel, outcome, wait_s, agent FROM contact_segments WHERE call_id = %s"
        " ORDER BY segment",
        (call,),
    ).fetchall()


def test_amazon_connect_callbacks(pg: psycopg.Connection[Any]) -> None:
    records = [
        connect("QUEUED", "in1", queue="sales", initiated=at(0)),
        # the customer chooses a callback at 08:02; it is queued in the callback queue
        connect(
            "QUEUED",
            "cb1",
            queue="callbacks",
            method="CALLBACK",
            previous="in1",
            initiated=at(2),
            enqueued=at(3),
        ),
        connect("DISCONNECTED", "in1", queue="sales", initiated=at(0), disconnected=at(2.1)),
        connect(
            "CONNECTED_TO_AGENT",
            "cb1",
            queue="callbacks",
            method="CALLBACK",
            previous="in1",
            initiated=at(2),
            enqueued=at(3),
            connected=at(20),
        ),
        connect(
            "DISCONNECTED",
            "cb1",
            queue="callbacks",
            method="CALLBACK",
            previous="in1",
            initiated=at(2),
            enqueued=at(3),
            connected=at(20),
            disconnected=at(25),
        ),
        # a second callback that never reaches the customer
        connect("QUEUED", "in2", queue="sales", initiated=at(1)),
        connect(
            "QUEUED", "cb2", queue="callbacks", method="CALLBACK", previous="in2", initiated=at(4)
        ),
        connect(
            "DISCONNECTED",
            "cb2",
            queue="callbacks",
            method="CALLBACK",
            previous="in2",
            initiated=at(4),
            disconnected=at(60),
        ),
    ]
    summary = Committer(pg, "connect").run(parse_connect("\n".join(records), "connect"))
    assert summary.rejects == []
    assert segments(pg, "in1") == [
        ("sales", "voice", "callback", 120.0, None),
        ("callbacks", "callback", "answered", 1080.0, AGENT),
    ]
    assert segments(pg, "in2")[1] == ("callbacks", "callback", "failed", 3360.0, None)
    notes = pg.execute("SELECT notes FROM contact_segments WHERE call_id = 'in1'").fetchall()
    assert any("ignored" in " ".join(n or []) for (n,) in notes)  # the line's disconnect


def test_genesys_callbacks(pg: psycopg.Connection[Any]) -> None:
    records = [
        genesys("acd.start", "g1", at(0), queue="q1", ani="tel:+15555550100"),
        genesys("acd.start", "g1", at(1.5), queue="q1", media="CALLBACK"),
        genesys("acd.end", "g1", at(1.6), queue="q1", acdOutcome="ABANDON"),
        genesys(
            "acd.end",
            "g1",
            at(10),
            queue="q1",
            media="CALLBACK",
            acdOutcome="ANSWERED",
            answeredUserId="u1",
        ),
        genesys(
            "acw", "g1", at(16), queue="q1", media="CALLBACK", userId="u1", wrapupDurationMs=30000
        ),
        genesys("acd.start", "g2", at(0), queue="q1"),
        genesys("acd.start", "g2", at(2), queue="q1", media="CALLBACK"),
    ]
    summary = Committer(pg, "genesys").run(parse_genesys("\n".join(records), "genesys"))
    assert summary.rejects == []
    assert segments(pg, "g1") == [
        ("q1", "voice", "callback", 90.0, None),
        ("q1", "callback", "answered", 510.0, "u1"),
    ]
    handled = pg.execute(
        "SELECT talk_s, acw_s FROM contact_segments WHERE call_id = 'g1' AND segment = 1"
    ).fetchone()
    assert handled == (330.0, 30.0)
    assert segments(pg, "g2") == [
        ("q1", "voice", "callback", 120.0, None),
        ("q1", "callback", None, None, None),  # waiting for its callback
    ]
