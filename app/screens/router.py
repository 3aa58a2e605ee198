"""The screens' own reads: a page's start (words, topics, settings), trends, the drill-down,
a contact's timeline, adherence now, CSV exports. Every route checks the token with the same
rules as the rest of the API (app/auth); the browser never reaches data another way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from app.alerts.live import page_topics
from app.audit.service import record_by
from app.auth.deps import Reader, Supervisor
from app.auth.service import Principal, team_of, visible
from app.cells import csv_text
from app.config import CallboardConfig
from app.deps import ConnDep
from app.i18n import catalogue
from app.i18n.negotiate import negotiate
from app.live import replay as replay_service
from app.live.router import view_for
from app.metrics.service import compute
from app.metrics.windows import resolve
from app.scorecard.service import rank, scored
from app.screens import service
from app.screens.config import WallboardConfig
from app.screens.schemas import (
    AdherenceRow,
    Board,
    Drill,
    Page,
    PlanNow,
    ReplayFrame,
    Timeline,
    Trend,
)
from app.screens.views import display_names
from app.screens.words import csv_header, csv_value, flag_text

router = APIRouter(prefix="/api/v1/screens", tags=["screens"])

Lang = Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z-]+$")]
# a replay's moment (RFC 3339): the read shows what was true then (app/live/replay.py)
At = Annotated[str | None, Query(max_length=64)]


def replay_moment(request: Request, conn: Any, at: str) -> datetime:
    """`at` as a replay's moment, or 422 with the reason (app/live/replay.py)."""
    try:
        return replay_service.moment(conn, at, now=request.app.state.clock.now())
    except replay_service.BadMoment as exc:
        raise HTTPException(422, str(exc)) from exc


@contextmanager
def moment_of(request: Request, conn: Any, at: str | None) -> Iterator[datetime]:
    """Now, or the replayed moment `at` with the derived tables as they were then."""
    now: datetime = request.app.state.clock.now()
    if at is None:
        yield now
        return
    moment = replay_moment(request, conn, at)
    with replay_service.as_of(conn, request.app.state.config, moment):
        yield moment


Name = Annotated[str, Query(min_length=1, max_length=128)]


def language(
    config: CallboardConfig, request: Request, asked: str | None, board: str | None
) -> str:
    """?lang=, else the board's, else the browser's (q-values; zh-HK reads zh-TW), else
    [screens] lang (app/i18n/negotiate.py)."""
    return negotiate(
        asked, board, request.headers.get("accept-language"), default=config.screens.lang
    )


def board_of(config: CallboardConfig, name: str | None) -> WallboardConfig:
    """`/wall` is the board named "default" (every queue when there is none)."""
    key = name or "default"
    if key in config.wallboards:
        return config.wallboards[key]
    if name is None or name == "default":
        return WallboardConfig()
    raise HTTPException(404, f"no [wallboards.{name}] in callboard.toml")


def words(lang: str) -> dict[str, str]:
    return {
        k: v
        for k, v in catalogue(lang).items()
        if k.split(".", 1)[0]
        in (
            *("wall", "agent", "sup", "common", "flag", "term", "metric", "reason", "alert"),
            *("unit", "report", "cli"),  # report, cli: the /reports page's words
        )
    }


@router.get(
    "/words",
    response_model=dict[str, str],
    summary="The screens' words in a language (no token: words are not data)",
)
def get_words(request: Request, lang: Lang = None) -> dict[str, str]:
    return words(language(request.app.state.config, request, lang, None))


def sup_topics(conn: Any, config: CallboardConfig, principal: Principal) -> list[str]:
    if principal.role == "admin":
        stored = [r[0] for r in conn.execute("SELECT name FROM teams").fetchall()]
        teams = sorted(set(stored) | set(config.teams))
    else:
        teams = sorted(principal.teams)
    # `sources`: every source's health (the supervisor's panel; supervisors and admins only)
    return ["center", *(f"team:{t}" for t in teams), "sources"]


# every screen hears whether the figures may be behind (a source stale; no source named)
FEED = "feed"


@router.get("/page", response_model=Page, summary="A screen's start: words, topics, settings")
def page(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    screen: Literal["wall", "agent", "sup"],
    board: Annotated[str | None, Query(max_length=128)] = None,
    agent: Annotated[str | None, Query(max_length=128)] = None,
    lang: Lang = None,
) -> Page:
    config: CallboardConfig = request.app.state.config
    s = config.screens
    if screen == "wall":
        b = board_of(config, board)
        chosen = language(config, request, lang, b.lang)
        return Page(
            screen="wall",
            lang=chosen,
            words=words(chosen),
            topics=["center", FEED, *page_topics(principal, ["center"], {})],
            stale_after_s=s.stale_after_s,
            names=display_names(config, chosen),
            board=Board(
                name=board or "default",
                title=b.title,
                queues=b.queues,
                tiles=list(b.tiles),
                rotation_s=b.rotation_s,
                per_page=b.per_page,
                theme=b.theme,
                lang=chosen,
                sound=b.sound,
            ),
        )
    chosen = language(config, request, lang, None)
    if screen == "agent":
        teams = team_of(conn, [agent]) if agent else {}
        if not agent or not principal.sees_agent(agent, teams.get(agent)):
            raise HTTPException(403, "the token may not see this agent")
        own = [f"agent:{agent}"]
        return Page(
            screen="agent",
            lang=chosen,
            words=words(chosen),
            topics=[*own, FEED, *page_topics(principal, own, teams)],
            stale_after_s=s.stale_after_s,
            names=display_names(config, chosen),
            ack=principal.role in ("supervisor", "admin"),
        )
    if principal.role not in ("supervisor", "admin"):
        raise HTTPException(403, f"the {principal.role} role may not open the supervisor screen")
    topics = sup_topics(conn, config, principal)
    return Page(
        screen="sup",
        lang=chosen,
        words=words(chosen),
        topics=[*topics, *page_topics(principal, topics, {})],
        stale_after_s=s.stale_after_s,
        names=display_names(config, chosen),
        rank_every_s=s.rank_every_s,
        contacts_page=s.contacts_page,
        ack=True,
    )


@router.get(
    "/replay",
    response_model=ReplayFrame,
    summary="A screen's live topics as they were at a past moment (?at=RFC 3339)",
    responses={422: {"description": "`at` is not RFC 3339, is in the future or before any data"}},
)
def get_replay(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    screen: Literal["wall", "agent", "sup"],
    at: Annotated[str, Query(max_length=64)],
    board: Annotated[str | None, Query(max_length=128)] = None,
    agent: Annotated[str | None, Query(max_length=128)] = None,
) -> ReplayFrame:
    """The payloads the live socket would have sent at `at` (app/live/replay.py), for the
    topics the screen's page lists, under the same access rules."""
    config: CallboardConfig = request.app.state.config
    now = request.app.state.clock.now()
    topics = replay_topics(conn, config, principal, screen, board=board, agent=agent)
    moment = replay_moment(request, conn, at)
    frames = replay_service.replay(
        conn, config, topics=set(topics), at=moment, config_version=config_version(request)
    )
    shown = view_for(principal)
    return ReplayFrame(
        screen=screen,
        at=replay_service.iso(moment),
        now=replay_service.iso(now),
        timezone=config.defaults.timezone,
        topics={t: shown(t, p) if shown else p for t, p in sorted(frames.items())},
    )


def replay_topics(
    conn: Any,
    config: CallboardConfig,
    principal: Principal,
    screen: str,
    *,
    board: str | None,
    agent: str | None,
) -> list[str]:
    """The built-in topics of a screen's page (as `page` lists them), checked the same way."""
    if screen == "wall":
        board_of(config, board)
        if principal.role not in ("wallboard", "supervisor", "admin") or not principal.shows_board(
            board or "default"
        ):
            raise HTTPException(403, f"the {principal.role} role may not open this wallboard")
        return ["center"]
    if screen == "agent":
        if not agent or not principal.sees_agent(agent, team_of(conn, [agent]).get(agent)):
            raise HTTPException(403, "the token may not see this agent")
        return [f"agent:{agent}"]
    if principal.role not in ("supervisor", "admin"):
        raise HTTPException(403, f"the {principal.role} role may not open the supervisor screen")
    return [t for t in sup_topics(conn, config, principal) if t != "sources"]


def config_version(request: Request) -> int | None:
    version: int | None = getattr(request.app.state, "config_version", None)
    return version


@router.get(
    "/wall/trends",
    response_model=dict[str, Trend],
    summary="Each queue's service level per 15 minutes today (the wallboard's small trends)",
)
def wall_trends(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    board: Annotated[str | None, Query(max_length=128)] = None,
    at: At = None,
) -> dict[str, Trend]:
    config: CallboardConfig = request.app.state.config
    b = board_of(config, board)
    with moment_of(request, conn, at) as now:
        queues = b.queues or [r[0] for r in conn.execute("SELECT name FROM queues ORDER BY name")]
        return service.day_trends(conn, config, by="queue", keys=list(queues)[:40], now=now)


def _team_agents(conn: Any, team: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM agents WHERE team = %s", (team,))]


@router.get("/sup/drill", response_model=Drill, summary="The supervisor's choice: trend, contacts")
def drill(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    queue: Annotated[str | None, Query(max_length=128)] = None,
    team: Annotated[str | None, Query(max_length=128)] = None,
    agent: Annotated[str | None, Query(max_length=128)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    at: At = None,
) -> Drill:
    """The trend follows the narrowest choice (agent, then team, then queue, else the
    center); the contacts are the queue's, narrowed to the team's or the agent's."""
    config: CallboardConfig = request.app.state.config
    if agent is not None and not principal.sees_agent(agent, team_of(conn, [agent]).get(agent)):
        raise HTTPException(403, f"the token may not see agent {agent!r}")
    if team is not None and not principal.sees_team(team):
        raise HTTPException(403, f"the token may not see team {team!r}")
    with moment_of(request, conn, at) as now:
        by: Any
        if agent:
            by, key = "agent", agent
        elif team:
            by, key = "team", team
        elif queue:
            by, key = "queue", queue
        else:
            by, key = "center", "center"
        trend = service.day_trends(conn, config, by=by, keys=[key], now=now)[key]
        day = resolve("today", now=now, tz=config.defaults.timezone)
        agents = _team_agents(conn, team) if team and not agent else None
        if principal.role == "supervisor" and not agent and not team:
            # a supervisor sees the contacts of their own teams' agents and unanswered ones
            agents = None
        contacts, raw = service.contact_page(
            conn,
            config,
            start=day.start,
            end=now,
            queue=queue,
            agent=agent,
            agents=agents,
            page=page,
            size=config.screens.contacts_page,
        )
        contacts.rows = service.contact_rows(
            config, visible(conn, principal, raw, agent_key="agent")
        )
        return Drill(trend=trend, contacts=contacts)


@router.get("/sup/contacts/{call_id}", response_model=Timeline, summary="A contact's events")
def contact(
    request: Request, principal: Supervisor, conn: ConnDep, call_id: str, at: At = None
) -> Timeline:
    config: CallboardConfig = request.app.state.config
    until = None
    if at is not None:  # a replayed screen's: the events up to its moment
        until = replay_moment(request, conn, at)
    timeline, agents = service.contact_timeline(conn, config, call_id, until=until)
    teams = team_of(conn, agents)
    if any(not principal.sees_agent(a, teams.get(a)) for a in agents):
        raise HTTPException(403, "the token may not see every agent of this contact")
    if not timeline.events:
        raise HTTPException(404, f"no contact {call_id!r}")
    return timeline


@router.get(
    "/sup/adherence", response_model=list[AdherenceRow], summary="Agents out of adherence now"
)
def adherence(
    request: Request, principal: Supervisor, conn: ConnDep, at: At = None
) -> list[AdherenceRow]:
    config: CallboardConfig = request.app.state.config
    with moment_of(request, conn, at) as now:
        rows = service.adherence_now(conn, config, now=now)
    teams = team_of(conn, [r.agent for r in rows])
    return [r for r in rows if principal.sees_agent(r.agent, teams.get(r.agent))]


@router.get(
    "/agent/{agent}/plan",
    response_model=PlanNow | None,
    summary="The agent's planned activity now (a break's length and end)",
)
def plan(
    request: Request, principal: Reader, conn: ConnDep, agent: str, at: At = None
) -> dict[str, Any] | None:
    if not principal.sees_agent(agent, team_of(conn, [agent]).get(agent)):
        raise HTTPException(403, "the token may not see this agent")
    with moment_of(request, conn, at) as now:
        return service.planned_now(conn, agent=agent, now=now)


CsvTable = Literal["queues", "teams", "agents", "scorecards", "contacts"]


@router.get(
    "/sup/export/{table}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="A table of the supervisor screen as CSV (today)",
)
def export(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    table: CsvTable,
    queue: Annotated[str | None, Query(max_length=128)] = None,
    agent: Annotated[str | None, Query(max_length=128)] = None,
    at: At = None,
) -> Response:
    """Text cells that a spreadsheet would run as formulas are written as text (`at`: the
    tables as they were at that moment, a replayed screen's)."""
    config: CallboardConfig = request.app.state.config
    with moment_of(request, conn, at) as now:
        rows: list[dict[str, Any]]
        if table in ("queues", "teams", "agents"):
            level: Any = table[:-1]
            rows = compute(conn, config, by=level, now=now, window="today")["rows"]
            if table == "agents":
                rows = visible(conn, principal, rows)
            elif table == "teams":
                rows = [r for r in rows if principal.sees_team(r["key"])]
        elif table == "scorecards":
            agent_rows = compute(conn, config, by="agent", now=now, window="today")["rows"]
            cards = rank(scored(config, "agent", agent_rows))
            rows = [
                {
                    "agent": c["key"],
                    "team": c.get("team"),
                    "score": c["score"],
                    "meaningful": c["meaningful"],
                    "contacts": c["contacts"],
                    **{p: v for p, v in c["perspectives"].items()},
                    "flags": "; ".join(flag_text(f) for f in c["flags"]),
                }
                for c in visible(conn, principal, cards)
            ]
        else:
            if agent is not None and not principal.sees_agent(
                agent, team_of(conn, [agent]).get(agent)
            ):
                raise HTTPException(403, f"the token may not see agent {agent!r}")
            day = resolve("today", now=now, tz=config.defaults.timezone)
            from app.contacts.service import contacts as read_contacts

            raw = read_contacts(
                conn, start=day.start, end=now, queue=queue, agent=agent, limit=50_000
            )
            rows = visible(conn, principal, raw, agent_key="agent")
            for r in rows:
                r["notes"] = "; ".join(r.get("notes") or [])
    record_by(
        conn,
        principal,
        action="export",
        address=request.client.host if request.client else None,
        target=f"{table}.csv",
        detail={"rows": len(rows), "queue": queue, "agent": agent},
    )
    return Response(
        _csv(rows, config.defaults.timezone),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="callboard-{table}.csv"'},
    )


def _csv(rows: list[dict[str, Any]], tz: str) -> str:
    """Times in the screen's zone (named in their headers), figures rounded as it shows them."""
    if not rows:
        return ""
    cols = [k for k, v in rows[0].items() if not isinstance(v, dict | list)]
    return csv_text(
        [csv_header(c, tz) for c in cols],
        ([csv_value(c, r.get(c), tz) for c in cols] for r in rows),
    )
