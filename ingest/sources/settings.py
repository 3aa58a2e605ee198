"""Configuration of sources (`callboard.toml`): per-source settings, agent aliases and away
reasons. `app.config.CallboardConfig` holds them as `sources`, `agents` and `away_reasons`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Strict):
    """`[sources.<name>]`: what callboard should know about one source."""

    # silent longer than this: marked stale on the screens and in `callboard sources`
    max_silence_s: Annotated[float, Field(gt=0)] | None = None
    # queue -> agents: a PBX's static members (queues.conf `member =>`), never in queue_log
    static_members: dict[str, list[str]] = Field(default_factory=dict)

    def static_by_agent(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for queue, agents in self.static_members.items():
            for agent in agents:
                out.setdefault(agent, []).append(queue)
        return out


class AgentSettings(_Strict):
    """`[agents.<id>]`: one person, whatever a platform calls them."""

    aliases: list[str] = Field(default_factory=list)


class AwayReasons(_Strict):
    """`[away_reasons]`: free-text pause reasons -> away classes."""

    case_sensitive: bool = False
    map: dict[str, str] = Field(default_factory=dict)
