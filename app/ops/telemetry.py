"""Prometheus metrics of the service itself: request timings and what ingest stored.

Each app gets its own registry (tests build many apps; a process-global registry would refuse
the second). With several workers each worker exports its own counters."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "callboard_ingest_events",
            "Events offered to the writer, by what became of them",
            ["outcome"],
            registry=self.registry,
        )
        self.batches = Counter(
            "callboard_ingest_batches", "Committed ingest batches", registry=self.registry
        )
        self.requests = Histogram(
            "callboard_http_request_duration_seconds",
            "HTTP request duration by route",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.live_tick = live_tick_histogram(self.registry)

    def count_ingest(self, *, inserted: int, duplicates: int, rejected: int) -> None:
        self.events.labels("inserted").inc(inserted)
        self.events.labels("duplicate").inc(duplicates)
        self.events.labels("rejected").inc(rejected)
        self.batches.inc()


def live_tick_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "callboard_live_tick_seconds",
        "Duration of one live computation by the leader (compute and publish)",
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        registry=registry,
    )


def install(app: FastAPI, telemetry: Telemetry) -> None:
    @app.middleware("http")
    async def time_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            # the route template, not the raw path: /agent/{agent}, not one series per agent
            name = getattr(route, "path", None) or "unmatched"
            telemetry.requests.labels(request.method, name, str(status)).observe(
                time.perf_counter() - start
            )
