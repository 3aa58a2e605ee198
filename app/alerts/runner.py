"""The alerts' background work in each API process: drain the notification outbox (outside
any tick), and evaluate the rules when the live hub has not (no screen subscribed: the hub
then computes nothing, yet a webhook must still fire at night)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from app.alerts.delivery import Outbox
from app.alerts.service import evaluate_tick
from app.clock import Clock
from app.config import CallboardConfig

log = logging.getLogger(__name__)


class AlertsRunner:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: Callable[[], CallboardConfig],
        hub: Any = None,
        tick_s: float = 1.0,
        drain_s: float = 1.0,
    ) -> None:
        self.engine, self.clock, self.config, self.hub = engine, clock, config, hub
        self.tick_s, self.drain_s = tick_s, drain_s
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="alerts-delivery")
        # the loops' database work, on threads of our own, so that stop() can wait for it
        self.work = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alerts")
        self.outbox = Outbox(self._conn, self.pool)  # per target: none waits for another
        self.evaluated = 0
        self._tasks: list[asyncio.Task[None]] = []

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        with self.engine.begin() as conn:
            yield conn.connection.driver_connection  # type: ignore[misc]

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._drain(), name="alerts-drain"),
            asyncio.create_task(self._evaluate(), name="alerts-evaluate"),
        ]

    async def stop(self) -> None:
        """Stop the loops and wait for work in flight (at most a delivery's timeout), so no
        connection outlives the engine."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # bounded: a stop never hangs on a task
            done, stuck = await asyncio.wait(self._tasks, timeout=5)
            for task in done:  # retrieved: an error was logged where it happened
                if not task.cancelled():
                    task.exception()
            for task in stuck:
                log.error("alerts: a task did not stop: %r", task)
        await asyncio.to_thread(self.work.shutdown, wait=True, cancel_futures=True)
        await asyncio.to_thread(self.pool.shutdown, wait=True, cancel_futures=True)

    async def _run(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.work, fn)

    def drain(self) -> int:
        self.outbox.wake.clear()
        return self.outbox.drain(self.config(), self.clock.now)

    def evaluate(self) -> None:
        with self._conn() as pg:
            evaluate_tick(pg, self.config(), None, self.clock.now())
        self.evaluated += 1

    def hub_evaluates(self) -> bool:
        """Is the live hub evaluating the rules on its ticks? A follower's hub computes
        nothing: the leader's process evaluates (its hub, or its runner when no screen of the
        cluster is open and the leader has nothing to compute)."""
        hub = self.hub
        if hub is None:
            return False
        if not getattr(hub, "leader", True):
            return True
        last = getattr(hub, "alerts_evaluated_at", 0.0)
        # the leader computes at least every max_age_s while anything is watched
        horizon = max(3 * self.tick_s, 1.5 * getattr(hub, "max_age_s", 0.0))
        return time.monotonic() - last < horizon

    async def _drain(self) -> None:
        while True:
            try:
                busy = await self._run(self.drain)
            except Exception:  # a lost connection: try again on the next round
                log.exception("alerts: draining the outbox failed")
                busy = 0
            if not busy:  # until the next due time, or a target is free again
                await asyncio.to_thread(self.outbox.wake.wait, self.drain_s)

    async def _evaluate(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            if self.hub_evaluates():
                continue
            try:
                await self._run(self.evaluate)
            except Exception:
                log.exception("alerts: evaluating the rules failed")


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[AlertsRunner]:
    """The runner for an app whose lifespan made `engine`, `clock`, `config` and `hub`."""
    runner = AlertsRunner(
        engine=app.state.engine,
        clock=app.state.clock,
        config=lambda: app.state.config,
        hub=getattr(app.state, "hub", None),
        tick_s=getattr(app.state.settings, "tick_s", 1.0),
    )
    app.state.alerts = runner
    runner.start()
    try:
        yield runner
    finally:
        await runner.stop()
