"""The NATS JetStream consumer against a real nats-server (the local one, if running)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import nats
import psycopg
import pytest
import sqlalchemy as sa

from app import migrate
from ingest.sources.stream import consume
from tests.conftest import libpq

URL = "nats://127.0.0.1:4222"


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _reachable(), reason="no nats-server on 127.0.0.1:4222")


def _event(i: int) -> dict[str, Any]:
    return {
        "id": f"n{i}",
        "source": "bus",
        "ts": "2026-11-20T08:00:00Z",
        "type": "call.queued",
        "call_id": f"nc{i}",
        "queue": "q",
    }


async def _publish(subject: str, stream: str, bodies: list[bytes]) -> None:
    nc = await nats.connect(URL)
    js = nc.jetstream()
    try:
        await js.find_stream_name_by_subject(subject)
    except nats.js.errors.NotFoundError:
        await js.add_stream(name=stream, subjects=[subject])
    for body in bodies:
        await js.publish(subject, body)
    await nc.close()


async def _run_until(db: str, subject: str, stream: str, durable: str, want: int) -> Any:
    stop = asyncio.Event()

    def stored() -> int:
        with psycopg.connect(libpq(db)) as conn:
            row = conn.execute("SELECT count(*) FROM events").fetchone()
            return int(row[0]) if row else 0

    async def watch() -> None:
        for _ in range(200):
            if await asyncio.to_thread(stored) >= want:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # let a redelivery show, if there were one
        stop.set()

    watcher = asyncio.create_task(watch())
    total = await consume(
        url=URL,
        subject=subject,
        durable=durable,
        stream=stream,
        stop=stop,
        connect=lambda: psycopg.connect(libpq(db), autocommit=True),
    )
    await watcher
    return total


def test_events_from_the_bus_are_stored_once_and_acknowledged(fresh_db: str) -> None:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    tag = uuid.uuid4().hex[:8]
    subject, stream, durable = f"cbtest.{tag}", f"CBTEST_{tag}", f"d{tag}"
    import orjson

    asyncio.run(
        _publish(
            subject,
            stream,
            [
                orjson.dumps([_event(1), _event(2)]),  # a batch in one message
                orjson.dumps(_event(3)),
                b"not json",  # logged and acknowledged, never retried forever
                orjson.dumps({**_event(4), "ts": "yesterday"}),  # an invalid event: rejected
            ],
        )
    )
    first = asyncio.run(_run_until(fresh_db, subject, stream, durable, 3))
    assert (first.inserted, first.rejected) == (3, 2)  # the invalid event and 'not json'
    # published while nobody consumes: the durable consumer picks it up, and only it
    asyncio.run(_publish(subject, stream, [orjson.dumps(_event(5))]))
    second = asyncio.run(_run_until(fresh_db, subject, stream, durable, 4))
    assert (second.inserted, second.duplicates) == (1, 0)

    async def cleanup() -> None:
        nc = await nats.connect(URL)
        await nc.jetstream().delete_stream(stream)
        await nc.close()

    asyncio.run(cleanup())
