"""Tokens and what their holders may see. One rule set for HTTP routes, pages and websocket
topics (ARCHITECTURE.md, Access):

- agent: their own details; aggregates of the center, queues and their own team.
- supervisor: the center, queues, their teams and their teams' agents.
- wallboard: read-only aggregates (center, queues, teams).
- ingest: writes events, reads nothing.
- admin: everything.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import psycopg

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Role = Literal["agent", "supervisor", "wallboard", "ingest", "admin"]
Kind = Literal["token", "session", "paired"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "wallboard", "ingest", "admin")
READERS: frozenset[str] = frozenset({"agent", "supervisor", "wallboard", "admin"})


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    role: Role
    agent: str | None = None
    teams: frozenset[str] = field(default_factory=frozenset)
    # the team of the agent this token is bound to (role agent)
    own_team: str | None = None
    # who: a signed-in person's name, a token's label, else "token N" (audit, acknowledger)
    name: str = ""
    kind: Kind = "token"
    sources: frozenset[str] | None = None  # ingest: the sources it may write (None: any)
    wallboard: str | None = None  # a paired TV: the one wallboard it shows
    token_id: int | None = None

    def writes_source(self, source: str) -> bool:
        return self.sources is None or source in self.sources

    def shows_board(self, board: str) -> bool:
        return self.wallboard is None or board == self.wallboard

    def sees_team(self, team: str | None) -> bool:
        """Aggregates of a team."""
        if self.role in ("admin", "wallboard"):
            return True
        if self.role == "supervisor":
            return team in self.teams
        if self.role == "agent":
            return team is not None and team == self.own_team
        return False

    def sees_agent(self, agent: str, team: str | None) -> bool:
        """One agent's details."""
        if self.role == "admin":
            return True
        if self.role == "supervisor":
            return team in self.teams
        if self.role == "agent":
            return agent == self.agent
        return False

    def sees_topic(self, topic: str, team_of: dict[str, str | None]) -> bool:
        kind, _, name = topic.partition(":")
        if kind == "center" and not name:
            return self.role in READERS
        if kind == "queue" and name:
            return self.role in READERS
        if kind == "team" and name:
            # a team topic lists its agents' details
            return self.role == "admin" or (self.role == "supervisor" and name in self.teams)
        if kind == "agent" and name:
            return self.sees_agent(name, team_of.get(name))
        if kind == "alerts":  # alerts, alerts:team:T, alerts:agent:A (app/alerts/live.py)
            return self._sees_alerts(name, team_of)
        return False

    def _sees_alerts(self, name: str, team_of: dict[str, str | None]) -> bool:
        """`alerts` (name ""): the floor's, as `center`; `alerts:team:T`, as `team:T`;
        `alerts:agent:A`, as the agent's own details."""
        if not name:
            return self.sees_topic("center", {})
        kind, _, who = name.partition(":")
        if kind == "team" and who:
            return self.sees_topic(f"team:{who}", {})
        if kind == "agent" and who:
            return self.sees_agent(who, team_of.get(who))
        return False


def create_token(
    conn: psycopg.Connection[Any],
    *,
    role: Role,
    agent: str | None = None,
    teams: tuple[str, ...] = (),
    label: str | None = None,
    sources: tuple[str, ...] = (),
    kind: Kind = "token",
    wallboard: str | None = None,
) -> str:
    """A new token (shown once; only its hash is stored). Does not commit."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "agent" and not agent:
        raise ValueError("an agent token needs --agent")
    if role == "supervisor" and not teams:
        raise ValueError("a supervisor token needs at least one --team")
    if sources and role != "ingest":
        raise ValueError("--source limits an ingest token; this token is not one")
    token = f"cb_{secrets.token_urlsafe(32)}"
    conn.execute(
        "INSERT INTO tokens (token_sha256, role, agent, teams, label, sources, kind, wallboard)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            digest(token),
            role,
            agent if role == "agent" else None,
            list(teams) if role == "supervisor" else None,
            label,
            sorted(set(sources)) or None,
            kind,
            wallboard,
        ),
    )
    return token


def principal_for(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    row = conn.execute(
        "SELECT t.role, t.agent, t.teams, ag.team, t.id, t.label, t.kind, t.sources,"
        " t.wallboard FROM tokens t LEFT JOIN agents ag ON ag.id = t.agent"
        " WHERE t.token_sha256 = %s AND t.revoked_at IS NULL"
        " AND (t.expires_at IS NULL OR t.expires_at > now())",
        (digest(token),),
    ).fetchone()
    if row is None:
        return None
    role, agent, teams, own_team, token_id, label, kind, sources, wallboard = row
    return Principal(
        role,
        agent,
        frozenset(teams or ()),
        own_team,
        name=label or f"token {token_id}",
        kind=kind,
        sources=frozenset(sources) if sources is not None else None,
        wallboard=wallboard,
        token_id=token_id,
    )


def in_force(conn: psycopg.Connection[Any], digests: list[str] | None = None) -> set[str]:
    """Which of these token hashes still work (None: the hashes of every token that does):
    the token cache's lanes and the live sockets' check (a revoked token, an ended session or
    an unpaired TV closes its sockets) read this one rule."""
    rows = conn.execute(
        "SELECT token_sha256 FROM tokens WHERE revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > now())"
        " AND (%(d)s::text[] IS NULL OR token_sha256 = ANY(%(d)s))",
        {"d": digests},
    ).fetchall()
    return {r[0] for r in rows}


def team_of(
    conn: psycopg.Connection[Any], agents: list[str] | None = None
) -> dict[str, str | None]:
    if agents is None:
        rows = conn.execute("SELECT id, team FROM agents").fetchall()
    else:
        rows = conn.execute("SELECT id, team FROM agents WHERE id = ANY(%s)", (agents,)).fetchall()
    return {a: t for a, t in rows}


def sees_agent_page(engine: Engine, principal: Principal, agent: str) -> bool:
    """May `principal` open agent `agent`'s widget (the agent, their supervisor, an admin)?"""
    with engine.connect() as conn:
        team = team_of(conn.connection.driver_connection, [agent]).get(agent)  # type: ignore[arg-type]
    return principal.sees_agent(agent, team)


def visible(
    conn: psycopg.Connection[Any],
    principal: Principal,
    rows: list[dict[str, Any]],
    *,
    agent_key: str = "key",
) -> list[dict[str, Any]]:
    """The rows about agents this principal may see (rows without an agent stay)."""
    if principal.role == "admin":
        return rows
    teams = team_of(conn, sorted({r[agent_key] for r in rows if r.get(agent_key)}))
    return [
        r
        for r in rows
        if not r.get(agent_key) or principal.sees_agent(r[agent_key], teams.get(r[agent_key]))
    ]


def list_tokens(conn: psycopg.Connection[Any], *, revoked: bool = False) -> list[dict[str, Any]]:
    """Every token in force (never the token itself: its id, hash prefix, role and binding),
    or with `revoked` also those revoked and the sessions that expired."""
    rows = conn.execute(
        "SELECT id, left(token_sha256, 12), role, agent, teams, label, created_at, revoked_at,"
        " kind, sources, wallboard, expires_at FROM tokens"
        " WHERE %s OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))"
        " ORDER BY id",
        (revoked,),
    ).fetchall()
    keys = (
        "id",
        "sha256",
        "role",
        "agent",
        "teams",
        "label",
        "created_at",
        "revoked_at",
        "kind",
        "sources",
        "wallboard",
        "expires_at",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def revoke_token(conn: psycopg.Connection[Any], which: str) -> list[dict[str, Any]]:
    """Revoke by id, by the token itself, or by a hash prefix of at least 8 characters (as
    `token list` shows it). Returns what was revoked; an ambiguous prefix revokes nothing
    and raises ValueError. Does not commit."""
    which = which.strip()
    if which.isdigit():
        where, arg = "id = %s", int(which)
    elif which.startswith("cb_"):
        where, arg = "token_sha256 = %s", digest(which)  # type: ignore[assignment]
    elif len(which) >= 8 and all(c in "0123456789abcdef" for c in which.lower()):
        where, arg = "token_sha256 LIKE %s", which.lower() + "%"  # type: ignore[assignment]
    else:
        raise ValueError("give a token id, the token, or 8+ characters of its sha256")
    matches = conn.execute(
        f"SELECT id FROM tokens WHERE {where} AND revoked_at IS NULL",  # noqa: S608 (fixed text)
        (arg,),
    ).fetchall()
    if len(matches) > 1:
        raise ValueError(f"{which!r} matches {len(matches)} tokens; give more of it, or the id")
    if not matches:
        return []
    conn.execute("UPDATE tokens SET revoked_at = now() WHERE id = %s", (matches[0][0],))
    return [t for t in list_tokens(conn, revoked=True) if t["id"] == matches[0][0]]
