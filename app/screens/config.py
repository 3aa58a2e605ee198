"""`[screens]` and `[wallboards.NAME]` in callboard.toml: how good a shown value is, when the
data counts as stale, and what each floor's TV shows. The only place thresholds live: the
browser receives levels (good / warn / bad / none), never a number to compare against."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from app.i18n.negotiate import Lang
from app.screens.tiles import FigureTile

Tone = Literal["good", "warn", "bad", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    """`good` is where the value is fine, `bad` where it is not; in between is a warning. The
    direction follows: good above bad means higher is better (service level), good below bad
    means lower is better (waits, abandons)."""

    good: float
    bad: float

    @model_validator(mode="after")
    def _distinct(self) -> Threshold:
        if self.good == self.bad:
            raise ValueError("good and bad must differ")
        return self


def _default_thresholds() -> dict[str, Threshold]:
    return {
        "service_level": Threshold(good=0.8, bad=0.7),
        "abandon_rate": Threshold(good=0.05, bad=0.1),
        "asa_s": Threshold(good=20, bad=60),
        "longest_wait_now_s": Threshold(good=20, bad=60),
        "waiting_now": Threshold(good=2, bad=8),
        "aht_s": Threshold(good=300, bad=600),
        "fcr": Threshold(good=0.8, bad=0.6),
        "fcr_mature": Threshold(good=0.8, bad=0.6),
        "csat": Threshold(good=0.8, bad=0.6),
        "qa_score": Threshold(good=85, bad=60),
        "occupancy": Threshold(good=0.85, bad=0.95),
        "adherence": Threshold(good=0.9, bad=0.8),
        "score": Threshold(good=80, bad=60),
        "csat_score": Threshold(good=4, bad=3),  # one contact's survey, 1..5
    }


def _default_state_times() -> dict[str, tuple[float, float]]:
    # seconds in a state before an agent's tile turns amber, then red
    return {
        "away": (900, 1800),
        "wrap_up": (60, 180),
        "on_call": (600, 1200),
        "available": (1800, 3600),
    }


class ScreensConfig(_Strict):
    # older data than this and the whole screen says so (greyed, timers stopped, a banner)
    stale_after_s: Annotated[float, Field(gt=0)] = 15
    # per metric; a queue's own `targets` (service_level, asa_s, abandon_rate) move `good`
    thresholds: dict[str, Threshold] = Field(default_factory=_default_thresholds)
    state_times: dict[str, tuple[float, float]] = Field(default_factory=_default_state_times)
    # the supervisor's ranking re-sorts at most this often
    rank_every_s: Annotated[float, Field(ge=0)] = 60
    contacts_page: Annotated[int, Field(ge=5, le=500)] = 25
    lang: Lang = "en"  # en, zh-CN, zh-TW, ru (app/i18n/negotiate.py)

    def threshold(self, metric: str) -> Threshold | None:
        return self.thresholds.get(metric) or _default_thresholds().get(metric)


WallTile = Literal[
    "waiting",
    "longest_wait",
    "service_level",
    "service_level_recent",
    "asa",
    "abandon_rate",
    "agents",
    "trend",
    "forecast",  # the day against its forecast, one line under the header (docs/FORECAST.md)
]
ALL_TILES: tuple[WallTile, ...] = get_args(WallTile)


class WallboardConfig(_Strict):
    """One floor's TV, served at /wall/NAME (`/wall` is the board named "default", or every
    queue when there is none)."""

    title: str | None = None
    queues: list[str] = Field(default_factory=list)  # empty: every queue
    # the built-in tiles by default; figure tiles (app/screens/tiles.py) when named
    tiles: list[WallTile | FigureTile] = Field(
        default_factory=lambda: list[WallTile | FigureTile](ALL_TILES)
    )
    # pages through the queues this often (also `rotation`)
    rotation_s: Annotated[
        float, Field(ge=3, validation_alias=AliasChoices("rotation_s", "rotation"))
    ] = 15
    per_page: Annotated[int, Field(ge=1, le=12)] = 4
    theme: Literal["dark", "light"] = "dark"
    # the board's language (also `language`); default: the browser's, else [screens] lang
    lang: Annotated[Lang | None, Field(validation_alias=AliasChoices("lang", "language"))] = None
    # a short chime for each new warning or critical alert (browsers play it after a click, or
    # in kiosk mode with --autoplay-policy=no-user-gesture-required)
    sound: bool = False
