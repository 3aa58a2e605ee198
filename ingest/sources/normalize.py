"""What configuration says about every source's events, applied in one place (the committer).

- `[agents.<id>] aliases`: the names one person has on different platforms and channels
  (`Agent/1001`, `SIP/1001`, a platform's user id) all become `<id>`.
- `[away_reasons]`: free-text pause reasons (a PBX's "Break", "Kaffeepause") become the away
  classes the metrics know (`break`, `lunch`, `meeting`, `training`, `coaching`), matched
  case-insensitively unless `case_sensitive = true`. A class name given in any case is that
  class; a reason nothing maps stays as it came (shown, not counted as a break).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

AWAY_CLASSES = ("break", "lunch", "meeting", "training", "coaching")


class Normalizer:
    def __init__(
        self,
        *,
        aliases: Mapping[str, str] | None = None,
        reasons: Mapping[str, str] | None = None,
        case_sensitive: bool = False,
    ) -> None:
        self.aliases = dict(aliases or {})
        self.case_sensitive = case_sensitive
        table = {c: c for c in AWAY_CLASSES}
        table.update(reasons or {})
        self.reasons = table if case_sensitive else {k.casefold(): v for k, v in table.items()}

    @classmethod
    def from_config(cls, config: Any) -> Normalizer:
        """From a CallboardConfig (its `agents` and `away_reasons`); tolerant of configs
        without them."""
        aliases: dict[str, str] = {}
        for agent_id, settings in (getattr(config, "agents", None) or {}).items():
            for alias in settings.aliases:
                aliases[alias] = agent_id
        away = getattr(config, "away_reasons", None)
        return cls(
            aliases=aliases,
            reasons=dict(away.map) if away is not None else None,
            case_sensitive=bool(away.case_sensitive) if away is not None else False,
        )

    @classmethod
    def from_stored(cls, conn: Any) -> Normalizer:
        """From the configuration in force (the newest stored version; the server stores it at
        start). Read as JSON, so a committer needs nothing else to apply it."""
        row = conn.execute(
            "SELECT body FROM config_versions ORDER BY version DESC LIMIT 1"
        ).fetchone()
        body = row[0] if row else {}
        aliases = {
            alias: agent_id
            for agent_id, settings in (body.get("agents") or {}).items()
            for alias in (settings or {}).get("aliases") or []
        }
        away = body.get("away_reasons") or {}
        return cls(
            aliases=aliases,
            reasons=away.get("map") or None,
            case_sensitive=bool(away.get("case_sensitive", False)),
        )

    def agent(self, name: str | None) -> str | None:
        return None if name is None else self.aliases.get(name, name)

    def reason(self, text: str | None) -> str | None:
        if text is None:
            return None
        key = text if self.case_sensitive else text.strip().casefold()
        return self.reasons.get(key, text)

    def apply(self, event: Any) -> Any:
        if not isinstance(event, BaseModel):
            return event
        # A model's fields are its __dict__: read there, a missing one costs no AttributeError.
        fields = event.__dict__
        update: dict[str, Any] = {}
        if self.aliases:
            for name in ("agent", "to_agent"):
                value = fields.get(name)
                if value is not None and value in self.aliases:
                    update[name] = self.aliases[value]
        reason = fields.get("reason")
        if reason and fields.get("type") == "agent.state":
            mapped = self.reason(reason)
            if mapped != reason:
                update["reason"] = mapped
        return event.model_copy(update=update) if update else event
