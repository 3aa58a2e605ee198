"""`[limits]` and `[security]` of callboard.toml (their fields join CallboardConfig)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ingest.writer import MAX_AGENTS, MAX_QUEUES

# A CSP source expression: a keyword, or scheme/host[:port][/path] without spaces, commas,
# semicolons or quotes (they would end the directive and let a value inject another).
_SOURCE = re.compile(
    r"^(?:'self'|'none'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*://)?"
    r"(?:\*\.)?[A-Za-z0-9.-]+(?::(?:\d{1,5}|\*))?(?:/[^\s;,'\"]*)?)$"
)


def _source(value: str) -> str:
    if not _SOURCE.match(value):
        raise ValueError(
            f"{value!r} is not a frame source: use 'self', 'none', or an origin such as "
            "https://crm.example.com"
        )
    return value


class LimitsConfig(BaseModel):
    """Queues and agents that events may create (configured ones do not count)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_queues: int = Field(default=MAX_QUEUES, ge=1, le=1_000_000)
    max_agents: int = Field(default=MAX_AGENTS, ge=1, le=1_000_000)


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?$")


def _origin(value: str) -> str:
    if not _ORIGIN.match(value):
        raise ValueError(
            f"allowed_origins: {value!r} is not an origin: write scheme://host[:port], such as "
            "https://crm.example.com (no path, no wildcard)"
        )
    return value.lower()


class SecurityConfig(BaseModel):
    """Who may frame the screens: agent widgets get embedded in CRM desktops, so list the
    CRM's origin here (Content-Security-Policy frame-ancestors). Who may open the live
    websocket from a page of its own (the served host always may): `allowed_origins`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frame_ancestors: list[Annotated[str, AfterValidator(_source)]] = Field(
        default_factory=lambda: ["'self'"], min_length=1, max_length=50
    )
    allowed_origins: list[Annotated[str, AfterValidator(_origin)]] = Field(
        default_factory=list, max_length=50
    )
    # Secure on the cookies even when the app itself sees http (TLS ends at a proxy)
    secure_cookies: bool = False
