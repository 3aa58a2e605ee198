"""Twilio TaskRouter event callbacks (samples/twilio) through the pure translation and
through POST /api/v1/sources/twilio with real signatures from Twilio's own validator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.rows import dict_row
from twilio.request_validator import RequestValidator

from app.sources.config import TwilioConfig
from ingest.sources.base import Raw, Rejected, Skipped
from ingest.sources.twilio import translate
from tests.app.conftest import app

SAMPLES = Path(__file__).parent / "samples" / "twilio"
URL = "http://testserver/api/v1/sources/twilio"
TOKEN = "12345678901234567890123456789012"
T = 1763625600
T1, T2, T3 = (f"WT0123456789abcdef0123456789abcd0{i}" for i in (1, 2, 3))
ALICE, BOB = "WK0123456789abcdef0123456789abcd01", "WK0123456789abcdef0123456789abcd02"
__all__ = ["app"]


def bodies() -> list[str]:
    return (SAMPLES / "callbacks.txt").read_text().splitlines()


@pytest.fixture
def twilio(app: FastAPI, tmp_path: Path) -> Iterator[TestClient]:
    secret = tmp_path / "twilio_token"
    secret.write_text(TOKEN + "\n")
    with TestClient(app) as c:
        app.state.config = app.state.config.model_copy(
            update={"twilio": TwilioConfig(auth_token_file=secret, source="tw")}
        )
        yield c


def post(client: TestClient, body: str, token: str = TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(URL, dict(parse_qsl(body)))
    return client.post(
        "/api/v1/sources/twilio",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )


def test_signed_callbacks_become_contacts_and_states(
    twilio: TestClient, pg: psycopg.Connection[Any]
) -> None:
    for body in bodies():
        r = post(twilio, body)
        assert r.status_code == 204, r.text
        assert r.content == b""
    with pg.cursor(row_factory=dict_row) as cur:
        rows = {r["call_id"]: r for r in cur.execute("SELECT * FROM contact_segments").fetchall()}
    one = rows[T1]
    assert (one["queue"], one["agent"], one["missed"], one["customer"]) == (
        "Support",
        BOB,
        1,
        "+15555550100",
    )
    assert (one["wait_s"], one["talk_s"], one["acw_s"]) == (25.0, 120.0, 30.0)
    assert (rows[T2]["outcome"], rows[T2]["wait_s"]) == ("abandoned", 30.0)
    three = rows[T3]
    assert (three["outcome"], three["overflow_reason"], three["wait_s"]) == (
        "overflowed",
        "timeout",
        60.0,
    )
    states = pg.execute(
        "SELECT agent, started_at, state, reason FROM agent_states ORDER BY agent, started_at"
    ).fetchall()
    assert [(a, round(t.timestamp() - T), s, r) for a, t, s, r in states] == [
        (ALICE, -60, "available", None),
        (ALICE, 400, "away", "break"),  # the activity name, mapped to its away class
        (BOB, -50, "available", None),
        (BOB, 25, "on_call", None),
        (BOB, 145, "wrap_up", None),
        (BOB, 175, "available", None),
        (BOB, 500, "logged_out", None),
    ]
    skipped = pg.execute("SELECT kind FROM source_lines WHERE source = 'tw' ORDER BY 1").fetchall()
    assert skipped == [("reservation.created",), ("task.created",)]


def test_a_wrong_or_missing_signature_is_refused_and_nothing_stored(
    twilio: TestClient, pg: psycopg.Connection[Any]
) -> None:
    body = bodies()[3]
    assert post(twilio, body, token="0" * 32).status_code == 403
    r = twilio.post(
        "/api/v1/sources/twilio",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403
    tampered = body.replace("Support", "Sales")
    signature = RequestValidator(TOKEN).compute_signature(URL, dict(parse_qsl(body)))
    r = twilio.post(
        "/api/v1/sources/twilio", content=tampered, headers={"X-Twilio-Signature": signature}
    )
    assert r.status_code == 403
    assert pg.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_a_callback_that_cannot_be_read_gets_its_error(twilio: TestClient) -> None:
    body = bodies()[6].replace("WorkerSid=WK0123456789abcdef0123456789abcd02&", "")
    r = post(twilio, body)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"position": "callback", "message": "reservation.accepted: WorkerSid is missing"}
    ]


def test_not_configured_is_a_clear_503(app: FastAPI) -> None:
    with TestClient(app) as c:
        r = c.post("/api/v1/sources/twilio", content=bodies()[0])
    assert r.status_code == 503
    assert "auth_token_file" in r.json()["detail"]


def test_translation_alone() -> None:
    form = dict(parse_qsl(bodies()[12]))  # task.canceled by TTL, queue not in the form
    (raw,) = translate(form, "tw", lookup=lambda task: ("Support", None))
    assert isinstance(raw, Raw) and "TaskCanceledReason=Task TTL Exceeded" in raw.raw
    ev = raw.event
    assert not isinstance(ev, Rejected | Skipped)
    assert (ev.type, ev.queue, ev.ts) == (
        "call.overflowed",
        "Support",
        datetime.fromtimestamp(T + 360, UTC),
    )
    (skip,) = translate(form, "tw")  # nothing known about the task
    assert isinstance(skip, Skipped) and skip.reason == "a task canceled before it entered a queue"
    (bad,) = translate({"EventType": "task.created"}, "tw")
    assert (
        isinstance(bad, Rejected)
        and bad.reason == "task.created: Timestamp '' is not epoch seconds"
    )
