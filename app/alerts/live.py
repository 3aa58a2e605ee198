"""The alerts on the live hub's tick: evaluate the rules on the rows the hub computed, and
build the alerts topics.

Topics (frames as every topic's; data as `alerts_payload`):
- `alerts`: alerts of the center and the queues (every reader: the wallboard's banner);
- `alerts:team:T`: team T's alerts and its agents' (T's supervisor, admin: the /sup list);
- `alerts:agent:A`: agent A's own alerts (A, their supervisor, admin: the agent widget)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from app.alerts.readings import Rows
from app.alerts.service import alerts_payload, evaluate_tick
from app.auth.service import Principal
from app.config import CallboardConfig
from app.metrics.registry import Level

log = logging.getLogger(__name__)

FLOOR_KINDS = frozenset({"center", "queue"})


def is_alerts_topic(topic: str) -> bool:
    return topic == "alerts" or topic.startswith("alerts:")


def page_topics(
    principal: Principal, topics: Iterable[str], team_of: Mapping[str, str | None]
) -> list[str]:
    """The alerts topics a screen follows beside its own (`center` -> `alerts`, `team:T` ->
    `alerts:team:T`, `agent:A` -> `alerts:agent:A`), only those the token may follow (the
    socket refuses the others: one refused topic would close the page's whole socket)."""
    out: list[str] = []
    for topic in topics:
        kind, _, name = topic.partition(":")
        if kind == "center" and not name:
            wanted = "alerts"
        elif kind in ("team", "agent") and name:
            wanted = f"alerts:{topic}"
        else:
            continue
        if principal.sees_topic(wanted, dict(team_of)):
            out.append(wanted)
    return out


def tick(
    engine: Engine,
    config: CallboardConfig,
    rows: Rows | Mapping[Level, Mapping[str, Mapping[str, Any]]],
    now: datetime,
    topics: Iterable[str],
    *,
    window: str = "today",
    evaluate: bool = True,
) -> dict[str, dict[str, Any]]:
    """Evaluate (committed in its own transaction; not when `evaluate` is false) and return
    the wanted alerts topics. A failure here is logged and leaves the metrics' tick alone."""
    out: dict[str, dict[str, Any]] = {}
    try:
        if evaluate:
            with engine.begin() as conn:
                driver: Any = conn.connection.driver_connection
                evaluate_tick(driver, config, rows, now, window=window)
    except Exception:  # the tick goes on; the next one evaluates again
        log.exception("alerts: evaluating the tick failed")
    wanted = sorted(t for t in topics if is_alerts_topic(t))
    if not wanted:
        return out
    with engine.connect() as conn:
        pg: Any = conn.connection.driver_connection
        for topic in wanted:
            name = topic.partition(":")[2]
            if not name:
                out[topic] = alerts_payload(pg, config, now, kinds=FLOOR_KINDS)
            else:
                out[topic] = alerts_payload(pg, config, now, scope=name)
    return out
