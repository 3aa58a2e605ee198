"""What each live topic carries, built from one computation of the metric rows (pure)."""

from __future__ import annotations

from typing import Any

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.screens.live import add_views

# what a topic needs computed
NEEDS: dict[str, tuple[Level, ...]] = {
    "center": ("center", "queue", "team"),
    "queue": ("queue",),
    "team": ("team", "agent"),
    "agent": ("agent", "team", "queue"),
}


def levels_for(topics: set[str]) -> tuple[Level, ...]:
    wanted: set[Level] = set()
    for topic in topics:
        wanted.update(NEEDS.get(topic.partition(":")[0], ()))
    order: tuple[Level, ...] = ("center", "queue", "team", "agent")
    return tuple(level for level in order if level in wanted)


def payloads(
    topics: set[str],
    rows: dict[Level, dict[str, dict[str, Any]]],
    meta: dict[str, Any],
    *,
    scorecards: dict[str, dict[str, Any]] | None = None,
    balances: dict[str, Any] | None = None,
    config: CallboardConfig | None = None,
) -> dict[str, dict[str, Any]]:
    """topic -> payload. `rows` is level -> key -> metric row; `scorecards` agent -> card.

    Each payload carries the metric rows (for API clients) and, under "view", what the
    screens show (app/screens: values with their levels, codes for words, timers)."""
    scorecards = scorecards or {}
    out: dict[str, dict[str, Any]] = {}
    queues, teams, agents = rows.get("queue", {}), rows.get("team", {}), rows.get("agent", {})
    for topic in topics:
        kind, _, name = topic.partition(":")
        if kind == "center":
            out[topic] = {
                "center": rows.get("center", {}).get("center"),
                "queues": queues,
                "teams": teams,
                "balances": balances,
                "meta": meta,
            }
        elif kind == "queue":
            out[topic] = {"queue": queues.get(name), "meta": meta}
        elif kind == "team":
            members = {k: r for k, r in agents.items() if r.get("team") == name}
            cards = {k: scorecards[k] for k in members if k in scorecards}
            out[topic] = {
                "team": teams.get(name),
                "agents": members,
                "scorecards": cards,
                "meta": meta,
            }
        elif kind == "agent":
            row = agents.get(name)
            served = (row or {}).get("queues") or []
            out[topic] = {
                "agent": row,
                "team": teams.get((row or {}).get("team") or ""),
                "queues": {q: _queue_brief(queues.get(q)) for q in served},
                "scorecard": scorecards.get(name),
                "meta": meta,
            }
    add_views(out, rows, meta, scorecards=scorecards, balances=balances, config=config)
    return out


def _queue_brief(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    keys = (
        "waiting_now",
        "longest_wait_now_s",
        "oldest_waiting_at",
        "service_level",
        "agents_by_state",
        "targets",
        "sl_threshold_s",
    )
    return {k: row.get(k) for k in keys}


DELETED = {"__deleted__": True}


def diff(old: Any, new: Any) -> Any:
    """What changed from `old` to `new`: nested dicts of the changed values, DELETED for keys
    that went away. Anything that is not a dict is replaced whole."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    out: dict[str, Any] = {}
    for key, value in new.items():
        if key not in old:
            out[key] = value
        elif old[key] != value:
            out[key] = diff(old[key], value)
    for key in old.keys() - new.keys():
        out[key] = DELETED
    return out


def apply(state: Any, patch: Any) -> Any:
    """The inverse of diff (what a client does); used by tests and the bench."""
    if not isinstance(state, dict) or not isinstance(patch, dict) or patch == DELETED:
        return patch
    out = dict(state)
    for key, value in patch.items():
        if value == DELETED:
            out.pop(key, None)
        else:
            out[key] = apply(out.get(key), value)
    return out
