"""The sources' health on the server: the `sources` live topic (supervisors and admins), the
`feed` topic (every reading role: stale or not, no source named) and the Prometheus gauges,
all from `ingest.sources.health.sources_payload`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from app.live.topics import KINDS, register
from ingest.sources.health import feed_payload, sources_payload


@contextmanager
def _engine_conn(engine: Any) -> Iterator[psycopg.Connection[Any]]:
    with engine.connect() as sa_conn:
        yield sa_conn.connection.driver_connection


# who may follow the `sources` topic: the sources' names, positions, rates and rejects are the
# center's plumbing, not figures a floor reads (wallboards and agents get `feed` instead)
TOPIC_ROLES = frozenset({"admin", "supervisor"})


def _topic(pg: Any, config: Any, rows: Any, now: datetime) -> dict[str, Any]:
    return sources_payload(pg, config, now, wall=datetime.now(UTC))


def _feed(pg: Any, config: Any, rows: Any, now: datetime) -> dict[str, Any]:
    return feed_payload(sources_payload(pg, config, now, wall=datetime.now(UTC)))


def install(app: Any) -> None:
    """Source gauges on the app's /metrics (read at each scrape from the app's engine, or from
    `app.state.sources_connect` when set, e.g. by tests); the `sources` live topic (supervisors
    and admins) and the `feed` topic (every reading role: stale or not, no source named)."""
    if "sources" not in KINDS:
        register("sources", _topic, allow=lambda who: who.role in TOPIC_ROLES)
    if "feed" not in KINDS:
        register("feed", _feed)

    def connect() -> Any:
        custom = getattr(app.state, "sources_connect", None)
        return custom() if custom is not None else _engine_conn(app.state.engine)

    app.state.telemetry.registry.register(
        SourcesCollector(
            connect,
            lambda: getattr(app.state, "config", None),
            lambda: app.state.clock.now(),
        )
    )


class SourcesCollector:
    """Prometheus gauges of `sources_payload`, read at each scrape. Register it on a registry:
    `registry.register(SourcesCollector(connect, config))`."""

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[psycopg.Connection[Any]]],
        config: Callable[[], Any],
        clock: Callable[[], datetime],
    ) -> None:
        self.connect, self.config, self.clock = connect, config, clock

    def describe(self) -> list[Any]:
        return []  # collected at scrape time only

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            with self.connect() as pg:
                payload = sources_payload(pg, self.config(), self.clock())
        except (psycopg.Error, SQLAlchemyError, OSError):
            return  # no gauges this scrape: /metrics itself keeps answering
        gauges = {
            "age_s": ("callboard_source_last_event_age_seconds", "Age of the newest event"),
            "silent_s": ("callboard_source_silent_seconds", "Seconds since last heard from"),
            "events_per_min": ("callboard_source_events_per_minute", "Events stored per minute"),
            "inserted": ("callboard_source_events_stored", "Events stored"),
            "duplicates": ("callboard_source_duplicates", "Events received again"),
            "rejected": ("callboard_source_rejected", "Lines, rows or items rejected"),
            "gaps": ("callboard_source_gaps", "Messages missing from a numbered stream"),
            "lag_bytes": ("callboard_source_lag_bytes", "Bytes of followed files not read yet"),
            "stale": ("callboard_source_stale", "1 when silent longer than max_silence_s"),
        }
        for key, (name, doc) in gauges.items():
            family = GaugeMetricFamily(name, doc, labels=["source"])
            for s in payload["sources"]:
                if s[key] is not None:
                    family.add_metric([s["source"]], float(s[key]))
            yield family
