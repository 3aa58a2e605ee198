"""The FreeSWITCH mod_callcenter adapter on the documentation's event examples
(samples/freeswitch), and the ESL client against a fake event socket on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.contract import AgentStateChanged
from ingest.sources.base import Rejected, Skipped
from ingest.sources.commit import Committer
from ingest.sources.freeswitch import EslClient, Translator, messages

SAMPLES = Path(__file__).parent / "samples" / "freeswitch"
T = 1763625600
S1 = "b77c49c2-a732-11df-9438-e7d9456f8886"
S2 = "e260ffd0-a731-11df-9341-e7d9456f8886"
S3 = "600165a4-f748-11df-afdd-b386769690cd"


def _items() -> list[Any]:
    t = Translator("fs1")
    with (SAMPLES / "floor.events").open() as f:
        return [i for m in messages(f) for i in t.feed(m)]


def test_the_documented_events_become_contacts(pg: psycopg.Connection[Any]) -> None:
    summary = Committer(pg, "fs1").run(_items())
    assert summary.rejected == 1  # the documentation's own member-queue-start: no time
    assert "no CC-Member-Joined-Time and no Event-Date-Timestamp" in summary.rejects[0].reason
    assert summary.rejects[0].position == "line 192"
    with pg.cursor(row_factory=dict_row) as cur:
        rows = {
            r["call_id"]: r
            for r in cur.execute("SELECT * FROM contact_segments ORDER BY call_id").fetchall()
        }
    assert set(rows) == {S1, S2, S3}
    s1 = rows[S1]
    assert (s1["outcome"], s1["agent"], s1["wait_s"], s1["talk_s"], s1["missed"]) == (
        "answered",
        "1000@default",
        24.0,
        120.0,
        1,
    )
    assert (s1["queue"], s1["customer"]) == ("support@default", "4385551212")
    s2 = rows[S2]
    assert (s2["outcome"], s2["overflow_reason"], s2["wait_s"]) == ("overflowed", "timeout", 60.0)
    assert (rows[S3]["outcome"], rows[S3]["wait_s"]) == ("abandoned", 11.0)
    states = pg.execute(
        "SELECT agent, state, reason, started_at FROM agent_states ORDER BY agent, started_at"
    ).fetchall()
    assert [(a, s, r, round(t.timestamp() - T)) for a, s, r, t in states] == [
        ("1000@default", "available", None, 0),
        ("1000@default", "on_call", None, 34),
        ("1000@default", "available", None, 154),  # Waiting again: no wrap-up state
        ("1000@default", "logged_out", None, 500),
        ("1001@default", "available", None, 1),
        ("1001@default", "away", "break", 400),
    ]
    assert summary.skipped == {
        "agent-offering": 1,
        "members-count": 1,
        "agent-state-change": 1,
        "member-queue-end": 1,
        "HEARTBEAT": 1,
    }
    again = Committer(pg, "fs1").run(_items())  # a replay stores nothing twice
    assert (again.inserted, again.duplicates) == (0, summary.inserted)


def test_unknown_values_are_rejected_with_the_field() -> None:
    t = Translator("fs1")
    text = (
        "Event-Name: CUSTOM\nEvent-Subclass: callcenter::info\n"
        "Event-Date-Timestamp: 1763625600000000\nCC-Agent: 1000@default\n"
        "CC-Action: agent-status-change\nCC-Agent-Status: Napping\n\n"
        "Event-Name: CUSTOM\nEvent-Subclass: callcenter::info\nCC-Queue: q\n"
        "CC-Action: member-queue-end\nCC-Cause: Cancel\nCC-Member-Leaving-Time: soon\n"
    )
    items = [i for m in messages(text.splitlines(True)) for i in t.feed(m)]
    assert [(i.position, i.reason) for i in items if isinstance(i, Rejected)] == [
        ("line 1", "agent-status-change: CC-Agent-Status 'Napping' is not one callboard knows"),
        (
            "line 8",
            "member-queue-end: CC-Member-Leaving-Time is missing or not epoch seconds ('soon')",
        ),
    ]


async def _fake_esl(
    password: str, plain_events: list[str], seen: list[str], agent_list: str
) -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b"Content-Type: auth/request\n\n")
            while True:
                command = ""
                while (line := (await reader.readline()).decode()) not in ("\n", ""):
                    command += line.strip()
                if not command:
                    return
                seen.append(command)
                if command.startswith("auth "):
                    ok = command == f"auth {password}"
                    reply = "+OK accepted" if ok else "-ERR invalid"
                    writer.write(f"Content-Type: command/reply\nReply-Text: {reply}\n\n".encode())
                    if not ok:
                        return
                elif command.startswith("api "):
                    body = agent_list.encode()
                    writer.write(
                        f"Content-Type: api/response\nContent-Length: {len(body)}\n\n".encode()
                        + body
                    )
                elif command.startswith("event plain"):
                    writer.write(
                        b"Content-Type: command/reply\nReply-Text: +OK event listener enabled "
                        b"plain\n\n"
                    )
                    for e in plain_events:
                        body = (e.strip() + "\n\n").encode()
                        head = f"Content-Length: {len(body)}\nContent-Type: text/event-plain\n\n"
                        writer.write(head.encode() + body)
                    writer.write(b"Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
                    await writer.drain()
                    return
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_the_esl_client_authenticates_subscribes_resyncs_and_reconnects(
    live_db: tuple[str, Any],
) -> None:
    from tests.conftest import libpq

    blocks = (SAMPLES / "floor.events").read_text().split("\n\n")[:-2]  # the timed ones
    agents = (
        "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time\n"
        "1002@default|single_box||callback|user/1002|On Break|Idle|3|10\n+OK\n"
    )
    seen: list[str] = []

    async def run() -> Any:
        server = await _fake_esl("ClueCon", blocks, seen, agents)
        port = server.sockets[0].getsockname()[1]
        stop = asyncio.Event()
        client = EslClient("127.0.0.1", port, "ClueCon", "fslive", stop, backoff=(0.05, 0.1))
        with psycopg.connect(libpq(live_db[0]), autocommit=True) as conn:

            def committed(summary: Any) -> None:
                if client.connects >= 2 and summary.by_type["call.queued"] >= 6:
                    stop.set()

            async with server:
                summary = await asyncio.wait_for(
                    Committer(conn, "fslive", progress=committed).run_async(client), 20
                )
            n = conn.execute("SELECT count(*) FROM events WHERE source = 'fslive'").fetchone()
        return client, summary, n

    client, summary, n = asyncio.run(run())
    assert seen[:3] == [
        "auth ClueCon",
        "api callcenter_config agent list",
        "event plain CUSTOM callcenter::info",
    ]
    assert client.connects >= 2
    assert summary.by_type["call.queued"] == 3 * client.connects  # each replay, stored once
    assert n == (summary.inserted,)
    # 8 call events, 5 agent states, and the resync of 1002 (on break, heard of nowhere else)
    assert summary.inserted == 14


def test_resync_reports_only_what_changed() -> None:
    t = Translator("fs1")
    now = datetime.fromtimestamp(T, UTC)
    table = "name|status|state\n1000@default|Available|Waiting\n1001@default|Logged Out|Idle\n"
    first = t.resync(table, now)
    assert [(e.agent, e.state) for e in first if isinstance(e, AgentStateChanged)] == [
        ("1000@default", "available"),
        ("1001@default", "logged_out"),
    ]
    assert t.resync(table, now) == []
    assert not [i for i in first if isinstance(i, Skipped)]
