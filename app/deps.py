"""Request dependencies. The connection dependency owns the transaction: commit when the
route returns, roll back when it raises; services never commit.

A request first takes one of the app's request slots (on the event loop, without a thread):
when all are held for SLOT_WAIT_S it is refused at once with 503 and Retry-After, so a flood
queues neither worker threads nor pool checkouts."""

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import psycopg
from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine

SLOT_WAIT_S = 0.5


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def db_slot(request: Request) -> AsyncIterator[None]:
    slots: anyio.Semaphore = request.app.state.db_slots.get()
    acquired = False
    with anyio.move_on_after(SLOT_WAIT_S):
        await slots.acquire()
        acquired = True
    if not acquired:
        raise HTTPException(
            503, "the server is busy; retry in a second", headers={"Retry-After": "1"}
        )
    try:
        yield
    finally:
        slots.release()


def get_conn(
    request: Request, _slot: Annotated[None, Depends(db_slot)]
) -> Iterator[psycopg.Connection[Any]]:
    with get_engine(request).begin() as conn:
        yield conn.connection.driver_connection  # type: ignore[misc]


# scope="function": the transaction commits when the route returns, before the answer is sent
# (FastAPI's default for a dependency with yield runs its exit after the answer: a client
# would be told 200 for events whose commit had not happened, or failed, yet)
ConnDep = Annotated[psycopg.Connection[Any], Depends(get_conn, scope="function")]
