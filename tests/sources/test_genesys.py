"""Genesys Cloud notifications (samples/genesys) through the adapter and `callboard import
genesys`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.sources.base import Rejected
from ingest.sources.commit import Committer
from ingest.sources.genesys import parse
from tests.conftest import libpq
from tests.test_cli import migrated, run

SAMPLES = Path(__file__).parent / "samples" / "genesys"
Q = "5d4c2b1a-0000-4000-8000-00000000a001"
U1, U2 = "7a1b2c3d-0000-4000-8000-000000000001", "7a1b2c3d-0000-4000-8000-000000000002"
C1, C2, C3 = (f"c0ffee00-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
__all__ = ["migrated"]


def _at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2025-11-20T{hms}+00:00").astimezone(UTC)


def test_notifications_become_contacts_acw_and_presence(pg: psycopg.Connection[Any]) -> None:
    text = (SAMPLES / "notifications.jsonl").read_text()
    summary = Committer(pg, "gen").run(parse(text, "gen"))
    assert [(r.position, r.reason) for r in summary.rejects] == [
        (
            "line 12",
            f"v2.detail.events.conversation.{C3}.acd.end: acdOutcome ANSWERED without "
            "answeredUserId",
        )
    ]
    assert summary.skipped == {"channel.metadata": 1}
    with pg.cursor(row_factory=dict_row) as cur:
        rows = {r["call_id"]: r for r in cur.execute("SELECT * FROM contact_segments").fetchall()}
    one = rows[C1]
    assert (one["queue"], one["agent"], one["customer"]) == (Q, U1, "tel:+15555550100")
    assert (one["wait_s"], one["talk_s"], one["acw_s"]) == (20.0, 180.0, 30.0)
    assert (rows[C2]["outcome"], rows[C2]["wait_s"]) == ("abandoned", 45.0)
    assert (rows[C3]["outcome"], rows[C3]["overflow_reason"], rows[C3]["wait_s"]) == (
        "overflowed",
        "other",
        60.0,
    )
    states = pg.execute(
        "SELECT agent, started_at, state, reason, queues FROM agent_states ORDER BY 1, 2"
    ).fetchall()
    assert states == [
        (U1, _at("08:00:00"), "available", None, [Q]),
        (U1, _at("08:05:20"), "on_call", None, [Q]),
        (U1, _at("08:08:20"), "wrap_up", None, [Q]),
        (U1, _at("08:08:50"), "available", None, [Q]),
        (U1, _at("08:30:00"), "logged_out", None, []),
        (U2, _at("08:01:00"), "away", "break", []),
    ]


def test_a_mismatched_conversation_and_an_unknown_topic() -> None:
    body = {"eventTime": 1763625600000, "conversationId": "other", "queueId": "q"}
    text = "\n".join(
        [
            json.dumps(
                {"topicName": "v2.detail.events.conversation.abc.acd.start", "eventBody": body}
            ),
            json.dumps({"topicName": "v2.users.u1.presence", "eventBody": {}}),
            json.dumps({"eventBody": {}}),
        ]
    )
    items = list(parse(text, "gen"))
    assert isinstance(items[0], Rejected)
    assert items[0].reason.endswith("eventBody.conversationId 'other' is not the topic's")
    assert type(items[1]).__name__ == "Skipped"
    assert isinstance(items[2], Rejected) and items[2].reason == "not a notification: no topicName"


def test_import_genesys_on_the_command_line(migrated: str, tmp_path: Path) -> None:
    r = run(
        ["import", "genesys", str(SAMPLES / "notifications.jsonl"), "--source", "gen"],
        migrated,
        tmp_path,
    )
    assert r.returncode == 1, r.stderr  # one notification rejected
    out = json.loads(r.stdout)
    assert out["rejected"] == 1 and out["errors"][0]["position"] == "line 12"
    assert out["by_type"] == {
        "agent.state": 3,
        "call.abandoned": 1,
        "call.answered": 1,
        "call.ended": 1,
        "call.overflowed": 1,
        "call.queued": 3,
        "call.wrapped": 1,
    }
    with psycopg.connect(libpq(migrated)) as conn:
        assert conn.execute("SELECT count(*) FROM contact_segments").fetchone() == (3,)
