"""What each live topic carries, built from one computation of the metric rows (pure).

Payload shape (every topic; `docs/LIVE.md` says the same for users)::

    {
      "windows": {                       # one section per configured window ([live] windows)
        "today":    {<the topic's row keys, rows over that window>},
        "interval": {...},
        "30m":      {...},
      },
      <topic extras, computed on the default window (`today`)>,
      "meta": {
        "version": 123,                  # the snapshot version that produced this payload
        "computed_at": "2026-12-01T10:00:00.123Z",   # when the data was computed (its age)
        "now": "...",                    # the instant the windows end at (the simulated clock)
        "default_window": "today",
        "windows": {"today": {"from": "...", "to": "..."}, "30m": {...}, "interval": {...}},
        "config_version": 7,
        "timezone": "Europe/Berlin",
      },
    }

The row keys of each window section, by topic kind:

- `center`:       `center` (row), `queues` {queue: row}, `teams` {team: row}
                  extras: `balances` (center balances, today)
- `queue:<q>`:    `queue` (row or null)
- `team:<t>`:     `team` (row or null), `agents` {agent: row} (the team's members)
                  extras: `scorecards` {agent: card} (today)
- `agent:<a>`:    `agent` (row or null), `team` (the agent's team row or null),
                  `queues` {queue: brief} (the queues the agent serves: waiting now, longest
                  wait, service level, agents by state, targets)
                  extras: `scorecard` (today, or null)

A row is what GET /api/v1/metrics returns for that group and window (every metric of the
registry) but the values that grow every second (`TICKING`: `time_in_state_s`,
`longest_wait_now_s`): a screen works them out from `state_since` / `oldest_waiting_at` and the
clock. "Now" values (`waiting_now`, `oldest_waiting_at`, `agents_by_state`, an agent's
`state`...) are the same instant in every window section.

Other topic kinds plug in through `register`: a producer gets the database connection, the
config, the rows of every window (window -> level -> key -> row) and `now`, and returns the
payload of the topic named like the kind (the hub adds `meta`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.screens.live import add_views

# window -> level -> group key -> row
Rows = dict[str, dict[Level, dict[str, dict[str, Any]]]]
Producer = Callable[[Any, Any, Rows, datetime], dict[str, Any]]

# what a built-in topic needs computed
NEEDS: dict[str, tuple[Level, ...]] = {
    "center": ("center", "queue", "team"),
    "queue": ("queue",),
    "team": ("team", "agent"),
    "agent": ("agent", "team", "queue"),
}

BUILT_IN = frozenset(NEEDS)


@dataclass(frozen=True)
class Kind:
    """A plugged-in topic kind: the topic `name` (no `:part`), the levels its producer reads,
    and who may subscribe (`allow(principal) -> bool`; None: every reading role)."""

    name: str
    produce: Producer
    needs: tuple[Level, ...] = ()
    allow: Callable[[Any], bool] | None = None


KINDS: dict[str, Kind] = {}


def register(
    name: str,
    produce: Producer,
    *,
    needs: tuple[Level, ...] = (),
    allow: Callable[[Any], bool] | None = None,
) -> None:
    """Add a topic kind, e.g. `register("alerts", alerts.produce, needs=("queue",))`."""
    if name in BUILT_IN or ":" in name:
        raise ValueError(f"topic kind {name!r} is built in or malformed")
    KINDS[name] = Kind(name, produce, needs, allow)


def levels_for(topics: set[str]) -> tuple[Level, ...]:
    wanted: set[Level] = set()
    for topic in topics:
        kind = topic.partition(":")[0]
        wanted.update(NEEDS.get(kind, ()))
        if kind in KINDS:
            wanted.update(KINDS[kind].needs)
    order: tuple[Level, ...] = ("center", "queue", "team", "agent")
    return tuple(level for level in order if level in wanted)


def affected(
    topics: set[str], touched: set[tuple[Level, str]], rows: dict[Level, dict[str, dict[str, Any]]]
) -> set[str]:
    """The built-in topics that show one of the `touched` groups (level, key), given the
    rows after the change (of one window: an agent's team and queues)."""
    if not touched:
        return set()
    agents = rows.get("agent", {})
    queues = {k for lv, k in touched if lv == "queue"}
    teams = {k for lv, k in touched if lv == "team"}
    people = {k for lv, k in touched if lv == "agent"}
    teams |= {agents[k].get("team") or "" for k in people if k in agents}
    named = {"queue": queues, "team": teams}
    out = set()
    for topic in topics:
        kind, _, name = topic.partition(":")
        if kind == "center" or name in named.get(kind, ()):
            out.add(topic)
        elif kind == "agent":
            row = agents.get(name) or {}
            if (
                name in people
                or (row.get("team") or "") in teams
                or queues.intersection(row.get("queues") or ())
            ):
                out.add(topic)
    return out


def payloads(
    topics: set[str],
    rows: Rows,
    meta: dict[str, Any],
    *,
    scorecards: dict[str, dict[str, Any]] | None = None,
    balances: dict[str, Any] | None = None,
    config: CallboardConfig | None = None,
) -> dict[str, dict[str, Any]]:
    """topic -> payload of the built-in kinds (see the module's docstring). `rows` is
    window -> level -> key -> metric row; `scorecards` agent -> card. Each payload also
    carries, under "view", what the screens show (app/screens)."""
    scorecards = scorecards or {}
    out: dict[str, dict[str, Any]] = {}
    for topic in topics:
        kind, _, name = topic.partition(":")
        if kind not in BUILT_IN:
            continue
        sections = {w: _section(kind, name, by_level) for w, by_level in rows.items()}
        payload: dict[str, Any] = {"windows": sections}
        if kind == "center":
            payload["balances"] = balances
        elif kind == "team":
            members = next(iter(sections.values()), {}).get("agents", {})
            payload["scorecards"] = {k: scorecards[k] for k in members if k in scorecards}
        elif kind == "agent":
            payload["scorecard"] = scorecards.get(name)
        payload["meta"] = meta
        out[topic] = payload
    add_views(out, rows, meta, scorecards=scorecards, balances=balances, config=config)
    return out


# Values that grow every second: a frame does not carry them (it would change every row at
# every computation); a screen works them out from the instant beside them and the clock.
TICKING = {"time_in_state_s": "state_since", "longest_wait_now_s": "oldest_waiting_at"}


def _shown(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in TICKING}


def _section(kind: str, name: str, rows: dict[Level, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    queues, teams, agents = rows.get("queue", {}), rows.get("team", {}), rows.get("agent", {})
    if kind == "center":
        return {
            "center": _shown(rows.get("center", {}).get("center")),
            "queues": {k: _shown(r) for k, r in queues.items()},
            "teams": {k: _shown(r) for k, r in teams.items()},
        }
    if kind == "queue":
        return {"queue": _shown(queues.get(name))}
    if kind == "team":
        return {
            "team": _shown(teams.get(name)),
            "agents": {k: _shown(r) for k, r in agents.items() if r.get("team") == name},
        }
    row = agents.get(name)
    served = (row or {}).get("queues") or []
    return {
        "agent": _shown(row),
        "team": _shown(teams.get((row or {}).get("team") or "")),
        "queues": {q: _queue_brief(queues.get(q)) for q in served},
    }


def _queue_brief(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    keys = (
        "waiting_now",
        "oldest_waiting_at",
        "service_level",
        "agents_by_state",
        "targets",
        "sl_threshold_s",
    )
    return {k: row.get(k) for k in keys}


DELETED = {"__deleted__": True}


def diff(old: Any, new: Any) -> Any:
    """What changed from `old` to `new`: nested dicts of the changed values, DELETED for keys
    that went away. Anything that is not a dict is replaced whole."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    out: dict[str, Any] = {}
    for key, value in new.items():
        if key not in old:
            out[key] = value
        elif old[key] != value:
            out[key] = diff(old[key], value)
    for key in old.keys() - new.keys():
        out[key] = DELETED
    return out


def apply(state: Any, patch: Any) -> Any:
    """The inverse of diff (what a client does); used by tests and the bench."""
    if not isinstance(state, dict) or not isinstance(patch, dict) or patch == DELETED:
        return patch
    out = dict(state)
    for key, value in patch.items():
        if value == DELETED:
            out.pop(key, None)
        else:
            out[key] = apply(out.get(key), value)
    return out
