"""`[agents]` aliases: one person, whatever each platform calls them, in every source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from app.config import CallboardConfig
from ingest.sources.cdr import import_cdr, load_mapping
from ingest.sources.normalize import Normalizer
from ingest.sources.queue_log_import import import_queue_log
from tests.sources.test_bad_input import BANK_HEADER, bank_row

T = 1763625600

CONFIG = CallboardConfig.model_validate(
    {
        "agents": {"alice": {"aliases": ["Agent/1001", "SIP/1001", "DORIT"]}},
        "away_reasons": {"map": {"Kaffee": "break"}},
    }
)


def test_aliases_make_one_agent_across_channels_and_sources(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    norm = Normalizer.from_config(CONFIG)
    log = tmp_path / "queue_log"
    log.write_text(
        f"{T}|CLI|sales|SIP/1001|ADDMEMBER|\n"
        f"{T + 10}|a1.1|sales|NONE|ENTERQUEUE||5550001|1\n"
        f"{T + 12}|a1.1|sales|Agent/1001|CONNECT|2|a1.2|1\n"
        f"{T + 70}|a1.1|sales|Agent/1001|COMPLETECALLER|2|58|1\n"
        f"{T + 80}|NONE|sales|SIP/1001|PAUSE|kaffee\n"
    )
    import_queue_log(pg, log, source="pbx", normalizer=norm)
    bank = tmp_path / "bank.txt"
    bank.write_text(BANK_HEADER + "\n" + bank_row(1) + "\n")
    _, mapping = load_mapping("anonymous-bank")
    import_cdr(pg, bank, mapping, source="bank", normalizer=norm)
    agents = pg.execute("SELECT DISTINCT agent FROM events WHERE agent IS NOT NULL").fetchall()
    assert agents == [("alice",)]
    segments = pg.execute("SELECT agent FROM contact_segments ORDER BY call_id").fetchall()
    assert segments == [("alice",), ("alice",)]
    states = pg.execute(
        "SELECT state, reason FROM agent_states WHERE agent = 'alice' AND started_at > '2025-01-01'"
        " ORDER BY started_at"
    ).fetchall()
    assert states == [
        ("available", None),
        ("on_call", None),
        ("available", None),
        ("away", "break"),
    ]


def test_events_posted_to_the_api_get_the_same_aliases_and_reasons(
    app: Any, make_token: Any, pg: psycopg.Connection[Any]
) -> None:
    from fastapi.testclient import TestClient

    events = [
        {
            "id": "h1",
            "source": "crm",
            "ts": "2026-11-20T08:00:00Z",
            "type": "agent.state",
            "agent": "SIP/1001",
            "state": "away",
            "reason": "KAFFEE",
        },
    ]
    with TestClient(app, headers={"Authorization": f"Bearer {make_token('ingest')}"}) as client:
        app.state.config = CONFIG
        assert client.post("/api/v1/events", json=events).json()["inserted"] == 1
    row = pg.execute("SELECT agent, data->>'reason' FROM events WHERE id = 'h1'").fetchone()
    assert row == ("alice", "break")
