"""Typed views of the three screens. A view holds values with their unit and level, codes for
words (the catalogue's keys) and instants for the timers the browser ticks; the browser only
lays them out, in the screen's language."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.screens.config import Tone, WallTile
from app.screens.tiles import FigureTile

Unit = Literal["count", "percent", "seconds", "score", "nps", "per_hour", "text"]


class Cell(BaseModel):
    """One shown value: the number, how to write it, how good it is."""

    value: float | None = None
    unit: Unit = "count"
    level: Tone = "none"


class Step(BaseModel):
    after_s: float
    level: Tone


class Timer(BaseModel):
    """A duration that grows in the browser from `since` (the server's clock); its level
    changes at the configured steps. Stopped when the screen is stale."""

    since: str | None = None
    level: Tone = "none"
    steps: list[Step] = Field(default_factory=list)


class Param(BaseModel):
    value: float | str | None
    unit: Unit | Literal["word"] = "count"


class Flag(BaseModel):
    """A scorecard flag: `flag.<code>` in the catalogue, with its parameters."""

    code: str
    params: dict[str, Param] = Field(default_factory=dict)


class Meta(BaseModel):
    computed_at: str | None = None  # when the data was computed (the server's clock)
    window: str = "today"
    timezone: str = "UTC"
    stale_after_s: float = 15
    config_version: int | None = None


class AgentsByState(BaseModel):
    logged_in: int = 0
    available: int = 0
    on_call: int = 0
    wrap_up: int = 0
    away: int = 0
    away_by_reason: dict[str, int] = Field(default_factory=dict)


class Figure(BaseModel):
    """A figure tile's value (app/screens/tiles.py) and the catalogue key of its name."""

    label: str
    cell: Cell


class QueueView(BaseModel):
    key: str
    waiting: Cell
    longest: Timer
    service_level: Cell
    service_level_recent: Cell  # the last 30 minutes (or the interval) when the hub has it
    recent_window: str | None = None
    sl_threshold_s: float
    sl_target: float | None = None
    asa: Cell
    abandon_rate: Cell
    answered: Cell
    arrived: Cell
    agents: AgentsByState
    # callbacks waiting now ("waiting N + M callbacks"), apart from the callers on the line
    callbacks: Cell = Cell(value=0, unit="count")
    figures: dict[str, Figure] = Field(default_factory=dict)  # the figure tiles


class CenterView(BaseModel):
    service_level: Cell
    service_level_recent: Cell
    recent_window: str | None = None
    answered: Cell
    abandon_rate: Cell
    waiting: Cell
    asa: Cell
    # distinct agents logged in to the center (a multi-skilled agent counts once)
    staffed: Cell
    required: Cell
    projection: Cell  # the projected service level, or none
    projection_note: str | None = None  # catalogue key: what the projection assumes
    fcr: Cell
    csat: Cell
    occupancy: Cell
    adherence: Cell
    agents: AgentsByState


class TeamView(BaseModel):
    key: str
    handled: Cell
    aht: Cell
    fcr: Cell
    csat: Cell
    occupancy: Cell
    adherence: Cell


class AgentTile(BaseModel):
    key: str
    name: str | None = None
    team: str | None = None
    state: str | None = None
    reason: str | None = None
    in_state: Timer
    handled: Cell
    aht: Cell
    adherence: Cell
    queues: list[str] = Field(default_factory=list)


class CardView(BaseModel):
    key: str
    team: str | None = None
    score: Cell
    perspectives: dict[str, Cell]
    meaningful: bool
    no_quality_data: bool = False
    fcr_pending: int | None = None
    contacts: int = 0
    min_contacts: int = 10  # a card means something from this many contacts ([balance])
    flags: list[Flag] = Field(default_factory=list)


class KpiLine(BaseModel):
    key: str  # catalogue key of the name
    mine: Cell
    team: Cell
    target: Cell


class AgentSelf(BaseModel):
    key: str
    name: str | None = None
    team: str | None = None
    state: str | None = None
    reason: str | None = None
    in_state: Timer
    kpis: list[KpiLine]


class CenterTopic(BaseModel):
    """The center and its queues. Teams are in their own `team:<t>` topics (a token sees the
    teams it may see by subscribing to them; the center topic goes to every reader)."""

    meta: Meta
    center: CenterView | None
    queues: dict[str, QueueView]


class TeamTopic(BaseModel):
    meta: Meta
    team: TeamView | None
    agents: dict[str, AgentTile]
    cards: dict[str, CardView]


class AgentTopic(BaseModel):
    meta: Meta
    agent: AgentSelf | None
    queues: dict[str, QueueView]
    card: CardView | None


class QueueTopic(BaseModel):
    meta: Meta
    queue: QueueView | None


# --- what a page fetches once (REST) ----------------------------------------------------------


class Names(BaseModel):
    """Display names in the page's language ([queues.X] names, [teams.X] names, [[alerts]]
    names): key -> name, only those configured; a screen shows the key otherwise."""

    queue: dict[str, str] = Field(default_factory=dict)
    team: dict[str, str] = Field(default_factory=dict)
    alert: dict[str, str] = Field(default_factory=dict)


class Board(BaseModel):
    name: str
    title: str | None
    queues: list[str]
    tiles: list[WallTile | FigureTile]
    rotation_s: float
    per_page: int
    theme: str
    lang: str
    sound: bool = False  # a chime for each new warning or critical alert


class Page(BaseModel):
    """A screen's start: its language's words, its settings, and the live topics to open."""

    screen: Literal["wall", "agent", "sup"]
    lang: str
    words: dict[str, str]
    topics: list[str]
    stale_after_s: float
    board: Board | None = None
    names: Names = Field(default_factory=Names)
    rank_every_s: float = 60
    contacts_page: int = 25
    ack: bool = False  # the token may acknowledge alerts (supervisor, admin)


class TrendPoint(BaseModel):
    start: str  # local HH:MM in the center's time zone
    service_level: Cell
    answered: int
    abandoned: int


class Trend(BaseModel):
    key: str
    by: str
    target: float | None
    points: list[TrendPoint]


class ContactRow(BaseModel):
    call_id: str
    segment: int
    queue: str | None
    queued_at: str | None  # local time in the center's time zone
    outcome: str | None
    wait: Cell
    agent: str | None
    talk: Cell
    acw: Cell
    transferred: bool
    ended_by: str | None
    csat: Cell
    nps: Cell
    notes: str | None


class Contacts(BaseModel):
    rows: list[ContactRow]
    page: int
    pages: int
    total: int
    timezone: str


class TimelineEvent(BaseModel):
    at: str  # local time
    type: str
    queue: str | None = None
    agent: str | None = None
    detail: str | None = None  # the particulars as "name: value" (the CLI, older screens)
    data: dict[str, str | float | int | None] = Field(default_factory=dict)  # the same, raw


class Timeline(BaseModel):
    call_id: str
    events: list[TimelineEvent]
    timezone: str


class AdherenceRow(BaseModel):
    agent: str
    planned: str  # the planned activity now
    state: str | None
    since: Timer
    planned_until: str | None


class Drill(BaseModel):
    """What the supervisor's choice (queue, team, agent) shows: trend, contacts."""

    trend: Trend
    contacts: Contacts


class PlanNow(BaseModel):
    """The agent's planned activity now (GET /api/v1/screens/agent/{agent}/plan)."""

    activity: str
    start: str
    end: str


class ReplayFrame(BaseModel):
    """A screen at a past moment (GET /api/v1/screens/replay): each of its live topics'
    payload as the socket would have sent it then (docs/LIVE.md, Replay)."""

    screen: Literal["wall", "agent", "sup"]
    at: str  # the moment (UTC, RFC 3339)
    now: str  # the server's clock now (a replay's slider reaches up to it)
    timezone: str  # the screen's time zone (the mark shows the moment in it)
    topics: dict[str, dict[str, Any]]
