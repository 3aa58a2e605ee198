"""Alert rules and where they go, as written in `callboard.toml`:

    [[alerts]]                      name, scope, metric, window, above | below, for_s, severity,
                                    step, min_interval_s, notify, quiet_hours, escalate, each_agent
    [webhooks.NAME]                 url, format = json | slack | teams
    [smtp]                          host, port, user, password_file, starttls, ssl, from
    [emails.NAME]                   to = [...]
    [alerting]                      delivery retries, default quiet hours

References (metric, scope, notify targets) are checked when the file is loaded: a typo is an
error at start, never an alert that silently cannot fire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.clock import check_zone
from app.i18n.negotiate import Lang
from app.metrics.registry import BY_NAME, Level

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
WINDOWS = ("today", "interval", "15m", "30m", "60m")


@dataclass(frozen=True)
class AgentKind:
    """A per-agent metric that exists only for alerts, read from the agent's state now (or
    their schedule) by app/alerts/readings.py; None when it does not apply (not in wrap-up,
    not on a break). Its words are `alert.<code>` in the catalogues."""

    description: str
    code: str
    state: str | None  # the state whose time it reads (None: break_ends_in_s, the schedule)


# A new kind that times a state is one line here (and its words).
AGENT_METRICS: dict[str, AgentKind] = {
    "wrap_up_s": AgentKind("seconds in wrap-up now", "wrap_up_running", "wrap_up"),
    "on_call_s": AgentKind("seconds on the current call", "long_call", "on_call"),
    "away_s": AgentKind("seconds away now", "away_long", "away"),
    "available_s": AgentKind("seconds available now", "available_long", "available"),
    "break_ends_in_s": AgentKind(
        "seconds until the scheduled break or lunch the agent is on ends", "break_ending", None
    ),
}


@dataclass(frozen=True)
class ForecastKind:
    """A reading against today's stored forecast (docs/FORECAST.md), made by
    app/forecast/alerts.py for a queue or the center. Its words are `alert.<code>`."""

    description: str
    code: str
    unit: str


FORECAST_METRICS: dict[str, ForecastKind] = {
    # for N intervals in a row: for_s = (N - 1) x 900 (the last closed interval's value holds
    # until the next one closes)
    "above_forecast": ForecastKind(
        "contacts offered in the last closed quarter hour above its forecast (0.1: 10 % above)",
        "above_forecast",
        "ratio",
    ),
    "short_next_hour": ForecastKind(
        "agents short (required - scheduled) in the worst quarter hour of the next hour",
        "short_next_hour",
        "count",
    ),
}

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _clock(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a time of day (HH:MM)") from exc
    return value


class QuietHours(_Strict):
    """Notifications wait while the local time is in [start, end) (it may span midnight) or
    the day is one of `days` (all day). Screens show alerts regardless; an alert still active
    when the quiet hours end is notified then."""

    start: Annotated[str, AfterValidator(_clock)] | None = None
    end: Annotated[str, AfterValidator(_clock)] | None = None
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=list
    )
    # default: [defaults].timezone
    timezone: Annotated[str, AfterValidator(check_zone)] | None = None

    @model_validator(mode="after")
    def _both_ends(self) -> QuietHours:
        if (self.start is None) != (self.end is None):
            raise ValueError("quiet_hours needs both start and end (or neither, with days)")
        if self.start is None and not self.days:
            raise ValueError("quiet_hours needs start and end, or days")
        return self

    def quiet(self, now: datetime, default_tz: str) -> bool:
        local = now.astimezone(ZoneInfo(self.timezone or default_tz))
        if _DAYS[local.weekday()] in self.days:
            return True
        if self.start is None or self.end is None:
            return False
        start, end, at = time.fromisoformat(self.start), time.fromisoformat(self.end), local.time()
        if start <= end:
            return start <= at < end
        return at >= start or at < end  # spans midnight


class AlertRule(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    # the name notifications and screens show per language; `name` where none is set
    names: dict[Lang, Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=dict
    )
    scope: str  # center | queue:NAME | team:NAME | agent:NAME
    metric: str
    window: str = "today"
    above: float | None = None
    below: float | None = None
    for_s: Annotated[float, Field(ge=0)] = 0
    severity: Severity = "warning"
    step: Annotated[float, Field(gt=0)] | None = None
    min_interval_s: Annotated[float, Field(ge=0)] = 0
    notify: list[str] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None
    # severity -> threshold beyond `above`/`below` where the alert's severity rises
    escalate: dict[Severity, float] = Field(default_factory=dict)
    # with scope center or team:NAME: one alert per agent in the scope (agent metrics)
    each_agent: bool = False

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if value not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
        return value

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        kind, sep, name = value.partition(":")
        if value == "center":
            return value
        if kind in ("queue", "team", "agent") and sep and name.strip() == name and name:
            return value
        raise ValueError(f"scope {value!r}: write center, queue:NAME, team:NAME or agent:NAME")

    @model_validator(mode="after")
    def _rule(self) -> AlertRule:
        if (self.above is None) == (self.below is None):
            raise ValueError(f"alert {self.name!r}: give exactly one of above or below")
        if self.each_agent and self.scope.partition(":")[0] not in ("center", "team"):
            raise ValueError(f"alert {self.name!r}: each_agent needs scope center or team:NAME")
        level = self.level
        if self.metric in FORECAST_METRICS:
            if level not in ("queue", "center") or self.each_agent:
                raise ValueError(
                    f"alert {self.name!r}: {self.metric} is a queue's or the center's;"
                    " use scope queue:NAME or center"
                )
        elif self.metric in AGENT_METRICS:
            if level != "agent":
                raise ValueError(
                    f"alert {self.name!r}: {self.metric} is an agent's; use scope agent:NAME,"
                    " or each_agent = true with scope center or team:NAME"
                )
        else:
            metric = BY_NAME.get(self.metric)
            if metric is None:
                known = ", ".join(
                    sorted(
                        [
                            *(m for m in BY_NAME if BY_NAME[m].unit != "state"),
                            *AGENT_METRICS,
                            *FORECAST_METRICS,
                        ]
                    )
                )
                raise ValueError(
                    f"alert {self.name!r}: unknown metric {self.metric!r} (known: {known})"
                )
            if metric.unit == "state":
                raise ValueError(f"alert {self.name!r}: {self.metric} is not a number")
            if level not in metric.levels:
                levels = ", ".join(sorted(metric.levels))
                raise ValueError(
                    f"alert {self.name!r}: {self.metric} exists only by {levels}, not by {level}"
                )
        for severity, value in self.escalate.items():
            if SEVERITY_RANK[severity] <= SEVERITY_RANK[self.severity]:
                raise ValueError(
                    f"alert {self.name!r}: escalate.{severity} must be a higher severity"
                    f" than {self.severity}"
                )
            if (self.above is not None and value <= self.above) or (
                self.below is not None and value >= self.below
            ):
                raise ValueError(
                    f"alert {self.name!r}: escalate.{severity} = {value} must be beyond"
                    f" the threshold {self.threshold}"
                )
        return self

    @property
    def condition(self) -> Literal["above", "below"]:
        return "above" if self.above is not None else "below"

    @property
    def threshold(self) -> float:
        value = self.above if self.above is not None else self.below
        assert value is not None
        return value

    @property
    def level(self) -> Level:
        """The level of the rows the metric is read from."""
        if self.each_agent:
            return "agent"
        kind = self.scope.partition(":")[0]
        return "center" if kind == "center" else kind  # type: ignore[return-value]


class Webhook(_Strict):
    url: Annotated[str, Field(pattern=r"^https?://")]
    format: Literal["json", "slack", "teams"] = "json"
    language: Lang = "en"  # the language of the texts it carries (en, zh-CN, zh-TW, ru)
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    headers: dict[str, str] = Field(default_factory=dict)


class Smtp(_Strict):
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    user: str | None = None
    password_file: Path | None = None  # the password is never in the config itself
    starttls: bool = False
    ssl: bool = False  # SMTPS (usually port 465)
    sender: str = Field("callboard@localhost", alias="from")
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 10.0

    @model_validator(mode="after")
    def _login(self) -> Smtp:
        if (self.user is None) != (self.password_file is None):
            raise ValueError("smtp: give user and password_file together")
        if self.starttls and self.ssl:
            raise ValueError("smtp: starttls and ssl exclude each other")
        return self


class EmailList(_Strict):
    to: Annotated[list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]], Field(min_length=1)]
    language: Lang = "en"


class Alerting(_Strict):
    """How deliveries are retried, and quiet hours for rules that have none of their own."""

    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    backoff_s: Annotated[float, Field(gt=0)] = 5.0  # then doubled each attempt
    max_backoff_s: Annotated[float, Field(gt=0)] = 600.0
    quiet_hours: QuietHours | None = None


def check_rules(rules: list[AlertRule], info: ValidationInfo) -> list[AlertRule]:
    """Cross-references of [[alerts]] with the sections above it in `CallboardConfig`:
    notify targets, teams, queues and agents named in scopes, unique names."""
    data: dict[str, Any] = info.data
    teams: dict[str, Any] = data.get("teams") or {}
    queues: dict[str, Any] = data.get("queues") or {}
    agents = {a for t in teams.values() for a in getattr(t, "agents", [])}
    agents |= set(data.get("agents") or {})
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        where = f"alerts[{i}] ({rule.name!r})"
        if rule.name in seen:
            raise ValueError(f"{where}: another alert has this name")
        seen.add(rule.name)
        kind, _, name = rule.scope.partition(":")
        if kind == "team" and name not in teams:
            raise ValueError(f"{where}: scope {rule.scope!r}: no [teams.{name}]")
        if kind == "queue" and name not in queues:
            raise ValueError(
                f"{where}: scope {rule.scope!r}: no [queues.{name}] (add the section,"
                " even empty, so a misspelt queue is caught)"
            )
        if kind == "agent" and name not in agents:
            raise ValueError(f"{where}: scope {rule.scope!r}: agent {name!r} is in no team")
        for target in rule.notify:
            check_target(where, target, data)
    return rules


def check_target(
    where: str,
    target: str,
    data: dict[str, Any],
    channels: tuple[str, ...] = ("webhook", "email"),
) -> None:
    """A notify target, CHANNEL:NAME, names a [webhooks.NAME] or an [emails.NAME] of the
    configuration being checked (`data`); e-mail needs [smtp]. Also [[reports]]' targets."""
    channel, _, ref = target.partition(":")
    if channel not in channels:
        written = " or ".join(f"{c}:NAME" for c in channels)
        raise ValueError(f"{where}: notify {target!r}: write {written}")
    section = f"{channel}s"
    if ref not in (data.get(section) or {}):
        raise ValueError(f"{where}: notify {target!r}: no [{section}.{ref}]")
    if channel == "email" and data.get("smtp") is None:
        raise ValueError(f"{where}: notify {target!r} needs an [smtp] section")


AlertRules = Annotated[list[AlertRule], AfterValidator(check_rules)]
