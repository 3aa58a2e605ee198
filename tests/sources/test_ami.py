"""The AMI adapter on a recording written in AMI's documented syntax (samples/ami), its
queue_log of the same calls, a QueueStatus resync, and the live client against a fake AMI
server on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.contract import AgentStateChanged, CallEnded, CallMissed
from ingest.sources.ami import AmiClient, AmiFile, Translator, frames, translate
from ingest.sources.base import Position, Raw, Rejected, Skipped
from ingest.sources.commit import Committer
from ingest.sources.queue_log_import import import_queue_log

SAMPLES = Path(__file__).parent / "samples" / "ami"
T = 1763625600


def unwrap(items: Any) -> list[Any]:
    """The events themselves (the adapter gives each with its AMI message, `Raw`)."""
    return [i.event if isinstance(i, Raw) else i for i in items]


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T + seconds, UTC)


def segments(pg: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    with pg.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM contact_segments ORDER BY call_id, segment").fetchall()
    return {f"{r['call_id']}/{r['segment']}": r for r in rows}


def states(pg: psycopg.Connection[Any], agent: str) -> list[tuple[float, str, str | None]]:
    rows = pg.execute(
        "SELECT started_at, state, reason FROM agent_states WHERE agent = %s ORDER BY started_at",
        (agent,),
    ).fetchall()
    return [(round(r[0].timestamp() - T, 3), r[1], r[2]) for r in rows]


def test_the_recording_becomes_contacts_with_the_units_right() -> None:
    items = unwrap(AmiFile(SAMPLES / "floor.ami", "pbx1").items())
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert len(rejected) == 1
    assert rejected[0].position == "line 307"
    assert "not a `Key: Value` line" in rejected[0].reason
    missed = [i for i in items if isinstance(i, CallMissed)]
    assert [(m.agent, m.ring_s) for m in missed] == [("bob", 15.0)]  # 15000 ms
    ended = [i for i in items if isinstance(i, CallEnded)]
    assert [(e.call_id, e.queue, e.talk_s, e.ended_by) for e in ended] == [
        ("pbx1:1763625610.1", "sales", 120.0, "customer"),
        ("pbx1:1763625800.9", "sales", 60.0, "agent"),
        ("pbx1:1763625800.9", "support", 30.0, "agent"),  # AgentComplete without channel fields
    ]
    kinds = {i.kind for i in items if isinstance(i, Skipped)}
    assert kinds == {"AgentCalled", "QueueCallerLeave"}
    assert isinstance(items[-1], Position)


def test_stored_figures_counted_by_hand(pg: psycopg.Connection[Any]) -> None:
    summary = Committer(pg, "pbx1").run(AmiFile(SAMPLES / "floor.ami", "pbx1").items())
    assert summary.inserted == sum(summary.by_type.values())
    assert summary.by_type["call.queued"] == 5
    assert summary.rejected == 1
    segs = segments(pg)
    assert set(segs) == {
        "pbx1:1763625610.1/0",
        "pbx1:1763625650.5/0",
        "pbx1:1763625700.7/0",
        "pbx1:1763625800.9/0",
        "pbx1:1763625800.9/1",
    }
    c1 = segs["pbx1:1763625610.1/0"]
    assert (c1["outcome"], c1["agent"], c1["wait_s"], c1["talk_s"], c1["missed"]) == (
        "answered",
        "alice",
        20.0,
        120.0,
        1,
    )
    assert (segs["pbx1:1763625650.5/0"]["outcome"], segs["pbx1:1763625650.5/0"]["wait_s"]) == (
        "abandoned",
        11.0,
    )
    c3 = segs["pbx1:1763625700.7/0"]  # QueueCallerAbandon + QUEUESTATUS=TIMEOUT
    assert (c3["outcome"], c3["overflow_reason"], c3["wait_s"]) == ("overflowed", "timeout", 60.0)
    first, second = segs["pbx1:1763625800.9/0"], segs["pbx1:1763625800.9/1"]
    assert (first["transferred"], first["transfer_to_external"], first["talk_s"]) == (
        True,
        "600@support-queue",
        60.0,
    )
    assert (second["queue"], second["outcome"], second["wait_s"], second["talk_s"]) == (
        "support",
        "answered",
        5.0,
        30.0,
    )
    assert states(pg, "bob") == [
        (0.2, "available", None),
        (200.4, "away", "lunch"),  # the PBX's free text, mapped to its away class
        (260.02, "available", None),
        (400.5, "logged_out", None),
    ]
    lines = pg.execute("SELECT kind, count(*) FROM source_lines GROUP BY kind ORDER BY 1")
    assert lines.fetchall() == [("AgentCalled", 2), ("QueueCallerLeave", 3), ("rejected", 1)]


def test_queue_log_after_ami_adds_only_what_ami_missed(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    Committer(pg, "pbx1").run(AmiFile(SAMPLES / "floor.ami", "pbx1").items())
    before = pg.execute("SELECT count(*) FROM events").fetchone()
    summary = import_queue_log(pg, SAMPLES / "floor.queue_log", source="pbx1")
    added = pg.execute(
        "SELECT type, call_id, agent FROM events WHERE raw LIKE '%%|%%' ORDER BY seq"
    ).fetchall()
    assert before is not None
    # The call AMI did not see (3 events and bob's available after it), and the membership
    # lines: queue_log names who added the member (MANAGER, CLI, a channel), AMI does not.
    assert summary.inserted == 4 + 4
    assert [a for a in added if a[1] is not None] == [
        ("call.queued", "pbx1:1763625930.13", None),
        ("call.answered", "pbx1:1763625930.13", "bob"),
        ("call.ended", "pbx1:1763625930.13", "bob"),
    ]
    assert {a[0] for a in added if a[1] is None} == {"agent.state"}
    segs = segments(pg)
    assert len(segs) == 6  # the five queue visits once each, and the call AMI missed
    assert sum(1 for s in segs.values() if s["contact_outcome"]) == 5  # five contacts


def test_events_without_timestamp_are_rejected_in_a_recording_and_timed_live() -> None:
    text = "Event: QueueCallerJoin\nUniqueid: u1\nQueue: sales\nPosition: 1\n\n"
    t = Translator("pbx1")
    (item,) = [
        i for f in frames(text.splitlines(True)) if not isinstance(f, Rejected) for i in t.feed(f)
    ]
    assert isinstance(item, Rejected) and "timestampevents" in item.reason
    t = Translator("pbx1")
    (frame,) = frames(text.splitlines(True))
    assert not isinstance(frame, Rejected)
    (queued,) = unwrap(t.feed(frame, received=at(5)))
    assert not isinstance(queued, Rejected | Skipped | Position)
    assert queued.ts == at(5)


def test_a_queue_status_resync_restores_memberships_and_pauses() -> None:
    t = Translator("pbx1")
    items = list(translate(frames((SAMPLES / "floor.ami").read_text().splitlines(True)), t))
    assert t.members.queues == {"alice": {"sales", "support"}, "bob": set()}
    resync = (SAMPLES / "resync.ami").read_text()
    made = [
        i
        for i in unwrap(translate(frames(resync.splitlines(True)), t))
        if isinstance(i, AgentStateChanged)
    ]
    assert items
    # carol is static (never added by an event); bob came back, paused; alice left support.
    assert [(e.agent, e.state, e.reason, e.queues) for e in made] == [
        ("alice", "available", None, ["sales"]),
        ("bob", "away", "paused", ["sales"]),
        ("bob", "away", "Break", ["sales"]),
        ("carol", "available", None, ["support"]),
    ]


async def _fake_ami(
    script: list[str], logins: list[str], handlers: list[asyncio.Task[None]]
) -> tuple[asyncio.Server, int]:
    """An AMI server that answers Login and QueueStatus, then replays one recording part per
    connection and hangs up (the last part stays connected)."""
    parts = iter(script)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await _converse(reader, writer, next(parts, None), logins)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _converse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, part: str | None, logins: list[str]
) -> None:
    writer.write(b"Asterisk Call Manager/9.0.0\r\n")
    while True:
        block: dict[str, str] = {}
        while (line := (await reader.readline()).decode()) not in ("\r\n", ""):
            key, _, value = line.strip().partition(": ")
            block[key] = value
        if not block:
            return
        action_id = block.get("ActionID", "")
        if block.get("Action") == "Login":
            logins.append(block.get("Secret", ""))
            writer.write(
                f"Response: Success\r\nActionID: {action_id}\r\n"
                "Message: Authentication accepted\r\n\r\n".encode()
            )
        elif block.get("Action") == "QueueStatus":
            status = (SAMPLES / "resync.ami").read_text() if part is None else ""
            writer.write(
                f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n\r\n".encode()
                + status.replace("\n", "\r\n").encode()
            )
            writer.write((part or "").replace("\n", "\r\n").encode())
            await writer.drain()
            if part is not None:
                return


def test_the_live_client_logs_in_reconnects_and_resyncs(live_db: tuple[str, Any]) -> None:
    from tests.conftest import libpq

    text = (SAMPLES / "floor.ami").read_text().removeprefix("Asterisk Call Manager/9.0.0\n")
    cut = text.index("Event: QueueCallerJoin\nPrivilege: agent,all\nTimestamp: 1763625800.1")
    logins: list[str] = []

    async def run() -> Any:
        handlers: list[asyncio.Task[None]] = []
        server, port = await _fake_ami([text[:cut], text[cut:]], logins, handlers)
        stop = asyncio.Event()
        client = AmiClient(
            "127.0.0.1", port, "callboard", "s3cret", "amilive", stop, backoff=(0.05, 0.1)
        )
        url = libpq(live_db[0])
        with psycopg.connect(url, autocommit=True) as conn:

            def committed(summary: Any) -> None:
                if client.connects >= 3 and summary.by_type["agent.state"] >= 13:
                    stop.set()

            async with server:
                summary = await asyncio.wait_for(
                    Committer(conn, "amilive", progress=committed).run_async(client), 20
                )
                await asyncio.wait_for(asyncio.gather(*handlers), 5)  # each saw the hang-up
        return client, summary

    client, summary = asyncio.run(run())
    assert logins == ["s3cret"] * 3
    assert client.connects == 3
    assert summary.by_type["call.queued"] == 5
    with psycopg.connect(libpq(live_db[0])) as conn:
        rows = conn.execute(
            "SELECT agent, data->>'state', data->>'reason' FROM events"
            " WHERE source = 'amilive' AND type = 'agent.state' AND ts >= %s ORDER BY ts, agent",
            (at(1400),),
        ).fetchall()
    # the third connection's resync, from the QueueStatus answer
    assert rows == [
        ("alice", "available", None),
        ("bob", "away", "paused"),
        ("carol", "available", None),
        ("bob", "away", "break"),
    ]


def test_an_attended_transfer_names_the_bridge_it_went_to() -> None:
    text = """Event: QueueCallerJoin
Timestamp: 1763625600.100000
Uniqueid: u9
Queue: sales
Position: 1
CallerIDNum: 5550001

Event: AgentConnect
Timestamp: 1763625610.100000
Uniqueid: u9
Queue: sales
MemberName: alice
HoldTime: 10
RingTime: 2
DestUniqueid: u10

Event: AttendedTransfer
Timestamp: 1763625650.100000
Result: Success
OrigTransfererUniqueid: u10
SecondTransfererUniqueid: u11
TransfereeUniqueid: u9
DestType: Bridge
DestBridgeUniqueid: 5e1f-bridge

Event: AgentComplete
Timestamp: 1763625650.200000
Uniqueid: u9
Queue: sales
MemberName: alice
HoldTime: 10
TalkTime: 40
Reason: transfer

"""
    t = Translator("pbx1")
    items = unwrap(
        i for f in frames(text.splitlines(True)) if not isinstance(f, Rejected) for i in t.feed(f)
    )
    kinds = [
        (getattr(i, "type", None), getattr(i, "to_external", None), getattr(i, "talk_s", None))
        for i in items
    ]
    assert ("call.transferred", "5e1f-bridge", None) in kinds
    assert ("call.ended", None, 40.0) in kinds
