"""The simulated contact center: queues with intraday arrival curves, teams of agents with
skills, styles and shifts (breaks and lunch), and the config that describes it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo

Style = Literal["steady", "rusher", "novice"]

# Arrivals over the day, relative to the peak (local time): a morning peak, a lunch dip, a
# second smaller peak, an evening tail. Linear between the points.
CURVE: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (6.9, 0.0),
    (7.25, 0.2),
    (8.0, 0.5),
    (9.0, 0.8),
    (9.75, 1.0),
    (10.75, 1.0),
    (11.75, 0.7),
    (12.5, 0.5),
    (13.25, 0.6),
    (14.25, 0.85),
    (15.25, 0.7),
    (16.25, 0.45),
    (17.25, 0.25),
    (17.9, 0.0),
    (24.0, 0.0),
)


def curve(hour: float) -> float:
    for (h0, v0), (h1, v1) in pairwise(CURVE):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return 0.0


@dataclass(frozen=True)
class QueueSpec:
    name: str
    channel: Literal["voice", "chat"]
    peak_per_hour: float  # arrivals per hour at the curve's peak
    talk_s: float  # mean talk time of a steady agent
    acw_s: float  # mean wrap-up
    patience_s: float  # mean customer patience (exponential)
    priority: int = 0
    overflow_to: str | None = None
    overflow_after_s: float | None = None
    sl_threshold_s: float = 20
    target: float = 0.8


@dataclass(frozen=True)
class Break:
    start_h: float  # hours after shift start
    minutes: float
    kind: Literal["break", "lunch"]


@dataclass(frozen=True)
class AgentSpec:
    id: str
    name: str
    team: str
    skills: tuple[str, ...]
    style: Style
    shift_start_h: float  # local hour
    shift_hours: float
    breaks: tuple[Break, ...]
    late_min: float  # how late this agent tends to come back from breaks, minutes


@dataclass(frozen=True)
class Center:
    timezone: str
    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentSpec, ...]
    teams: dict[str, str] = field(default_factory=dict)  # team -> supervisor

    def queue(self, name: str) -> QueueSpec:
        return next(q for q in self.queues if q.name == name)


FIRST = (
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jo",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quin",
    "Rosa",
    "Sami",
    "Tess",
    "Uma",
    "Vik",
    "Wren",
    "Xavi",
    "Yara",
    "Zeno",
)

DEMO_QUEUES = (
    QueueSpec(
        "billing",
        "voice",
        120,
        talk_s=240,
        acw_s=30,
        patience_s=150,
        priority=1,
        sl_threshold_s=20,
        target=0.8,
    ),
    QueueSpec(
        "sales",
        "voice",
        72,
        talk_s=300,
        acw_s=40,
        patience_s=120,
        priority=2,
        overflow_to="billing",
        overflow_after_s=45,
        sl_threshold_s=20,
        target=0.85,
    ),
    QueueSpec(
        "support",
        "voice",
        85,
        talk_s=360,
        acw_s=45,
        patience_s=240,
        priority=0,
        sl_threshold_s=30,
        target=0.8,
    ),
    QueueSpec(
        "chat",
        "chat",
        45,
        talk_s=420,
        acw_s=20,
        patience_s=600,
        priority=0,
        sl_threshold_s=60,
        target=0.8,
    ),
)


def demo_center(agents: int = 40, queues: int = 4, seed: int = 7) -> Center:
    """About `agents` agents in 3 teams over up to 4 queues, arrivals scaled to the staff so
    that the peak and the breaks push a queue out of its service level."""
    rng = random.Random(seed)
    specs = DEMO_QUEUES[: max(1, min(queues, len(DEMO_QUEUES)))]
    scale = agents / 40
    specs = tuple(
        QueueSpec(
            **{
                **q.__dict__,
                "peak_per_hour": q.peak_per_hour * scale,
                "overflow_to": q.overflow_to if q.overflow_to in {s.name for s in specs} else None,
            }
        )
        for q in specs
    )
    names = [q.name for q in specs]
    teams = {"north": "s01", "south": "s02", "east": "s03"}
    team_names = list(teams)
    out = []
    starts = (7.0, 7.5, 8.0, 8.5, 9.0, 9.5)
    for i in range(agents):
        team = team_names[i % 3]
        # each team has a home queue and one or two more skills
        home = names[team_names.index(team) % len(names)]
        extra = [n for n in names if n != home]
        skills = (home, *rng.sample(extra, min(len(extra), rng.choice((1, 2)))))
        style: Style = "steady"
        if i in (5, 22):
            style = "rusher"  # fast calls, poor outcomes: the scorecard has something to find
        elif i % 9 == 4:
            style = "novice"
        start = starts[i % len(starts)]
        breaks = (
            Break(2.0 + rng.choice((0, 0.25)), 15, "break"),
            Break(4.0 + rng.choice((0, 0.25, 0.5)), 30, "lunch"),
            Break(6.25 + rng.choice((0, 0.25)), 15, "break"),
        )
        out.append(
            AgentSpec(
                id=f"a{i + 1:02d}",
                name=f"{FIRST[i % len(FIRST)]} {chr(65 + i // len(FIRST))}.",
                team=team,
                skills=skills,
                style=style,
                shift_start_h=start,
                shift_hours=8.5,
                breaks=breaks,
                late_min=rng.choice((0, 0, 1, 2, 4)),
            )
        )
    return Center("Europe/Berlin", specs, tuple(out), teams)


def local(day: date, hour: float, tz: str) -> datetime:
    h = int(hour)
    m = round((hour - h) * 60)
    return datetime.combine(day, time(h, m), tzinfo=ZoneInfo(tz)) + timedelta(0)


def schedule(center: Center, day: date) -> list[dict[str, Any]]:
    """Each agent's plan for the day: productive time around breaks and lunch."""
    out: list[dict[str, Any]] = []
    for a in center.agents:
        cursor = a.shift_start_h
        for b in a.breaks:
            start = a.shift_start_h + b.start_h
            out.append(_entry(a.id, day, cursor, start, "productive", center.timezone))
            end = start + b.minutes / 60
            out.append(_entry(a.id, day, start, end, b.kind, center.timezone))
            cursor = end
        out.append(
            _entry(
                a.id, day, cursor, a.shift_start_h + a.shift_hours, "productive", center.timezone
            )
        )
    return out


def _entry(agent: str, day: date, h0: float, h1: float, activity: str, tz: str) -> dict[str, Any]:
    return {
        "agent": agent,
        "start": local(day, h0, tz),
        "end": local(day, h1, tz),
        "activity": activity,
    }


def config(center: Center) -> dict[str, Any]:
    """A callboard.toml for the center (schedules are sent separately, per simulated day)."""
    return {
        "defaults": {
            "timezone": center.timezone,
            "sl_threshold_s": 20,
            "short_abandon_s": 5,
            "sl_formula": "standard",
            "repeat_window_h": 72,
        },
        "queues": {
            q.name: {
                "sl_threshold_s": q.sl_threshold_s,
                "targets": {
                    "service_level": q.target,
                    "asa_s": q.sl_threshold_s,
                    "abandon_rate": 0.05,
                },
            }
            for q in center.queues
        },
        "teams": {
            team: {"supervisor": sup, "agents": [a.id for a in center.agents if a.team == team]}
            for team, sup in center.teams.items()
        },
    }
