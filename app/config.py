"""`callboard.toml`: queues, teams, targets, scorecards (docs/INTERFACES.md).

Loaded at start, validated here, stored as a new row of `config_versions` whenever it changed,
so every number can say which definition produced it."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import psycopg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.alerts import config as alert_config
from app.audit.config import AuditConfig
from app.auth.oidc_config import OidcConfig
from app.clock import check_zone
from app.i18n.negotiate import Lang
from app.live.settings import LiveSettings
from app.ops.config import LimitsConfig, SecurityConfig
from app.reports.config import ScheduledReports
from app.schedules.schemas import ScheduleEntry, overlaps
from app.screens.config import ScreensConfig, WallboardConfig
from app.sources.config import TwilioConfig
from ingest.sources.settings import AgentSettings, AwayReasons, SourceSettings

CONFIG_LOCK_KEY = 0x63666731  # pg_advisory_xact_lock key for config changes

SlFormula = Literal["standard", "answered_only", "abandons_met", "with_overflow"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSettings(_Strict):
    """Per-queue parameters of METRICS.md, all optional: unset falls back to [defaults]."""

    scorecard: str | None = None  # a [scorecards.NAME]; default "default"
    # the name screens show per language ({ "zh-CN" = "账单" }); the key where none is set
    names: dict[Lang, Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=dict
    )

    timezone: Annotated[str, AfterValidator(check_zone)] | None = None
    sl_threshold_s: Annotated[float, Field(ge=0)] | None = None
    short_abandon_s: Annotated[float, Field(ge=0)] | None = None
    sl_formula: SlFormula | None = None
    repeat_window_h: Annotated[float, Field(gt=0)] | None = None
    callback_target_s: Annotated[float, Field(gt=0)] | None = None
    targets: dict[str, float] = Field(default_factory=dict)


class Defaults(_Strict):
    timezone: Annotated[str, AfterValidator(check_zone)] = "UTC"
    sl_threshold_s: Annotated[float, Field(ge=0)] = 20
    short_abandon_s: Annotated[float, Field(ge=0)] = 5
    sl_formula: SlFormula = "standard"
    repeat_window_h: Annotated[float, Field(gt=0)] = 72
    # a callback answered within this long after its request is within its target
    callback_target_s: Annotated[float, Field(gt=0)] = 3600
    targets: dict[str, float] = Field(default_factory=dict)


class QueueParams(_Strict):
    """A queue's effective parameters: its own settings over the defaults."""

    name: str
    timezone: str
    sl_threshold_s: float
    short_abandon_s: float
    sl_formula: SlFormula
    repeat_window_h: float
    callback_target_s: float
    targets: dict[str, float]


class TeamSettings(_Strict):
    supervisor: str | None = None
    agents: list[str] = Field(default_factory=list)
    scorecard: str | None = None  # a [scorecards.NAME] for the team and its agents
    names: dict[Lang, Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=dict
    )


Perspective = Literal["efficiency", "quality", "customer", "employee"]


class KpiTarget(_Strict):
    """One line of a scorecard. Attainment = (value - floor) / (target - floor), clipped to
    0..1, so a target below its floor means "lower is better" (AHT, an occupancy ceiling)."""

    target: float
    floor: float
    weight: Annotated[float, Field(ge=0)] = 1.0
    perspective: Perspective | None = None
    metric: str | None = None  # the metric scored, when the line's name is not a metric name

    @model_validator(mode="after")
    def _distinct(self) -> KpiTarget:
        if self.target == self.floor:
            raise ValueError("target and floor must differ")
        return self


class Balance(_Strict):
    """Strong indicators (fast to move alone) paired with the weak ones they can be bought
    with; flags thresholds. See docs/METRICS.md, Balanced scorecard."""

    pairs: list[tuple[str, str]] = Field(
        default_factory=lambda: [
            ("aht_s", "fcr"),
            ("calls_per_hour", "qa_score"),
            ("aht_s", "csat"),
        ]
    )
    min_contacts: Annotated[int, Field(ge=1)] = 10
    faster_than_team: Annotated[float, Field(gt=0, lt=1)] = 0.2  # "well under the median"


class CallboardConfig(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    queues: dict[str, QueueSettings] = Field(default_factory=dict)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    scorecards: dict[str, dict[str, KpiTarget]] = Field(default_factory=dict)
    balance: Balance = Field(default_factory=Balance)
    # absolute planned activities (a WFM export); also settable by PUT /api/v1/schedules
    schedules: list[ScheduleEntry] = Field(default_factory=list)
    screens: ScreensConfig = Field(default_factory=ScreensConfig)
    wallboards: dict[str, WallboardConfig] = Field(default_factory=dict)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    oidc: OidcConfig | None = None  # sign-in with an OpenID Connect provider (app/auth)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    agents: dict[str, AgentSettings] = Field(default_factory=dict)
    away_reasons: AwayReasons = Field(default_factory=AwayReasons)
    twilio: TwilioConfig = Field(default_factory=TwilioConfig)  # TaskRouter callbacks
    live: LiveSettings = Field(default_factory=LiveSettings)
    # alerts (app/alerts/config.py); `alerts` after the sections its rules refer to
    webhooks: dict[str, alert_config.Webhook] = Field(default_factory=dict)
    smtp: alert_config.Smtp | None = None
    emails: dict[str, alert_config.EmailList] = Field(default_factory=dict)
    alerting: alert_config.Alerting = Field(default_factory=alert_config.Alerting)
    alerts: alert_config.AlertRules = Field(default_factory=list)
    reports: ScheduledReports = Field(default_factory=list)  # after emails and smtp

    @model_validator(mode="after")
    def _scorecards_exist(self) -> CallboardConfig:
        named = [(f"teams.{t}", s.scorecard) for t, s in self.teams.items()]
        named += [(f"queues.{q}", s.scorecard) for q, s in self.queues.items()]
        for where, card in named:
            if card is not None and card != "default" and card not in self.scorecards:
                raise ValueError(f"{where}.scorecard: no [scorecards.{card}]")
        return self

    @model_validator(mode="after")
    def _oidc_teams_exist(self) -> CallboardConfig:
        if self.oidc is not None:
            for team in sorted(self.oidc.teams_named() - set(self.teams)):
                raise ValueError(f"oidc.roles: supervisor:{team} names no [teams.{team}]")
        return self

    @model_validator(mode="after")
    def _schedules_do_not_overlap(self) -> CallboardConfig:
        problem = overlaps(self.schedules)
        if problem:
            raise ValueError(problem.replace("entries", "schedules"))
        return self

    def queue(self, name: str) -> QueueParams:
        own = self.queues.get(name, QueueSettings())
        d = self.defaults
        return QueueParams(
            name=name,
            timezone=own.timezone or d.timezone,
            sl_threshold_s=d.sl_threshold_s if own.sl_threshold_s is None else own.sl_threshold_s,
            short_abandon_s=d.short_abandon_s
            if own.short_abandon_s is None
            else own.short_abandon_s,
            sl_formula=own.sl_formula or d.sl_formula,
            repeat_window_h=own.repeat_window_h or d.repeat_window_h,
            callback_target_s=own.callback_target_s or d.callback_target_s,
            targets={**d.targets, **own.targets},
        )

    def team_of(self) -> dict[str, str]:
        return {agent: team for team, t in self.teams.items() for agent in t.agents}

    def digest(self) -> str:
        body = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()


class ConfigError(ValueError):
    pass


def load_config(path: Path | None) -> CallboardConfig:
    """The config at `path`, or the defaults when there is none."""
    if path is None:
        return CallboardConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file (CALLBOARD_CONFIG)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return CallboardConfig.model_validate(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def store_config(conn: psycopg.Connection[Any], config: CallboardConfig, *, origin: str) -> int:
    """Record the config as the current version (a new one only if it changed) and bring the
    reference tables in line with it. Returns the version in force."""
    # Several workers start at once; one of them records the version.
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (CONFIG_LOCK_KEY,))
    digest = config.digest()
    latest = conn.execute(
        "SELECT version, sha256 FROM config_versions ORDER BY version DESC LIMIT 1"
    ).fetchone()
    if latest is not None and latest[1] == digest:
        version: int = latest[0]
    else:
        row = conn.execute(
            "INSERT INTO config_versions (sha256, origin, body) VALUES (%s, %s, %s)"
            " RETURNING version",
            (digest, origin, orjson.dumps(config.model_dump(mode="json")).decode()),
        ).fetchone()
        assert row is not None
        version = row[0]
        from app.audit.service import record

        record(
            conn,
            action="config.change",
            actor=origin,
            target=f"version {version}",
            detail={"sha256": digest, "previous": latest[0] if latest else None},
        )
    names = sorted(config.queues)
    conn.execute(
        "INSERT INTO queues (name, auto_created) SELECT unnest(%s::text[]), false"
        " ON CONFLICT (name) DO UPDATE SET auto_created = false",
        (names,),
    )
    for team, t in sorted(config.teams.items()):
        conn.execute(
            "INSERT INTO teams (name, supervisor) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET supervisor = EXCLUDED.supervisor",
            (team, t.supervisor),
        )
    from app.schedules.service import upsert

    upsert(conn, config.schedules)
    members = config.team_of()
    conn.execute(
        "INSERT INTO agents (id, team, auto_created)"
        " SELECT a, t, false FROM unnest(%s::text[], %s::text[]) AS u(a, t)"
        " ON CONFLICT (id) DO UPDATE SET team = EXCLUDED.team, auto_created = false",
        (list(members), list(members.values())),
    )
    return version


def current_config(conn: psycopg.Connection[Any]) -> tuple[int, CallboardConfig] | None:
    row = conn.execute(
        "SELECT version, body FROM config_versions ORDER BY version DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return row[0], CallboardConfig.model_validate(row[1])
