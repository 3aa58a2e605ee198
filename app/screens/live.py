"""The views each live topic carries (pure): what app/live/topics.py adds under "view"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.config import CallboardConfig
from app.screens.schemas import (
    AgentTopic,
    CenterTopic,
    Meta,
    QueueTopic,
    TeamTopic,
)
from app.screens.views import (
    agent_self,
    agent_tile,
    card_view,
    center_view,
    queue_view,
    team_view,
)

Rows = Mapping[str, Mapping[str, Mapping[str, Any]]]  # level -> key -> metric row
LEVELS = ("center", "queue", "team", "agent")
# the short window the screens show beside today's, in order of preference
RECENT = ("30m", "interval", "15m", "60m")


def split(rows: Mapping[Any, Any]) -> tuple[Rows, Rows | None, str | None]:
    """(today's rows, the short window's rows, its name) from the hub's rows: either one
    window (level -> key -> row) or several (window -> level -> key -> row)."""
    if not rows or any(k in LEVELS for k in rows):
        return rows, None, None
    today = rows.get("today") or next(iter(rows.values()))
    for name in RECENT:
        if name in rows:
            return today, rows[name], name
    return today, None, None


def meta_view(config: CallboardConfig, meta: Mapping[str, Any]) -> Meta:
    # "now" is the instant the figures were computed for, on the server's clock (a demo's
    # clock runs faster): the same clock as the heartbeats the screens measure the age by
    return Meta(
        computed_at=meta.get("now") or meta.get("computed_at"),
        window=str(meta.get("window") or "today"),
        timezone=str(meta.get("timezone") or config.defaults.timezone),
        stale_after_s=config.screens.stale_after_s,
        config_version=meta.get("config_version"),
    )


def working(agents: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Per team, its agents who handled a contact in the window (the agent widget's team
    average is the team's count per such agent)."""
    counts: dict[str, int] = {}
    for r in agents.values():
        if (r.get("handled") or 0) > 0:
            team = str(r.get("team"))
            counts[team] = counts.get(team, 0) + 1
    return counts


def topic_view(
    topic: str,
    config: CallboardConfig,
    rows: Rows,
    meta: Mapping[str, Any],
    *,
    scorecards: Mapping[str, Mapping[str, Any]],
    balances: Mapping[str, Any] | None,
    recent: Rows | None = None,
    recent_window: str | None = None,
    teams_working: Mapping[str, int] | None = None,
) -> dict[str, Any] | None:
    """The view of one topic, as JSON-ready data; None for a topic kind without one.
    `teams_working`: `working(rows["agent"])`, counted once for all of a tick's topics."""
    kind, _, name = topic.partition(":")
    m = meta_view(config, meta)
    queues, teams, agents = rows.get("queue", {}), rows.get("team", {}), rows.get("agent", {})
    short = recent or {}

    def q(key: str) -> Any:
        row = queues.get(key)
        if row is None:
            return None
        return queue_view(config, row, short.get("queue", {}).get(key), recent_window=recent_window)

    view: Any
    if kind == "center":
        qv = {k: v for k in sorted(queues) if (v := q(k)) is not None}
        view = CenterTopic(
            meta=m,
            center=center_view(
                config,
                rows.get("center", {}).get("center"),
                short.get("center", {}).get("center"),
                balances,
                qv,
                recent_window=recent_window,
            ),
            queues=qv,
        )
    elif kind == "queue":
        view = QueueTopic(meta=m, queue=q(name))
    elif kind == "team":
        members = {k: r for k, r in sorted(agents.items()) if r.get("team") == name}
        view = TeamTopic(
            meta=m,
            team=team_view(config, teams[name]) if name in teams else None,
            agents={k: agent_tile(config, r) for k, r in members.items()},
            cards={k: card_view(config, scorecards[k]) for k in members if k in scorecards},
        )
    elif kind == "agent":
        row = agents.get(name)
        team_row = teams.get(str((row or {}).get("team") or ""))
        card = scorecards.get(name)
        served = (row or {}).get("queues") or []
        view = AgentTopic(
            meta=m,
            agent=agent_self(
                config,
                row,
                team_row,
                card,
                team_working=(teams_working if teams_working is not None else working(agents)).get(
                    str((row or {}).get("team")), 0
                ),
            )
            if row
            else None,
            queues={k: v for k in sorted(served) if (v := q(k)) is not None},
            card=card_view(config, card) if card else None,
        )
    else:
        return None
    data: dict[str, Any] = view.model_dump(mode="json")
    return data


def add_views(
    out: dict[str, dict[str, Any]],
    rows: Mapping[Any, Any],
    meta: Mapping[str, Any],
    *,
    scorecards: Mapping[str, Mapping[str, Any]],
    balances: Mapping[str, Any] | None,
    config: CallboardConfig | None,
) -> None:
    """Put each topic's view under "view" in its payload (the live hub's payloads, in place).
    `rows` are the hub's rows, of one window or of several."""
    config = config or CallboardConfig()
    today, short, short_name = split(rows)
    teams_working = working(today.get("agent", {}))
    for topic, payload in out.items():
        payload["view"] = topic_view(
            topic,
            config,
            today,
            meta,
            scorecards=scorecards,
            balances=balances,
            recent=short,
            recent_window=short_name,
            teams_working=teams_working,
        )
