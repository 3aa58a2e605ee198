"""The scheduled reports' loop in each API process: every `every_s`, send what is due
(app/reports/schedule.py; the outbox row makes each send happen once across processes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

import psycopg
from fastapi import FastAPI

from app.reports.schedule import run_due

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(app: FastAPI, every_s: float = 30.0) -> AsyncIterator[None]:
    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with app.state.engine.begin() as conn:
            yield conn.connection.driver_connection

    def once() -> None:
        config = app.state.config
        if config.reports:
            run_due(connect, config, app.state.clock.now())

    async def loop() -> None:
        while True:
            try:
                await asyncio.to_thread(once)
            except Exception:  # a lost connection, a bad SMTP server: next round
                log.exception("reports: sending the scheduled reports failed")
            await asyncio.sleep(every_s)

    task = asyncio.create_task(loop(), name="reports-schedule")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=5)
