"""Contract events from NATS JetStream, acknowledged only after the database commit.

A message holds one event or a JSON array of them. A durable pull consumer survives restarts:
what was not acknowledged is delivered again, and the events' ids make a redelivery harmless.
A message that is not JSON, or items that are not valid events, are logged with their stream
sequence and acknowledged (redelivering them would fail the same way); the valid items of a
message are stored."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import nats
import orjson
import psycopg
from nats.js.api import ConsumerConfig, StreamConfig

from ingest.writer import IngestResult, ingest

log = logging.getLogger(__name__)


async def ensure_stream(js: Any, subject: str, stream: str) -> None:
    try:
        await js.find_stream_name_by_subject(subject)
    except nats.js.errors.NotFoundError:
        await js.add_stream(StreamConfig(name=stream, subjects=[subject]))


async def consume(
    *,
    url: str,
    subject: str,
    durable: str,
    connect: Callable[[], psycopg.Connection[Any]],
    stop: asyncio.Event,
    stream: str = "CALLBOARD",
    batch: int = 500,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    total = IngestResult()
    nc = await nats.connect(url)
    conn = connect()
    try:
        js = nc.jetstream()
        await ensure_stream(js, subject, stream)
        sub = await js.pull_subscribe(subject, durable=durable, config=ConsumerConfig(ack_wait=60))
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=0.5)
            except nats.errors.TimeoutError:
                continue
            items: list[Any] = []
            for msg in msgs:
                try:
                    body = orjson.loads(msg.data)
                except orjson.JSONDecodeError as exc:
                    log.error(
                        "nats message %s is not JSON (%s): acknowledged, not stored",
                        msg.metadata.sequence.stream,
                        exc,
                    )
                    continue
                items.extend(body if isinstance(body, list) else [body])
            result = await asyncio.to_thread(_store, conn, items)
            for err in result.errors:
                log.error("nats event rejected: %s", err.message)
            for msg in msgs:  # after the commit: a crash before here means redelivery
                await msg.ack()
            total.add(result)
            if on_batch is not None:
                on_batch(total)
    finally:
        conn.close()
        await nc.close()
    return total


def _store(conn: psycopg.Connection[Any], items: list[Any]) -> IngestResult:
    if not items:
        return IngestResult()
    with conn.transaction():
        return ingest(conn, items)
