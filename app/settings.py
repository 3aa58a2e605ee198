"""The one settings object. Nothing else in callboard reads the environment."""

from datetime import datetime
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.clock import Clock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBOARD_", extra="ignore")

    # No prefix: DATABASE_URL is the name every PostgreSQL tool and host already uses.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CALLBOARD_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("callboard")))
    config: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # At most how often the live leader recomputes when events arrive (seconds): an event is
    # on the screens within a tick plus the computation (docs/LIVE.md).
    tick_s: float = Field(default=0.25, gt=0)
    # The demo's simulated clock (app/clock.py); unset: real time.
    clock_origin: datetime | None = None
    clock_wall0: float = 0.0
    clock_speed: float = Field(default=1.0, gt=0)
    # Set by `serve` when it runs the embedded PostgreSQL: the watcher's status (/healthz).
    embedded_status: Path | None = None

    def clock(self) -> Clock:
        return Clock(self.clock_origin, self.clock_wall0, self.clock_speed)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"


@lru_cache
def get_settings() -> Settings:
    return Settings()
