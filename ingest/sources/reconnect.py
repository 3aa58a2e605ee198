"""The live clients' one loop: connect, log in, resync and read until the line drops, then
reconnect with a doubling backoff, until `stop` is set. AMI and FreeSWITCH's event socket
differ only in how they log in and what they read; a refused login ends the loop (retrying
with the same secret would not help), a dropped line never does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import suppress

from ingest.sources.base import Item

log = logging.getLogger(__name__)


async def reconnecting(
    *,
    label: str,
    host: str,
    port: int,
    stop: asyncio.Event,
    backoff: tuple[float, float],
    login: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    session: Callable[[asyncio.StreamReader, asyncio.StreamWriter], AsyncIterator[Item]],
    refused: type[Exception],
    after: Callable[[], Iterable[Item]],
) -> AsyncIterator[Item]:
    """The items of every connection to host:port in turn. `login` raises `refused` when the
    server refuses the credentials (that ends the loop); `session` resyncs and reads until the
    stream ends; `after` is what to yield when a connection is over (a Position at least, so
    that the caller commits)."""
    delay = backoff[0]
    while not stop.is_set():
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await asyncio.open_connection(host, port)
            await login(reader, writer)
            delay = backoff[0]
            async for item in session(reader, writer):
                yield item
            if not stop.is_set():
                log.warning("%s closed the connection", label)
        except refused:
            raise
        except (OSError, asyncio.IncompleteReadError, ConnectionError) as exc:
            log.warning("%s: %s", label, exc or type(exc).__name__)
        finally:
            if writer is not None:
                writer.close()
                with suppress(OSError, TimeoutError):
                    await writer.wait_closed()
        for item in after():
            yield item
        if stop.is_set():
            break
        log.info("%s: reconnecting in %.1f s", label, delay)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, backoff[1])
