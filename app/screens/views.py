"""Metric rows + configuration -> the screens' views (pure: no database, no clock).

`rows` are one window's metric rows (level -> key -> row, as app/metrics computes them);
`recent` the same for the short window (last 30 minutes or the interval) when there is one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.config import CallboardConfig
from app.metrics.registry import BY_NAME
from app.screens.config import ScreensConfig
from app.screens.levels import cell, timer, tone
from app.screens.schemas import (
    AgentsByState,
    AgentSelf,
    AgentTile,
    CardView,
    Cell,
    CenterView,
    Figure,
    Flag,
    KpiLine,
    Names,
    Param,
    QueueView,
    TeamView,
    Unit,
)
from app.screens.tiles import FIGURES

Row = Mapping[str, Any]

# how a screen writes each unit of the registry (a ratio as a percentage); the rest are counts
SCREEN_UNITS: dict[str, Unit] = {
    "ratio": "percent",
    "seconds": "seconds",
    "per_hour": "per_hour",
    "score": "score",
    "nps": "nps",
}


def unit_of(metric: str) -> Unit:
    """The unit a metric is written in on a screen, from its unit in the registry."""
    m = BY_NAME.get(metric)
    return SCREEN_UNITS.get(m.unit, "count") if m else "count"


def agents_by_state(counts: Mapping[str, int] | None) -> AgentsByState:
    c = counts or {}
    reasons = {k.partition(":")[2]: v for k, v in c.items() if k.startswith("away:")}
    return AgentsByState(
        logged_in=c.get("logged_in", 0),
        available=c.get("available", 0),
        on_call=c.get("on_call", 0),
        wrap_up=c.get("wrap_up", 0),
        away=c.get("away", 0),
        away_by_reason=dict(sorted(reasons.items())),
    )


def queue_view(
    config: CallboardConfig,
    row: Row,
    recent: Row | None = None,
    *,
    recent_window: str | None = None,
) -> QueueView:
    s = config.screens
    q = config.queue(str(row["key"]))
    targets = q.targets
    longest = s.threshold("longest_wait_now_s")
    good_s = q.sl_threshold_s
    bad_s = max(good_s * 3, longest.bad if longest else good_s * 3)
    waiting = row.get("waiting_now")
    return QueueView(
        key=str(row["key"]),
        waiting=cell(s, "waiting_now", waiting, "count"),
        longest=timer(row.get("oldest_waiting_at"), good_s, bad_s),
        service_level=cell(s, "service_level", row.get("service_level"), "percent", targets),
        service_level_recent=cell(
            s, "service_level", (recent or {}).get("service_level"), "percent", targets
        ),
        recent_window=recent_window if recent is not None else None,
        sl_threshold_s=q.sl_threshold_s,
        sl_target=targets.get("service_level"),
        asa=cell(s, "asa_s", row.get("asa_s"), "seconds", targets),
        abandon_rate=cell(s, "abandon_rate", row.get("abandon_rate"), "percent", targets),
        answered=Cell(value=row.get("answered"), unit="count"),
        arrived=Cell(value=row.get("arrived"), unit="count"),
        agents=agents_by_state(row.get("agents_by_state")),
        callbacks=Cell(value=row.get("callbacks_waiting_now") or 0, unit="count"),
        figures={
            name: Figure(
                label=f"metric.{metric}.short",
                cell=cell(s, metric, row.get(metric), unit_of(metric), targets),
            )
            for name, metric in FIGURES.items()
        },
    )


def projection_ok(queues: Mapping[str, QueueView]) -> bool:
    """A projection that promises a good next interval while queues are in trouble now is
    not shown as good news."""
    return not any(
        "bad" in (q.service_level.level, q.service_level_recent.level, q.waiting.level)
        for q in queues.values()
    )


def center_view(
    config: CallboardConfig,
    row: Row | None,
    recent: Row | None,
    balances: Mapping[str, Any] | None,
    queues: Mapping[str, QueueView],
    *,
    recent_window: str | None = None,
) -> CenterView | None:
    if row is None:
        return None
    s = config.screens
    targets = config.defaults.targets
    b = balances or {}
    cost = b.get("service_cost") or {}
    nf = b.get("now_future") or {}
    next_sl = nf.get("service_level_next")
    projection = cell(s, "service_level", next_sl, "percent", targets)
    note = "common.projection_assumes" if next_sl is not None else "common.no_projection"
    if next_sl is not None and not projection_ok(queues):
        # the now is red: a projection must not read as good news the queues do not live
        projection = Cell(value=None, unit="percent", level="none")
        note = "common.projection_queues_red"
    agents = agents_by_state(row.get("agents_by_state"))
    required = cost.get("agents_required")
    return CenterView(
        service_level=cell(s, "service_level", row.get("service_level"), "percent", targets),
        service_level_recent=cell(
            s, "service_level", (recent or {}).get("service_level"), "percent", targets
        ),
        recent_window=recent_window if recent is not None else None,
        answered=Cell(value=row.get("answered"), unit="count"),
        abandon_rate=cell(s, "abandon_rate", row.get("abandon_rate"), "percent", targets),
        waiting=cell(s, "waiting_now", row.get("waiting_now"), "count"),
        asa=cell(s, "asa_s", row.get("asa_s"), "seconds", targets),
        staffed=Cell(
            value=agents.logged_in,
            unit="count",
            level="none"
            if required is None
            else ("good" if agents.logged_in >= required else "bad"),
        ),
        required=Cell(value=required, unit="count"),
        projection=projection,
        projection_note=note,
        fcr=cell(s, "fcr", row.get("fcr"), "percent"),
        csat=cell(s, "csat", row.get("csat"), "percent"),
        occupancy=cell(s, "occupancy", row.get("occupancy"), "percent"),
        adherence=cell(s, "adherence", row.get("adherence"), "percent"),
        agents=agents,
    )


def team_view(config: CallboardConfig, row: Row) -> TeamView:
    s = config.screens
    return TeamView(
        key=str(row["key"]),
        handled=Cell(value=row.get("handled"), unit="count"),
        aht=cell(s, "aht_s", row.get("aht_s"), "seconds"),
        fcr=cell(s, "fcr", row.get("fcr"), "percent"),
        csat=cell(s, "csat", row.get("csat"), "percent"),
        occupancy=cell(s, "occupancy", row.get("occupancy"), "percent"),
        adherence=cell(s, "adherence", row.get("adherence"), "percent"),
    )


def _state_timer(config: ScreensConfig, row: Row) -> Any:
    state = row.get("state")
    good_s, bad_s = config.state_times.get(str(state), (3600.0, 7200.0))
    return timer(row.get("state_since"), good_s, bad_s)


def agent_tile(config: CallboardConfig, row: Row) -> AgentTile:
    s = config.screens
    adherence = row.get("adherence")
    return AgentTile(
        key=str(row["key"]),
        name=row.get("name"),
        team=row.get("team"),
        state=row.get("state"),
        reason=row.get("reason"),
        in_state=_state_timer(s, row),
        handled=Cell(value=row.get("handled"), unit="count"),
        aht=cell(s, "aht_s", row.get("aht_s"), "seconds"),
        adherence=cell(s, "adherence", adherence, "percent"),
        queues=sorted(row.get("queues") or []),
    )


# the agent's own KPI lines: (catalogue key, metric)
OWN_KPIS = (
    ("agent.kpi.handled", "handled"),
    ("agent.kpi.aht", "aht_s"),
    ("agent.kpi.fcr", "fcr"),  # so far: open contacts count as resolved until they return
    ("agent.kpi.csat", "csat"),
    ("agent.kpi.qa", "qa_score"),
    ("agent.kpi.occupancy", "occupancy"),
)


def _target(config: CallboardConfig, card: Mapping[str, Any] | None, metric: str) -> float | None:
    for line in ((card or {}).get("kpis") or {}).values():
        if line.get("metric") in (metric, f"{metric}_mature"):
            return float(line["target"])
    th = config.screens.threshold(metric)
    return th.good if th else None


def agent_self(
    config: CallboardConfig,
    row: Row,
    team: Row | None,
    card: Mapping[str, Any] | None,
    *,
    team_working: int = 0,
) -> AgentSelf:
    """`team_working`: the team's agents who handled a contact today. Beside the agent's own
    count stands the team's count per such agent ("you 14, team avg 12"), never the team's
    total (85 beside 14 read as a comparison); rates are the team's own."""
    s = config.screens
    lines = []
    for key, metric in OWN_KPIS:
        unit = unit_of(metric)
        theirs = (team or {}).get(metric)
        if metric == "handled" and theirs is not None:
            theirs = theirs / team_working if team_working else None
        goal = _target(config, card, metric) if metric != "handled" else None
        th = config.screens.threshold(metric)
        # own values are judged against the target the agent is scored on
        own_targets = {metric: goal} if goal is not None and th is not None else None
        lines.append(
            KpiLine(
                key=key,
                mine=cell(s, metric, row.get(metric), unit, own_targets),
                team=Cell(value=theirs, unit=unit),
                target=Cell(value=goal, unit=unit),
            )
        )
    return AgentSelf(
        key=str(row["key"]),
        name=row.get("name"),
        team=row.get("team"),
        state=row.get("state"),
        reason=row.get("reason"),
        in_state=_state_timer(s, row),
        kpis=lines,
    )


# how each flag parameter is written
PARAM_UNITS: dict[str, Unit | str] = {
    "edge": "percent",
    "mine": "percent",
    "theirs": "percent",
    "gap": "count",
    "n": "count",
    "min": "count",
    "peer": "word",
    "weak": "word",
}


def flag_view(flag: Mapping[str, Any]) -> Flag:
    params: dict[str, Param] = {}
    for name, value in (flag.get("params") or {}).items():
        unit = PARAM_UNITS.get(name, "count")
        if unit == "word":
            params[name] = Param(value=f"common.{name}.{value}", unit="word")
        else:
            params[name] = Param(value=value, unit=unit)
    return Flag(code=str(flag["code"]), params=params)


def card_view(config: CallboardConfig, card: Mapping[str, Any]) -> CardView:
    th = config.screens.threshold("score")
    return CardView(
        key=str(card["key"]),
        team=card.get("team"),
        score=Cell(value=card.get("score"), unit="score", level=tone(card.get("score"), th)),
        perspectives={
            p: Cell(value=v, unit="score", level=tone(v, th))
            for p, v in (card.get("perspectives") or {}).items()
        },
        meaningful=bool(card.get("meaningful")),
        no_quality_data=bool(card.get("no_quality_data")),
        fcr_pending=card.get("fcr_pending"),
        contacts=int(card.get("contacts") or 0),
        min_contacts=config.balance.min_contacts,
        flags=[flag_view(f) for f in card.get("flags") or []],
    )


def display_names(config: CallboardConfig, lang: str) -> Names:
    """The configured display names in `lang` (English's where `lang` has none)."""

    def pick(names: Mapping[str, str]) -> str | None:
        return names.get(lang) or names.get("en")

    return Names(
        queue={k: n for k, q in config.queues.items() if (n := pick(q.names))},
        team={k: n for k, t in config.teams.items() if (n := pick(t.names))},
        alert={r.name: n for r in config.alerts if (n := pick(r.names))},
    )
