"""Contract events from NATS JetStream, acknowledged only after the database commit.

A message holds one event or a JSON array of them. A durable pull consumer survives restarts:
what was not acknowledged is delivered again, and the events' ids make a redelivery harmless.
A message that is not JSON, or items that are not valid events, are rejected with their stream
sequence (kept in source_lines) and acknowledged: redelivering them would fail the same way.
The stream numbers its messages: a jump in the sequence between fetches is counted as a gap."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import nats
import orjson
import psycopg
from nats.js.api import ConsumerConfig, StreamConfig
from pydantic import ValidationError

from ingest.contract import describe, event_adapter
from ingest.sources.base import Item, Position, Rejected
from ingest.sources.commit import Committer, Summary
from ingest.sources.normalize import Normalizer

log = logging.getLogger(__name__)


async def ensure_stream(js: Any, subject: str, stream: str) -> None:
    try:
        await js.find_stream_name_by_subject(subject)
    except nats.js.errors.NotFoundError:
        await js.add_stream(StreamConfig(name=stream, subjects=[subject]))


class NatsSource:
    """An AsyncSource: each fetch's items, then a Position; the messages are acknowledged in
    `committed`, after the committer stored them."""

    def __init__(self, sub: Any, *, name: str, stop: asyncio.Event, batch: int = 500) -> None:
        self.sub, self.name, self.stop, self.batch = sub, name, stop, batch
        self._unacked: list[Any] = []

    async def items(self) -> AsyncIterator[Item]:
        while not self.stop.is_set():
            try:
                msgs = await self.sub.fetch(self.batch, timeout=0.5)
            except nats.errors.TimeoutError:
                continue
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                try:
                    body = orjson.loads(msg.data)
                except orjson.JSONDecodeError as exc:
                    log.error(
                        "nats message %s is not JSON (%s): acknowledged, not stored", seq, exc
                    )
                    yield Rejected(
                        f"seq {seq}", f"not JSON ({exc})", msg.data[:500].decode("utf-8", "replace")
                    )
                    continue
                for i, item in enumerate(body if isinstance(body, list) else [body]):
                    where = f"seq {seq}" + (f" item {i + 1}" if isinstance(body, list) else "")
                    try:
                        yield event_adapter.validate_python(item)
                    except ValidationError as exc:
                        log.error("nats event rejected (%s): %s", where, describe(exc))
                        yield Rejected(where, describe(exc), orjson.dumps(item).decode())
            self._unacked.extend(msgs)
            if msgs:
                yield Position(
                    {
                        "seq": msgs[-1].metadata.sequence.stream,
                        "first_seq": msgs[0].metadata.sequence.stream,
                    }
                )

    async def committed(self, position: Position) -> None:
        msgs, self._unacked = self._unacked, []
        for msg in msgs:  # after the commit: a crash before here means redelivery
            await msg.ack()


async def consume(
    *,
    url: str,
    subject: str,
    durable: str,
    connect: Callable[[], psycopg.Connection[Any]],
    stop: asyncio.Event,
    stream: str = "CALLBOARD",
    source: str = "nats",
    batch: int = 500,
    normalizer: Normalizer | None = None,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    nc = await nats.connect(url)
    conn = connect()
    try:
        js = nc.jetstream()
        await ensure_stream(js, subject, stream)
        sub = await js.pull_subscribe(subject, durable=durable, config=ConsumerConfig(ack_wait=60))
        committer = Committer(conn, source, normalizer=normalizer, progress=progress)
        return await committer.run_async(NatsSource(sub, name=source, stop=stop, batch=batch))
    finally:
        conn.close()
        await nc.close()
